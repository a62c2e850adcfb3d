"""`ocp-server routing explain|reset`: the routing calibration learned from outcomes."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ocp_router.calibration_file import Calibrations, calibration_lock, calibration_path
from ocp_router.config import RouterSettings, local_calibration_key
from ocp_router.errors import ConfigError
from ocp_server.cli_index import answering
from ocp_server.entry import EXIT_FAILURE
from ocp_server.settings import ServerSettings, tool_names_setting
from ocp_server.status import routing_line


def _path(args: argparse.Namespace, workspace: Path) -> Path:
    """The calibration a route run here learns into: in a sub-folder of an indexed project,
    the project's (a route there is the project's, cli_index.answering), said on stderr."""
    workspace, _ = answering(args, workspace, scoped=False)
    return calibration_path(ServerSettings.from_env().db_path_for(workspace).parent)


def run_explain(args: argparse.Namespace, workspace: Path) -> int:
    path = _path(args, workspace)
    try:
        cal = Calibrations.load(path)
    except ValueError as exc:  # a file OCP wrote, damaged: a failure (1), as a damaged
        # database is; not a usage or configuration error (2), no option or setting fixes it
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILURE
    read = RouterSettings.read_env()
    # The local model the settings route with now: whose thresholds are in use.
    in_use = local_calibration_key(read.settings)
    if args.json:
        sys.stdout.write(json.dumps({**cal.to_json(), "in_use": in_use}, indent=1) + "\n")
        return 0
    # The router adds each learned shift to OCP_ROUTE_THRESHOLD as it is now, whatever
    # threshold the file was written under: say the thresholds that route.
    if not read.valid("route_threshold"):
        raise ConfigError(read.error or "OCP_ROUTE_THRESHOLD is invalid")
    if read.error is not None:  # not this command's setting: said, and the rest shown
        print(routing_line(read.error, tool_names_setting()), file=sys.stderr)
    cal.base_threshold = read.settings.route_threshold
    where = str(path) if path.exists() else f"{path} (not written yet)"
    sys.stdout.write(f"{where}\n{cal.explain(in_use)}\n")
    return 0


def run_reset(args: argparse.Namespace, workspace: Path) -> int:
    path = _path(args, workspace)
    if not path.exists():
        sys.stdout.write(f"nothing to reset: {path} does not exist\n")
        return 0
    with calibration_lock(path):  # not in the middle of a window's update
        path.unlink(missing_ok=True)
    sys.stdout.write(f"removed {path}: routing uses the default thresholds again\n")
    return 0
