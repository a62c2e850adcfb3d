"""History's `git log` output is read NUL-separated (-z), so no character a path or a message
may hold splits them: `splitlines()` also splits on U+2028, U+2029, U+0085, \\x0b, \\x0c and
\\x1c-\\x1e, which git writes unquoted in a path under `core.quotePath=false` (and in a commit
message always), and \\x1e was the record separator."""

from __future__ import annotations

import os
from pathlib import Path

from ocp_server.index.history import read_history
from tests.workspace_fixture import git

ODD = ("\u2028", "\u2029", "\u0085")


def _commit(ws: Path, names: tuple[str, ...], message: str) -> None:
    for name in names:
        (ws / name).write_text(f"{message!r}\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", message)


def test_paths_with_line_separators_under_quote_path_false(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "core.quotePath", "false")
    first = tuple(f"a{c}b.py" for c in ODD)
    second = tuple(f"{c}lead.py" for c in ODD) + ("plain.py",)
    _commit(tmp_path, first, "Add the odd names")
    _commit(tmp_path, second, "Add more")
    newest, oldest = read_history(tmp_path, 10)
    assert sorted(oldest.paths) == sorted(first)
    assert sorted(newest.paths) == sorted(second)


def test_a_subject_with_separators_stays_one_commit(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    _commit(tmp_path, ("one.py",), "Fix\u2028the\x0cparser\x1e\x1dnow")
    _commit(tmp_path, ("two.py", "three.py"), "Tidy\x1eup\n\nBody\u2029with\x0bodd\x1cbits")
    newest, oldest = read_history(tmp_path, 10)
    assert oldest.paths == ("one.py",)
    assert oldest.message == "Fix\u2028the\x0cparser\x1e\x1dnow"
    assert sorted(newest.paths) == ["three.py", "two.py"]
    assert newest.message == "Tidy\x1eup Body with odd bits"  # the body's words, as ever


def test_a_name_not_utf8_is_left_out_as_the_index_leaves_it_out(tmp_path: Path) -> None:
    # SQLite text cannot hold the surrogate escapes such a name decodes to (files._decodable):
    # storing it in commit_files raised UnicodeEncodeError
    git(tmp_path, "init", "-q")
    (tmp_path / os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    (tmp_path / "ok.py").write_text("x = 1\n")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "Add a Latin-1 name")
    (commit,) = read_history(tmp_path, 10)
    assert commit.paths == ("ok.py",)
