"""A named pipe where git keeps HEAD, a branch, packed-refs, the index or a worktree's
commondir does not make OCP wait: git opens each of them without looking and waits for a
writer (every command, for a pipe named HEAD), and so did OCP's own read of HEAD at every
search. OCP reads them without blocking, and git is not run in such a repository (listed as a
folder outside git), as for a pipe in its config (tests/server/test_git_config_pipes.py)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ocp_server import git_config_guard
from ocp_server.git_config_guard import UnreadableConfig, check_config
from ocp_server.index.files import list_workspace
from ocp_server.index.gitdirs import common_dir
from ocp_server.index.githead import GitHead, git_head
from ocp_server.index.history import read_history
from tests.index.git_pipes import never_waits_on, pipe_as, pipe_repo
from tests.workspace_fixture import git


def _done_without_waiting(pipe: Path, work: Callable[[], Any]) -> Any:
    """`work()`'s result, run in this process; fails if it has not ended after 20 s (a read
    waiting on `pipe`: let go by opening the pipe's other end, so the test ends)."""
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(work()), daemon=True)
    thread.start()
    thread.join(20)
    if thread.is_alive():
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(5)
        pytest.fail(f"waited on the pipe {pipe.name}")
    return result[0]


@pytest.mark.parametrize("what", ["HEAD", "branch", "packed-refs", "index", "HEAD-in-a-folder"])
def test_a_pipe_among_the_repositorys_files_is_never_waited_on(
    tmp_path: Path, what: str, caplog: pytest.LogCaptureFixture
) -> None:
    ws = pipe_repo(tmp_path)
    dot_git = ws / ".git"
    branch = (dot_git / "HEAD").read_text().removeprefix("ref: ").strip()
    workspace = ws
    if what == "HEAD":
        pipe = pipe_as(dot_git / "HEAD")
    elif what == "branch":
        pipe = pipe_as(dot_git / branch)
    elif what == "packed-refs":  # read to resolve HEAD even beside the branch's own file
        pipe = pipe_as(dot_git / "packed-refs")
    elif what == "index":
        pipe = pipe_as(dot_git / "index")
    else:  # git looks for a bare repository in each folder on its way up: opens its HEAD
        workspace = ws / "sub"
        pipe = pipe_as(workspace / "HEAD")
    # OCP's own reading, at every search
    _done_without_waiting(pipe, lambda: git_head(workspace))
    _done_without_waiting(pipe, GitHead(workspace))
    # git, for the listing and the history
    with caplog.at_level("WARNING", logger=git_config_guard.__name__):
        with pytest.raises(UnreadableConfig, match=pipe.name):
            check_config(workspace)
        listing = never_waits_on(pipe, lambda: list_workspace(workspace))
        assert not listing.git and listing.candidates
        assert never_waits_on(pipe, lambda: read_history(workspace, 10)) == []
    # said once, not before each git command
    told = [r.getMessage() for r in caplog.records]
    assert len(told) == 1 and f"{pipe} is a pipe or a device" in told[0], told


def test_a_pipe_as_a_worktrees_commondir_is_never_waited_on(tmp_path: Path) -> None:
    ws = pipe_repo(tmp_path)
    linked = tmp_path / "linked"
    git(ws, "worktree", "add", "-q", str(linked))
    git_dir = ws / ".git" / "worktrees" / "linked"
    pipe = pipe_as(git_dir / "commondir")
    assert _done_without_waiting(pipe, lambda: common_dir(git_dir)) == git_dir
    _done_without_waiting(pipe, lambda: git_head(linked))
    with pytest.raises(UnreadableConfig, match="commondir"):
        check_config(linked)
    assert never_waits_on(pipe, lambda: read_history(linked, 10)) == []


def test_a_repository_without_pipes_is_still_listed_by_git(tmp_path: Path) -> None:
    ws = pipe_repo(tmp_path)
    (ws / "HEAD").write_text("a file named HEAD at the top is no repository's\n")
    git(ws, "pack-refs", "--all")
    check_config(ws)
    check_config(ws / "sub")
    assert list_workspace(ws).git
    assert [c.message for c in read_history(ws, 10)] == ["first"]
    assert git_head(ws) == git(ws, "rev-parse", "HEAD").strip()
