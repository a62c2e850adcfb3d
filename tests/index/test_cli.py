"""`ocp-server index` and `ocp-server search` as a user runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ocp_wire as wire

# the tool's hit, every field (README: `--json`)
JSON_KEYS = set(wire.SearchHit.model_fields)


def run(ws: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


# What `index` and `status` say of the fixture's skipped files (and an MCP client's config),
# each reason in words: it said "binary 1, lockfile 1, mcp_config 1, minified 1, secret 3",
# the index's own names, which a user could not read ("mcp_config"?).
SKIPPED_IN_WORDS = (
    "1 file: binary; 1 file: lockfile; 1 file: MCP client config (may hold keys); "
    "1 file: minified code; 3 files: secret by its name (.env, *.pem, …)"
)


def test_index_and_status_say_what_was_skipped_and_why_in_words(workspace: Path) -> None:
    (workspace / ".mcp.json").write_text('{"mcpServers": {}}\n')
    wide = {**os.environ, "COLUMNS": "300"}  # the table's row on one line
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(workspace), "index"],
        capture_output=True,
        text=True,
        timeout=120,
        env=wide,
    )
    assert done.returncode == 0, done.stderr
    rows = [line.strip("│ ") for line in done.stdout.splitlines() if "skipped" in line]
    assert [" ".join(row.split()) for row in rows] == [f"skipped │ {SKIPPED_IN_WORDS}"], rows
    assert (workspace / ".ocp" / "ocp.db").exists()
    status = run(workspace, "status")
    assert status.returncode == 0, status.stderr
    lines = [line for line in status.stdout.splitlines() if line.startswith("skipped")]
    assert lines == [f"skipped    {SKIPPED_IN_WORDS}"], status.stdout


def test_search_json_has_exactly_the_documented_fields(workspace: Path) -> None:
    run(workspace, "index")
    done = run(workspace, "search", "verify token", "-k", "2", "--json")
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)
    assert 1 <= len(rows) <= 2
    assert all(set(r) == JSON_KEYS for r in rows)
    assert rows[0]["path"] == "src/auth.py" and rows[0]["symbol"] == "verify_token"


def test_search_json_keeps_stdout_one_list_and_says_its_note_on_stderr(workspace: Path) -> None:
    done = run(workspace, "search", "verify token", "--glob", "*.rs", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert "note: no indexed file matches `--glob` (of " in done.stderr


@pytest.mark.parametrize(
    ("option", "value", "named"),
    [("--glob", "*.rs", "`--glob`"), ("--language", "rust", "`--language`")],
)
def test_a_filter_that_matches_no_file_is_named_as_the_option_typed(
    workspace: Path, option: str, value: str, named: str
) -> None:
    # Was: "no indexed file matches `path_glob`", the tool's field, which this command lacks.
    done = run(workspace, "search", "verify token", option, value)
    assert done.returncode == 0, done.stderr
    assert f"no indexed file matches {named} (of " in done.stdout
    assert "path_glob" not in done.stdout and "`language`" not in done.stdout


def test_an_option_past_a_limit_is_echoed_clipped_as_the_tool_echoes_it(workspace: Path) -> None:
    done = run(workspace, "search", "verify", "--glob", "g" * 501)
    assert done.returncode == 2
    assert done.stderr.startswith("error: --glob: expected at most 500 characters (got")
    assert "(501 characters))" in done.stderr and len(done.stderr) < 300


def test_search_with_a_malformed_glob_fails_naming_the_option(workspace: Path) -> None:
    # the option the user typed, as for a glob too long (the tool's field is `path_glob`)
    done = run(workspace, "search", "verify token", "--glob", "{a,b")
    assert done.returncode == 2 and not done.stdout
    # refused before a first index is built, so no progress line (after a second's indexing
    # on a loaded machine) comes before it
    assert done.stderr == (
        "error: --glob: expected a well-formed glob (got '{a,b'); unclosed alternate group; "
        "the '{' at character 1 has no '}' (write '[{]' to match a '{')\n"
    )
    assert not (workspace / ".ocp").exists()


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (["verify " * 4_000], "error: query: expected at most 20,000 characters"),
        (
            ["verify", "--glob", "a" * 600],
            "error: --glob: expected at most 500 characters",
        ),
        (["verify", "--language", "l" * 41], "error: --language: expected at most 40 characters"),
    ],
)
def test_search_options_past_the_tools_limits_fail_naming_the_option(
    workspace: Path, options: list[str], said: str
) -> None:
    # A 28,000-character query and a 600-character glob were searched: the CLI skipped the
    # tool's limits (SearchArgs, one definition of them).
    done = run(workspace, "search", *options)
    assert done.returncode == 2 and not done.stdout, done
    assert done.stderr.startswith(said), done.stderr
    assert not (workspace / ".ocp").exists()  # refused before anything is indexed


def test_search_builds_the_index_when_there_is_none(workspace: Path) -> None:
    done = run(workspace, "search", "rotate_session", "--json")
    assert json.loads(done.stdout)[0]["symbol"] == "rotate_session"


def test_bad_arguments_and_missing_workspaces_fail_clearly(tmp_path: Path) -> None:
    done = run(tmp_path / "nope", "index")
    assert done.returncode == 2 and "does not exist" in done.stderr
    bad_k = run(tmp_path, "search", "x", "-k", "0")
    assert bad_k.returncode == 2 and "error: -k: expected 1 to 50 (got 0)\n" == bad_k.stderr
    too_many = run(tmp_path, "search", "x", "-k", "51")  # the tool's own limit
    assert too_many.returncode == 2 and "error: -k: expected 1 to 50 (got 51)\n" == too_many.stderr


@pytest.mark.parametrize(
    "command",
    [
        ["status"],
        ["restore"],
        ["stats"],
        ["routing", "explain"],
        ["route", "hi", "--dry-run"],
        ["search", "token"],
        ["index"],
        ["init", "--client", "cursor"],
    ],
)
def test_every_command_on_a_missing_workspace_says_it_does_not_exist(
    tmp_path: Path, command: list[str]
) -> None:
    # restore, stats, routing and route ended in a NotADirectoryError traceback; status said
    # "not indexed yet; run `ocp-server index`", which then failed. Exit status 2, as for the
    # same folder given as OCP_WORKSPACE (it was 1 from --workspace). A typo'd path said
    # "is not a folder", as a file does: the user looked for a file of that name.
    done = run(tmp_path / "nope", *command)
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.strip() == f"error: workspace {tmp_path / 'nope'} does not exist"
    from_env = run_env(tmp_path, {"OCP_WORKSPACE": str(tmp_path / "nope")}, *command)
    assert from_env.returncode == done.returncode, from_env.stderr
    (tmp_path / "a-file").write_text("x")
    a_file = run(tmp_path / "a-file", *command)
    assert a_file.returncode == 2 and not a_file.stdout
    assert a_file.stderr.strip() == f"error: workspace {tmp_path / 'a-file'} is not a folder"


def test_index_of_a_path_that_is_no_folder_is_a_usage_error(tmp_path: Path) -> None:
    # `ocp-server index /missing` said "is not a folder": a missing path does not exist
    done = run_env(tmp_path, {}, "index", str(tmp_path / "nope"))
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: workspace {tmp_path / 'nope'} does not exist"
    (tmp_path / "a-file").write_text("x")
    a_file = run_env(tmp_path, {}, "index", str(tmp_path / "a-file"))
    assert a_file.returncode == 2
    assert a_file.stderr.strip() == f"error: workspace {tmp_path / 'a-file'} is not a folder"


def test_index_of_a_missing_path_whose_name_holds_a_token_does_not_print_it(
    tmp_path: Path,
) -> None:
    # main's own check redacts the workspace it names; `index PATH`'s (first_run_check) was
    # printed as raised: a folder's name can hold a token (built at run time)
    token = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
    done = run_env(tmp_path, {}, "index", str(tmp_path / f"backup_{token}"))
    assert done.returncode == 2
    assert token not in done.stderr and "[REDACTED:github_token]" in done.stderr
    assert done.stderr.strip().endswith("does not exist")


def test_index_of_a_path_and_another_workspace_names_both_and_indexes_neither(
    tmp_path: Path,
) -> None:
    # `index PATH --workspace OTHER` indexed PATH and said nothing about OTHER.
    path, other = tmp_path / "path", tmp_path / "other"
    for folder in (path, other):
        folder.mkdir()
        (folder / "a.py").write_text("def f():\n    return 1\n")
    done = run_env(tmp_path, {}, "index", str(path), "--workspace", str(other))
    assert done.returncode == 2 and not done.stdout
    assert f"PATH {path}" in done.stderr and f"--workspace {other}" in done.stderr
    assert not (path / ".ocp").exists() and not (other / ".ocp").exists()
    before = run(other, "index", str(path))  # the option before the command: the same
    assert before.returncode == 2 and "--workspace" in before.stderr


def test_index_of_a_path_that_is_the_workspace_indexes_it(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("def f():\n    return 1\n")
    done = run_env(tmp_path, {}, "index", ".", "--workspace", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / ".ocp" / "ocp.db").exists()


def test_search_for_a_language_that_names_none_fails_in_one_line(workspace: Path) -> None:
    done = run(workspace, "search", "token", "--language", "klingon")
    assert done.returncode == 2 and not done.stdout
    assert done.stderr.startswith(
        "error: --language: expected a language OCP indexes or a file extension such as py "
        "(got 'klingon'); the languages: "
    )
    assert len(done.stderr.strip().splitlines()) == 1


def test_search_prints_chunks_redacted_as_the_tool_returns_them(tmp_path: Path) -> None:
    # An agent may run `ocp-server search` in its shell: what it prints reaches the agent's
    # cloud model as the tool's answer does, so it is redacted the same way.
    password = "cE5cw7Wxu8dSbRDE"
    key = "sk-ant-api03-" + "Qx7v" * 23 + "AA"
    (tmp_path / "app.toml").write_text(f'[database]\nhost = "db"\npassword = "{password}"\n')
    (tmp_path / "client.py").write_text(f'ANTHROPIC = "{key}"\n')
    for extra in ((), ("--json",)):
        done = run(tmp_path, "search", "database password anthropic", *extra)
        assert done.returncode == 0, done.stderr
        assert "[REDACTED:" in done.stdout
        assert password not in done.stdout and key not in done.stdout


def run_env(cwd: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI without --workspace: the workspace comes from OCP_WORKSPACE, as in a shell
    that exported it."""
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    "command",
    [["status"], ["search", "token"], ["index"], ["restore"], ["init", "--client", "cursor"]],
)
def test_a_bad_ocp_workspace_is_named_as_the_setting_it_is(
    workspace: Path, tmp_path: Path, command: list[str]
) -> None:
    # It said "error: workspace /x is not a folder" (status 1), naming no variable: a user
    # with OCP_WORKSPACE left exported from another project could not tell where /x came
    # from. And a relative OCP_WORKSPACE was taken from the shell's folder, while the server
    # and `doctor` refuse it (a relative path): the CLI searched a folder the
    # IDE's server would never open (`init` wrote its config into that folder). Said in the
    # words the server and `doctor` use (it said "OCP_WORKSPACE='/x' is invalid: expected an
    # existing folder", a validator's wording, where they say "does not exist").
    (tmp_path / "a-file").write_text("x")
    for value, expected in (
        (str(tmp_path / "nope"), "does not exist"),
        (str(tmp_path / "a-file"), "is not a folder"),
        (
            "src",
            "is a relative path: give the folder's absolute path (a relative one depends on "
            "the folder the server starts in)",
        ),
    ):
        done = run_env(workspace, {"OCP_WORKSPACE": value}, *command)
        assert done.returncode == 2 and not done.stdout, (value, done)
        lines = done.stderr.strip().splitlines()
        assert lines == [f"ocp-server: OCP_WORKSPACE {value} {expected}"], lines
        if command == ["status"]:  # the same words as `doctor` says it in
            doctor = run_env(workspace, {"OCP_WORKSPACE": value}, "doctor")
            assert f"OCP_WORKSPACE {value} {expected}" in doctor.stdout, doctor.stdout
    # --workspace still wins over it, relative to the shell's folder as any path argument
    fine = run_env(workspace, {"OCP_WORKSPACE": "src"}, "--workspace", ".", "status")
    assert fine.returncode == 0, fine.stderr


