"""Git's own files are read as git reads them, checked against git itself: ignore files split at
`\\n` alone (not at U+2028, `\\x0b`, `\\x85`... as `splitlines()` does), CRLF, a BOM, trailing
tabs and spaces, a Latin-1 comment; HEAD, refs and packed-refs with NBSP or U+2028 in a branch's
name; a worktree's `.git` file naming a folder that ends with NBSP."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_server.index import files
from ocp_server.index.files import load_ocpignore
from ocp_server.index.gitdirs import find_git_dirs
from ocp_server.index.githead import GitHead, git_head
from tests.index.git_listing import git_untracked
from tests.workspace_fixture import git


@pytest.fixture(autouse=True)
def _no_user_git_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """git applies only the repository's ignore files (no global excludes file)."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no_config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no_xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


# (.gitignore's bytes, the files to make)
CASES = {
    "u2028": (b"a\xe2\x80\xa8b\n", ["a", "b", "a\u2028b", "c"]),
    "nel": (b"a\xc2\x85b\n", ["a", "b", "a\x85b"]),
    "vt": (b"a\x0bb\n", ["a", "b", "a\x0bb"]),
    "ff": (b"a\x0cb\n", ["a", "b", "a\x0cb"]),
    "fs_gs_rs": (b"a\x1cb\nc\x1dd\ne\x1ef\n", ["a", "b", "c", "d", "e", "f", "a\x1cb", "e\x1ef"]),
    "crlf": (b"one\r\ntwo\r\n", ["one", "two", "three"]),
    "lone_cr": (b"a\rb\n", ["a", "b", "a\rb"]),
    "two_crs": (b"x\r\r\n", ["x", "x\r"]),
    "last_line_cr": (b"keep.txt\nlast\r", ["last", "keep.txt", "other"]),
    "trailing_tab": (b"out_dir\t\n", ["out_dir/f.py", "out_dir\t"]),
    "escaped_tab": (b"t\\\t\n", ["t", "t\t"]),
    "trailing_nbsp": (b"n\xc2\xa0\n", ["n", "n\xa0"]),
    "bom": (b"\xef\xbb\xbfdebug.log\n", ["debug.log", "app.py"]),
    "latin1_comment": (b"# fichiers g\xe9n\xe9r\xe9s\nout_dir/\n", ["out_dir/f.py", "app.py"]),
    "trailing_spaces": (b"tr   \n", ["tr", "tr ", "tr   "]),
    "escaped_space": (b"sp\\  \n", ["sp", "sp ", "sp  "]),
    "lone_backslash": (b"foo\\\nbar\n", ["foo", "foo\\", "bar", "baz"]),
    "comment_and_blank": (b"#x\n\n  \n\\#y\n", ["#x", "#y", "x"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_outside_git_a_gitignore_is_read_as_git_reads_it(tmp_path: Path, case: str) -> None:
    data, names = CASES[case]
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / ".gitignore").write_bytes(data)
    for name in names:
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text("x\n")
    git(ws, "init", "-q")  # the walk passes `.git` over, as git lists nothing in it
    assert set(files._iter_walk_with_gitignore(ws)) == git_untracked(ws)


def test_an_ocpignore_is_read_as_a_gitignore_is() -> None:
    from ocp_server.index.git_text import ignore_patterns  # (here: the others run without it)

    assert ignore_patterns(b"\xef\xbb\xbf# caf\xe9\r\nweb/\r\nlog\t\n") == ["web/", "log\t"]


def test_an_ocpignore_with_a_latin1_comment_still_applies(tmp_path: Path) -> None:
    (tmp_path / ".ocpignore").write_bytes(b"# caf\xe9\nweb/\r\n")
    spec = load_ocpignore(tmp_path)
    assert spec is not None and spec.match_file("web/a.ts") and not spec.match_file("a.ts")


def test_an_ocpignore_with_a_pattern_pathspec_refuses_keeps_the_others(tmp_path: Path) -> None:
    # `notes\` (a lone backslash at the end; git matches nothing with it) raised out of
    # load_ocpignore: every search and listing of the workspace failed.
    (tmp_path / ".ocpignore").write_bytes(b"web/\nnotes\\\n*.tmp\n")
    spec = load_ocpignore(tmp_path)
    assert spec is not None and spec.match_file("web/a.ts") and spec.match_file("x.tmp")
    assert not spec.match_file("notes") and not spec.match_file("a.ts")


@pytest.mark.parametrize(
    "branch", ["feature\u00a0", "a\u2028b", "nel\u0085", "ends\u2028", "\u3000wide"]
)
@pytest.mark.parametrize("packed", [False, True])
def test_head_on_a_branch_whose_name_holds_unicode_spaces(
    tmp_path: Path, branch: str, packed: bool
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "commit", "-q", "--allow-empty", "-m", "one")
    git(ws, "checkout", "-q", "-b", branch)
    git(ws, "commit", "-q", "--allow-empty", "-m", "two")
    if packed:
        git(ws, "pack-refs", "--all")
    # another branch whose packed line a split at U+2028 would leave looking like this one's
    git(ws, "branch", branch + "\u2028x", "main")
    expected = git(ws, "rev-parse", "HEAD").strip()
    assert git_head(ws) == GitHead(ws)() == expected


def test_head_written_without_the_space_after_ref(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q", "-b", "main")
    git(ws, "commit", "-q", "--allow-empty", "-m", "one")
    (ws / ".git" / "HEAD").write_bytes(b"ref:\trefs/heads/main \r\n")
    assert git_head(ws) == git(ws, "rev-parse", "HEAD").strip()


def test_a_worktree_in_a_folder_ending_with_nbsp(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "commit", "-q", "--allow-empty", "-m", "one")
    tree = tmp_path / "tree\u00a0"
    git(repo, "worktree", "add", "-q", "-b", "side", os.fspath(tree))
    git(tree, "commit", "-q", "--allow-empty", "-m", "two")
    found = find_git_dirs(tree)
    assert found is not None
    assert found.git_dir == Path(git(tree, "rev-parse", "--absolute-git-dir").rstrip("\n"))
    assert git_head(tree) == git(tree, "rev-parse", "HEAD").strip()


@pytest.mark.parametrize("folder", [" docs", "\u00a0notes", "tab\t"])
def test_a_workspace_below_the_top_whose_name_starts_or_ends_with_a_space(
    tmp_path: Path, folder: str
) -> None:
    # git's `rev-parse --show-prefix` (" docs/") was stripped of its leading space: no listed
    # path started with it, and the folder was taken for one the repository ignores whole
    # (listed without git: info/exclude and the global excludes file no longer applied).
    repo = tmp_path / "repo"
    ws = repo / folder
    ws.mkdir(parents=True)
    (ws / "app.py").write_text("x = 1\n")
    (ws / "local.py").write_text("x = 2\n")
    git(repo, "init", "-q")
    (repo / ".git" / "info" / "exclude").write_text("local.py\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "one")
    (ws / "new.py").write_text("x = 3\n")
    listing = files.list_workspace(ws)
    assert listing.git and {c.path for c in listing.candidates} == {"app.py", "new.py"}
