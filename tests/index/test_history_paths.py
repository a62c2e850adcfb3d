"""A commit's changed paths as the index names its files: git quotes a path with a byte over
0x7f, a control character, '"' or '\\' in `log --name-only` ("\\303\\251"), and the quoted form
matched no indexed file, so such files had no history evidence."""

from __future__ import annotations

from pathlib import Path

from ocp_server.index.files import list_workspace
from ocp_server.index.history import read_history
from tests.workspace_fixture import git

NAMES = (
    "docs/résumé.md",
    "日本/読む.py",
    "tab\there.py",
    'say "hi".py',
    "back\\slash.py",
    "plain.py",
)


def test_a_commits_paths_are_the_files_names_unquoted(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    for name in NAMES:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x = 1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "Add the files")
    (commit,) = read_history(tmp_path, 10)
    assert sorted(commit.paths) == sorted(NAMES)
    listed = {c.path for c in list_workspace(tmp_path).candidates}
    assert set(commit.paths) <= listed