def test_a_search_with_no_server_watching_indexes_what_changed_first(workspace: Path) -> None:
    # `status` says "no ocp-server is watching: changes are indexed at the next search", but
    # `ocp-server search` indexed only a workspace with no files yet: a file made since the
    # last index was not found, nor one an edit had removed a definition from.
    assert run(workspace, "index").returncode == 0
    status = run(workspace, "status").stdout
    assert "changes are indexed at the next search" in status
    (workspace / "src" / "widgets.py").write_text("def frobnicate_widget(w):\n    return w\n")
    (workspace / "src" / "auth.py").write_text("def check_bearer(header):\n    return header\n")
    found = run(workspace, "search", "frobnicate_widget", "--json")
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)[0]["symbol"] == "frobnicate_widget"
    gone = run(workspace, "search", "verify_token", "--json")
    assert all(row["symbol"] != "verify_token" for row in json.loads(gone.stdout))


@pytest.mark.parametrize("command", [["search", "token"], ["status"], ["index"]])
def test_a_db_path_that_is_a_folder_is_one_line_without_a_traceback(
    workspace: Path, tmp_path: Path, command: list[str]
) -> None:
    # It said "cannot open the OCP database at /x: unable to open database file. Check the
    # folder is writable", then, on most runs, aiosqlite's worker thread printed two
    # "RuntimeError: Event loop is closed" tracebacks: its stop, queued when the connection
    # failed, ran after the command's event loop had ended.
    folder = tmp_path / "a-folder"
    folder.mkdir()
    for _ in range(3):  # the traceback came on most runs, not all
        done = run_env(workspace, {"OCP_DB_PATH": str(folder)}, *command)
        assert done.returncode == 1 and not done.stdout, done
        assert done.stderr.strip().splitlines() == [
            f"error: the OCP database at {folder} is a folder: set OCP_DB_PATH to a file's "
            "path (a new one is made)"
        ]


