"""The index's status: the ocp://index/status resource and `ocp-server status`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ocp_wire.base import WireOut

STATUS_URI = "ocp://index/status"


class BuildState(WireOut):
    state: Literal["idle", "building", "interrupted"] = Field(
        description="building: an update of many files is running; interrupted: one stopped "
        "part way (the next update completes it)"
    )
    done: int = Field(description="Files done by the running (or interrupted) update")
    total: int = Field(description="Files that update has to do")
    started_at: str | None = None


class WatcherState(WireOut):
    state: Literal["this_process", "other_process", "none"] = Field(
        description="Which process keeps the index fresh as files change (holds the lease)"
    )
    pid: int | None = None
    detail: str


class SavedSnapshotState(WireOut):
    state: Literal["current", "older", "other", "too_large", "off", "damaged"] = Field(
        description="current: of the index as it is, a restart reads it; older: of an earlier "
        "state of this index, a restart brings it up to date; other (another database or "
        "build), too_large (over OCP_SNAPSHOT_MB), off (OCP_SNAPSHOT_MB=0: snapshots are "
        "off, a restart deletes it), damaged (cut short or unreadable): unused, a restart "
        "reads the index's rows"
    )
    key_matches: bool = Field(
        description="Of this database (lineage, workspace, schema) and this build"
    )
    bytes: int
    saved_at: str = Field(description="ISO time the file was last written")
    age_seconds: int


class IndexReport(WireOut):
    workspace: str
    database: str
    db_bytes: int
    files: int = Field(description="Files in the index")
    chunks: int
    skipped: dict[str, int] = Field(description="Files not indexed, by reason")
    nested_repositories: list[str] = Field(
        default_factory=list,
        description="The first few nested git repositories and submodules left out of the "
        "index (skipped['nested_repository'] counts them all)",
    )
    vendored_files: list[str] = Field(
        default_factory=list,
        description="The first few files left out as vendored (below node_modules, .venv, "
        "vendor...; skipped['vendored'] counts them all)",
    )
    last_update: str | None = Field(description="ISO time of the last completed update")
    stale: bool = Field(
        description="Never completed, git HEAD moved since, or the watcher is retrying after "
        "a failure"
    )
    git_head: str | None
    build: BuildState
    watcher: WatcherState
    routing_error: str | None = Field(
        None,
        description="Why the model route tool cannot route (an invalid routing setting, "
        "named); the other tools work",
    )
    storage_failed: str | None = Field(
        default=None,
        description="Why the last update could not write the database (a full disk, a "
        "file-size limit, a disk I/O error) and what to do, with when; None once one works",
    )
    saved_snapshot: SavedSnapshotState | None = Field(
        default=None,
        description="The search snapshot a server saved beside the database for its next "
        "start (`<database>-snapshot`); None when there is none",
    )
    workspace_gone: str | None = Field(
        default=None,
        description="Why the workspace folder counts as gone (removed, moved away, its drive "
        "unmounted): the index is kept as it was and updated once it is back; None while it "
        "is there",
    )
    workers_failed: str | None = Field(
        default=None,
        description="Why the last update that wanted worker processes read its files in one "
        "thread (they could not start, or failed), with when; None when they worked",
    )
