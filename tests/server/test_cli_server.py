"""`ocp-server route`, `restore`, `stats` and `doctor` as a user runs them."""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocp_server.cli import build_parser
from ocp_server.cli_server import _HeldAttemptErrors, parse_since
from ocp_server.entry import EXIT_USAGE
from ocp_wire.restore import MAX_RESTORE_TOKENS, MIN_RESTORE_TOKENS
from tests.fakes import FakeOllama


def run(ws: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(ws), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(ws.parent), **env},
    )


def test_route_dry_run_shows_the_decision_and_the_exact_prompt(workspace: Path) -> None:
    done = run(
        workspace,
        "route",
        "review security vulnerabilities in verify_token",
        "--dry-run",
        "--json",
        "--force",
        "paid",
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["answered_by"] == "none" and result["trace"]["decision"] == "paid"
    assert result["trace"]["decided_by"] == "paid forced by caller"
    assert result["trace"]["forced"] and result["trace"]["phase"] == "explicit"
    assert "## Workspace context" in result["prompt"]
    assert result["prompt"].endswith("## Request\nreview security vulnerabilities in verify_token")
    assert "src/auth.py:6-8" in result["trace"]["context_citations"]


def test_a_forced_routes_line_says_who_forced_it_without_naming_the_tier_twice(
    workspace: Path,
) -> None:
    # It read "[route …: paid by paid forced by caller, …]": the decision, then "by" its reason
    done = run(workspace, "route", "explain this function", "--dry-run", "--force", "paid")
    assert done.returncode == 0, done.stderr
    assert ": paid, forced by caller, score " in done.stdout
    assert "paid by paid" not in done.stdout


def test_a_dry_runs_text_says_no_model_was_called_not_answered_by_none(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # It said "(llama3.2 would answer)": a dry run asks no model to answer (only whether it
    # is there: test_route_dry_run_reach.py).
    done = run(
        workspace, "route", "explain this function", "--dry-run", OCP_OLLAMA_URL=fake_ollama.url
    )
    assert done.returncode == 0, done.stderr
    assert "no model called (would go to llama3.2)" in done.stdout
    assert "would answer" not in done.stdout
    assert "answered by none" not in done.stdout
    stats = run(workspace, "stats")
    assert stats.returncode == 0, stats.stderr
    assert "0 routes" in stats.stdout and "dry runs 1" in stats.stdout  # as --json counts it


def test_a_dry_run_with_no_paid_model_says_the_agent_would_answer_not_none(
    workspace: Path,
) -> None:
    # No key: the paid tier has no model ("none"), and the line read "(none would answer)".
    done = run(workspace, "route", "explain x", "--dry-run", OCP_ROUTE_MODE="paid")
    assert done.returncode == 0, done.stderr
    assert "none would answer" not in done.stdout
    assert "no model called (no paid model is configured: your agent would answer)" in done.stdout


def test_stats_with_no_route_yet_says_what_it_counts_instead_of_empty_tables(
    workspace: Path,
) -> None:
    # A new user's first `ocp-server stats` printed three tables with no row in them.
    done = run(workspace, "stats")
    assert done.returncode == 0, done.stderr
    assert "0 routes" in done.stdout and "by tier" not in done.stdout
    assert "ocp_model_route" in done.stdout and "ocp-server route" in done.stdout


def test_route_answers_locally_and_stats_count_it(workspace: Path, fake_ollama: FakeOllama) -> None:
    done = run(workspace, "route", "explain the auth middleware", OCP_OLLAMA_URL=fake_ollama.url)
    assert done.returncode == 0, done.stderr
    assert "local answer: explain the auth middleware" in done.stdout
    assert done.stderr == ""  # the server's INFO log of each route is not a CLI's output
    stats = json.loads(run(workspace, "stats", "--json").stdout)
    assert stats["routes"] == 1 and stats["by_tier"]["local"]["routes"] == 1
    assert stats["by_phase"]["heuristic"] == 1 and stats["daily"][0]["local"] == 1
    assert stats["latency"]["ollama"]["count"] == 1
    assert stats["counterfactual_model"] == "claude-opus-4-6"
    # The one session that routed: not the sessions `stats` and the fixture's index opened.
    assert stats["sessions"] == 1
    table = run(workspace, "stats", "--since", "7d")
    assert table.returncode == 0 and "by tier" in table.stdout and "ollama" in table.stdout
    assert table.stdout.startswith("1 route, 1 session in ")  # not "1 routes, 1 sessions"
    html = workspace.parent / "report.html"
    done = run(workspace, "stats", "--html", str(html))
    assert done.returncode == 0 and html.read_text().startswith("<!DOCTYPE html>")
    assert '"routes": 1' in html.read_text() or '"routes":1' in html.read_text()


def test_route_without_a_running_model_says_so_once_not_again_as_a_warning(
    workspace: Path, refused_url: str
) -> None:
    done = run(workspace, "route", "rename x to y", OCP_OLLAMA_URL=refused_url)
    assert done.returncode == 0, done.stderr
    assert "The local model could not answer (cannot reach ollama" in done.stdout
    assert done.stderr == ""  # the note says it: no WARNING line repeating it


def test_a_route_no_model_answers_prints_its_result_as_json_with_json(
    workspace: Path, refused_url: str
) -> None:
    # A script reading `--json` got an empty stdout (the text went to stderr alone), where
    # the tool answers with the same trace as its structured content.
    args = ("route", "rename x to y", "--force", "local", "--json")
    done = run(workspace, *args, OCP_OLLAMA_URL=refused_url)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert result["answered_by"] == "none" and result["answer"] is None
    assert "no model could answer" in result["note"]
    [attempt] = result["trace"]["attempts"]
    assert attempt["tier"] == "local" and "cannot reach ollama" in attempt["error"]
    assert "no model could answer" in done.stderr  # said to a person too


def test_a_failed_attempt_the_output_does_not_say_is_still_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = logging.getLogger("tests.held_attempt_errors")
    held = _HeldAttemptErrors()
    log.addFilter(held)
    for why in ("cannot reach ollama.", "the paid model timed out"):
        log.warning("route: failed: %s", why, extra={"attempt_error": why})
    assert not caplog.records
    held.release(log, "The local model could not answer (cannot reach ollama) and …")
    assert [r.getMessage() for r in caplog.records] == ["route: failed: the paid model timed out"]
    assert held not in log.filters


def test_restore_prints_the_brief(workspace: Path) -> None:
    done = run(workspace, "restore")
    assert done.returncode == 0 and "Nothing saved by earlier sessions yet." in done.stdout


def test_doctor_names_each_problem_with_its_fix(workspace: Path, refused_url: str) -> None:
    done = run(workspace, "doctor", OCP_OLLAMA_URL=refused_url)
    assert done.returncode == 1
    # The fix for the local model: start Ollama, or install it where /usr/bin has none.
    assert "ollama serve" in done.stdout or "https://ollama.com" in done.stdout
    assert "ANTHROPIC_API_KEY" in done.stdout


def test_doctor_passes_when_the_local_model_is_there(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    run(workspace, "index")
    done = run(workspace, "doctor", OCP_OLLAMA_URL=fake_ollama.url)
    assert done.returncode == 0, done.stdout


def test_doctor_quotes_no_token_from_the_configuration(workspace: Path, refused_url: str) -> None:
    # An agent may run doctor in its shell: what it prints reaches the agent's model.
    body = "Xk29dLq7" * 4 + "Ab3Z"
    url = f"{refused_url}/ollama?token=ghp_{body}"
    for flag in ((), ("--json",)):
        done = run(workspace, "doctor", *flag, OCP_OLLAMA_URL=url)
        assert "[REDACTED:github_token]" in done.stdout and body not in done.stdout + done.stderr


def test_since_accepts_days_hours_minutes_and_rejects_the_rest() -> None:
    assert parse_since("7d", now=1_000_000.0) == 1_000_000.0 - 7 * 86400
    assert parse_since("12h", now=100_000.0) == 100_000.0 - 12 * 3600
    assert parse_since(None) is None
    with pytest.raises(ValueError, match="--since"):
        parse_since("last week")
    assert parse_since("07d", now=1_000_000.0) == 1_000_000.0 - 7 * 86400


@pytest.mark.parametrize("nothing", ["0d", "0h", "00m"])
def test_since_a_span_of_nothing_is_refused_not_reported_as_no_routes(nothing: str) -> None:
    # Was: the routes since now, "0 routes in <workspace>" of one that had many.
    with pytest.raises(ValueError) as refused:
        parse_since(nothing, now=1_000_000.0)
    assert str(refused.value) == (
        f"--since: expected a whole number above 0 and d, h or m, as 7d (got {nothing!r})"
    )


def test_restore_builds_no_router_so_a_bad_router_variable_does_not_stop_it(
    workspace: Path,
) -> None:
    done = run(workspace, "restore", OCP_LOCAL_BACKEND="bogus")
    assert done.returncode == 0, done.stderr
    assert "Nothing saved by earlier sessions yet." in done.stdout
    # A command that routes still names the variable.
    routed = run(workspace, "route", "hello", "--dry-run", OCP_LOCAL_BACKEND="bogus")
    assert routed.returncode == 2 and "OCP_LOCAL_BACKEND" in routed.stderr


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("restore", "--max-tokens", "5"), "--max-tokens"),
        (("restore", "--query", "q" * 5001), "--query"),
        (("route", "", "--dry-run"), "text"),
        (("route", "hi", "--model", "", "--dry-run"), "--model"),
        (("stats", "--since", "last week"), "--since"),  # was status 1, as a failure
        (("stats", "--since", "-5d"), "--since"),  # argparse: "expected one argument"
        # were status 1, as a failure of OCP's, where the path given is what cannot be
        (("stats", "--html", "/no-such-folder-for-ocp/report.html"), "--html"),
        (("stats", "--html", "/"), "--html"),  # a folder
    ],
)
def test_a_bad_option_value_is_one_line_naming_the_option(
    workspace: Path, args: tuple[str, ...], named: str
) -> None:
    done = run(workspace, *args)
    assert done.returncode == 2 and not done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: {named}: "), done.stderr
    assert "pydantic" not in done.stderr and len(lines[0]) < 200
    # pydantic's own words ("String should have at least 1 character") name its types
    assert "should have" not in done.stderr and "Input should" not in done.stderr, done.stderr


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("route", "", "--dry-run"), "error: text: expected text that is not blank (got '')"),
        (("route", " ", "--dry-run"), "error: text: expected text that is not blank (got ' ')"),
        (("restore", "--query", "q" * 5001), "error: --query: expected at most 5,000 characters"),
        (("restore", "--max-tokens", "99999"), "error: --max-tokens: expected at most 20,000"),
    ],
)
def test_an_empty_or_oversized_value_says_in_plain_words_what_was_expected(
    workspace: Path, args: tuple[str, ...], said: str
) -> None:
    # `ocp-server route ""` said "text: String should have at least 1 character": pydantic's
    # words for its own types. The tools over MCP say it the same way (argument_errors).
    done = run(workspace, *args)
    assert done.returncode == 2 and done.stderr.startswith(said), done.stderr


