"""The commit a workspace's git HEAD points at, read from .git without running git.

Every search compares it with the HEAD the index was built at (a checkout made while nothing
ran is indexed first), so `GitHead` keeps the answer and reads again only when one of the files
it came from changed.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from ocp_server.index.git_text import packed_ref, ref_target, strip_line_ends
from ocp_server.index.gitdirs import linked_git_dir
from ocp_server.index.regular_file import read_regular

__all__ = ["GitHead", "git_head"]


def git_head(workspace: Path) -> str | None:
    """The commit HEAD points at, read from .git without running git (cheap per query)."""
    return _read_git_head(workspace, [])


#: What a file looked like: (inode, size, mtime, ctime, mode), or None when absent.
_Stamp = tuple[int, int, int, int, int] | None


def _stamp(path: Path | str) -> _Stamp:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_mode)


class GitHead:
    """`git_head(workspace)`, read again only when a file it was read from changed.

    Reading HEAD means walking up from the workspace to its `.git` and reading two or three
    files: a tenth of a millisecond on every search. This keeps the answer with the stat of
    every path the reading looked at (each `.git` on the way up, absent ones too, HEAD, a
    worktree's `commondir`, the branch's ref, packed-refs), each taken before the path was
    read: a checkout, a commit, a new `git init` above or in the workspace changes one of them,
    and the next call reads again. git replaces these files by renaming a new one over them: a
    new inode and ctime."""

    def __init__(self, workspace: Path) -> None:
        self.workspace = workspace
        self._sources: list[tuple[str, _Stamp]] | None = None
        self._head: str | None = None

    def __call__(self) -> str | None:
        sources = self._sources
        if sources is None or any(_changed(path, seen) for path, seen in sources):
            fresh: list[tuple[Path, _Stamp]] = []
            self._head = _read_git_head(self.workspace, fresh)
            self._sources = [(os.fspath(path), seen) for path, seen in fresh]
        return self._head


def _changed(path: str, seen: _Stamp) -> bool:
    """Whether `path` no longer looks as it did. A path absent before (each `.git` above a
    workspace outside git) is checked with access(), which fails as stat() does but without
    the exception: a third of the cost."""
    if seen is None:
        return os.access(path, os.F_OK)
    return _stamp(path) != seen


def _read_git_head(workspace: Path, sources: list[tuple[Path, _Stamp]]) -> str | None:
    """`git_head`, adding each path it looks at to `sources` (stamped before reading it)."""
    found = _git_dir(workspace, sources)
    if found is None:
        return None
    git_dir, linked = found

    def read(path: Path) -> bytes | None:
        sources.append((path, _stamp(path)))
        if sources[-1][1] is None:
            return None
        return read_regular(path)  # a pipe named HEAD or as a branch would wait for ever

    try:
        # bytes, as git reads them (git_text): a branch's name may end with NBSP or hold U+2028
        head_text = read(git_dir / "HEAD")
        if head_text is None:
            return None
        head, symbolic = ref_target(head_text)
        if not symbolic:
            return head
        # A linked worktree's branches are in the folder it shares with the others (a `.git`
        # folder has no `commondir`: not looked for, a stat less per search).
        named = read(git_dir / "commondir") if linked else None
        common = _common(git_dir, named) if named else git_dir
        ref_text = read(common / head)
        if ref_text is not None:
            target, symbolic = ref_target(ref_text)  # a branch naming another, unfollowed
            return "ref: " + target if symbolic else target
        packed = read(common / "packed-refs")
        if packed is not None and (commit := packed_ref(packed, head)) is not None:
            return commit
        return "ref: " + head
    except OSError:
        sources.append((git_dir / "HEAD", None))  # unreadable: read again next time
        return None


def _common(git_dir: Path, named: bytes) -> Path:
    """The folder a worktree's `commondir` names (relative to its git folder)."""
    return Path(os.path.normpath(git_dir / os.fsdecode(strip_line_ends(named))))


def _git_dir(workspace: Path, sources: list[tuple[Path, _Stamp]]) -> tuple[Path, bool] | None:
    """The git folder, and whether a `.git` file named it (a worktree's, a submodule's)."""
    for folder in (workspace, *workspace.parents):
        dot_git = folder / ".git"
        found = _stamp(dot_git)
        sources.append((dot_git, found))
        if found is None:
            continue
        if stat.S_ISDIR(found[4]):
            return dot_git, False
        # a worktree or submodule: "gitdir: <path>"
        if stat.S_ISREG(found[4]) and (linked := linked_git_dir(dot_git)) is not None:
            return linked, True
    return None
