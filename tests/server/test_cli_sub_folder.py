"""The CLI run in a sub-folder of a project that has its own index: that index answers, a
search kept to the folder (as the server scopes a tool's `workspace` naming a sub-folder),
said on stderr; `--force` builds a separate index of the folder."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.server.cli_run import run as run_in
from tests.server.cli_run import run_in_sub_folder
from tests.workspace_fixture import git


@pytest.fixture
def indexed(workspace: Path) -> Path:
    """The fixture's project, indexed at its top (src/auth.py and web/billing.ts both
    mention verifying tokens)."""
    done = run_in_sub_folder(workspace, "index")
    assert done.returncode == 0, done.stderr
    return workspace


def said_inside(stderr: str, sub: Path, project: Path) -> bool:
    return f"{sub.resolve()} is inside {project.resolve()}: its index answers" in stderr


def test_a_search_in_a_sub_folder_is_answered_by_the_projects_index_kept_to_that_folder(
    indexed: Path,
) -> None:
    # It was refused (exit 2), saying to pass --workspace and --glob 'src/**'.
    src = indexed / "src"
    done = run_in_sub_folder(src, "search", "verify token", "--json")
    assert done.returncode == 0, done.stderr
    paths = {hit["path"] for hit in json.loads(done.stdout)}
    assert paths == {"src/auth.py"}, paths  # not web/billing.ts nor README.md
    assert said_inside(done.stderr, src, indexed) and "scoped to src/" in done.stderr
    assert not (src / ".ocp").exists()  # no second index
    # the whole project's search still finds the others
    top = run_in_sub_folder(indexed, "search", "verify token", "--json")
    assert {hit["path"] for hit in json.loads(top.stdout)} > {"src/auth.py"}
    assert "is inside" not in top.stderr


def test_a_glob_given_in_a_sub_folder_is_relative_to_it(indexed: Path) -> None:
    web = indexed / "web"
    done = run_in_sub_folder(web, "search", "verify token", "--glob", "*.ts", "--json")
    assert done.returncode == 0, done.stderr
    assert {hit["path"] for hit in json.loads(done.stdout)} == {"web/billing.ts"}
    assert (
        run_in_sub_folder(web, "search", "verify token", "--glob", "*.py", "--json").stdout.strip()
        == "[]"
    )


def test_force_still_builds_a_separate_index_of_the_sub_folder(indexed: Path) -> None:
    src = indexed / "src"
    done = run_in_sub_folder(src, "search", "verify token", "--force", "--json")
    assert done.returncode == 0, done.stderr
    assert (src / ".ocp" / "ocp.db").is_file()
    assert "is inside" not in done.stderr
    # paths of its own index: relative to src/
    assert {hit["path"] for hit in json.loads(done.stdout)} == {"auth.py"}
    # from then on the folder's own index answers
    again = run_in_sub_folder(src, "search", "verify token", "--json")
    assert {hit["path"] for hit in json.loads(again.stdout)} == {"auth.py"}
    assert "is inside" not in again.stderr


def test_index_and_status_in_a_sub_folder_are_the_projects(indexed: Path) -> None:
    src = indexed / "src"
    (src / "tokens.py").write_text("def revoke_token(token):\n    return None\n")
    index = run_in_sub_folder(src, "index")
    assert index.returncode == 0, index.stderr
    assert said_inside(index.stderr, src, indexed) and "--force" in index.stderr
    assert not (src / ".ocp").exists()
    # `index PATH` naming the sub-folder, too
    named = run_in_sub_folder(indexed, "index", "src")
    assert named.returncode == 0 and said_inside(named.stderr, src, indexed), named.stderr
    status = run_in_sub_folder(src, "status", "--json")
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)  # was {"indexed": false, ...} of src/
    assert report["workspace"] == str(indexed.resolve())
    assert (
        report["files"]
        == json.loads(run_in_sub_folder(indexed, "status", "--json").stdout)["files"]
    )
    assert said_inside(status.stderr, src, indexed)
    found = run_in_sub_folder(indexed, "search", "revoke token", "--json")
    assert "src/tokens.py" in {hit["path"] for hit in json.loads(found.stdout)}


def test_restore_and_route_in_a_sub_folder_use_the_projects_workspace(indexed: Path) -> None:
    src = indexed / "src"
    restore = run_in_sub_folder(src, "restore", "--json")
    assert restore.returncode == 0, restore.stderr
    assert said_inside(restore.stderr, src, indexed)
    assert not (src / ".ocp").exists()  # restore made src/.ocp, an empty memory of its own
    # route was refused like search; now its context is the project's, from src/
    route = run_in_sub_folder(src, "route", "explain verify_token", "--dry-run")
    assert route.returncode == 0, route.stderr
    assert said_inside(route.stderr, src, indexed) and "scoped to src/" in route.stderr
    assert not (src / ".ocp").exists()


def test_a_folder_outside_any_indexed_project_says_nothing_of_one(workspace: Path) -> None:
    done = run_in_sub_folder(workspace / "src", "search", "verify token", "--json")
    assert done.returncode == 0, done.stderr
    assert "is inside" not in done.stderr
    assert (workspace / "src" / ".ocp" / "ocp.db").is_file()  # its own first index


def test_an_index_of_the_home_folder_does_not_answer_for_the_projects_below_it(
    tmp_path: Path,
) -> None:
    # The home folder, indexed once with --force, answered every project under it (and
    # `ocp-server index` in any of them walked the whole home folder again).
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "todo.py").write_text("def verify_token(): pass\n")
    forced = run_in(home, "index", "--force", home=home)
    assert forced.returncode == 0, forced.stderr
    project = home / "code" / "app"
    project.mkdir(parents=True)
    (project / "auth.py").write_text("def verify_token(token):\n    return token\n")
    for args in (("index",), ("search", "verify token", "--json")):
        done = run_in(project, *args, home=home)
        assert done.returncode == 0, done.stderr
        assert "is inside" not in done.stderr
    assert (project / ".ocp" / "ocp.db").is_file()  # its own index
    assert {hit["path"] for hit in json.loads(done.stdout)} == {"auth.py"}


@pytest.mark.parametrize("left_out", ["scratch", ".venv", "drafts"])
def test_a_sub_folder_the_project_leaves_out_is_not_answered_by_its_index(
    workspace: Path, left_out: str
) -> None:
    # git ignores scratch/, .venv is vendored, .ocpignore names drafts/: the project's index
    # holds none of their files, and answered every search there with nothing.
    (workspace / ".gitignore").write_text("scratch/\n")
    (workspace / ".ocpignore").write_text("drafts/\n")
    for name in ("scratch", "drafts"):
        (workspace / name).mkdir()
        (workspace / name / "x.py").write_text("def verify_token(): pass\n")
    project = run_in_sub_folder(workspace, "index")
    assert project.returncode == 0, project.stderr
    folder = workspace / left_out
    done = run_in_sub_folder(folder, "search", "verify token", "--json")
    assert done.returncode == 0, done.stderr
    assert "is inside" not in done.stderr
    assert {hit["path"] for hit in json.loads(done.stdout)} == {"x.py"}  # its own index


def test_a_nested_git_repository_in_an_indexed_project_is_its_own_project(indexed: Path) -> None:
    # The project's index never holds a nested repository's files (git lists it as one
    # folder): it answered `no indexed file is in lib/`, and a search there found nothing.
    lib = indexed / "lib"
    lib.mkdir()
    (lib / "widget.py").write_text("def frobnicate_widget(x):\n    return x * 2\n")
    git(lib, "init", "-q")
    git(lib, "add", "-A")
    git(lib, "commit", "-qm", "widget")
    done = run_in_sub_folder(lib, "search", "frobnicate widget", "--json")
    assert done.returncode == 0, done.stderr
    assert "is inside" not in done.stderr
    assert {hit["path"] for hit in json.loads(done.stdout)} == {"widget.py"}
    assert (lib / ".ocp" / "ocp.db").is_file()
    # a folder inside it is answered by its index, not the project's above
    (lib / "pkg").mkdir()
    (lib / "pkg" / "gear.py").write_text("def turn_gear(n):\n    return n + 1\n")
    inner = run_in_sub_folder(lib / "pkg", "search", "turn gear", "--json")
    assert inner.returncode == 0, inner.stderr
    assert said_inside(inner.stderr, lib / "pkg", lib), inner.stderr
    assert {hit["path"] for hit in json.loads(inner.stdout)} == {"pkg/gear.py"}


def test_routing_explain_and_reset_in_a_sub_folder_are_the_projects_calibration(
    indexed: Path,
) -> None:
    # A route run in src/ learns into the project's calibration; explain read src/.ocp's
    # (never written) and reset said there was nothing to reset.
    src = indexed / "src"
    calibration = indexed / ".ocp" / "routing-calibration.json"
    calibration.write_text(run_in_sub_folder(indexed, "routing", "explain", "--json").stdout)
    explain = run_in_sub_folder(src, "routing", "explain")
    assert explain.returncode == 0, explain.stderr
    assert explain.stdout.splitlines()[0] == str(calibration.resolve()), explain.stdout
    assert said_inside(explain.stderr, src, indexed)
    reset = run_in_sub_folder(src, "routing", "reset")
    assert reset.returncode == 0, reset.stderr
    assert not calibration.exists(), reset.stdout
    assert not (src / ".ocp").exists()


def test_doctor_in_a_sub_folder_checks_the_projects_index_that_answers_there(
    indexed: Path,
) -> None:
    # It warned "no index yet (src/.ocp/ocp.db)" and said a server started here would not use
    # the project's index, which it does (enclosing.py): the folder described as its own
    # workspace. Now it names the project, checks its index, and says how to get one apart.
    src = indexed / "src"
    done = run_in_sub_folder(src, "doctor", "--json")
    checks = {c["check"]: c for c in json.loads(done.stdout)}
    project, index = checks["project"], checks["index"]
    assert project["status"] == "ok", project
    assert f"{src.resolve()} is inside {indexed.resolve()}" in project["detail"], project
    assert (
        "scoped to src/" in project["detail"]
        and "`ocp-server index --force`" in (project["detail"])
    )
    assert index["status"] == "ok", index
    assert str(indexed.resolve() / ".ocp" / "ocp.db") in index["detail"], index
    assert "no index yet" not in index["detail"] and "does not" not in index["detail"]
    built = run_in_sub_folder(src, "index", "--force")
    assert built.returncode == 0, built.stderr
    after = run_in_sub_folder(src, "doctor", "--json")
    index = next(c for c in json.loads(after.stdout) if c["check"] == "index")
    assert "no index yet" not in index["detail"], index


def test_a_proxy_started_in_a_sub_folder_traces_into_the_projects_store(indexed: Path) -> None:
    # It made src/.ocp, a store of its own, which `ocp-server stats` there (the project's
    # since 96a6d988) never read: its routes were counted nowhere.
    src = indexed / "src"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(indexed.parent.parent),
        "OCP_OLLAMA_URL": "http://127.0.0.1:9",  # nothing there: a 401, traced
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocp_server.cli", "proxy", "--port", "0"],
        cwd=src,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stderr is not None
        said = [proc.stderr.readline()]
        while said[-1] and "proxy on " not in said[-1]:
            said.append(proc.stderr.readline())
        url = said[-1].split("proxy on ", 1)[1].split()[0]
        body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
        answer = httpx.post(f"{url}/v1/chat/completions", json=body, timeout=60)
        assert answer.status_code == 401, answer.text
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert said_inside("".join(said), src, indexed), said
    assert not (src / ".ocp").exists()
    stats = run_in_sub_folder(src, "stats", "--json")
    assert json.loads(stats.stdout)["proxied_routes"] == 1, stats.stdout


@pytest.mark.parametrize(
    ("path", "said"), [("no-such-folder", "does not exist"), ("README.md", "is not a folder")]
)
def test_index_naming_no_folder_inside_a_project_is_refused(
    indexed: Path, path: str, said: str
) -> None:
    # `ocp-server index README.md` (or a typo) inside an indexed project said 'is inside ...:
    # its index answers', updated the project and exited 0. Then a typo said "is not a
    # folder" as the file did.
    done = run_in_sub_folder(indexed, "index", path)
    assert done.returncode == 2, done.stderr
    assert said in done.stderr and "is inside" not in done.stderr, done.stderr


@pytest.mark.parametrize("inside", [".git", ".git/refs"])
def test_commands_in_the_projects_git_folder_are_refused_naming_the_project(
    indexed: Path, inside: str
) -> None:
    # `index --force` in .git indexed git's own files into .git/.ocp (an index no server
    # serves), and the refusals said "--force accepts it anyway" without naming the project.
    folder = indexed / inside
    project = str(indexed.resolve())
    for args in (
        ("index", "--force"),
        ("search", "verify token"),
        ("search", "--force", "verify token"),
    ):
        done = run_in_sub_folder(folder, *args)
        said = " ".join(done.stderr.split())
        assert done.returncode == 2, (args, done.stderr)
        assert f"inside the .git folder of the project {project}" in said, (args, said)
        assert f"`cd {project}`" in said and "--force accepts" not in said, (args, said)
    assert not (folder / ".ocp").exists()
    assert not (indexed / ".git" / ".ocp").exists()


def test_init_in_a_sub_folder_names_the_project_whose_index_answers_and_the_config_read(
    indexed: Path,
) -> None:
    # init wrote src/.mcp.json and said nothing of the project: the user could not tell the
    # server would answer from the project's index, nor that Claude Code opened at the
    # project does not read src/.mcp.json.
    src = indexed / "src"
    done = run_in_sub_folder(src, "init", "--client", "claude-code", "--no-check")
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    project = indexed.resolve()
    assert f"{src.resolve()} is inside {project}, which has its own index" in said, said
    assert "scoped to src/" in said
    assert f"opened at {project} it reads {project / '.mcp.json'} instead" in said, said
    assert (src / ".mcp.json").is_file()
    assert f"added to {project / '.git' / 'info' / 'exclude'}," in said, said  # not src/../.git
    plain = run_in_sub_folder(indexed, "init", "--client", "claude-code", "--no-check")
    assert "is inside" not in plain.stdout, plain.stdout


def test_every_command_in_the_git_folder_is_refused_even_with_an_index_built_there(
    indexed: Path,
) -> None:
    # status said "not indexed yet; refusing…" with exit 0, and an index an older
    # `index --force` built in .git (.git/.ocp) was used by restore, stats and routing.
    shutil.copytree(indexed / ".ocp", indexed / ".git" / ".ocp")
    folder = indexed / ".git"
    project = str(indexed.resolve())
    for args in (("status",), ("restore",), ("stats",), ("routing", "explain")):
        done = run_in_sub_folder(folder, *args)
        said = " ".join(done.stderr.split())
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert f"inside the .git folder of the project {project}" in said, (args, said)
        assert f"`cd {project}`" in said and not done.stdout, (args, said, done.stdout)


def test_doctor_at_the_project_warns_of_an_index_left_in_its_git_folder(indexed: Path) -> None:
    stale = indexed / ".git" / ".ocp"
    shutil.copytree(indexed / ".ocp", stale)
    done = run_in_sub_folder(indexed, "doctor", "--json")
    checks = json.loads(done.stdout)
    warned = [c for c in checks if str(stale.resolve()) in c["detail"]]
    assert warned and warned[0]["status"] == "warn", checks
    assert f"rm -r {stale.resolve()}" in warned[0]["detail"], warned


@pytest.mark.parametrize("inside", [".git", ".git/refs"])
def test_doctor_in_the_git_folder_says_where_to_run_it_and_names_the_index_left_there(
    indexed: Path, inside: str
) -> None:
    # Run in .git, doctor failed its workspace check with the MCP tool's text ("pass
    # `workspace` ...") and never named the index an older `index --force` left in .git/.ocp,
    # which it names when run at the project.
    stale = indexed / ".git" / ".ocp"
    shutil.copytree(indexed / ".ocp", stale)
    project = indexed.resolve()
    done = run_in_sub_folder(indexed / inside, "doctor", "--json")
    assert done.returncode == 1, done.stderr
    checks = {c["check"]: c for c in json.loads(done.stdout)}
    workspace = " ".join(checks["workspace"]["detail"].split())
    assert checks["workspace"]["status"] == "fail", checks
    assert f"inside the .git folder of the project {project}" in workspace, workspace
    assert f"`cd {project}`" in workspace and "pass `workspace`" not in workspace, workspace
    left = checks["git folder"]
    assert left["status"] == "warn" and f"rm -r {stale.resolve()}" in left["detail"], left
