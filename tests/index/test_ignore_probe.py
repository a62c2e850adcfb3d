"""A workspace whose git rules ignore every new file (a home folder kept in git for its dotfiles,
its .gitignore `*`) lists only what git tracks, as git's rules say, and the log says so once,
naming the rule and what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index import files
from ocp_server.index.files import list_workspace
from tests.workspace_fixture import git


@pytest.fixture(autouse=True)
def _no_user_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no_config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no_xdg"))


def dotfiles_home(tmp_path: Path, ignore: str = "*\n") -> Path:
    home = tmp_path / "home"
    (home / "projects" / "app").mkdir(parents=True)
    (home / "projects" / "app" / "main.py").write_text("def main():\n    return 1\n")
    (home / "notes.md").write_text("# notes\n")
    (home / ".bashrc").write_text("export EDITOR=vi\n")
    (home / ".gitignore").write_text(ignore)
    git(home, "init", "-q")
    git(home, "add", "-f", ".bashrc", ".gitignore")
    git(home, "commit", "-qm", "dotfiles")
    return home


def test_a_home_whose_gitignore_ignores_everything_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = dotfiles_home(tmp_path)
    with caplog.at_level("INFO", logger=files.__name__):
        listing = list_workspace(home)
        list_workspace(home)  # said once
    # git's rules hold: the tracked dotfiles alone
    assert {c.path for c in listing.candidates} == {".bashrc", ".gitignore"} and listing.git
    told = [r for r in caplog.records if "ignores every new file" in r.getMessage()]
    assert len(told) == 1, [r.getMessage() for r in caplog.records]
    said = told[0].getMessage()
    assert told[0].levelname == "WARNING"
    assert f"{home / '.gitignore'}:1:*" in said and f"in {home}" in said
    assert "only the 2 files git lists" in said
    assert "--workspace" in said and "negations" in said


@pytest.mark.parametrize("ignore", ["*.log\nbuild/\n", "*\n!*.py\n!*.md\n!*/\n"])
def test_ordinary_rules_say_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ignore: str
) -> None:
    home = dotfiles_home(tmp_path, ignore)
    with caplog.at_level("INFO", logger=files.__name__):
        listing = list_workspace(home)
    assert "projects/app/main.py" in {c.path for c in listing.candidates}
    assert not [r for r in caplog.records if "ignores every new file" in r.getMessage()]


def test_a_folder_below_that_git_lists_nothing_in_is_listed_without_git_and_not_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    home = dotfiles_home(tmp_path)
    app = home / "projects" / "app"
    with caplog.at_level("INFO", logger=files.__name__):
        listing = list_workspace(app)
    assert {c.path for c in listing.candidates} == {"main.py"} and not listing.git
    assert not [r for r in caplog.records if "ignores every new file" in r.getMessage()]
