"""Terminal output of the CLI: consoles that do not wrap piped output, and index progress.

rich assumes 80 columns when its stream is not a terminal and wraps at that width, which
breaks code piped into a file or another program. A piped console gets an unlimited width
instead (or `COLUMNS`, when the user set it).
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import TextIO

from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from ocp_router.words import per_second
from ocp_server.argument_errors import NOTHING, expected, field_problem
from ocp_server.build_progress import files_done
from ocp_server.settings import columns_set

PIPE_WIDTH = 100_000  # "no wrapping" for rich, which needs some width
PROGRESS_INTERVAL = 0.5  # seconds between progress updates, on a terminal or a pipe
QUIET_INTERVAL = 5.0  # a pipe gets a line this often even when nothing moved


def option_problems(exc: ValidationError, options: Mapping[str, str]) -> str:
    """A value a tool's arguments refuse, said as the option typed (`options`: field to
    option) with what was expected and what was given, as the tool says it: `--max-tokens:
    expected at least 300 (got 5)`."""
    problems = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err["loc"])
        got = err["input"] if err["type"] != "missing" else NOTHING
        problems.append(field_problem(field, expected(err), got, option=options.get(field, "")))
    return "; ".join(problems)


class _Console(Console):
    """rich's Console, except that a closed pipe ends the command as every other write to it
    does (entry.closed_output), not with rich's own exit status 1, which reads as a failure."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        raise BrokenPipeError("the reader closed the pipe")


def console(
    *, stderr: bool = False, file: TextIO | None = None, env: Mapping[str, str] | None = None
) -> Console:
    """A rich console for stdout (or stderr) that never wraps piped output (unless `env`,
    the process's environment by default, sets COLUMNS)."""
    stream = file or (sys.stderr if stderr else sys.stdout)
    if stream.isatty() or columns_set(env):
        return _Console(file=stream, stderr=stderr and file is None)
    return _Console(file=stream, width=PIPE_WIDTH, soft_wrap=True, no_color=True)


def format_seconds(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _files_per_second(rate: float | None) -> str:
    return per_second(rate, "file") if rate else "… files/s"


class FilesPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(_files_per_second(task.speed), style="progress.data.speed")


class IndexProgress:
    """Progress of an index build, updated at least every PROGRESS_INTERVAL seconds.

    On a terminal: a live bar (files done/total, files/s, ETA, elapsed), redrawn by rich's
    refresh thread. On a pipe: one plain line per interval while files are being done, and a
    line every QUIET_INTERVAL while nothing moves (a listing or one slow file), so a log shows
    the run is alive without a line per file. `update` may be called from any thread.
    """

    def __init__(
        self,
        out: Console,
        *,
        interval: float = PROGRESS_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.out = out
        self.interval = interval
        self.clock = clock
        self.done = 0
        self.total: int | None = None
        self.started = clock()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._bar: Progress | None = None
        self._task: TaskID | None = None
        self._last_line: tuple[float, int] | None = None  # when, at how many files done

    # ---- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> IndexProgress:
        self.started = self.clock()
        if self.out.is_terminal:
            self._bar = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                FilesPerSecond(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                TimeElapsedColumn(),
                console=self.out,
                transient=True,
                refresh_per_second=max(5.0, 1 / self.interval),
                speed_estimate_period=10.0,
            )
            self._bar.__enter__()
            self._task = self._bar.add_task("listing files", total=None)
        else:
            self._ticker = threading.Thread(target=self._tick, name="index progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(timeout=2)
            # A pipe that got lines gets the last count too: the last interval's read 99%.
            if self._last_line is not None and self._last_line[1] != self.done:
                self.out.print(self.line(), markup=False, highlight=False)
        if self._bar is not None:
            self._bar.__exit__(exc_type, exc, tb)

    # ---- updates -----------------------------------------------------------------------
    def update(self, done: int, total: int) -> None:
        with self._lock:
            self.done, self.total = done, total
        if self._bar is not None and self._task is not None:
            self._bar.update(self._task, completed=done, total=total, description="indexing")

    def rate(self, now: float | None = None) -> float | None:
        """Files per second since the first file was done (None before any)."""
        elapsed = (now if now is not None else self.clock()) - self.started
        return self.done / elapsed if self.done and elapsed > 0 else None

    def line(self, now: float | None = None) -> str:
        """The plain progress line: `indexing 1,200/5,000 files (24%), 850 files/s, ETA 4s`."""
        now = self.clock() if now is None else now
        with self._lock:
            done, total = self.done, self.total
        elapsed = format_seconds(now - self.started)
        if total is None:
            return f"listing files… ({elapsed})"
        if total == 0:
            return f"nothing changed to index ({elapsed})"
        rate = self.rate(now)
        pct = 100 * done / total
        eta = format_seconds((total - done) / rate) if rate else "…"
        return (
            f"indexing {files_done(done, total)} ({pct:.0f}%), "
            f"{_files_per_second(rate)}, ETA {eta}, {elapsed}"
        )

    def due(self, now: float) -> bool:
        """Whether a pipe should get a line now."""
        if self._last_line is None:
            return now - self.started >= self.interval
        when, done = self._last_line
        moved = self.done != done
        return now - when >= (self.interval if moved else QUIET_INTERVAL)

    def _tick(self) -> None:
        while not self._stop.wait(self.interval / 5):
            now = self.clock()
            if self.due(now):
                self.out.print(self.line(now), markup=False, highlight=False)
                self._last_line = (now, self.done)
