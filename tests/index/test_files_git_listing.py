"""When git cannot list the workspace (refused, removed, slow) or speaks another language, the
files are still listed and the reason said."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from ocp_server.index import files
from ocp_server.index.files import list_workspace
from tests.workspace_fixture import git


@pytest.mark.parametrize("refusal", ["dubious ownership", "safe.bareRepository"])
def test_a_repository_git_refuses_is_listed_without_git_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    # Git refuses a repository another user owns ("detected dubious ownership", unless
    # safe.directory names it) and, under safe.bareRepository=explicit, one found bare: the
    # files were listed without git and nothing said why git's rules (info/exclude, the global
    # excludes file) no longer applied, nor that the recent commits were not read.
    if refusal == "dubious ownership":
        ws = tmp_path / "theirs"
        ws.mkdir()
        git(ws, "init", "-q")
        (ws / "app.py").write_text("def serve():\n    return 1\n")
        (ws / ".gitignore").write_text("build.py\n")
        (ws / "build.py").write_text("x = 1\n")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "first")
        # git's own switch for its ownership check (as a repository chowned to another user)
        monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
        said = "detected dubious ownership in repository at"
        hint = f"git config --global --add safe.directory {ws}"
    else:
        ws = tmp_path / "bare.git"
        git(tmp_path, "init", "-q", "--bare", str(ws))
        (ws / "app.py").write_text("def serve():\n    return 1\n")
        config = tmp_path / "gitconfig"
        config.write_text("[safe]\n\tbareRepository = explicit\n")
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
        said = f"cannot use bare repository '{ws}' (safe.bareRepository is 'explicit')"
        hint = ""
    with caplog.at_level("INFO", logger=files.__name__):
        listing = list_workspace(ws)
        list_workspace(ws)  # said once
    listed = {c.path for c in listing.candidates}
    assert "app.py" in listed and not listing.git
    assert "build.py" not in listed  # the .gitignore still applies
    told = [r.getMessage() for r in caplog.records if "listed without git" in r.getMessage()]
    assert len(told) == 1, told
    assert f"git refuses the repository of {ws}: {said}" in told[0]
    assert hint in told[0] and "recent commits are not read" in told[0]


def test_a_git_workspace_removed_while_it_is_served_is_said_to_be_gone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # git says "cannot change to '<ws>'" when the folder is gone: the log said that git
    # refused the repository, and to list its files without git, of a folder that is no more.
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q")
    (ws / "app.py").write_text("def serve():\n    return 1\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "first")
    shutil.rmtree(ws)
    with caplog.at_level("INFO", logger=files.__name__):
        assert not list_workspace(ws).candidates
        list_workspace(ws)  # said once
    told = [r.getMessage() for r in caplog.records]
    gone = f"the workspace {ws} is gone (its folder was removed or moved): no file to list"
    assert told == [gone]


@pytest.mark.parametrize("repository", [False, True])
def test_git_is_read_in_english_whatever_the_users_language(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    repository: bool,
) -> None:
    # OCP reads git's messages ("not a git repository", "dubious ownership"): in a German
    # desktop's environment git wrote "Schwerwiegend: Kein Git-Repository", and every folder
    # outside git was logged as a repository git refused (the safe.directory line missing too).
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("def serve():\n    return 1\n")
    if repository:
        git(ws, "init", "-q")
        monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    said = subprocess.run(["git", "-C", str(ws), "ls-files"], capture_output=True).stderr
    if b"fatal:" in said:
        pytest.skip("git shows no German messages here (no translations installed)")
    with caplog.at_level("INFO", logger=files.__name__):
        listing = list_workspace(ws)
    assert "app.py" in {c.path for c in listing.candidates}
    told = [r.getMessage() for r in caplog.records if "git refuses" in r.getMessage()]
    if repository:
        assert len(told) == 1, told
        assert f"safe.directory {ws}" in told[0], told
    else:
        assert not told, told


def test_the_safe_directory_line_names_a_path_with_at_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The path was taken after the message's last " at ": "look at me" gave `safe.directory
    # me`, and a path with a space must be quoted for the shell.
    ws = tmp_path / "look at me"
    ws.mkdir()
    git(ws, "init", "-q")
    (ws / "app.py").write_text("x = 1\n")
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    with caplog.at_level("INFO", logger=files.__name__):
        list_workspace(ws)
    told = [r.getMessage() for r in caplog.records if "git refuses" in r.getMessage()]
    assert len(told) == 1, told
    assert told[0].endswith(f"git config --global --add safe.directory '{ws}'"), told


def test_git_not_listing_the_files_in_time_is_said_once_and_they_are_listed_without_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A git that never answers (a pipe it waits on that the listing cannot see): each update
    # waited OCP's 60 s for it before listing the files without git, and nothing said why.
    def hung(ws: Path) -> bytes:
        raise subprocess.TimeoutExpired(["git", "ls-files"], 60)

    monkeypatch.setattr(files, "ls_files", hung)
    with caplog.at_level("WARNING", logger=files.__name__):
        for _ in range(2):
            listing = list_workspace(workspace, max_file_bytes=1_000_000)
            assert "src/auth.py" in {c.path for c in listing.candidates}
    told = [r.getMessage() for r in caplog.records if "within 60 s" in r.getMessage()]
    assert len(told) == 1 and "listed without git" in told[0], told


def test_every_path_of_a_workspace_under_the_file_limit_keeps_its_judgement_between_listings(
    tmp_path: Path,
) -> None:
    # Each update judges every listed path in the same order: an LRU smaller than the
    # workspace evicted each path before its next turn (100,000 files: no hit at all).
    from ocp_server.settings import DEFAULT_MAX_FILES

    assert files.PATHS_JUDGED >= DEFAULT_MAX_FILES
    info = files._builtin_exclusion.cache_info()
    assert info.maxsize == files.PATHS_JUDGED
    ws = tmp_path / "ws"
    ws.mkdir()
    for n in range(20):
        (ws / f"judged_once_{n}.py").write_text("x = 1\n")
    list_workspace(ws, max_file_bytes=1000)
    before = files._builtin_exclusion.cache_info()
    list_workspace(ws, max_file_bytes=1000)
    after = files._builtin_exclusion.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 20
