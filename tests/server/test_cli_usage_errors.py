"""What a new user meets running the CLI with bad input: an unknown option is named with the
command it was given to (that command's usage, not the whole program's), and the server starts
as `python -m ocp_server` too, the form MCP configs often use."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ocp_server import __version__
from ocp_server.cli import main
from ocp_server.entry import EXIT_USAGE


@pytest.mark.parametrize(
    ("argv", "command", "unknown"),
    [
        (["stats", "--days", "7"], "stats", "--days 7"),
        (["search", "--bogus", "verify token"], "search", "--bogus"),
        (["route", "explain it", "--tier", "mid"], "route", "--tier mid"),
        (["index", ".", "extra"], "index", "extra"),
    ],
)
def test_an_unknown_option_is_named_with_its_commands_usage(
    argv: list[str], command: str, unknown: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(argv)
    assert ended.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"usage: ocp-server {command} " in err  # its options, not only the program's
    assert f"ocp-server {command}: error: unrecognized arguments: {unknown}" in err
    assert "Traceback" not in err


def test_an_unknown_option_before_any_command_is_the_programs(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--bogus"])
    assert ended.value.code == EXIT_USAGE
    assert "ocp-server: error: unrecognized arguments: --bogus" in capsys.readouterr().err


def test_python_dash_m_ocp_server_is_the_ocp_server_command(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server", "--version"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ocp-server {__version__} ")
    bad = subprocess.run(
        [sys.executable, "-m", "ocp_server", "stats", "--days", "7"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert bad.returncode == EXIT_USAGE
    assert "ocp-server stats: error: unrecognized arguments: --days 7" in bad.stderr
