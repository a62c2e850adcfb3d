"""A named pipe named .gitignore inside a git work tree: `git ls-files` opens it and waits for a
writer for ever. The listing used to wait git's 60 s timeout at every update; now a git that has
not answered within a couple of seconds makes the .gitignore files be looked at, and a pipe
among them gets the files listed without git, the log naming it, and later listings do not run
git while it is there.

No writer is ever put on the pipe here: one would let git go on, as it let the old code."""

from __future__ import annotations

import errno
import os
import threading
import time
from pathlib import Path

import pytest

from ocp_server.index import files
from ocp_server.index.files import Listing, list_workspace
from tests.workspace_fixture import git


def _repo_with_a_pipe(tmp_path: Path) -> tuple[Path, Path]:
    ws = tmp_path / "ws"
    (ws / "sub").mkdir(parents=True)
    (ws / "app.py").write_text("def app():\n    pass\n")
    (ws / "sub" / "deep.py").write_text("def deep():\n    pass\n")
    (ws / ".gitignore").write_text("*.log\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "first")
    (ws / "sub" / "new.py").write_text("def untracked_but_kept():\n    pass\n")
    (ws / "sub" / "noise.log").write_text("ignored by the root .gitignore\n")
    pipe = ws / "sub" / ".gitignore"
    os.mkfifo(pipe)
    return ws, pipe


def _listed_within(ws: Path, seconds: float) -> Listing:
    """The listing, failing when it has not ended in `seconds` (git's own timeout is 60 s)."""
    done: list[Listing] = []
    thread = threading.Thread(
        target=lambda: done.append(list_workspace(ws, max_file_bytes=1000)), daemon=True
    )
    thread.start()
    thread.join(seconds)
    assert done, f"the listing still waited after {seconds} s"
    return done[0]


def _someone_reads(pipe: Path) -> bool:
    """Whether a process has `pipe` open to read (git, waiting): opening it to write without
    blocking succeeds only then."""
    try:
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    except OSError as exc:
        assert exc.errno == errno.ENXIO
        return False
    return True


def test_a_pipe_named_gitignore_gets_the_files_listed_without_git_and_named_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws, pipe = _repo_with_a_pipe(tmp_path)
    with caplog.at_level("WARNING", logger=files.__name__):
        listing = _listed_within(ws, 30)
    assert not listing.git
    assert {c.path for c in listing.candidates} == {
        ".gitignore",
        "app.py",
        "sub/deep.py",
        "sub/new.py",
    }
    told = [r.getMessage() for r in caplog.records if str(pipe) in r.getMessage()]
    assert len(told) == 1 and "named pipe" in told[0], [r.getMessage() for r in caplog.records]
    assert not _someone_reads(pipe)  # the git that waited on it was stopped


def test_later_listings_do_not_run_git_while_the_pipe_is_there_and_do_once_it_is_a_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ws, pipe = _repo_with_a_pipe(tmp_path)
    with caplog.at_level("WARNING", logger=files.__name__):
        _listed_within(ws, 30)
        caplog.clear()
        waited: list[bool] = []
        thread = threading.Thread(
            target=lambda: list_workspace(ws, max_file_bytes=1000), daemon=True
        )
        thread.start()
        while thread.is_alive():
            waited.append(_someone_reads(pipe))
            time.sleep(0.002)
        thread.join()
    assert not any(waited), "git was run, and waited on the pipe"
    assert not caplog.records  # said once, at the first listing
    pipe.unlink()
    pipe.write_text("new.py\n")
    listing = list_workspace(ws, max_file_bytes=1000)
    assert listing.git
    assert {c.path for c in listing.candidates} == {
        ".gitignore",
        "app.py",
        "sub/.gitignore",
        "sub/deep.py",
    }


def test_a_pipe_as_a_nested_repositorys_head_gets_the_files_listed_without_git(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # `git ls-files --others` reads a nested repository's HEAD to tell it from a folder: a
    # pipe there held every listing for git's 60 s (the stall check looked for .gitignore
    # pipes alone), then again at each update.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("def app():\n    pass\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "first")
    git(ws, "init", "-q", "vendor")
    pipe = ws / "vendor" / ".git" / "HEAD"
    pipe.unlink()
    os.mkfifo(pipe)
    with caplog.at_level("WARNING", logger=files.__name__):
        listing = _listed_within(ws, 30)
        again = _listed_within(ws, 30)  # known: git is not run, nor waited on
    assert not listing.git and not again.git
    assert "app.py" in {c.path for c in listing.candidates}
    told = [r.getMessage() for r in caplog.records if str(pipe) in r.getMessage()]
    assert len(told) == 1 and "nested repository" in told[0], told
    assert not _someone_reads(pipe)
