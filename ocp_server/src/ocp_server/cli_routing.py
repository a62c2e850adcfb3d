"""`ocp-server routing explain|reset`: the routing calibration learned from outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ocp_router.calibration import Calibration, calibration_path
from ocp_server.index.workspace import default_db_path
from ocp_server.settings import ServerSettings


def add_routing_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    routing = sub.add_parser(
        "routing",
        parents=[common],
        help="the workspace's routing calibration, learned from saved outcomes",
        description="Outcomes saved with ocp_result_save (good, bad/wrong, escalated, "
        "overkill) shift the local/paid threshold per task type for this workspace.",
    )
    actions = routing.add_subparsers(dest="action", metavar="ACTION", required=True)
    explain = actions.add_parser(
        "explain", parents=[common], help="the threshold per task type and the outcomes behind it"
    )
    explain.add_argument("--json", action="store_true", help="print the calibration file")
    explain.set_defaults(handler=run_explain)
    reset = actions.add_parser(
        "reset", parents=[common], help="forget every learned shift (back to the defaults)"
    )
    reset.set_defaults(handler=run_reset)


def _path(workspace: Path) -> Path:
    settings = ServerSettings.from_env()
    return calibration_path((settings.db_path or default_db_path(workspace)).parent)


def run_explain(args: argparse.Namespace, workspace: Path) -> int:
    path = _path(workspace)
    try:
        cal = Calibration.load(path)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(json.dumps(cal.to_json(), indent=1) + "\n")
        return 0
    where = str(path) if path.exists() else f"{path} (not written yet)"
    sys.stdout.write(f"{where}\n{cal.explain()}\n")
    return 0


def run_reset(args: argparse.Namespace, workspace: Path) -> int:
    path = _path(workspace)
    if not path.exists():
        sys.stdout.write(f"nothing to reset: {path} does not exist\n")
        return 0
    path.unlink()
    sys.stdout.write(f"removed {path}: routing uses the default thresholds again\n")
    return 0
