"""The proxy while another process holds its database (WAL): another writer's transaction
(an `ocp-server index`, a second proxy), or a connection running WAL recovery after a crash.
Requests are answered meanwhile, and their traces are stored once the database is free. The
other process is real: SQLite's locks are POSIX locks, which a process never conflicts with
itself."""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ocp_server import db as ocp_db
from ocp_server.proxy import Proxy, recorder
from tests.db_holders import held_recovering, held_writing
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, SIMPLE, messages_body
from tests.proxy.outcomes import phase1_only
from tests.proxy.recorded import all_written

Started = Callable[..., RunningProxy]


def _ask(proxy: RunningProxy) -> int:
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        return http.post(
            "/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS
        ).status_code


def _stored(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM traces").fetchone()[0])


async def _write_errors(proxy: Proxy) -> int:
    return proxy.recorder.write_errors


def test_a_trace_another_process_kept_busy_past_the_busy_timeout_is_stored_once_it_is_free(
    start_proxy: Started,
    proxy_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Another process's write transaction (WAL) held past the busy timeout: the request is
    answered, its trace waits (said once, as a warning: not a bug) and is stored after."""
    monkeypatch.setattr(ocp_db, "BUSY_TIMEOUT_MS", 100)  # the wait each write try
    monkeypatch.setattr(recorder, "BUSY_RETRY_S", 0.05, raising=False)
    proxy = start_proxy(phase1_only(proxy_env))
    db = tmp_path / "ocp.db"
    assert _ask(proxy) == 200
    proxy.call(all_written)
    with caplog.at_level(logging.INFO, logger=recorder.__name__), held_writing(db):
        assert _ask(proxy) == 200
        deadline = time.monotonic() + 30
        while "database is busy" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.02)
        assert "database is busy" in caplog.text
    proxy.call(all_written)
    assert _stored(db) == 2
    assert proxy.call(_write_errors) == 0
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


def test_a_request_needing_the_spend_while_another_process_recovers_the_database_is_busy(
    start_proxy: Started,
    proxy_env: dict[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """WAL recovery in another process past the busy timeout: a request the daily budget
    checks (the spend today is read from the database) is answered "busy, try again" (503,
    logged as a warning: no bug of the proxy's); one the local tier answers is served, and
    stored once the recovery ends."""
    monkeypatch.setattr(ocp_db, "BUSY_TIMEOUT_MS", 100)
    monkeypatch.setattr(recorder, "BUSY_RETRY_S", 0.05, raising=False)
    proxy = start_proxy(phase1_only(proxy_env) | {"OCP_DAILY_BUDGET_USD": "5"})
    db = tmp_path / "ocp.db"
    assert _ask(proxy) == 200
    proxy.call(all_written)
    with caplog.at_level(logging.INFO), held_recovering(db):
        assert _ask(proxy) == 200  # local: no spend read
        with httpx.Client(base_url=proxy.url, timeout=20) as http:
            paid = http.post(
                "/v1/messages", json=messages_body(text=HARD), headers=ANTHROPIC_HEADERS
            )
    assert paid.status_code == 503, paid.text
    message = paid.json()["error"]["message"]
    assert "database is busy" in message and "try again" in message, message
    proxy.call(all_written)
    assert _stored(db) == 2
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
