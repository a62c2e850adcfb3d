"""Which files get indexed: git's own listing, ignore rules, nested repositories, size limits,
symlinks and junk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_server.index import files
from ocp_server.index.files import list_workspace, path_exclusion
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.status import index_report
from tests.index.listed_paths import paths
from tests.workspace_fixture import git


def test_git_listing_honours_gitignore_including_negations(workspace: Path) -> None:
    found = paths(workspace)
    assert {"src/auth.py", "web/billing.ts", "README.md", "keep.log", ".gitignore"} <= found
    assert "debug.log" not in found
    assert not any(p.startswith(("node_modules/", ".venv/")) for p in found)


def test_untracked_files_that_are_not_ignored_are_listed(workspace: Path) -> None:
    (workspace / "src" / "new.py").write_text("x = 1\n")
    assert "src/new.py" in paths(workspace)


def test_a_nested_repository_is_left_out_counted_and_named(workspace: Path) -> None:
    (workspace / "inner").mkdir()
    (workspace / "inner" / "x.py").write_text("x = 1\n")
    git(workspace / "inner", "init", "-q")
    listing = list_workspace(workspace)
    assert not any(c.path.startswith("inner") for c in listing.candidates)
    assert listing.skipped["nested_repository"] == 1
    assert listing.nested == ["inner"]


def _with_nested_repositories(ws: Path) -> None:
    """`main.py`, and two repositories inside: `tools/inner` (its own `.git` folder) and `sub`
    (a submodule's `.git` file)."""
    (ws / "tools" / "inner" / "pkg").mkdir(parents=True)
    (ws / "main.py").write_text("def outer_code():\n    pass\n")
    (ws / "tools" / "inner" / "x.py").write_text("def from_the_inner_repo():\n    pass\n")
    (ws / "tools" / "inner" / "pkg" / "y.py").write_text("def deeper_inside():\n    pass\n")
    git(ws / "tools" / "inner", "init", "-q")
    git(ws, "init", "-q", f"--separate-git-dir={ws.parent / 'sub.git'}", "sub")
    (ws / "sub" / "lib.py").write_text("def from_the_submodule():\n    pass\n")


def test_outside_git_a_nested_repository_is_left_out_counted_and_named_too(
    tmp_path: Path,
) -> None:
    # Outside git the walk went into a folder holding `.git` like any other: its files were
    # indexed, under its own ignore rules and HEAD, as git never lists them in a work tree.
    ws = tmp_path / "plain"
    _with_nested_repositories(ws)
    listing = list_workspace(ws)
    assert not listing.git
    assert {c.path for c in listing.candidates} == {"main.py"}
    assert listing.skipped["nested_repository"] == 2
    assert sorted(listing.nested) == ["sub", "tools/inner"]
    assert files.count_files(ws, 100) == 3  # main.py and one folder per repository, as git


@pytest.mark.parametrize("tracked", [True, False], ids=["git", "plain"])
async def test_a_search_says_how_many_nested_repositories_are_not_indexed(
    tmp_path: Path, tracked: bool
) -> None:
    ws = tmp_path / "ws"
    _with_nested_repositories(ws)
    if tracked:
        git(ws, "init", "-q")
    async with await WorkspaceIndex.open(ws, tmp_path / "ocp.db") as index:
        await index.update()
        response = await index.search("from_the_inner_repo from_the_submodule")
        report = await index_report(index)
    assert response.results == ()
    assert response.note == (
        "2 nested git repositories or submodules are not indexed (ocp-server status names them)"
    )
    assert report.nested_repositories == ["sub", "tools/inner"]


async def test_a_search_in_a_workspace_without_nested_repositories_has_no_note(
    workspace: Path, tmp_path: Path
) -> None:
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        response = await index.search("verify_token")
    assert response.results and response.note is None


def test_tracked_vendored_folders_are_skipped_even_when_committed(workspace: Path) -> None:
    vendor = workspace / "vendor" / "pkg"
    vendor.mkdir(parents=True)
    (vendor / "lib.go").write_text("package pkg\n")
    git(workspace, "add", "-A")
    assert "vendor/pkg/lib.go" not in paths(workspace)


def test_a_build_folder_is_indexed_where_git_tracks_it_and_skipped_where_it_is_output(
    workspace: Path,
) -> None:
    (workspace / "build").mkdir()
    (workspace / "build" / "build.ts").write_text("export const entry = 'src/index.ts'\n")
    git(workspace, "add", "build/build.ts")
    (workspace / "build" / "bundle.js").write_text("var out = 1;\n")  # untracked, not ignored
    found = paths(workspace)
    assert "build/build.ts" in found
    assert "build/bundle.js" not in found


@pytest.mark.parametrize(
    ("gitignore", "indexed"), [(None, False), ("*.log\n", True), ("build/\n", False)]
)
def test_outside_git_a_build_folder_is_indexed_only_below_a_gitignore_that_keeps_it(
    tmp_path: Path, gitignore: str | None, indexed: bool
) -> None:
    ws = tmp_path / "plain"
    (ws / "build").mkdir(parents=True)
    (ws / "build" / "build.ts").write_text("export const entry = 'src/index.ts'\n")
    if gitignore is not None:
        (ws / ".gitignore").write_text(gitignore)
    assert ("build/build.ts" in paths(ws)) is indexed
    assert files.count_files(ws, 100) == len(paths(ws))


def test_outside_git_nested_gitignore_rules_apply(tmp_path: Path) -> None:
    ws = tmp_path / "plain"
    (ws / "a" / "b").mkdir(parents=True)
    (ws / ".gitignore").write_text("*.tmp\n")
    (ws / "a" / ".gitignore").write_text("secret_dir/\n!important.tmp\n")
    (ws / "a" / "x.tmp").write_text("x")
    (ws / "a" / "important.tmp").write_text("x")
    (ws / "a" / "secret_dir").mkdir()
    (ws / "a" / "secret_dir" / "f.py").write_text("x")
    (ws / "a" / "b" / "code.py").write_text("x")
    (ws / "node_modules").mkdir()
    (ws / "node_modules" / "m.js").write_text("x")
    listing = list_workspace(ws)
    assert not listing.git
    assert {c.path for c in listing.candidates} == {
        ".gitignore",
        "a/.gitignore",
        "a/important.tmp",
        "a/b/code.py",
    }


def test_ocpignore_applies_on_top_of_git(workspace: Path) -> None:
    (workspace / ".ocpignore").write_text("web/\n")
    found = paths(workspace)
    assert "web/billing.ts" not in found and "src/auth.py" in found


def test_files_over_the_size_limit_are_skipped(workspace: Path) -> None:
    (workspace / "big.py").write_text("x = 1\n" * 1000)
    listing = list_workspace(workspace, max_file_bytes=1000)
    assert "big.py" not in {c.path for c in listing.candidates}
    assert listing.skipped["too_large"] >= 1


def test_symlinks_never_lead_outside_the_workspace(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    os.symlink(outside, workspace / "link.py")
    os.symlink(workspace / "src" / "auth.py", workspace / "inside_link.py")
    listing = list_workspace(workspace)
    found = {c.path for c in listing.candidates}
    assert "link.py" not in found and "inside_link.py" in found
    assert listing.skipped["symlink_outside"] == 1


@pytest.mark.parametrize("tracked", [True, False], ids=["git", "plain"])
def test_a_symlink_loop_is_skipped_as_unreadable_and_the_rest_is_listed(
    tmp_path: Path, tracked: bool
) -> None:
    # A loop (a -> b -> a) is left behind by tools and half-finished renames; resolving it
    # raises instead of failing like a dangling link, and must not stop the whole listing.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.py").write_text("x = 1\n")
    os.symlink("loop_b", ws / "loop_a")
    os.symlink("loop_a", ws / "loop_b")
    os.symlink("itself", ws / "itself")
    if tracked:
        git(ws, "init", "-q")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "init")
    listing = list_workspace(ws)
    assert {c.path for c in listing.candidates} == {"main.py"}
    assert listing.skipped["unreadable"] == 3


def test_path_rules_name_the_reason() -> None:
    assert path_exclusion("config/.env.production") == "secret"
    assert path_exclusion("deploy/server.pem") == "secret"
    assert path_exclusion("keys/id_ed25519.pub") == "secret"
    assert path_exclusion("gcp/service-account-prod.json") == "secret"
    assert path_exclusion("web/node_modules/x/index.js") == "vendored"
    assert path_exclusion("Cargo.lock") == "lockfile"
    assert path_exclusion("api/user_pb2.py") == "generated"
    assert path_exclusion("src/environment.py") is None
    assert path_exclusion("docs/keyboard.md") is None