def test_the_help_says_what_each_exit_status_means() -> None:
    text = " ".join(build_parser().format_help().split())
    assert "exit status: 0 done; 1 something failed" in text
    assert "2 a usage or configuration error" in text and "130 interrupted" in text


def test_a_usage_error_of_ours_exits_with_argparses_own_status() -> None:
    # A bad option argparse refuses and one OCP refuses (a value, a setting) read alike.
    with pytest.raises(SystemExit) as refused:
        build_parser().parse_args(["--no-such-option"])
    assert refused.value.code == EXIT_USAGE


def test_a_bad_option_value_is_echoed_as_the_tool_echoes_it(workspace: Path) -> None:
    # the tool says `max_tokens`: … (got 5); the command said only the limit
    done = run(workspace, "restore", "--max-tokens", "5")
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: --max-tokens: expected at least 300 (got 5)")


def _commands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield name, sub
                yield from ((f"{name} {n}", p) for n, p in _commands(sub))


def test_restore_help_states_the_budget_the_tool_accepts() -> None:
    restore = dict(_commands(build_parser()))["restore"]
    assert f"{MIN_RESTORE_TOKENS} to {MAX_RESTORE_TOKENS} " in " ".join(
        restore.format_help().split()
    )


def test_every_option_and_argument_of_every_command_has_a_help_text() -> None:
    missing = [
        f"{name} {'/'.join(action.option_strings) or action.dest}"
        for name, sub in _commands(build_parser())
        for action in sub._actions
        if not isinstance(action, argparse._SubParsersAction) and not (action.help or "").strip()
    ]
    assert missing == []


