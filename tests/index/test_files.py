"""Which files get indexed: git's own listing, ignore rules, secrets and junk."""

from __future__ import annotations

import os
from pathlib import Path

from ocp_server.index.files import list_workspace, path_exclusion
from tests.workspace_fixture import git


def paths(ws: Path) -> set[str]:
    return {c.path for c in list_workspace(ws).candidates}


def test_git_listing_honours_gitignore_including_negations(workspace: Path) -> None:
    found = paths(workspace)
    assert {"src/auth.py", "web/billing.ts", "README.md", "keep.log", ".gitignore"} <= found
    assert "debug.log" not in found
    assert not any(p.startswith(("node_modules/", ".venv/")) for p in found)


def test_untracked_files_that_are_not_ignored_are_listed(workspace: Path) -> None:
    (workspace / "src" / "new.py").write_text("x = 1\n")
    assert "src/new.py" in paths(workspace)


def test_secrets_lockfiles_minified_and_binaries_are_skipped_and_counted(workspace: Path):
    listing = list_workspace(workspace)
    found = {c.path for c in listing.candidates}
    for never in (".env", "secrets.json", "id_rsa", "package-lock.json", "app.min.js"):
        assert never not in found
    assert listing.skipped["secret"] == 3
    assert listing.skipped["lockfile"] == 1
    assert listing.skipped["minified"] == 1
    assert listing.git


def test_tracked_vendored_folders_are_skipped_even_when_committed(workspace: Path) -> None:
    vendor = workspace / "vendor" / "pkg"
    vendor.mkdir(parents=True)
    (vendor / "lib.go").write_text("package pkg\n")
    git(workspace, "add", "-A")
    assert "vendor/pkg/lib.go" not in paths(workspace)


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
