"""`ocp-server route`, `restore`, `stats` and `doctor`: the tools, for humans."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import re
import sys
import time
from pathlib import Path

from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

import ocp_wire as wire
from ocp_router import Tier
from ocp_router.config import RouterSettings
from ocp_router.errors import ConfigError
from ocp_router.redact_names import redact_name
from ocp_router.sticky import TierFloors
from ocp_router.words import counted
from ocp_server.app import AppState
from ocp_server.argument_errors import field_problem
from ocp_server.cli_index import answering, first_run_check, interrupted
from ocp_server.cli_output import console, option_problems
from ocp_server.doctor import run_checks
from ocp_server.entry import EXIT_FAILURE, EXIT_USAGE
from ocp_server.errors import DatabaseError, RouteFailure, WorkspaceError
from ocp_server.first_run import WorkspaceRefused
from ocp_server.outcomes import restore_floors
from ocp_server.render import render
from ocp_server.report_html import lapse_time, render_html
from ocp_server.savings import FloorRow, SavingsReport, counterfactual_label
from ocp_server.settings import ServerSettings, tool_names_setting
from ocp_server.status import routing_line
from ocp_server.trace_store import TraceStore
from ocp_wire.tools import ToolNameStyle


def _settings(workspace: Path) -> ServerSettings:
    """The environment's settings, pinned to the workspace the command was given."""
    return dataclasses.replace(
        ServerSettings.from_env(), workspace=workspace, claude_project_dir=None
    )


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_FAILURE


# The tools' argument names as these commands spell them.
_OPTIONS = {"request": "text", "model": "--model", "query": "--query", "max_tokens": "--max-tokens"}


def _bad_option(exc: ValidationError) -> int:
    """A value the tool's arguments refuse: one line naming the option (not pydantic's
    report of the model), exit status 2 as for any other bad option."""
    print(f"error: {option_problems(exc, _OPTIONS)}", file=sys.stderr)
    return EXIT_USAGE


async def _route(args: argparse.Namespace, workspace: Path, scope: str | None) -> wire.RouteResult:
    # Checked first: a bad option is reported before anything is opened or indexed.
    route_args = wire.RouteArgs(
        request=args.text,
        force=args.force,
        model=args.model,
        effort=args.effort,
        dry_run=args.dry_run,
        # the tool's `workspace` naming the sub-folder: its context comes from there
        workspace=str(workspace / scope) if scope else None,
    )
    settings = _settings(workspace)
    try:
        await first_run_check(workspace, settings, force=False)
    except WorkspaceRefused as exc:
        raise WorkspaceRefused(
            f"{exc} (route's --force picks a tier: index it first with `ocp-server index --force`)"
        ) from None
    state = await AppState.create(settings)
    if state.routing_error is not None:  # before indexing: nothing could be routed
        await state.aclose()
        raise ConfigError(state.routing_error)
    try:
        ws = await state.workspace(workspace, watch=False)
        await ws.index.update()
        return await state.route(ws, route_args)
    finally:
        await state.aclose()


