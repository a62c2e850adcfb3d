"""Ctrl-C on the server ends it with exit status 130 and no traceback, however it was started:
the `ocp-server` script, or `python -m ocp_server.cli` (which bypassed the script's handler)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ENTRY = (
    "import sys\n"
    "from importlib.metadata import entry_points\n"
    "(script,) = entry_points(group='console_scripts', name='ocp-server')\n"
    "sys.exit(script.load()())\n"
)
STARTS = {
    "entry point": [sys.executable, "-c", ENTRY],
    "module": [sys.executable, "-m", "ocp_server.cli"],
}
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "1"},
    },
}


@pytest.mark.parametrize("start", STARTS.values(), ids=STARTS.keys())
def test_ctrl_c_on_the_serving_server_exits_130_without_a_traceback(
    start: list[str], tmp_path: Path
) -> None:
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "a.py").write_text("def verify_token():\n    return True\n")
    proc = subprocess.Popen(
        start,
        cwd=ws,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
            "OCP_DB_PATH": str(tmp_path / "ocp.db"),
        },
        # a shell without job control starts children with SIGINT ignored: give the server
        # the Ctrl-C a terminal would deliver
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(INITIALIZE) + "\n")
    proc.stdin.flush()
    assert '"id":1' in proc.stdout.readline()  # serving: past every import, in its loop
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
