"""The index's status as users look for it: the `ocp://index/status` MCP resource and
`ocp-server status`. Both read the same database, so one process can see another's build."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import ocp_wire as wire
from ocp_router.redact_names import redact_name
from ocp_router.words import counted
from ocp_server.index import nested
from ocp_server.index.file_pool import WORKERS_META_KEY, workers_failed
from ocp_server.index.files import VENDORED_META_KEY, VENDORED_REASON
from ocp_server.index.full_disk import STORAGE_META_KEY
from ocp_server.index.lease import LEASE_NAME
from ocp_server.index.skip_words import skipped_words
from ocp_server.index.workspace import WorkspaceIndex
from ocp_wire.tools import ToolNameStyle


def _iso(ts: float | None) -> str | None:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds") if ts else None


async def _meta(index: WorkspaceIndex, key: str) -> str | None:
    rows = list(await index.db.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,)))
    return str(rows[0][0]) if rows else None


async def skipped_by_reason(index: WorkspaceIndex) -> dict[str, int]:
    """Skips of the last update: by path (recorded by the listing) plus by content (rows)."""
    skipped: dict[str, int] = {}
    try:
        skipped.update(json.loads(await _meta(index, "skipped") or "{}"))
    except (json.JSONDecodeError, TypeError):
        pass
    for reason, count in await index.db.execute_fetchall(
        "SELECT skip_reason, count(*) FROM files WHERE skip_reason IS NOT NULL GROUP BY skip_reason"
    ):
        skipped[reason] = skipped.get(reason, 0) + count
    return dict(sorted(skipped.items()))


async def _lease(index: WorkspaceIndex) -> tuple[str, int, float] | None:
    """The live indexing lease (owner, pid, expires_at), or None when nobody holds one."""
    rows = list(
        await index.db.execute_fetchall(
            "SELECT owner, pid, expires_at FROM leases WHERE name = ?", (LEASE_NAME,)
        )
    )
    if not rows or rows[0][2] < time.time():
        return None
    return str(rows[0][0]), int(rows[0][1]), float(rows[0][2])


async def index_report(index: WorkspaceIndex, *, watching: bool = False) -> wire.IndexReport:
    """Everything about one workspace's index. `watching`: this process runs a watcher on it
    (the server does; the CLI does not)."""
    status = await index.status()
    lease = await _lease(index)
    ours = lease is not None and lease[0] == index.owner
    if ours and watching:
        watcher = wire.WatcherState(
            state="this_process",
            pid=lease[1] if lease else None,
            detail="this server indexes the workspace and re-indexes saved files",
        )
    elif lease is not None and not ours:
        watcher = wire.WatcherState(
            state="other_process",
            pid=lease[1],
            detail=f"ocp-server process {lease[1]} indexes and watches this workspace",
        )
    else:
        watcher = wire.WatcherState(
            state="none",
            detail="no ocp-server is watching: changes are indexed at the next search, "
            "`ocp-server index`, or when your IDE starts the server",
        )

    build = wire.BuildState(state="idle", done=0, total=0)
    recorded = await _meta(index, "build")
    if index.building:  # this process builds the first index right now
        done, total = index.progress
        build = wire.BuildState(state="building", done=done, total=total or 0)
    elif recorded is not None:
        try:
            values = json.loads(recorded)
            done, total = int(values["done"]), int(values["total"])
            started = _iso(float(values["started_at"]))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError):
            done, total, started = 0, 0, None
        running = lease is not None
        build = wire.BuildState(
            state="building" if running else "interrupted",
            done=done,
            total=total,
            started_at=started,
        )
    saved = await index.snapshots.saved_file()
    failed = workers_failed(await _meta(index, WORKERS_META_KEY))
    storage = await _storage_failed(index)
    return wire.IndexReport(
        # Shown to the agent (a resource, `ocp-server status`): a folder's name can hold a token.
        workspace=redact_name(status.workspace).text,
        database=redact_name(status.db_path).text,
        db_bytes=index.db_size(),
        files=status.files,
        chunks=status.chunks,
        skipped=await skipped_by_reason(index),
        nested_repositories=nested.read_named(await _meta(index, nested.META_KEY)),
        # Shown as the workspace is: a file's name can hold a token too.
        vendored_files=[
            redact_name(n).text for n in nested.read_named(await _meta(index, VENDORED_META_KEY))
        ],
        last_update=_iso(status.last_update),
        stale=status.stale,
        git_head=status.git_head,
        build=build,
        watcher=watcher,
        storage_failed=None if storage is None else redact_name(storage).text,
        saved_snapshot=None
        if saved is None
        else wire.SavedSnapshotState(
            state=saved.state,
            key_matches=saved.key_matches,
            bytes=saved.size,
            saved_at=_iso(saved.modified) or "",
            age_seconds=max(0, round(time.time() - saved.modified)),
        ),
        workspace_gone=None
        if status.workspace_gone is None
        else redact_name(status.workspace_gone).text,
        # A worker's words may quote a path.
        workers_failed=(
            None
            if failed is None
            else redact_name(f"{failed[0]} at the update of {_iso(failed[1])}").text
        ),
    )


async def _storage_failed(index: WorkspaceIndex) -> str | None:
    """The last update's storage failure: this process's, or as recorded by another's (the
    server's, for `ocp-server status`), with when."""
    if index.storage_failure is not None:
        return index.storage_failure
    try:
        recorded = json.loads(await _meta(index, STORAGE_META_KEY) or "null")
        return f"{recorded['cause']} (at the update of {_iso(float(recorded['at']))})"
    except (json.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def render_report(report: wire.IndexReport, tool_names: ToolNameStyle) -> str:
    """The report as a few lines of text, for terminals and clients that show text; tools
    named as advertised under OCP_TOOL_NAMES=`tool_names`."""
    lines = [
        f"workspace  {report.workspace}",
        f"database   {report.database} ({report.db_bytes / 1e6:.1f} MB)",
        f"indexed    {counted(report.files, 'file')}, {counted(report.chunks, 'chunk')}",
        f"skipped    {skipped_words(report.skipped)}",
    ]
    if count := report.skipped.get(nested.NESTED_REASON, 0):
        lines.append(f"nested     {nested.describe(count, report.nested_repositories)}")
    if count := report.skipped.get(VENDORED_REASON, 0):
        lines.append(
            f"vendored   {counted(count, 'file')} not indexed: "
            f"{nested.some(count, report.vendored_files)} (inside a dependency or tool "
            "folder such as node_modules, .venv or vendor: never indexed)"
        )
    stale = " (stale)" if report.stale else ""
    lines.append(f"updated    {report.last_update or 'never'}{stale}")
    b = report.build
    if b.state != "idle":
        pct = f" ({100 * b.done / b.total:.0f}%)" if b.total else ""
        note = "" if b.state == "building" else ": the next update completes it"
        lines.append(f"build      {b.state}: {b.done:,}/{counted(b.total, 'file')}{pct}{note}")
    lines.append(f"watcher    {report.watcher.detail}")
    if (saved := report.saved_snapshot) is not None:
        lines.append(f"snapshot   {_snapshot_line(saved)}")
    if report.storage_failed:
        lines.append(f"storage    the last update failed: {report.storage_failed}")
    if report.workspace_gone:
        lines.append(f"gone       {report.workspace_gone}")
    if report.routing_error:
        lines.append(routing_line(report.routing_error, tool_names))
    if report.workers_failed:
        lines.append(
            f"workers    {report.workers_failed}: files were read in one thread, more "
            "slowly (the server's log on stderr has the workers' own words)"
        )
    return "\n".join(lines)


#: What each state of the saved snapshot means for the next start.
_SNAPSHOT_STATES = {
    "current": "of the index as it is: the next start reads it",
    "older": "of an earlier state of this index: the next start brings it up to date",
    "other": "of another database or build: unused, the next start reads the rows",
    "too_large": "larger than OCP_SNAPSHOT_MB: unused, the next start reads the rows",
    "off": "snapshots are off (OCP_SNAPSHOT_MB=0): unused, the next start reads the rows "
    "and deletes it",
    "damaged": "cut short or damaged: unused, the next start reads the rows",
}


def _age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _snapshot_line(saved: wire.SavedSnapshotState) -> str:
    key = "its key matches" if saved.key_matches else "its key does not match"
    return (
        f"{saved.bytes / 1e6:.1f} MB saved {_age(saved.age_seconds)} ago, {key}; "
        f"{_SNAPSHOT_STATES[saved.state]}"
    )


def routing_line(error: str, tool_names: ToolNameStyle) -> str:
    """The report's line for an invalid routing setting (`ocp-server status`), the route tool
    named as advertised under OCP_TOOL_NAMES=`tool_names`."""
    return (
        f"routing    not configured correctly: {error} ({wire.ROUTE.name_in(tool_names)} "
        "answers with this until it is fixed and the server restarted; the other tools work)"
    )
