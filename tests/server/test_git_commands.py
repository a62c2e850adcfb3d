"""A repository's own git config never makes OCP run a program: every git OCP runs (the index's
file list, its history, the excludes file, the renames behind memory citations) ignores the
fsmonitor hook, hooks, signature checks, external diffs, textconv and filter drivers that a
`.git/config` from an unpacked archive or a shared drive may name."""

from __future__ import annotations

import ast
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.git_commands import git_env
from ocp_server.index.watched import git_watch
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.memory import DecisionIn, MemoryStore
from tests.server.citations import SETTINGS_PY
from tests.workspace_fixture import git

SRC = Path(__file__).resolve().parents[2]
PACKAGES = [SRC / p / "src" for p in ("ocp_server", "ocp_router", "ocp_client", "ocp_wire")]

# Each program the repository names writes its own word to the trap file, then does its job.
PROGRAMS = {
    "fsmonitor": "exit 1",  # git then scans the work tree itself
    "gpg": "exit 1",
    "textconv": 'cat "$1"',
    "filter": "cat",
    "external": "exit 0",
    "pager": "cat",
    "askpass": "exit 1",
    "hook": "exit 0",
}
HOSTILE = {
    "core.fsmonitor": "fsmonitor",
    "log.showSignature": "true",
    "gpg.program": "gpg",
    "gpg.ssh.program": "gpg",
    "gpg.x509.program": "gpg",
    "diff.evil.textconv": "textconv",
    "diff.evil.command": "external",
    "diff.external": "external",
    "filter.evil.clean": "filter",
    "filter.evil.smudge": "filter",
    "filter.evil.process": "filter",
    "core.pager": "pager",
    "core.askPass": "askpass",
    "core.hooksPath": "hooks",
}
HOOKS = ("post-index-change", "pre-commit", "post-checkout", "reference-transaction")


class Trap:
    """A work tree whose `.git/config` names a program for everything that can run one."""

    def __init__(self, root: Path, sprung: Path) -> None:
        self.root, self.sprung = root, sprung

    def fired(self) -> list[str]:
        return self.sprung.read_text().split() if self.sprung.exists() else []

    def own_git(self, *args: str) -> str:
        """The test's own git, with everything the trap names switched off."""
        off = [f"{key}=" for key in HOSTILE if key != "log.showSignature"]
        off += ["log.showSignature=false", "core.hooksPath=/nonexistent"]
        return git(self.root, *(a for key in off for a in ("-c", key)), *args)


def arm(ws: Path) -> Trap:
    bin_dir = ws.parent / "programs"
    bin_dir.mkdir()
    sprung = ws.parent / "sprung"
    for name, then in PROGRAMS.items():
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\necho {name} >> '{sprung}'\n{then}\n")
        script.chmod(0o755)
    hooks = bin_dir / "hooks"
    hooks.mkdir()
    for hook in HOOKS:
        (hooks / hook).symlink_to(bin_dir / "hook")
        (ws / ".git" / "hooks" / hook).symlink_to(bin_dir / "hook")
    (ws / ".git" / "info").mkdir(exist_ok=True)
    (ws / ".git" / "info" / "attributes").write_text("* filter=evil diff=evil\n")
    for key, value in HOSTILE.items():
        program = bin_dir / value
        git(ws, "config", key, str(program) if program.exists() else value)
    return Trap(ws, sprung)


def signed_commit(ws: Path, message: str) -> None:
    """A commit carrying a (bogus) signature: `log.showSignature` has something to check."""
    tree = git(ws, "write-tree").strip()
    parent = git(ws, "rev-parse", "HEAD").strip()
    body = (
        f"tree {tree}\nparent {parent}\nauthor t <t@example.com> 1700000000 +0000\n"
        "committer t <t@example.com> 1700000000 +0000\n"
        "gpgsig -----BEGIN PGP SIGNATURE-----\n \n iQEz\n -----END PGP SIGNATURE-----\n"
        f"\n{message}\n"
    )
    made = subprocess.run(
        ["git", "hash-object", "-t", "commit", "-w", "--stdin"],
        cwd=ws,
        input=body.encode(),
        capture_output=True,
        check=True,
    )
    git(ws, "update-ref", "HEAD", made.stdout.decode().strip())


@pytest.fixture
def trap(workspace: Path) -> Trap:
    (workspace / "src" / "settings.py").write_text(SETTINGS_PY)
    git(workspace, "add", "-A")
    signed_commit(workspace, "settings")
    return arm(workspace)


def test_the_trap_springs_for_plain_git(trap: Trap) -> None:
    # Without this the tests below could pass with a trap that never fires.
    (trap.root / "src" / "settings.py").write_text(SETTINGS_PY + "# changed\n")
    for args in (
        ["ls-files"],  # fsmonitor
        ["log", "-n1", "--format=%H"],  # gpg
        ["diff"],  # filter (clean), external diff
        ["diff", "--ext-diff", "HEAD~", "HEAD"],
        ["diff", "--no-ext-diff", "HEAD~", "HEAD"],  # textconv
        ["status"],  # writes the index: hook
    ):
        subprocess.run(["git", *args], cwd=trap.root, capture_output=True, check=False)
    assert set(trap.fired()) >= {"fsmonitor", "gpg", "filter", "external", "textconv", "hook"}