def test_every_command_says_what_it_does_in_its_own_help() -> None:
    # `ocp-server search --help` showed only the usage and options: the one line saying what
    # the command does was in `ocp-server --help`'s list alone.
    silent = [name for name, sub in _commands(build_parser()) if not (sub.description or "")]
    assert silent == []
    search = dict(_commands(build_parser()))["search"]
    assert "search the workspace index" in search.format_help().lower()


def test_a_command_missing_its_action_names_the_actions() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "routing"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "explain" in done.stderr and "reset" in done.stderr, done.stderr
    # what each action does, as `ocp-server routing --help` says it, and no traceback
    assert "the threshold per task type" in done.stderr, done.stderr
    assert "forget every learned shift" in done.stderr
    assert done.stderr.rstrip().endswith("error: name an action") and done.stdout == ""


@pytest.mark.parametrize(
    ("env", "command"),
    [
        ({"OCP_OLLAMA_URL": "http://"}, ["route", "hi", "--dry-run"]),
        ({"OCP_OLLAMA_URL": "http://local host:11434"}, ["route", "hi", "--dry-run"]),
        (
            {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": "https:///v1"},
            ["route", "hi", "--dry-run"],
        ),
        ({"OPENAI_BASE_URL": "http://"}, ["route", "hi", "--dry-run"]),
        ({"OCP_PROXY_OPENAI_UPSTREAM": "http://"}, ["proxy", "--port", "0"]),
        ({"OCP_PROXY_ANTHROPIC_UPSTREAM": "https://"}, ["proxy", "--port", "0"]),
    ],
)
def test_a_url_without_a_host_is_refused_naming_the_variable(
    workspace: Path, env: dict[str, str], command: list[str]
) -> None:
    # `http://` passed the '^https?://' check: a route then failed at its first call, and
    # doctor said "ollama at http: broke the connection (UnsupportedProtocol('Request URL is
    # missing an 'http://' or 'https://' protocol.'))", about a URL that has one; the proxy
    # started and relayed every paid request to nowhere.
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(workspace), *command],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(workspace.parent), **env},
    )
    (name, value), *_ = ((k, v) for k, v in env.items() if "URL" in k or "UPSTREAM" in k)
    assert done.returncode == 2 and not done.stdout, done
    assert done.stderr.strip() == (
        f"ocp-server: {name}={value!r} is invalid: expected an http:// or https:// URL with a "
        "host (http://localhost:11434)"
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("OCP_SEARCH_TOKENS", "50001", "expected an integer from 100 to 50000"),
        ("OCP_SEARCH_TOKENS", "9" * 23, "expected an integer from 100 to 50000"),
        ("OCP_CONTEXT_TOKENS", "100001", "expected an integer from 0 to 100000"),
    ],
)
def test_a_token_budget_beyond_the_tools_own_limit_is_refused(
    workspace: Path, name: str, value: str, expected: str
) -> None:
    # The tools take max_tokens 100-50,000 and max_context_tokens 0-100,000 (ocp_wire), but
    # the settings that stand for them when left out took any size: a default search of
    # 10^23 tokens, which no client takes whole, and no error naming the variable.
    done = run(workspace, "route", "hi", "--dry-run", **{name: value})
    assert done.returncode == 2 and not done.stdout, done
    assert done.stderr.strip() == f"ocp-server: {name}={value!r} is invalid: {expected}"


def test_the_budget_settings_bounds_are_the_tools_own() -> None:
    from ocp_server.settings import MAX_CONTEXT_TOKENS, MAX_SEARCH_TOKENS, MIN_SEARCH_TOKENS
    from ocp_wire.route import RouteArgs
    from ocp_wire.search import SearchArgs

    def bounds(model: type[RouteArgs] | type[SearchArgs], field: str) -> tuple[int, int]:
        schema = model.model_json_schema()["properties"][field]["anyOf"][0]
        return schema["minimum"], schema["maximum"]

    assert bounds(SearchArgs, "max_tokens") == (MIN_SEARCH_TOKENS, MAX_SEARCH_TOKENS)
    assert bounds(RouteArgs, "max_context_tokens") == (0, MAX_CONTEXT_TOKENS)
