"""A repository whose git config includes a named pipe (or a device) does not make OCP's git
commands wait on it: git would open the pipe at the start of every command and wait for a
writer until the command's timeout (60 s for the index's file list). The files are checked
before git runs; such a repository is listed as a folder outside git.

The harness shows the wait without waiting for it: while the command runs, it looks for a
reader on the pipe (opening a pipe to write, without blocking, succeeds only when one is
there), which is git, waiting; it then lets that git go by closing its end."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ocp_server.citations.renames import GitRenames
from ocp_server.git_config_guard import UnreadableConfig, check_config
from ocp_server.index.files import git_files, list_workspace
from ocp_server.index.history import read_history
from tests.index.git_pipes import never_waits_on
from tests.workspace_fixture import git


def _repo(tmp_path: Path) -> Path:
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q")
    (ws / "app.py").write_text("print('hi')\n")
    (ws / ".gitignore").write_text("build/\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "first")
    return ws


def _include(config: Path, path: str, condition: str | None = None) -> None:
    section = f'[includeIf "{condition}"]' if condition else "[include]"
    with config.open("a") as f:
        f.write(f'{section}\n\tpath = "{path}"\n')


@pytest.mark.parametrize(
    "where",
    ["include", "includeIf", "nested", "tilde", "config-itself", "worktree-config"],
)
def test_a_pipe_in_the_repositorys_config_is_never_waited_on(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = _repo(tmp_path)
    dot_git = ws / ".git"
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    config = dot_git / "config"
    if where == "include":
        _include(config, "../../pipe")  # relative to the including file's folder
    elif where == "includeIf":
        _include(config, str(pipe), f"gitdir:{ws}/")
    elif where == "nested":
        (dot_git / "more.cfg").write_text("")
        _include(dot_git / "more.cfg", str(pipe))
        _include(config, "more.cfg")
    elif where == "tilde":
        monkeypatch.setenv("HOME", str(tmp_path))
        _include(config, "~/pipe")
    elif where == "config-itself":
        config.rename(dot_git / "config.real")
        os.symlink(pipe, config)
    else:
        git(ws, "config", "extensions.worktreeConfig", "true")
        os.symlink(pipe, dot_git / "config.worktree")
    assert never_waits_on(pipe, lambda: git_files(ws)) is None
    listing = never_waits_on(pipe, lambda: list_workspace(ws))
    assert not listing.git and "app.py" in [c.path for c in listing.candidates]
    assert never_waits_on(pipe, lambda: read_history(ws, 10)) == []
    with pytest.raises(UnreadableConfig, match="pipe"):
        check_config(ws)


def test_a_device_included_is_never_read(tmp_path: Path) -> None:
    # A device is never a config file, and one may wait like a pipe (a terminal): not opened.
    # (/dev/zero itself fails git at once; the result, no git listing, is the same.)
    ws = _repo(tmp_path)
    _include(ws / ".git" / "config", "/dev/zero")
    with pytest.raises(UnreadableConfig, match="/dev/zero"):
        check_config(ws)
    assert git_files(ws) is None


def test_ordinary_includes_leave_git_running(tmp_path: Path) -> None:
    ws = _repo(tmp_path)
    dot_git = ws / ".git"
    (dot_git / "extra.cfg").write_text("[core]\n\tquotePath = false\n")
    _include(dot_git / "config", "extra.cfg")
    _include(dot_git / "config", str(tmp_path / "missing.cfg"))  # git skips it
    _include(dot_git / "config", str(tmp_path))  # a folder: git fails at once, no wait
    check_config(ws)
    (dot_git / "config").write_text((dot_git / "config").read_text().rsplit("[include]", 1)[0])
    assert git_files(ws) == [".gitignore", "app.py"]
    assert [c.message for c in read_history(ws, 10)] == ["first"]


def test_dev_null_included_leaves_git_running(tmp_path: Path) -> None:
    # git reads /dev/null as an empty file at once: a repository that includes it (a common
    # way to switch an include off) is an ordinary repository, not one git cannot read
    ws = _repo(tmp_path)
    _include(ws / ".git" / "config", os.devnull)
    check_config(ws)
    assert git_files(ws) == [".gitignore", "app.py"]


@pytest.mark.parametrize("where", ["info-exclude", "excludes-file", "attributes-file"])
def test_a_pipe_git_reads_for_ignores_or_attributes_is_never_waited_on(
    tmp_path: Path, where: str
) -> None:
    # Not config, but read by the same commands: `ls-files --exclude-standard` opens
    # info/exclude and core.excludesFile, `check-attr` and `add` core.attributesFile.
    ws = _repo(tmp_path)
    dot_git = ws / ".git"
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    if where == "info-exclude":
        (dot_git / "info").mkdir(exist_ok=True)
        exclude = dot_git / "info" / "exclude"
        exclude.unlink(missing_ok=True)
        os.symlink(pipe, exclude)
    elif where == "excludes-file":
        git(ws, "config", "core.excludesFile", str(pipe))
    else:
        git(ws, "config", "core.attributesFile", "../pipe")  # relative to the work tree
    with pytest.raises(UnreadableConfig, match="pipe"):
        check_config(ws)
    listing = never_waits_on(pipe, lambda: list_workspace(ws))
    assert not listing.git and "app.py" in [c.path for c in listing.candidates]


# ---- the user's and the system's config ---------------------------------------------------------


@pytest.mark.parametrize(
    "where",
    [
        "home-gitconfig",
        "xdg-config",
        "config-global",
        "config-system",
        "excludes-file",
        "xdg-ignore",
    ],
)
def test_a_pipe_in_the_users_or_the_systems_config_is_never_waited_on(
    tmp_path: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Git reads these before any repository's own, in every command: a pipe there made each of
    # OCP's commands wait until its timeout (the guard looked at the repository's files only).
    ws = _repo(tmp_path)
    home = tmp_path / "home"
    (home / "xdg" / "git").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    if where == "home-gitconfig":
        _include(home / ".gitconfig", str(pipe))
    elif where == "xdg-config":
        _include(home / "xdg" / "git" / "config", "../../../pipe")  # relative to the file
    elif where == "config-global":
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(pipe))
    elif where == "config-system":
        monkeypatch.setenv("GIT_CONFIG_SYSTEM", str(pipe))
    elif where == "excludes-file":
        (home / ".gitconfig").write_text(f'[core]\n\texcludesFile = "{pipe}"\n')
    else:
        os.symlink(pipe, home / "xdg" / "git" / "ignore")
    with pytest.raises(UnreadableConfig, match="pipe"):
        check_config(ws)
    listing = never_waits_on(pipe, lambda: list_workspace(ws))
    assert not listing.git and "app.py" in [c.path for c in listing.candidates]
    assert never_waits_on(pipe, lambda: read_history(ws, 10)) == []


def test_ordinary_user_config_leaves_git_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A regular file included, and a pipe where git's own ignore file would be but another one
    # is named (git never opens it): git runs.
    ws = _repo(tmp_path)
    home = tmp_path / "home"
    (home / "xdg" / "git").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "xdg"))
    (home / "more.cfg").write_text(f'[core]\n\texcludesFile = "{home / "ignore"}"\n')
    _include(home / ".gitconfig", "~/more.cfg")
    os.mkfifo(home / "xdg" / "git" / "ignore")
    check_config(ws)
    assert git_files(ws) == [".gitignore", "app.py"]


@pytest.mark.parametrize("where", ["work-tree", "mailmap-file"])
def test_a_pipe_named_mailmap_is_never_waited_on_for_history_or_renames(
    tmp_path: Path, where: str
) -> None:
    # `git log` opens the work tree's .mailmap (git 2.23's default log.mailmap=true), or the
    # file mailmap.file names, at its start: the first index's history waited GIT_TIMEOUT_S
    # (30 s) on a pipe there, and came back empty.
    ws = _repo(tmp_path)
    git(ws, "mv", "app.py", "main.py")
    git(ws, "commit", "-qm", "second")
    if where == "work-tree":
        pipe = ws / ".mailmap"
    else:
        pipe = tmp_path / "pipe"
        git(ws, "config", "mailmap.file", str(pipe))
    os.mkfifo(pipe)
    history = never_waits_on(pipe, lambda: read_history(ws, 10))
    assert [c.message for c in history] == ["second", "first"]
    renames = GitRenames(ws)
    assert never_waits_on(pipe, lambda: asyncio.run(renames.renamed_to("app.py"))) == ["main.py"]
