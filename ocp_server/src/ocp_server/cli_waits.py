"""What `ocp-server index` says of another process indexing the same workspace (it holds the
indexing lease, index/lease.py): what it waits for, and how the wait ended.

It returned at once with "nothing to do" and exit status 0, so a script's next search found
the part of the files that process had indexed so far. It now waits for that process to
finish (or for the lease to be free, and indexes itself), up to `--wait` seconds; a process
that holds the lease only to watch (a server, its index complete) is nothing to wait for.
"""

from __future__ import annotations

from dataclasses import dataclass

from ocp_router.words import counted
from ocp_wire import IndexReport

__all__ = ["DEFAULT_WAIT", "OtherIndexer"]

#: How long `index` waits by default for another process's indexing (a first build of a
#: large repository takes minutes); `--wait SECONDS` changes it, `--no-wait` is 0.
DEFAULT_WAIT = 600.0


@dataclass(frozen=True, slots=True)
class OtherIndexer:
    """Another process holding the workspace's indexing lease, as its index report shows it."""

    pid: int | None
    done: int
    total: int
    files: int
    building: bool  # it is writing an update, or no update has finished yet
    storage_failed: str | None
    waited: float  # the seconds `index` was allowed to wait

    @classmethod
    def of(cls, report: IndexReport, *, waited: float) -> OtherIndexer:
        return cls(
            pid=report.watcher.pid if report.watcher.state == "other_process" else None,
            done=report.build.done,
            total=report.build.total,
            files=report.files,
            building=report.build.state == "building" or report.last_update is None,
            storage_failed=report.storage_failed,
            waited=waited,
        )

    @property
    def busy(self) -> bool:
        """Whether its index is not complete yet, and may be once waited for (one whose
        updates fail on storage does not finish by waiting)."""
        return self.building and self.storage_failed is None

    @property
    def failed(self) -> bool:
        """Whether `index` ends in failure: the index is not complete."""
        return self.building

    def _who(self) -> str:
        if self.pid is None:
            return "another ocp-server process"
        return f"another ocp-server process (pid {self.pid})"

    def _so_far(self) -> str:
        return f" ({self.done:,} of {counted(self.total, 'file')} so far)" if self.total else ""

    def waiting(self) -> str:
        """Said once when the wait starts."""
        return (
            f"{self._who()} is indexing this workspace{self._so_far()}: waiting for it to "
            f"finish (up to {self.waited:.0f} s; `--no-wait` does not wait)"
        )

    def outcome(self) -> str:
        """How it ended, in one line."""
        if self.storage_failed is not None and self.building:
            return (
                f"{self._who()} cannot finish indexing this workspace: its last update failed: "
                f"{self.storage_failed}"
            )
        if not self.building:
            return (
                f"{self._who()} indexes and watches this workspace: its index is complete "
                f"({counted(self.files, 'file')}) and kept up to date as files change"
            )
        after = f" after {self.waited:.0f} s" if self.waited else " (not waited for: --no-wait)"
        return (
            f"{self._who()} is still indexing this workspace{self._so_far()}{after}: the index "
            "is incomplete until it finishes. `ocp-server index` again waits for it "
            "(`--wait SECONDS` longer), `ocp-server status` shows its progress"
        )