class _HeldAttemptErrors(logging.Filter):
    """Holds the router's warning for each failed attempt while `route` runs: one its output
    already says (the note quotes why the local model could not answer) is not logged again;
    the others are, after the output. The server's log keeps every one."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[logging.LogRecord] = []

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(getattr(record, "attempt_error", None), str):
            self.held.append(record)
            return False
        return True

    def release(self, logger: logging.Logger, shown: str) -> None:
        logger.removeFilter(self)
        for record in self.held:
            if str(getattr(record, "attempt_error", "")).rstrip(".") not in shown:
                logger.handle(record)


def run_route(args: argparse.Namespace, workspace: Path) -> int:
    router_log = logging.getLogger("ocp_router.router")
    held = _HeldAttemptErrors()
    router_log.addFilter(held)
    shown = ""
    try:
        status, shown = _run_route(args, workspace)
    finally:
        held.release(router_log, shown)
    return status


def _run_route(args: argparse.Namespace, workspace: Path) -> tuple[int, str]:
    """The exit status, and the result as printed ("" when there is none)."""
    workspace, scope = answering(args, workspace, scoped=True)
    try:
        result = asyncio.run(_route(args, workspace, scope))
    except KeyboardInterrupt:
        return interrupted(workspace), ""
    except WorkspaceRefused as exc:
        print(f"ocp-server: {exc}", file=sys.stderr)
        return EXIT_USAGE, ""
    except RouteFailure as failure:  # no model could answer: the trace says what was tried
        text = render(failure.result)
        sys.stderr.write(text + "\n")
        if args.json:  # the result as the tool's structured content has it, for a script
            sys.stdout.write(failure.result.model_dump_json(indent=2) + "\n")
        return EXIT_FAILURE, text
    except ValidationError as exc:
        return _bad_option(exc), ""
    except (DatabaseError, WorkspaceError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        return _fail(str(exc)), ""
    text = result.model_dump_json(indent=2) if args.json else render(result)
    sys.stdout.write(text + "\n")
    return 0, text


async def _restore(
    args: argparse.Namespace, workspace: Path, scope: str | None
) -> wire.RestoreResult:
    # in a sub-folder, kept to it as the server's restore there is (queries.IN_SCOPE)
    folder = str(workspace / scope) if scope else None
    restore_args = wire.RestoreArgs(query=args.query, max_tokens=args.max_tokens, workspace=folder)
    state = await AppState.create(_settings(workspace), routing=False)
    try:
        ws = await state.workspace(workspace, watch=False)
        return await state.restore(ws, restore_args)
    finally:
        await state.aclose()


def run_restore(args: argparse.Namespace, workspace: Path) -> int:
    workspace, scope = answering(args, workspace, scoped=True)
    try:
        result = asyncio.run(_restore(args, workspace, scope))
    except ValidationError as exc:
        return _bad_option(exc)
    except (DatabaseError, WorkspaceError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        return _fail(str(exc))
    sys.stdout.write((result.model_dump_json(indent=2) if args.json else render(result)) + "\n")
    return 0


# Above 0: "0d" asked for the routes since now, and the report said "0 routes" of a
# workspace that had many.
_SINCE = re.compile(r"^0*([1-9]\d*)([dhm])$")


def parse_since(value: str | None, now: float | None = None) -> float | None:
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if not match:
        raise ValueError(
            field_problem(
                "since",
                "expected a whole number above 0 and d, h or m, as 7d",
                value,
                option="--since",
            )
        )
    seconds = int(match.group(1)) * {"d": 86400, "h": 3600, "m": 60}[match.group(2)]
    return (now or time.time()) - seconds


# What the counterfactual's model (the report's label) is read from.
_COUNTERFACTUAL = ("paid_backend", "paid_model", "paid_top_model")


async def _stats(since: float | None, workspace: Path) -> SavingsReport:
    read = RouterSettings.read_env()
    if read.error is not None:  # a report of what was stored routes nothing: said, not fatal
        print(routing_line(read.error, tool_names_setting()), file=sys.stderr)
    known = all(read.valid(f) for f in _COUNTERFACTUAL)
    counterfactual_model = read.settings.counterfactual_model if known else None
    state = await AppState.create(_settings(workspace), routing=False)
    try:
        ws = await state.workspace(workspace, watch=False)
        report = await ws.memory.stats(
            since, workspace=str(workspace), counterfactual_model=counterfactual_model or ""
        )
        report["floors"] = await kept_above_local(ws.memory, read.settings)
        return report
    finally:
        await state.aclose()


async def kept_above_local(memory: TraceStore, settings: RouterSettings) -> list[FloorRow]:
    """The conversations a proxy or server opening the workspace now keeps above the local
    tier (its floors, rebuilt under `settings`' OCP_STICKY and OCP_FLOOR_HOURS), and when
    each lapses."""
    floors = TierFloors.for_hours(settings.floor_hours)
    await restore_floors(memory, floors, settings.sticky)
    kept = floors.lapsing()
    return [
        FloorRow(session=s, tier=t.value, lapses_at=at) for s, t, at in kept if t is not Tier.LOCAL
    ]


def run_stats(args: argparse.Namespace, workspace: Path) -> int:
    try:
        since = parse_since(args.since)
    except ValueError as exc:  # a bad option, as argparse's own are: status 2
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    workspace, _ = answering(args, workspace, scoped=False)
    try:
        stats = asyncio.run(_stats(since, workspace))
    except (DatabaseError, WorkspaceError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        return _fail(str(exc))
    if args.html is not None:
        try:
            args.html.write_text(render_html(stats), "utf-8")
        except OSError as exc:  # the path the option gave, as a bad --since: status 2
            reason = exc.strerror or type(exc).__name__
            print(
                f"error: --html: cannot write the report to {args.html} ({reason}): expected "
                "a file in an existing folder you can write to",
                file=sys.stderr,
            )
            return 2
        print(f"wrote {args.html}", file=sys.stderr)
    if args.json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return 0
    print_stats(stats, console(), tool_names_setting())
    return 0


def _usd(value: float) -> str:
    return f"${value:,.4f}"


def print_stats(stats: SavingsReport, console: Console, tool_names: ToolNameStyle) -> None:
    """The savings report as terminal tables (tools named as advertised under
    OCP_TOOL_NAMES=`tool_names`)."""
    if not stats["routes"]:  # one line, not three tables with no row
        console.print(
            f"0 routes in {stats['workspace']}: each {wire.ROUTE.name_in(tool_names)} call (and "
            f"`ocp-server route` without --dry-run) is counted here; dry runs {stats['dry_runs']}"
        )
        return
    pct = stats["savings_pct"]
    console.print(
        f"[bold]{counted(stats['routes'], 'route')}[/], "
        f"{counted(stats['sessions'], 'session')} in "
        f"{stats['workspace']}: answers cost {_usd(stats['answer_cost_usd'])} vs "
        f"{_usd(stats['counterfactual_usd'])} {counterfactual_label(stats)}"
        f" → saved [bold]{_usd(stats['savings_usd'])}[/]"
        + (f" ({pct:.1f}%)" if pct is not None else "")
    )
    estimated = stats["estimated_routes"]
    console.print(
        f"failed paid attempts cost {_usd(stats['failed_cost_usd'])}"
        + (f" ({estimated} cut short: estimated)" if estimated else "")
        + f" → net saved {_usd(stats['net_savings_usd'])}; total cost {_usd(stats['cost_usd'])}"
    )
    cache = stats["classifier_cache"]
    rate = cache["hit_rate"]
    console.print(
        f"escalations {stats['escalations']} · local model unavailable "
        f"{stats['local_unavailable']} (answered by your agent) · fallbacks {stats['fallbacks']}"
        " · budget "
        f"downgrades {stats['budget_downgrades']} · pinned {stats['pinned']} · errors "
        f"{stats['errors']} · phase-2 cache {cache['hits']}/{cache['lookups']}"
        + (f" ({rate:.0%})" if rate is not None else "")
        + f" · dry runs {stats['dry_runs']} (not routes)"
    )
    tiers = Table(title="by tier")
    columns = ("tier", "routes", "tokens in", "tokens out", "cost", "of it failed", "on top model")
    for col in (*columns, "saved"):
        tiers.add_column(col, justify="right")
    for tier, r in stats["by_tier"].items():
        tiers.add_row(
            tier,
            str(r["routes"]),
            f"{r['prompt_tokens']:,}",
            f"{r['completion_tokens']:,}",
            _usd(r["cost_usd"]),
            _usd(r["failed_cost_usd"]),
            _usd(r["counterfactual_usd"]),
            _usd(r["savings_usd"]),
        )
    console.print(tiers)
    tasks = Table(title="by task type")
    for col in ("task type", "routes", "local", "mid", "top", "other"):
        tasks.add_column(col, justify="right")
    for task, split in stats["by_task_type"].items():
        counts = (split["routes"], split["local"], split["mid"], split["top"], split["other"])
        tasks.add_row(task, *(str(n) for n in counts))
    console.print(tasks)
    if set(stats["by_effort"]) - {"none"}:  # some caller asked an effort: what thinking cost
        efforts = Table(title="by effort asked")
        for col in ("effort", "routes", "tokens out", "cost"):
            efforts.add_column(col, justify="right")
        for effort, e in stats["by_effort"].items():
            efforts.add_row(
                effort, str(e["routes"]), f"{e['completion_tokens']:,}", _usd(e["cost_usd"])
            )
        console.print(efforts)
    latency = Table(title="latency per backend (ms)")
    for col in ("backend", "answers", "errors", "p50", "p90", "p99"):
        latency.add_column(col, justify="right")
    for backend, lat in stats["latency"].items():
        latency.add_row(
            backend,
            str(lat["count"]),
            str(lat["errors"]),
            *(f"{ms:,.0f}" for ms in (lat["p50"], lat["p90"], lat["p99"])),
        )
    console.print(latency)
    phases = ", ".join(f"{k} {v}" for k, v in stats["by_phase"].items())
    console.print(f"decided by: {phases}")
    if floors := stats.get("floors"):
        kept = Table(title="conversations kept above the local tier")
        for col in ("conversation", "tier", "until"):
            kept.add_column(col)
        for f in floors:
            kept.add_row(f["session"], f["tier"], lapse_time(f["lapses_at"]))
        console.print(kept)


STATUS_STYLE = {
    "ok": "[green]ok[/green]",
    "warn": "[yellow]warn[/yellow]",
    "fail": "[red]FAIL[/red]",
}


def run_doctor(args: argparse.Namespace, workspace: Path) -> int:
    flag = workspace if args.workspace else None
    # An agent may run this in its shell: what it prints reaches the agent's model, and a
    # check quotes the configuration (a URL with a token in its query, a model's name).
    checks = [
        dataclasses.replace(c, detail=redact_name(c.detail).text)
        for c in asyncio.run(run_checks(flag))
    ]
    if args.json:
        rows = [{"check": c.name, "status": c.status, "detail": c.detail} for c in checks]
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
    elif not sys.stdout.isatty():  # one check a line: greppable, never wrapped
        width = max(len(c.name) for c in checks)
        for c in checks:
            print(f"{c.status:<4}  {c.name:<{width}}  {c.detail}")
    else:
        table = Table(title="ocp-server doctor")
        table.add_column("check")
        table.add_column("status")
        table.add_column("what was found / the fix", overflow="fold")
        for c in checks:
            table.add_row(c.name, STATUS_STYLE[c.status], c.detail)
        console().print(table)
    return EXIT_FAILURE if any(c.status == "fail" for c in checks) else 0
