"""Inside a `[...]` character class `{`, `}` and `,` are characters, for brace expansion as for
the malformed-glob check (48a9c50): `[{]a[}]` is the name `{a}`, as git's `:(glob)` pathspec
reads it, not a group `{]a[}` cut out of two classes. Checked against git on the same tree; git
has no braces, so a glob with a group is checked against the union of its alternatives."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.globs import glob_matcher, malformed, scoped_glob
from tests.index.git_listing import git_untracked

# None spelled as one of the git globs below: git's pathspec matches a name equal to it too.
NAMES = ["{a}", "{b}", "}a{", ",x", "x", "y", "a", "b", "ba", "{a", "a}", "ax", "[a]", "[]"]

#: A glob, and the git globs whose union it means.
CASES = {
    "[{]a[}]": ["[{]a[}]"],
    "[}]a[{]": ["[}]a[{]"],
    "[{]{a,b}[}]": ["[{]a[}]", "[{]b[}]"],
    "{[,]x,y}": ["[,]x", "y"],
    "{[}]a,b}": ["[}]a", "b"],
    "{[!{]a,y}": ["[!{]a", "y"],
    "{a,[{]a}": ["a", "[{]a"],
    "[[]{a,,}]": ["[[]a]", "[[]]"],
}


@pytest.mark.parametrize("glob", sorted(CASES))
def test_braces_and_commas_inside_a_class_are_characters_as_git_reads_them(
    tmp_path: Path, glob: str
) -> None:
    for name in NAMES:
        (tmp_path / name).write_text("x\n")
    assert malformed(glob) is None
    matches = glob_matcher(glob)
    expected = set().union(*(git_untracked(tmp_path, f":(glob){g}") for g in CASES[glob]))
    assert expected  # each case matches some name, or it would prove little
    assert {n for n in NAMES if matches(n)} == expected


def test_a_searched_folder_named_with_braces_is_that_folder_not_a_group() -> None:
    # scoped_glob writes the folder's `{` and `}` as classes, which expansion now leaves alone
    scoped = scoped_glob("pkg{1,2}", "*.py")
    assert scoped is not None
    matches = glob_matcher(scoped)
    assert matches("pkg{1,2}/a.py")
    assert not matches("pkg1/a.py") and not matches("pkg2/a.py")
