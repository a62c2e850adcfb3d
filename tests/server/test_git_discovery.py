"""Which repository OCP's git commands run in, found as git finds it: a bare repository is no
workspace (it has no work tree, only git's own files), a `.git` that is no git folder is passed
over (empty) or ends the search (a `.git` file naming no folder), `GIT_CEILING_DIRECTORIES` is
honoured, and a repository above the workspace counts only where it tracks the workspace's
files (a monorepo's folder: its history is the folder's), not where it merely holds the folder
(a home folder kept in git, its .gitignore `*`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_server.errors import WorkspaceError
from ocp_server.git_config_guard import check_config
from ocp_server.index import files
from ocp_server.index.files import list_workspace
from ocp_server.index.gitdirs import find_git_dirs
from ocp_server.index.history import read_history
from ocp_server.settings import ServerSettings, configured_folders, refusal
from tests.workspace_fixture import git


def _repo(folder: Path, message: str, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    git(folder, "init", "-q")
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    git(folder, "add", "-A")
    git(folder, "commit", "-qm", message)
    return folder


def _paths(ws: Path) -> tuple[bool, list[str]]:
    listing = list_workspace(ws)
    return listing.git, sorted(c.path for c in listing.candidates)


def test_a_bare_repository_is_no_workspace(tmp_path: Path) -> None:
    # Before, its objects, hooks and config were listed as a folder outside git, and its
    # history read, as a workspace's.
    source = _repo(tmp_path / "src", "first", {"app.py": "x = 1\n"})
    bare = tmp_path / "app.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    for folder in (bare, bare / "hooks", source / ".git", source / ".git" / "refs"):
        assert "no work tree" in (refusal(folder) or ""), folder
        with pytest.raises(WorkspaceError, match="no work tree"):
            configured_folders(ServerSettings(workspace=folder), None)
    assert refusal(source) is None


def test_an_empty_dot_git_folder_is_passed_over(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    (ws / ".git").mkdir(parents=True)
    (ws / "app.py").write_text("x = 1\n")
    assert find_git_dirs(ws) is None
    assert _paths(ws) == (False, ["app.py"])
    # inside another repository, git finds that one, as OCP now does
    outer = _repo(tmp_path / "outer", "outer's commit", {"top.py": "y = 2\n"})
    inner = outer / "inner"
    (inner / ".git").mkdir(parents=True)
    (inner / "inner.py").write_text("z = 3\n")
    found = find_git_dirs(inner)
    assert found is not None and found.top == outer
    assert _paths(inner) == (True, ["inner.py"])  # untracked in outer, not ignored by it
    assert read_history(inner, 10) == []  # not the outer repository's commits


def test_a_dot_git_file_naming_no_folder_ends_the_search(tmp_path: Path) -> None:
    outer = _repo(tmp_path / "outer", "outer's commit", {"top.py": "y = 2\n"})
    ws = outer / "ws"
    ws.mkdir()
    (ws / ".git").write_text("gitdir: /nonexistent\n")
    (ws / "app.py").write_text("x = 1\n")
    assert find_git_dirs(ws) is None  # git fails here at once: "not a git repository"
    assert _paths(ws) == (False, ["app.py"])
    assert read_history(ws, 10) == []


def test_a_repository_that_only_holds_the_folder_is_not_the_workspaces(tmp_path: Path) -> None:
    # A home folder kept in git (dotfiles), whose .gitignore is `*`: git listed none of the
    # project's files (it ignores them all), and the dotfiles' commits were read as its history.
    home = _repo(tmp_path / "home", "dotfiles", {".bashrc": "alias ll='ls -l'\n"})
    (home / ".gitignore").write_text("*\n")
    git(home, "add", "-f", ".gitignore")
    git(home, "commit", "-qm", "ignore everything")
    project = home / "proj"
    (project / "src").mkdir(parents=True)
    (project / "src" / "app.py").write_text("def handler(): pass\n")
    (project / ".gitignore").write_text("build/\n")
    (project / "build").mkdir()
    (project / "build" / "out.py").write_text("x = 1\n")
    assert _paths(project) == (False, [".gitignore", "src/app.py"])
    assert read_history(project, 10) == []


def test_a_repository_that_ignores_the_folder_is_said_once_not_at_every_update(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The watcher lists the files at every update: the line was written at each of them.
    home = _repo(tmp_path / "home", "dotfiles", {".bashrc": "alias ll='ls -l'\n"})
    (home / ".gitignore").write_text("*\n")
    project = home / "proj"
    project.mkdir()
    (project / "app.py").write_text("def handler(): pass\n")
    with caplog.at_level("INFO", logger=files.__name__):
        for _ in range(3):
            assert not list_workspace(project).git
    told = [r.getMessage() for r in caplog.records if "ignores all of its files" in r.getMessage()]
    assert told == [
        f"{project} is in a repository that ignores all of its files: listed without git"
    ]


def test_a_monorepos_folder_has_its_own_history(tmp_path: Path) -> None:
    # Before: every commit of the repository, with paths from its top (`svc/svc.py`), which
    # never matched the index's paths (`svc.py`).
    mono = _repo(tmp_path / "mono", "first", {"app.py": "x = 1\n"})
    (mono / "svc").mkdir()
    (mono / "svc" / "svc.py").write_text("def serve(): pass\n")
    git(mono, "add", "-A")
    git(mono, "commit", "-qm", "add the service")
    (mono / "other.txt").write_text("x\n")
    git(mono, "add", "-A")
    git(mono, "commit", "-qm", "elsewhere")
    ws = mono / "svc"
    assert _paths(ws) == (True, ["svc.py"])
    commits = read_history(ws, 10)
    assert [(c.message, c.paths) for c in commits] == [("add the service", ("svc.py",))]


def test_a_new_folder_of_a_repository_keeps_its_ignore_rules(tmp_path: Path) -> None:
    # A project folder not yet added to the repository above it: its files are the
    # repository's untracked ones, and its .gitignore rules hold (a folder git tracked nothing
    # in was listed without git, and `debug.log`, ignored above, was indexed).
    mono = _repo(tmp_path / "mono", "first", {"app.py": "x = 1\n", ".gitignore": "*.log\n"})
    new = mono / "newproj"
    new.mkdir()
    (new / "main.py").write_text("def run(): pass\n")
    (new / "debug.log").write_text("noise\n")
    assert _paths(new) == (True, ["main.py"])
    assert read_history(new, 10) == []


def test_a_side_branch_merged_without_its_changes_keeps_its_commits(tmp_path: Path) -> None:
    # `git log -- .` simplifies history: a merge whose tree equals one parent's (`-s ours`, a
    # side branch whose changes were already in) dropped the side branch's commits, which a
    # log with no path listed. Their messages are still evidence of the files they changed.
    repo = _repo(tmp_path / "repo", "first", {"app.py": "x = 1\n"})
    git(repo, "checkout", "-qb", "side")
    (repo / "side.py").write_text("y = 2\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "side change")
    git(repo, "checkout", "-q", "-")
    git(repo, "merge", "-q", "-s", "ours", "side", "-m", "merge")
    assert sorted(c.message for c in read_history(repo, 10)) == ["first", "side change"]


def test_ceiling_directories_are_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Git does not look above a ceiling: neither does the guard, which refused the workspace
    # for a pipe in the config of a repository git never reads.
    outer = _repo(tmp_path / "outer", "outer's commit", {"top.py": "y = 2\n"})
    os.mkfifo(tmp_path / "pipe")
    with (outer / ".git" / "config").open("a") as f:
        f.write(f'[include]\n\tpath = "{tmp_path / "pipe"}"\n')
    ws = outer / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("x = 1\n")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(outer))
    assert find_git_dirs(ws) is None
    check_config(ws)
    assert _paths(ws) == (False, ["app.py"])