@pytest.mark.parametrize("query", ["", "   ", "?!", "-", "x", "the", "a" * 65])
def test_a_query_with_nothing_to_search_fails_naming_it(workspace: Path, query: str) -> None:
    # It printed "the query has no searchable words" and "no results", and exited 0: a
    # script (or an agent) calling it with an empty variable took that for a search done.
    done = run(workspace, "search", query)
    assert done.returncode == 2 and not done.stdout, done
    # A word longer than 64 characters is no term: "aaa…" of 65 was said to be none of these.
    assert done.stderr.strip().splitlines() == [
        "error: query: expected words, a symbol name or a question, as in `ocp-server search "
        f'"verify token"` (got {query!r}); it has no searchable words (it is empty, or only '
        "spaces, punctuation, single characters, words as common as 'the' or words longer "
        "than 64 characters)"
    ]
    assert not (workspace / ".ocp").exists()  # refused before anything is indexed


@pytest.mark.parametrize("command", [["search", "token"], ["status"], ["index"]])
def test_a_db_path_naming_a_file_not_sqlite_says_ocp_db_path_names_it(
    workspace: Path, tmp_path: Path, command: list[str]
) -> None:
    # It said "move it aside (with its -wal/-shm files) and run `ocp-server index` again":
    # for a file OCP_DB_PATH names by mistake (notes, a config), the way to lose track of it.
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes, not a database\n" * 10)
    done = run_env(workspace, {"OCP_DB_PATH": str(notes)}, *command)
    assert done.returncode == 1 and not done.stdout, done
    assert done.stderr.strip().splitlines() == [
        f"error: OCP_DB_PATH names {notes}, which is not an SQLite database (file is not a "
        "database): its content is left as it is. Set OCP_DB_PATH to the OCP database's path, "
        "or to a new file's path (one is made), or unset it for <workspace>/.ocp/ocp.db."
    ]
    assert notes.read_text() == "my notes, not a database\n" * 10


def test_a_search_where_nothing_is_indexed_says_so_rather_than_no_results(tmp_path: Path) -> None:
    # "no results" alone read as "no such code": the folder had nothing OCP indexes
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    done = run(ws, "search", "verify token")
    assert done.returncode == 0, done.stderr
    assert f"no results: no file of {ws} is indexed" in done.stdout
    assert "ocp-server status" in done.stdout
