"""A shell's or a database client's history is a secret file by its name: it keeps what was
typed, passwords given on the command line among them, in forms no rule of redaction reads as
a password (`sudo -S <<< 'pw'`, `echo pw | docker login --password-stdin`). A workspace that is
a home folder, or a dotfiles repository, holds them. Before, `.bash_history`, `.zsh_history`,
`.mysql_history`, `.psql_history` and the others were indexed, and their lines handed to the
agent and into paid prompts. Files named like a history that are code stay indexed.

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.files import path_exclusion
from tests.index.listed_paths import paths

PASSWORD = "Qz8vLm2" + "Rt4Wz"
HISTORY = f"cd ~/src/shop\nsudo -S <<< '{PASSWORD}' apt upgrade\ngit push\n"


@pytest.mark.parametrize(
    "name",
    [
        ".bash_history",
        ".zsh_history",
        ".mysql_history",
        ".psql_history",
        ".python_history",
        ".node_repl_history",
        ".sqlite_history",
        ".rediscli_history",
        ".histfile",
        ".local/share/fish/fish_history",
        "home/ann/.BASH_HISTORY",
    ],
)
def test_a_history_file_is_a_secret_by_its_name(name: str) -> None:
    assert path_exclusion(name) == "secret"


@pytest.mark.parametrize("name", ["src/edit_history.py", "history.md", "docs/bash_history.md"])
def test_code_named_after_a_history_is_no_secret(name: str) -> None:
    assert path_exclusion(name) is None


def test_a_history_in_a_workspace_is_not_listed(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def main():\n    pass\n")
    (tmp_path / ".bash_history").write_text(HISTORY)
    (tmp_path / ".zsh_history").write_text(": 1700000000:0;" + HISTORY)
    assert paths(tmp_path) == {"src/app.py"}
