"""`ocp-server route`, `restore`, `stats` and `doctor`: the tools, for humans."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from ocp_router.backends.ollama import OllamaBackend
from ocp_router.config import RouterSettings
from ocp_router.errors import BackendError, ConfigError
from ocp_server import wire
from ocp_server.app import AppState
from ocp_server.db import DatabaseError
from ocp_server.render import render
from ocp_server.server import TOOLS, tool_name
from ocp_server.settings import ServerSettings, WorkspaceError, resolve_workspace


def add_server_commands(sub: Any) -> None:
    route = sub.add_parser("route", help="route a request as the ocp_model_route tool would")
    route.add_argument("text")
    route.add_argument(
        "--dry-run",
        action="store_true",
        help="show the decision and the exact prompt; call no model",
    )
    route.add_argument("--force", choices=["local", "paid"])
    route.add_argument("--json", action="store_true", help="print the full result as JSON")
    route.set_defaults(handler=run_route)
    restore = sub.add_parser("restore", help="print what earlier sessions left")
    restore.add_argument("--query")
    restore.add_argument("--max-tokens", type=int, default=2000)
    restore.add_argument("--json", action="store_true")
    restore.set_defaults(handler=run_restore)
    stats = sub.add_parser("stats", help="routes by tier, tokens, cost and savings")
    stats.add_argument("--since", help="only this recent: 7d, 12h, 30m (default: all)")
    stats.add_argument("--json", action="store_true")
    stats.set_defaults(handler=run_stats)
    doctor = sub.add_parser("doctor", help="check the setup; each problem comes with its fix")
    doctor.set_defaults(handler=run_doctor)


def _settings(workspace: Path) -> ServerSettings:
    """The environment's settings, pinned to the workspace the command was given."""
    return dataclasses.replace(
        ServerSettings.from_env(), workspace=workspace, claude_project_dir=None
    )


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


async def _route(args: argparse.Namespace, workspace: Path) -> wire.RouteResult:
    state = await AppState.create(_settings(workspace))
    try:
        ws = await state.workspace(workspace, watch=False)
        await ws.index.update()
        return await state.route(
            ws, wire.RouteArgs(request=args.text, force=args.force, dry_run=args.dry_run)
        )
    finally:
        await state.aclose()


def run_route(args: argparse.Namespace, workspace: Path) -> int:
    try:
        result = asyncio.run(_route(args, workspace))
    except (ConfigError, DatabaseError, WorkspaceError, ValueError) as exc:
        return _fail(str(exc))
    if args.json:
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
    else:
        sys.stdout.write(render(result) + "\n")
    return 0


async def _restore(args: argparse.Namespace, workspace: Path) -> wire.RestoreResult:
    state = await AppState.create(_settings(workspace))
    try:
        ws = await state.workspace(workspace, watch=False)
        return await state.restore(
            ws, wire.RestoreArgs(query=args.query, max_tokens=args.max_tokens)
        )
    finally:
        await state.aclose()


def run_restore(args: argparse.Namespace, workspace: Path) -> int:
    try:
        result = asyncio.run(_restore(args, workspace))
    except (ConfigError, DatabaseError, WorkspaceError, ValueError) as exc:
        return _fail(str(exc))
    sys.stdout.write((result.model_dump_json(indent=2) if args.json else render(result)) + "\n")
    return 0


_SINCE = re.compile(r"^(\d+)([dhm])$")


def parse_since(value: str | None, now: float | None = None) -> float | None:
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if not match:
        raise ValueError(f"--since {value!r} is invalid: expected a number and d, h or m (7d)")
    seconds = int(match.group(1)) * {"d": 86400, "h": 3600, "m": 60}[match.group(2)]
    return (now or time.time()) - seconds


async def _stats(since: float | None, workspace: Path) -> dict[str, Any]:
    state = await AppState.create(_settings(workspace))
    try:
        ws = await state.workspace(workspace, watch=False)
        return await ws.memory.stats(since)
    finally:
        await state.aclose()


