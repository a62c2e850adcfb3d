"""git's `core.ignoreCase` (its default on a case-insensitive filesystem, and settable in any
config file) makes its ignore patterns match either case, with quirks of its own: a letter
after `\\` and a bracket's members are compared raw against the lower-cased name, so `m[X]`
and `\\B` match no name at all, while `[A-C]` also holds `a` to `c` and `[[:upper:]]` every
letter; only ASCII letters fold. OCP's own matching (the listing outside git, `.ocpignore`)
does as git does, checked against `git ls-files --others --exclude-standard` on the same tree."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ocp_server.index.files import list_workspace, load_ocpignore
from tests.index.git_listing import git_untracked

PATTERNS = [
    "*.log",
    "foo.txt",
    "[A]",
    "\\B",
    "[A-C]x",
    "build/",
    "SUB/deep/q",
    "u[[:upper:]]",
    "[X]2",
    "[x]1",
    "\xe9",
    "[[:lower:]]O",
    "m[X]",
    "K*",
    "/Top",
    "!Keep.LOG",
]
FILES = [
    "A.LOG",
    "b.log",
    "keep.log",
    "Foo.TXT",
    "a",
    "A",
    "B",
    "b",
    "bx",
    "Dx",
    "x1",
    "X2",
    "x2",
    "\xe9",
    "\xc9",
    "Build/o",
    "sub/Deep/q",
    "sub/deep2",
    "up",
    "uP",
    "lo",
    "LO",
    "mx",
    "MX",
    "kite",
    "top",
    "d/top",
]
#: What git ignores of FILES with core.ignoreCase=true (checked against git below).
IGNORED = [
    "A.LOG",
    "Build/o",
    "Foo.TXT",
    "LO",
    "b.log",
    "bx",
    "kite",
    "lo",
    "sub/Deep/q",
    "top",
    "uP",
    "up",
    "x1",
    "\xe9",
]


def _git_env(tmp_path: Path, ignore_case: bool) -> dict[str, str]:
    config = tmp_path / "gitconfig"
    config.write_text(f"[core]\n\tignoreCase = {str(ignore_case).lower()}\n")
    return {
        "GIT_CONFIG_GLOBAL": str(config),
        "GIT_CONFIG_NOSYSTEM": "1",
        "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
        "HOME": str(tmp_path),
    }


def _tree(root: Path) -> Path:
    root.mkdir()
    (root / ".gitignore").write_text("\n".join(PATTERNS) + "\n")
    for rel in FILES:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("x = 1\n")
    return root


def _git_listed(tree: Path, env: dict[str, str]) -> set[str]:
    return git_untracked(tree, env=env) - {".gitignore"}


@pytest.mark.parametrize("ignore_case", [True, False], ids=["ignorecase", "case_sensitive"])
def test_the_listing_outside_git_folds_case_as_git_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ignore_case: bool
) -> None:
    env = _git_env(tmp_path, ignore_case)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    plain = _tree(tmp_path / "plain")
    listed = {c.path for c in list_workspace(plain).candidates} - {".gitignore"}
    git_listed = _git_listed(_tree(tmp_path / "git"), env)
    assert listed == git_listed
    if ignore_case:
        assert sorted(set(FILES) - git_listed) == IGNORED


def test_an_ocpignore_folds_case_where_the_repository_sets_core_ignorecase(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in _git_env(tmp_path, False).items():
        monkeypatch.setenv(name, value)
    ws = tmp_path / "ws"
    ws.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
    (ws / ".ocpignore").write_text("\n".join(PATTERNS) + "\n")
    for rel in FILES:
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text("x = 1\n")
    rules = load_ocpignore(ws)
    assert rules is not None and not rules.ignore_case
    assert "A.LOG" in {c.path for c in list_workspace(ws).candidates}

    subprocess.run(["git", "config", "core.ignoreCase", "true"], cwd=ws, check=True)
    rules = load_ocpignore(ws)
    assert rules is not None and rules.ignore_case
    assert sorted(f for f in FILES if rules.match_file(f)) == IGNORED
    listed = {c.path for c in list_workspace(ws).candidates} - {".ocpignore"}
    assert listed == set(FILES) - set(IGNORED)