@pytest.fixture
async def indexed(trap: Trap) -> AsyncIterator[tuple[Trap, WorkspaceIndex]]:
    index = await WorkspaceIndex.open(trap.root, trap.root.parent / "ocp.db")
    try:
        yield trap, index
    finally:
        await index.close()


async def test_indexing_a_hostile_work_tree_runs_none_of_its_programs(
    indexed: tuple[Trap, WorkspaceIndex],
) -> None:
    trap, index = indexed
    (trap.root / "src" / "new.py").write_text("def fresh(): pass\n")  # untracked: listed too
    await index.update()
    git_watch(trap.root)  # asks git for the excludes file
    assert trap.fired() == []
    files = {r[0] for r in await index.db.execute_fetchall("SELECT path FROM files")}
    assert {"src/auth.py", "src/settings.py", "src/new.py"} <= files
    (commits,) = await index.db.execute_fetchall("SELECT count(*) FROM commits")
    assert commits[0] == 2  # the history was still read, signed commit included


async def test_following_renames_for_memory_runs_none_of_the_work_trees_programs(
    indexed: tuple[Trap, WorkspaceIndex],
) -> None:
    trap, index = indexed
    await index.update()
    conn = await connect(trap.root.parent / "ocp.db")
    try:
        memory = MemoryStore(conn, workspace=trap.root)
        sid = await memory.start_session(str(trap.root), "s1")
        decision = DecisionIn("Timeouts", "read waits 10 s", citations=("src/settings.py:3-6",))
        await memory.save(sid, decisions=[decision])
        (trap.root / "lib").mkdir()
        trap.own_git("mv", "src/settings.py", "lib/timeouts.py")  # staged
        (trap.root / "lib" / "timeouts.py").write_text(SETTINGS_PY + "# moved\n")
        trap.own_git("add", "lib/timeouts.py")  # a rename git must compare contents to find
        await index.update()
        staged = await memory.restore()
        assert staged.decisions[0].citations[0].citation == "lib/timeouts.py:3-6"
        trap.own_git("commit", "-qm", "move")
        trap.own_git("mv", "lib/timeouts.py", "conf.py")
        trap.own_git("commit", "-qm", "move again")
        await index.update()
        committed = await memory.restore()
        assert committed.decisions[0].citations[0].citation == "conf.py:3-6"
    finally:
        await conn.close()
    assert trap.fired() == []


def test_git_is_run_only_through_the_one_module_that_hardens_it() -> None:
    # A new `subprocess.run(["git", ...])` elsewhere would skip the hardening.
    direct = set()
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if (
                    isinstance(node, ast.List)
                    and node.elts
                    and isinstance(node.elts[0], ast.Constant)
                    and node.elts[0].value == "git"
                ):
                    direct.add(f"{path.relative_to(SRC)}:{node.lineno}")
    assert direct, "no git command found"
    assert all(d.startswith("ocp_server/src/ocp_server/git_commands.py:") for d in direct), direct


async def test_git_settings_inherited_from_the_environment_do_not_point_ocp_at_another_repository(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A server started from a git hook, or a shell inside `git rebase -x`, inherits GIT_DIR and
    # friends: they would make OCP's git read that repository instead of the workspace.
    other = tmp_path / "other"
    other.mkdir()
    git(other, "init", "-q")
    (other / "elsewhere.py").write_text("def elsewhere(): pass\n")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "other repository")
    workspace_head = git(workspace, "rev-parse", "HEAD").strip()
    other_head = git(other, "rev-parse", "HEAD").strip()
    monkeypatch.setenv("GIT_DIR", str(other / ".git"))
    monkeypatch.setenv("GIT_WORK_TREE", str(other))
    monkeypatch.setenv("GIT_INDEX_FILE", str(other / ".git" / "index"))
    index = await WorkspaceIndex.open(workspace, tmp_path / "ocp.db")
    try:
        await index.update()
        files = {r[0] for r in await index.db.execute_fetchall("SELECT path FROM files")}
        commits = {r[0] for r in await index.db.execute_fetchall("SELECT hash FROM commits")}
    finally:
        await index.close()
    assert "src/auth.py" in files
    assert "elsewhere.py" not in files
    assert workspace_head in commits
    assert other_head not in commits


def test_every_variable_git_clears_for_a_submodule_is_cleared_for_ocps_git(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    local = subprocess.run(
        ["git", "rev-parse", "--local-env-vars"], capture_output=True, text=True, check=True
    ).stdout.split()
    for name in local:
        monkeypatch.setenv(name, "/elsewhere")
    assert local
    assert not set(local) & set(git_env())
