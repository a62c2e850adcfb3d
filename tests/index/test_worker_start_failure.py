"""Index workers that cannot start: the build completes in its thread, and the failure is
logged with its cause (stderr, never stdout) and shown by `ocp-server status` and doctor."""

from __future__ import annotations

import importlib
import logging
import os
import sqlite3
import sys
from multiprocessing.context import ForkServerContext, SpawnContext
from pathlib import Path

import pytest

from ocp_server.doctor import run_checks
from ocp_server.index import file_pool as file_pool_module
from ocp_server.index.file_pool import Workers
from ocp_server.index.models import IndexSummary
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.status import index_report, render_report

FILES = file_pool_module.PARALLEL_MIN_FILES + 20


def _workspace(root: Path) -> Path:
    root.mkdir()
    for i in range(FILES):
        (root / f"mod_{i}.py").write_text(f"def handle_{i}(value):\n    return value + {i}\n")
    return root


async def _build(root: Path, db: Path) -> tuple[IndexSummary, str, str | None]:
    """The update's summary, `ocp-server status`'s text and its report's field."""
    idx = await WorkspaceIndex.open(root, db)
    try:
        summary = await idx.update()
        report = await index_report(idx)
    finally:
        await idx.close()
    assert summary is not None
    return summary, render_report(report, "underscore"), report.workers_failed


@pytest.fixture
def started_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers wanted on a machine of any size, there (or failed) before the first file."""
    monkeypatch.setattr(file_pool_module, "worker_count", lambda: 2)
    monkeypatch.setattr(Workers, "start_in_background", Workers.start)


_worker_context = file_pool_module.worker_context


def _failing_spawn() -> ForkServerContext | SpawnContext:
    context = _worker_context()

    class Refused(context.Process):  # type: ignore[name-defined, misc]
        def start(self) -> None:
            raise OSError(11, "Resource temporarily unavailable")

    context.Process = Refused  # type: ignore[misc]
    return context


async def test_a_spawn_that_fails_is_reported_and_the_build_completes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    started_at_once: None,
) -> None:
    root = _workspace(tmp_path / "ws")
    monkeypatch.setattr(file_pool_module, "worker_context", _failing_spawn)
    with caplog.at_level(logging.WARNING, logger="ocp_server.index.file_pool"):
        summary, text, failed = await _build(root, tmp_path / "ocp.db")
    assert summary.files == FILES and summary.workers == 1
    assert summary.workers_failed is not None
    assert "Resource temporarily unavailable" in summary.workers_failed
    assert failed is not None and failed.startswith(summary.workers_failed)
    line = next(line for line in text.splitlines() if line.startswith("workers"))
    assert "Resource temporarily unavailable" in line and "one thread" in line
    assert any("Resource temporarily unavailable" in r.getMessage() for r in caplog.records)
    # doctor says so too, as a warning: searches work, the first build is slower
    env = {"OCP_DB_PATH": str(tmp_path / "ocp.db"), "OCP_OLLAMA_URL": "http://127.0.0.1:9"}
    checks = {c.name: c for c in await run_checks(root, env, tmp_path / "home")}
    assert checks["index"].status == "warn"
    assert "Resource temporarily unavailable" in checks["index"].detail


async def test_a_worker_that_cannot_import_its_start_says_why(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    started_at_once: None,
) -> None:
    # A worker whose first import fails (an install changed under the server, a broken
    # extension): it died before it could write anywhere but the forkserver's /dev/null, and
    # the log said only "a process in the process pool was terminated abruptly".
    root = _workspace(tmp_path / "ws")
    probe = tmp_path / "probe"
    probe.mkdir()
    (probe / "ocp_unloadable_start.py").write_text(
        "import os\n"
        "if os.environ.get('OCP_PROBE_PARENT') != str(os.getpid()):  # a worker\n"
        "    raise ImportError('libocp_probe.so: cannot open shared object file')\n"
        "def init(*args):\n"
        "    pass\n"
    )
    monkeypatch.setenv("OCP_PROBE_PARENT", str(os.getpid()))
    monkeypatch.syspath_prepend(str(probe))  # the workers' sys.path is ours
    monkeypatch.delitem(sys.modules, "ocp_unloadable_start", raising=False)
    unloadable = importlib.import_module("ocp_unloadable_start")
    monkeypatch.setattr(file_pool_module, "_init_worker", unloadable.init)
    summary, text, failed = await _build(root, tmp_path / "ocp.db")
    assert summary.files == FILES and summary.workers == 1
    assert failed is not None and "libocp_probe.so: cannot open shared object file" in failed
    assert "libocp_probe.so" in text
    # the worker's traceback went to the log, never to stdout (the MCP channel)
    assert "libocp_probe" not in capfd.readouterr().out
    assert any("libocp_probe" in r.getMessage() for r in caplog.records)


async def test_workers_that_start_clear_an_earlier_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, started_at_once: None
) -> None:
    root = _workspace(tmp_path / "ws")
    db = tmp_path / "ocp.db"
    with monkeypatch.context() as patch:
        patch.setattr(file_pool_module, "worker_context", _failing_spawn)
        _, _, failed = await _build(root, db)
    assert failed is not None
    for path in root.iterdir():  # every file read again, now by the workers
        path.write_text(path.read_text() + "# edited\n")
    summary, text, failed = await _build(root, db)
    assert summary.workers == 2 and summary.workers_failed is None
    assert failed is None and not any(line.startswith("workers") for line in text.splitlines())
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM files").fetchone() == (FILES,)
