"""A first run that cannot hurt, and a CLI that behaves in terminals and pipes: refusals with
--force, progress with files/s and ETA, Ctrl-C, -v, unwrapped piped output, `status`."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from ocp_server import proc
from ocp_server.cli_output import IndexProgress
from ocp_server.index.files import count_files, list_workspace
from ocp_server.index.lease import LEASE_NAME
from ocp_server.index.workspace import WorkspaceIndex
from tests.server.cli_run import run
from tests.workspace_fixture import git


def many_files(ws: Path, n: int, functions: int = 20) -> Path:
    """A workspace of `n` Python files, each with `functions` small definitions."""
    for i in range(n):
        folder = ws / f"pkg{i // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"def f_{i}_{j}(x):\n    '''doc {j}'''\n    return x * {j}\n\n"
            for j in range(functions)
        )
        (folder / f"m{i}.py").write_text(body)
    return ws


# ---- refusals ---------------------------------------------------------------------------------


def test_the_home_folder_is_refused_with_a_message_and_nothing_is_written(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / "notes").mkdir(parents=True)
    (home / "notes" / "a.py").write_text("def verify_token(): pass\n")
    for args in (["search", "verify"], ["index"], ["route", "explain x", "--dry-run"]):
        done = run(home, *args, home=home)
        assert done.returncode == 2, (args, done.stderr)
        assert "refusing to index your home folder" in done.stderr and "--force" in done.stderr
        assert "Traceback" not in done.stderr
    assert not (home / ".ocp").exists(), "a refused run must not create the database"
    forced = run(home, "search", "verify_token", "--json", "--force", home=home)
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)[0]["symbol"] == "verify_token"


@pytest.mark.parametrize(
    "command",
    [
        ["index"],
        ["search", "Host"],
        ["route", "explain x", "--dry-run"],
        ["restore"],
        ["stats"],
        ["routing", "explain"],
        ["proxy", "--port", "0"],
    ],
)
def test_a_credential_folder_is_refused_by_every_command_and_nothing_is_written(
    tmp_path: Path, command: list[str]
) -> None:
    # The server refuses ~/.ssh, /etc, /tmp, ...; the CLI refused only / and the home folder,
    # so `ocp-server route --workspace /etc` indexed /etc into /etc/.ocp/ocp.db.
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "config").write_text("Host build\n  IdentityFile ~/.ssh/id_ed25519\n")
    done = run(tmp_path, "--workspace", str(home / ".ssh"), *command, home=home)
    assert done.returncode == 2, (command, done.stderr)
    assert (
        f"refusing to index {home / '.ssh'}" in done.stderr and "holds credentials" in done.stderr
    )
    assert "Traceback" not in done.stderr
    assert not (home / ".ssh" / ".ocp").exists(), "a refused run must not create the database"


def test_status_of_a_shared_folder_says_why_it_is_not_indexed(tmp_path: Path) -> None:
    done = run(tmp_path, "--workspace", "/tmp", "status", home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "holds many projects or users' files" in done.stdout
    assert "run `ocp-server index`" not in done.stdout


def test_the_root_folder_is_refused(tmp_path: Path) -> None:
    done = run(tmp_path, "--workspace", "/", "index", home=tmp_path)
    assert done.returncode == 2 and "whole file system" in done.stderr and "--force" in done.stderr


def test_a_folder_over_OCP_MAX_FILES_is_refused_before_its_first_index_only(
    workspace: Path,
) -> None:
    done = run(workspace, "index", OCP_MAX_FILES="3")
    assert done.returncode == 2, done.stderr
    assert "more than 3 files" in done.stderr and "OCP_MAX_FILES" in done.stderr
    assert not (workspace / ".ocp").exists()
    assert run(workspace, "index", "--force", OCP_MAX_FILES="3").returncode == 0
    # Once indexed (the user said so), updates and searches are not refused again.
    assert run(workspace, "index", OCP_MAX_FILES="3").returncode == 0
    assert run(workspace, "search", "verify", OCP_MAX_FILES="3").returncode == 0


def test_bad_OCP_MAX_FILES_names_the_variable(workspace: Path) -> None:
    done = run(workspace, "index", OCP_MAX_FILES="lots")
    assert done.returncode != 0 and "OCP_MAX_FILES='lots' is invalid" in done.stderr


def test_count_files_counts_what_the_index_considers_and_stops_past_the_limit(
    workspace: Path,
) -> None:
    considered = len(list_workspace(workspace).candidates)
    assert count_files(workspace, 1000) == considered
    assert count_files(workspace, 2) == 3  # stops at limit + 1
    plain = many_files(workspace.parent / "plain", 30, functions=1)  # no git: the walk
    (plain / "node_modules").mkdir()
    (plain / "node_modules" / "x.js").write_text("x")
    assert count_files(plain, 1000) == 30
    assert count_files(plain, 5) == 6


# ---- progress ---------------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_has_counts_files_per_second_and_an_eta() -> None:
    clock = Clock()
    progress = IndexProgress(Console(file=io.StringIO()), clock=clock)
    assert progress.line() == "listing files… (0s)"
    progress.update(0, 1000)
    clock.now += 2
    progress.update(250, 1000)
    assert progress.line() == "indexing 250/1,000 files (25%), 125 files/s, ETA 6s, 2s"
    progress.update(1000, 1000)
    assert "ETA 0s" in progress.line()


def test_progress_says_one_file_a_second_and_a_slow_rate_in_tenths() -> None:
    # "1 files/s" was said at one a second, and "0 files/s" of one file in 3 s
    clock = Clock()
    progress = IndexProgress(Console(file=io.StringIO()), clock=clock)
    progress.update(0, 1)
    clock.now += 3
    assert progress.line().startswith("indexing 0/1 file (0%), … files/s")
    progress.update(1, 10)
    assert progress.line().startswith("indexing 1/10 files (10%), 0.3 files/s, ETA 27s")
    progress.update(3, 10)
    assert "(30%), 1 file/s, ETA 7s" in progress.line()
    progress.update(33, 100)
    assert ", 11 files/s," in progress.line()


def test_progress_is_due_every_half_second_while_files_move_and_every_five_when_stuck() -> None:
    clock = Clock()
    progress = IndexProgress(Console(file=io.StringIO()), clock=clock)
    assert not progress.due(clock.now + 0.4) and progress.due(clock.now + 0.5)
    progress._last_line = (clock.now + 0.5, 0)
    progress.update(10, 100)
    assert progress.due(clock.now + 1.0)  # moved: half a second later
    progress._last_line = (clock.now + 1.0, 10)
    assert not progress.due(clock.now + 2.0)  # nothing moved: a heartbeat only …
    assert progress.due(clock.now + 6.0)  # … every five seconds


def test_a_piped_progress_prints_lines_on_its_own_while_files_are_done() -> None:
    out = io.StringIO()
    with IndexProgress(Console(file=out), interval=0.05) as progress:
        for done in range(0, 60, 3):  # 0.6 s of work: about 12 intervals
            progress.update(done, 60)
            time.sleep(0.03)
    lines = out.getvalue().splitlines()
    assert len(lines) >= 3, lines
    assert all(line.startswith(("indexing", "listing")) for line in lines), lines
    assert any("files/s" in line and "ETA" in line for line in lines), lines


def test_a_piped_progress_that_printed_ends_with_the_finished_count() -> None:
    # The last line a pipe got was the last interval's (`672/678 files (99%)`), then the
    # search's answer: the log never said the index was done.
    out = io.StringIO()
    with IndexProgress(Console(file=out), interval=0.05) as progress:
        for done in range(0, 60, 3):
            progress.update(done, 60)
            time.sleep(0.03)
        progress.update(60, 60)
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("indexing 60/60 files (100%)"), lines
    assert sum(line.startswith("indexing 60/60") for line in lines) == 1, lines


def test_a_piped_progress_over_before_its_first_line_prints_nothing() -> None:
    out = io.StringIO()
    with IndexProgress(Console(file=out), interval=5.0) as progress:
        progress.update(10, 10)
    assert out.getvalue() == ""  # a quick index stays quiet, as it was


async def test_the_indexer_reports_progress_for_every_file_not_every_batch(tmp_path: Path) -> None:
    ws = many_files(tmp_path / "ws", 450, functions=1)
    calls: list[tuple[int, int]] = []
    async with await WorkspaceIndex.open(ws, tmp_path / "ocp.db") as index:
        await index.update(lambda done, total: calls.append((done, total)))
    assert calls[0] == (0, 450)
    assert [done for done, _ in calls[1:]] == list(range(1, 451))


# ---- Ctrl-C -----------------------------------------------------------------------------------


def test_ctrl_c_while_the_command_is_still_loading_exits_130_without_a_traceback() -> None:
    # The `ocp-server` script as installed (its console_scripts entry point), with a Ctrl-C
    # landing while the CLI's modules load: half a second in which a user may well press it.
    code = (
        "import sys\n"
        "from importlib.metadata import entry_points\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'ocp_server.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, CtrlC())\n"
        "(script,) = entry_points(group='console_scripts', name='ocp-server')\n"
        "sys.exit(script.load()())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "")


def test_ctrl_c_leaves_a_consistent_index_prints_one_line_and_the_next_run_finishes(
    tmp_path: Path,
) -> None:
    files_total = 2500  # enough that a fast machine is still indexing when Ctrl-C lands
    ws = many_files(tmp_path / "ws", files_total, functions=8)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocp_server.cli", "index"],
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)},
        # A shell without job control starts background jobs with SIGINT ignored, and a child
        # keeps that: give the indexer the Ctrl-C a terminal would deliver.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    while True:  # past the first batch of 200 files: it is committed (the next one runs)
        line = proc.stderr.readline()
        assert line, "indexing ended before it could be interrupted: use more files"
        # On a pipe, progress comes as plain lines with files/s and an ETA.
        assert line.startswith(("indexing", "listing")), line
        if line.startswith("indexing"):
            assert "files/s" in line and "ETA" in line, line
            if int(line.split()[1].split("/")[0].replace(",", "")) > 200:
                break
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err, err
    others = [line for line in err.splitlines() if not line.startswith(("indexing", "listing"))]
    assert len(others) == 1 and others[0].startswith("interrupted: the index is consistent"), err

    db = sqlite3.connect(ws / ".ocp" / "ocp.db")
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    files, chunks = db.execute(
        "SELECT (SELECT count(*) FROM files), (SELECT count(*) FROM chunks)"
    ).fetchone()
    assert 200 <= files < files_total, "the run was meant to be interrupted part way"
    assert chunks == 8 * files, "every file is whole: all its chunks or none"
    assert db.execute(
        "SELECT count(*) FROM chunks WHERE file_id NOT IN (SELECT id FROM files)"
    ).fetchone() == (0,)
    searchable = db.execute("SELECT count(*) FROM chunks WHERE terms IS NOT NULL").fetchone()
    assert searchable == (chunks,), "every chunk carries its search terms"
    db.close()

    status = json.loads(run(ws, "status", "--json").stdout)
    assert status["files"] == files and status["build"]["state"] == "interrupted"
    assert status["build"]["done"] == files and status["build"]["total"] == files_total

    again = run(ws, "index")
    assert again.returncode == 0, again.stderr
    status = json.loads(run(ws, "status", "--json").stdout)
    assert status["files"] == files_total and status["chunks"] == 8 * files_total
    assert status["build"]["state"] == "idle" and not status["stale"]


# ---- logging and pipes ------------------------------------------------------------------------


def test_verbose_shows_ocp_debug_lines_without_every_sql_call(workspace: Path) -> None:
    quiet = run(workspace, "-v", "index")
    assert quiet.returncode == 0, quiet.stderr
    assert "aiosqlite" not in quiet.stderr and len(quiet.stderr.splitlines()) < 40
    loud = run(workspace.parent, "--workspace", str(workspace), "index", "-vv")
    assert "aiosqlite" in loud.stderr, "-vv opens every library's debug log"


def test_piped_search_output_is_not_wrapped_at_80_columns(workspace: Path) -> None:
    long_line = "    return " + " + ".join(f"value_{i}" for i in range(30))
    assert len(long_line) > 200
    (workspace / "src" / "wide.py").write_text(f"def wide_sum():\n{long_line}\n")
    git(workspace, "add", "-A")
    done = run(workspace, "search", "wide_sum")
    assert done.returncode == 0, done.stderr
    assert long_line in done.stdout.splitlines(), done.stdout


def test_search_keeps_to_OCP_SEARCH_TOKENS_as_the_tool_does(workspace: Path) -> None:
    # `ocp-server search` is "what the agent's ocp_context_search sees", but it read no token
    # budget: with OCP_SEARCH_TOKENS=100 the tool answered one hit and the command five.
    body = "\n".join(f"    total_{i} = ledger_balance({i}) + ledger_fee({i})" for i in range(6))
    for n in range(5):
        (workspace / "src" / f"ledger_{n}.py").write_text(f"def ledger_sum_{n}():\n{body}\n")
    git(workspace, "add", "-A")
    wide = run(workspace, "search", "ledger balance fee", "--json")
    narrow = run(workspace, "search", "ledger balance fee", "--json", OCP_SEARCH_TOKENS="100")
    assert wide.returncode == 0 and narrow.returncode == 0, wide.stderr + narrow.stderr
    assert len(json.loads(wide.stdout)) >= 5
    assert 1 <= len(json.loads(narrow.stdout)) < len(json.loads(wide.stdout))


# ---- status -----------------------------------------------------------------------------------


def test_status_before_any_index_says_not_indexed_yet_and_exits_0(workspace: Path) -> None:
    before = run(workspace, "status")
    assert before.returncode == 0, before.stderr
    assert "not indexed yet" in before.stdout and "ocp-server index" in before.stdout
    as_json = run(workspace, "status", "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["indexed"] is False and "ocp-server index" in report["hint"]
    assert not (workspace / ".ocp").exists(), "status does not create an index"


def test_status_in_the_home_folder_says_why_it_is_not_indexed(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    done = run(home, "status", home=home)
    assert done.returncode == 0, done.stderr
    assert "refusing to index your home folder" in done.stdout  # not "run `ocp-server index`"
    assert "run `ocp-server index`" not in done.stdout


def test_status_reports_files_chunks_skips_last_update_watcher_and_build(workspace: Path) -> None:
    run(workspace, "index")
    report = json.loads(run(workspace, "status", "--json").stdout)
    assert report["files"] == 5 and report["chunks"] > 5
    assert report["skipped"]["secret"] == 3 and report["skipped"]["binary"] == 1
    assert report["skipped"]["lockfile"] == 1 and report["skipped"]["minified"] == 1
    assert report["last_update"] and not report["stale"]
    assert report["build"] == {"state": "idle", "done": 0, "total": 0, "started_at": None}
    assert report["watcher"]["state"] == "none"
    text = run(workspace, "status").stdout
    assert "5 files" in text and "3 files: secret by its name" in text
    assert "no ocp-server is watching" in text


def test_status_counts_and_names_nested_repositories_and_submodules_left_out(
    workspace: Path, tmp_path: Path
) -> None:
    # Git lists a submodule and an untracked repository inside the work tree as one folder
    # each, not their files: a search for their code finds nothing, and status says why.
    other = tmp_path / "other"
    other.mkdir()
    (other / "lib.py").write_text("def from_the_submodule(): pass\n")
    git(other, "init", "-q")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "lib")
    git(workspace, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(other), "sub")
    (workspace / "tools" / "inner").mkdir(parents=True)
    (workspace / "tools" / "inner" / "x.py").write_text("def from_the_inner_repo(): pass\n")
    git(workspace / "tools" / "inner", "init", "-q")
    run(workspace, "index")
    report = json.loads(run(workspace, "status", "--json").stdout)
    assert report["skipped"]["nested_repository"] == 2
    assert report["nested_repositories"] == ["sub", "tools/inner"]
    text = run(workspace, "status").stdout
    assert "nested     2 git repositories or submodules not indexed: sub, tools/inner" in text


@pytest.mark.parametrize("command", ["index", "status", "doctor", "init"])
def test_every_command_takes_the_common_options_after_its_name(
    workspace: Path, command: str
) -> None:
    done = run(workspace.parent, command, "--help")
    assert done.returncode == 0
    assert "--workspace" in done.stdout and "--version" in done.stdout and "-v" in done.stdout


def test_the_workspace_option_says_where_each_mode_looks_without_it() -> None:
    # `ocp-server` alone is the MCP server, which tries CLAUDE_PROJECT_DIR and the client's
    # roots before its working folder; its --help said "OCP_WORKSPACE or cwd", as a command's.
    from ocp_server.cli import build_parser

    parser = build_parser()
    served = " ".join(parser.format_help().split())
    assert "OCP_WORKSPACE, else CLAUDE_PROJECT_DIR or the client's roots" in served
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    command = " ".join(sub.choices["status"].format_help().split())
    assert "(default: OCP_WORKSPACE, else the current directory)" in command
    assert "CLAUDE_PROJECT_DIR" not in command


def test_a_search_while_another_process_builds_the_first_index_says_it_may_be_incomplete(
    workspace: Path,
) -> None:
    # Two `ocp-server search` at once on a project never indexed: the second answered from
    # the files the first had indexed so far, saying nothing of it.
    assert run(workspace, "index").returncode == 0
    db = sqlite3.connect(workspace / ".ocp" / "ocp.db")
    pid = os.getpid()  # this test's process holds the lease, as a live indexer would
    db.execute(
        "INSERT INTO leases (name, owner, pid, expires_at, started, host) VALUES "
        "(?, 'other', ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
        "pid = excluded.pid, expires_at = excluded.expires_at, started = excluded.started, "
        "host = excluded.host",
        (LEASE_NAME, pid, time.time() + 600, proc.start_token(pid), proc.host()),
    )
    build = {"done": 3, "total": 40, "started_at": time.time()}
    db.execute(
        "INSERT INTO meta VALUES ('build', ?) ON CONFLICT(key) DO UPDATE SET value = "
        "excluded.value",
        (json.dumps(build),),
    )
    db.commit()
    db.close()
    done = run(workspace, "search", "verify token", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout), "what is indexed so far answers"
    said = " ".join(done.stderr.split())
    assert "still being built by another process (3 of 40 files so far)" in said, done.stderr
