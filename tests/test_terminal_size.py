"""Every test, and every process it starts, sees one terminal size (conftest.TERMINAL),
whatever terminal runs pytest: GNU readline, which pytest imports, exported the terminal's
size to subprocesses only, so the CLI's tables wrapped at that width, and under `-n 0` a
subprocess given a copy of os.environ saw no size at all."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import TERMINAL

SHOW = "import os; print(os.environ.get('COLUMNS'), os.environ.get('LINES'))"


def _seen(env: dict[str, str] | None) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_a_subprocess_sees_the_pinned_terminal_size_whichever_environment_it_is_given() -> None:
    pinned = f"{TERMINAL['COLUMNS']} {TERMINAL['LINES']}"
    assert _seen(None) == pinned  # the inherited environment
    assert _seen(dict(os.environ)) == pinned  # a copy, as the CLI tests' helpers pass


def test_this_process_sees_the_pinned_width_as_rich_reads_it() -> None:
    from rich.console import Console

    assert Console(width=None).size.width == int(TERMINAL["COLUMNS"])
