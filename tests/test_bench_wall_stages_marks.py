"""bench/bench_wall_stages.py's marked server writes its marks when the client's last request
comes, not at exit: the server's end gives exit handlers half a second (hard_exit), which a
loaded machine's dump overran (`--fine` found no search's marks at load 20)."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_wall_stages.py"


def _bench() -> ModuleType:
    sys.path.insert(0, str(BENCH.parent))
    spec = importlib.util.spec_from_file_location("bench_wall_stages", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_marks_are_on_disk_once_the_last_request_is_answered_before_the_server_ends(
    tmp_path: Path,
) -> None:
    bench = _bench()
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (workspace / "a.py").write_text("def f():\n    return 1\n")
    marks_file = tmp_path / "marks.jsonl"
    env = {
        **os.environ,
        "OCP_WORKSPACE": str(workspace),
        "OCP_DB_PATH": str(tmp_path / "ocp.db"),
        "OCP_BENCH_MARKS": str(marks_file),
        "OCP_BENCH_DUMP": bench.DUMP_REQUEST,
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", bench.MARKED_SERVER],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        cwd=tmp_path,
    )
    assert proc.stdin is not None and proc.stdout is not None
    ids = iter(range(1, 100))

    def ask(
        method: str, params: dict[str, object], label: str = "", request_id: object = None
    ) -> None:
        rid = next(ids) if request_id is None else request_id
        line = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        proc.stdin.write(json.dumps(line).encode() + b"\n")  # type: ignore[union-attr]
        proc.stdin.flush()  # type: ignore[union-attr]
        assert json.loads(proc.stdout.readline())["id"] == rid  # type: ignore[union-attr]

    try:
        ask(
            "initialize",
            {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "test", "version": "1"},
            },
        )
        marks = bench._last_marks(ask, marks_file)
        assert proc.poll() is None  # still running: nothing was left to its exit
    finally:
        proc.stdin.close()
        proc.wait(30)
        proc.stdout.close()
    # the initialize request's marks, from the read of its line to the answer's write
    assert [name for name, _, _ in marks[0]][0] == "read"
    assert "written" in [name for name, _, _ in marks[0]]
