"""Ignore patterns matched as git matches them (ignore_rules.py), where pathspec did not: the
listing outside git against `git ls-files --others --exclude-standard` on the same tree, and
`.ocpignore`, whose patterns git never sees, against what git would ignore."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ocp_server.index.files import list_workspace, load_ocpignore
from tests.index.git_listing import git_untracked

#: (the .gitignore, the files, those git ignores), each checked against git itself too.
CASES = {
    # a bracket never matches `/`: `#h/` is not `#h` and one more byte
    "negated bracket": ("\\#h[!a]\n", ["#h/ab", "#hb", "#ha"], ["#hb"]),
    # a run of 3 stars before `/` is `**/`; `**#h` after `/` is `*#h`
    "three stars": ("***/**#h\n", ["d/x y/#h", "d/e#h", "e/f"], ["d/x y/#h", "d/e#h"]),
    # git compares `a` apart, then wildmatch sees `**/*` at its start
    "stars after a literal": ("a**/*\n", ["ab2", "ab/c/g", "a/b", "b/a"], ["ab2", "ab/c/g", "a/b"]),
    "trailing stars after a literal": ("d/b**\n", ["d/b/x/y", "d/bc", "d/c"], ["d/b/x/y", "d/bc"]),
    # the folder is not ignored by `a/**` (only what is in it): a negation re-includes
    "negation inside a/**": ("a/**\n!a/b\n", ["a/b", "a/c"], ["a/c"]),
    "classes": ("[[:digit:]]x\n[[:upper:]]\n", ["1x", "ax", "B", "b"], ["1x", "B"]),
    # pathspec failed the whole listing on a reversed range (re.error); git reads `z`, then a
    # range from it that holds nothing
    "reversed range": ("[z-a]\nb\n", ["a", "z", "b"], ["b", "z"]),
    "bracket with ] first": ("[]a]x\n[!]a]y\n", ["]x", "ax", "bx", "by", "ay"], ["]x", "ax", "by"]),
    "escaped ] in a bracket": ("[\\]]z\n", ["]z", "\\z"], ["]z"]),
    "unclosed bracket and unknown class": ("a[b\n[[:bogus:]]\n", ["a[b", "x"], []),
    # `?` is one byte: é is two
    "? and a two-byte name": ("a?\nb??\n", ["a\xe9", "b\xe9", "ax"], ["b\xe9", "ax"]),
    "folder ignored, file negated": ("d\n!d/keep\n", ["d/keep", "e/keep"], ["d/keep"]),
}


def _git_ignored(tree: Path, files: list[str]) -> list[str]:
    return sorted(set(files) - git_untracked(tree))


def _tree(root: Path, ignore: str, files: list[str]) -> Path:
    root.mkdir()
    (root / ".gitignore").write_text(ignore)
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    return root


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_listing_outside_git_ignores_what_git_ignores(tmp_path: Path, case: str) -> None:
    ignore, files, ignored = CASES[case]
    plain = _tree(tmp_path / "plain", ignore, files)
    listed = {c.path for c in list_workspace(plain).candidates}
    assert sorted(set(files) - listed) == sorted(ignored)
    assert _git_ignored(_tree(tmp_path / "git", ignore, files), files) == sorted(ignored)


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_ocpignore_ignores_what_git_would(tmp_path: Path, case: str) -> None:
    ignore, files, ignored = CASES[case]
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".ocpignore").write_text(ignore)
    rules = load_ocpignore(ws)
    assert rules is not None
    assert sorted(f for f in files if rules.match_file(f)) == sorted(ignored)


@pytest.mark.parametrize(
    "name",
    ["alnum", "alpha", "blank", "cntrl", "digit", "graph", "lower", "print", "punct"]
    + ["space", "upper", "xdigit"],
)
def test_each_class_holds_the_bytes_gits_holds(tmp_path: Path, name: str) -> None:
    """Every byte but NUL and `/` (the high ones stand for bytes of names that are not UTF-8),
    as git reads `x[[:class:]]` in a .gitignore."""
    from ocp_server.index.ignore_rules import IgnoreRules  # (the other tests run without it)

    tree = tmp_path / "t"
    tree.mkdir()
    files = [os.fsdecode(b"x" + bytes([b])) for b in range(1, 256) if b != 0x2F]
    for rel in files:
        (tree / rel).write_bytes(b"")
    (tree / ".gitignore").write_text(f"x[[:{name}:]]\n")
    rules = IgnoreRules([f"x[[:{name}:]]"])
    assert sorted(f for f in files if rules.match_file(f)) == _git_ignored(tree, files)
    shutil.rmtree(tree)