def run_stats(args: argparse.Namespace, workspace: Path) -> int:
    try:
        stats = asyncio.run(_stats(parse_since(args.since), workspace))
    except (ConfigError, DatabaseError, WorkspaceError, ValueError) as exc:
        return _fail(str(exc))
    if args.json:
        sys.stdout.write(json.dumps(stats, indent=2) + "\n")
        return 0
    table = Table(title=f"OCP routes in {workspace}")
    for col in (
        "tier",
        "routes",
        "tokens in",
        "tokens out",
        "cost $",
        "if all paid $",
        "saved $",
        "fallbacks",
        "errors",
    ):
        table.add_column(col, justify="right")
    rows = dict(stats.get("by_tier", {}))
    rows["total"] = {
        k: stats.get(k, 0)
        for k in (
            "routes",
            "prompt_tokens",
            "completion_tokens",
            "cost_usd",
            "counterfactual_usd",
            "savings_usd",
            "fallbacks",
            "errors",
        )
    }
    for tier, r in rows.items():
        table.add_row(
            tier,
            str(r["routes"]),
            f"{r['prompt_tokens']:,}",
            f"{r['completion_tokens']:,}",
            f"{r['cost_usd']:.4f}",
            f"{r['counterfactual_usd']:.4f}",
            f"{r['savings_usd']:.4f}",
            str(r["fallbacks"]),
            str(r["errors"]),
        )
    Console().print(table)
    return 0


async def _doctor(workspace_flag: Path | None) -> list[tuple[str, bool, str]]:
    checks: list[tuple[str, bool, str]] = []
    try:
        settings = ServerSettings.from_env()
        router_settings = RouterSettings.from_env()
    except ConfigError as exc:
        return [("configuration", False, str(exc))]
    names = ", ".join(tool_name(t, settings) for t in TOOLS)
    checks.append(("tool names", True, f"{settings.tool_names}: {names}"))
    try:
        path = resolve_workspace(settings, str(workspace_flag) if workspace_flag else None, None)
        checks.append(("workspace", True, str(path)))
    except WorkspaceError as exc:
        checks.append(("workspace", False, str(exc)))
        path = None
    if path is not None:
        state = await AppState.create(_settings(path))
        try:
            ws = await state.workspace(path, watch=False)
            status = await ws.index.status()
            checks.append(("database", True, status.db_path))
            if status.files == 0:
                checks.append(
                    (
                        "index",
                        False,
                        "empty: run `ocp-server index` (the server also "
                        "builds it in the background)",
                    )
                )
            else:
                stale = (
                    " (stale: the server refreshes it at the next search)" if status.stale else ""
                )
                checks.append(
                    ("index", True, f"{status.files} files, {status.chunks} chunks" + stale)
                )
        except (DatabaseError, OSError) as exc:
            checks.append(("database", False, str(exc)))
        finally:
            await state.aclose()
    if router_settings.local_backend == "ollama":
        backend = OllamaBackend(
            router_settings.local_model, base_url=router_settings.ollama_url, timeout=5
        )
        try:
            await backend.check()
            checks.append(
                (
                    "local model",
                    True,
                    f"{router_settings.local_model} at {router_settings.ollama_url}",
                )
            )
        except BackendError as exc:
            checks.append(("local model", False, str(exc)))
        finally:
            await backend.aclose()
    else:
        checks.append(
            (
                "local model",
                True,
                f"{router_settings.local_model} at {router_settings.local_base_url}",
            )
        )
    if router_settings.paid_configured:
        checks.append(
            ("paid model", True, f"{router_settings.paid_backend} {router_settings.paid_model}")
        )
    else:
        checks.append(
            (
                "paid model",
                False,
                "no key: complex requests come back as an enriched prompt for your agent "
                "to answer. To route them to a paid model, set ANTHROPIC_API_KEY (or "
                "OCP_PAID_BACKEND=openai and OPENAI_API_KEY) in the env block of .mcp.json",
            )
        )
    return checks


def run_doctor(args: argparse.Namespace, workspace: Path) -> int:
    flag = workspace if args.workspace else None
    checks = asyncio.run(_doctor(flag))
    table = Table(title="ocp-server doctor")
    table.add_column("check")
    table.add_column("ok")
    table.add_column("detail / fix", overflow="fold")
    for name, ok, detail in checks:
        table.add_row(name, "[green]yes[/green]" if ok else "[red]no[/red]", detail)
    Console().print(table)
    return 0 if all(ok for name, ok, _ in checks if name != "paid model") else 1
