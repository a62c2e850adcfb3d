"""Pipes among the files git opens beyond HEAD, the refs and the index (test_git_file_pipes.py):
a split index's shared part, the commit-graph files the chain names, a pack, a replace ref, the
`info/alternates` of an alternate object store (a link outside included). Each made `git log`
and `git diff --cached` (history, citations' renames) or the listing wait until their
timeouts (the listing 60 s for a shared index); git is now not run in such a repository."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server import git_commands
from ocp_server.git_config_guard import UnreadableConfig, check_config
from ocp_server.index import history
from ocp_server.index.files import list_workspace
from ocp_server.index.history import read_history
from tests.index.git_pipes import never_waits_on, pipe_as, pipe_repo
from tests.workspace_fixture import git


def _pipe_in(ws: Path, tmp_path: Path, what: str) -> Path:
    dot_git = ws / ".git"
    head = git(ws, "rev-parse", "HEAD").strip()
    if what == "shared-index":
        git(ws, "config", "core.splitIndex", "true")
        git(ws, "update-index", "--split-index")
        return pipe_as(next(dot_git.glob("sharedindex.*")))
    if what == "commit-graph":
        git(ws, "commit-graph", "write", "--reachable", "--split")
        return pipe_as(next((dot_git / "objects/info/commit-graphs").glob("graph-*.graph")))
    if what == "pack":
        git(ws, "repack", "-adq")
        return pipe_as(next((dot_git / "objects/pack").glob("pack-*.idx")))
    if what == "replace-ref":
        (dot_git / "refs/replace").mkdir(parents=True, exist_ok=True)
        return pipe_as(dot_git / "refs/replace" / head)
    if what == "alternate's-alternates":
        alternate = tmp_path / "store" / "objects"
        (alternate / "info").mkdir(parents=True)
        (dot_git / "objects/info/alternates").write_text(f"{alternate}\n")
        return pipe_as(alternate / "info" / "alternates")
    # a link out of the repository to a pipe, as the alternate's alternates
    alternate = tmp_path / "store" / "objects"
    (alternate / "info").mkdir(parents=True)
    (dot_git / "objects/info/alternates").write_text("../../../store/objects\n")
    pipe = pipe_as(tmp_path / "elsewhere")
    (alternate / "info" / "alternates").symlink_to(pipe)
    return pipe


@pytest.mark.parametrize(
    "what",
    ["shared-index", "commit-graph", "pack", "replace-ref", "alternate's-alternates", "link"],
)
def test_a_pipe_among_the_files_git_reads_objects_by_is_never_waited_on(
    tmp_path: Path, what: str
) -> None:
    ws = pipe_repo(tmp_path)
    pipe = _pipe_in(ws, tmp_path, what)
    with pytest.raises(UnreadableConfig, match="is a pipe or a device"):
        check_config(ws)
    listing = never_waits_on(pipe, lambda: list_workspace(ws))
    assert not listing.git and {c.path for c in listing.candidates} == {"app.py", "sub/lib.py"}
    assert never_waits_on(pipe, lambda: read_history(ws, 10)) == []


def test_a_repository_with_those_files_regular_is_still_read_by_git(tmp_path: Path) -> None:
    ws = pipe_repo(tmp_path)
    store = tmp_path / "store"
    git(store.parent, "clone", "-q", "--bare", str(ws), str(store))
    (ws / ".git/objects/info/alternates").write_text(f"{store}\n")
    git(ws, "config", "core.splitIndex", "true")
    git(ws, "update-index", "--split-index")
    git(ws, "commit-graph", "write", "--reachable", "--split")
    git(ws, "repack", "-adq")
    (ws / ".git/refs/replace").mkdir()  # as `git replace` leaves it once its refs are deleted
    check_config(ws)
    assert list_workspace(ws).git
    assert [c.message for c in read_history(ws, 10)] == ["first"]


def test_a_loose_object_that_is_a_pipe_holds_git_once_then_never(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A loose object is not looked for before every command (256 folders each time): git
    # opened a pipe there and waited the command's timeout, at every update (history's 30 s)
    ws = pipe_repo(tmp_path)
    head = git(ws, "rev-parse", "HEAD").strip()
    loose = ws / ".git" / "objects" / head[:2] / head[2:]
    kept = loose.read_bytes()
    pipe = pipe_as(loose)
    monkeypatch.setattr(history, "GIT_TIMEOUT_S", 10.0)  # (the old code's wait, shortened)
    monkeypatch.setattr(git_commands, "STALL_S", 0.2, raising=False)
    # the first command git holds is stopped once its stall finds the pipe...
    assert read_history(ws, 10) == []
    with pytest.raises(UnreadableConfig, match=f"{head[2:]} .*is a pipe or a device"):
        check_config(ws)
    # ...and no later one opens it
    assert never_waits_on(pipe, lambda: read_history(ws, 10)) == []
    # once it is a regular file again (an object fetched again), git runs as before
    pipe.unlink()
    loose.write_bytes(kept)
    check_config(ws)
    assert [c.message for c in read_history(ws, 10)] == ["first"]
