"""A change to git's config that changes the listing is seen by the next search, without a
watcher's restart: `core.excludesFile` pointed at another file (one written long before the
last update, so no ignore file is newer than it), in the user's config or the repository's,
and `core.ignoreCase` set (an `.ocpignore` pattern of another case then matches)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ocp_server.index.workspace import WorkspaceIndex
from tests.workspace_fixture import git

DRAFT = "export function draftRefund(order: string) { return order }\n"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository holding an untracked `web/draft.ts` that no rule ignores; git's user
    config is the test's own."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home").mkdir()
    repo = tmp_path / "repo"
    (repo / "web").mkdir(parents=True)
    (repo / "web" / "billing.ts").write_text("export const cents = 1\n")
    git(repo, "init", "-q")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "init")
    (repo / "web" / "draft.ts").write_text(DRAFT)
    return repo


def _now(path: Path) -> None:
    now = time.time()  # the clock's, not the file system's coarser time
    os.utime(path, (now, now))


def _written(path: Path, text: str, seconds_ago: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    when = time.time() - seconds_ago
    os.utime(path, (when, when))
    return path


async def _paths(index: WorkspaceIndex) -> tuple[list[str], str | None]:
    found = await index.search("draftRefund", refresh=True)
    return [r.path for r in found.results], found.note


async def _excludes_file_renamed(ws: Path, config: Path, set_it: list[str]) -> None:
    old = _written(ws.parent / "home" / "old-ignore", "# nothing\n", 3600)
    new = _written(ws.parent / "home" / "new-ignore", "draft.ts\n", 3600)
    later = _written(ws.parent / "home" / "later-ignore", "# nothing yet\n", 3600)
    git(ws, "config", *set_it, "core.excludesFile", str(old))
    index = await WorkspaceIndex.open(ws, ws.parent / "db" / "ocp.db")
    try:
        await index.update()
        assert (await _paths(index))[0][:1] == ["web/draft.ts"]
        git(ws, "config", *set_it, "core.excludesFile", str(new))
        _now(config)
        paths, note = await _paths(index)
        assert "web/draft.ts" not in paths
        assert note and "git's config changed since the last update: re-indexed first" in note
        # the file now named is the one followed: an edit to it is seen too
        git(ws, "config", *set_it, "core.excludesFile", str(later))
        _now(config)
        assert (await _paths(index))[0][:1] == ["web/draft.ts"]
        later.write_text("draft.ts\n")
        _now(later)
        assert "web/draft.ts" not in (await _paths(index))[0]
    finally:
        await index.close()


async def test_core_excludesfile_of_the_user_pointed_elsewhere(ws: Path, tmp_path: Path) -> None:
    await _excludes_file_renamed(ws, tmp_path / "gitconfig", ["--global"])


async def test_core_excludesfile_of_the_repository_pointed_elsewhere(ws: Path) -> None:
    await _excludes_file_renamed(ws, ws / ".git" / "config", [])


async def test_core_ignorecase_set_makes_an_ocpignore_fold_case(ws: Path) -> None:
    _written(ws / ".ocpignore", "DRAFT.TS\n", 3600)
    index = await WorkspaceIndex.open(ws, ws.parent / "db" / "ocp.db")
    try:
        await index.update()
        assert (await _paths(index))[0][:1] == ["web/draft.ts"]
        git(ws, "config", "core.ignoreCase", "true")
        _now(ws / ".git" / "config")
        assert "web/draft.ts" not in (await _paths(index))[0]
    finally:
        await index.close()


async def test_core_excludesfile_set_in_a_file_the_users_config_includes(
    ws: Path, tmp_path: Path
) -> None:
    more = tmp_path / "home" / "more.cfg"
    _written(tmp_path / "gitconfig", f"[include]\n\tpath = {more}\n", 3600)
    new = _written(tmp_path / "home" / "new-ignore", "draft.ts\n", 3600)
    index = await WorkspaceIndex.open(ws, ws.parent / "db" / "ocp.db")
    try:
        await index.update()
        assert (await _paths(index))[0][:1] == ["web/draft.ts"]
        _written(more, f"[core]\n\texcludesFile = {new}\n", 0)  # made after the last update
        assert "web/draft.ts" not in (await _paths(index))[0]
    finally:
        await index.close()
