"""What a paid relay that produced no answer cost, as the router path counts it (m018): the
usage the upstream reported before it failed is `failed_cost_usd`, not an answer's cost; a
relay cut short before any usage came (the client left while the upstream worked) is billed
an estimate of the input it read, marked `cost_estimated`, and charged to the ledger; an
upstream that refused the request (an error status) billed nothing. The daily budget counts
each once: a trace written to the store is no longer counted as this process's unstored spend."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocp_server.proxy import Proxy
from tests.fakes._http import closed_port, unaccepting_port
from tests.fakes.anthropic import FakeAnthropic
from tests.proxy.conftest import RunningProxy
from tests.proxy.cut_short import leave_after, leave_waiting
from tests.proxy.dialects import ANTHROPIC_HEADERS, SSE, messages_body
from tests.proxy.recorded import only_row

COLUMNS = "cost_usd, failed_cost_usd, cost_estimated, answered_tier"


def _trace(proxy: RunningProxy, db: Path) -> dict[str, Any]:
    proxy.stop()  # writes what is queued
    with sqlite3.connect(db) as conn:
        conn.row_factory = sqlite3.Row
        rows = conn.execute(f"SELECT {COLUMNS} FROM traces").fetchall()
    assert len(rows) == 1
    return dict(rows[0])


async def _spent(proxy: Proxy) -> float:
    return await proxy.router.ledger.spent_today()


def test_usage_reported_before_an_upstream_error_is_a_failed_cost(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    fake_anthropic.fail_mid_stream("Overloaded", after=2)  # after message_start's usage
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(stream=True), headers=ANTHROPIC_HEADERS)
    trace = _trace(proxy, tmp_path / "ocp.db")
    assert trace["cost_usd"] > 0 and trace["failed_cost_usd"] == trace["cost_usd"]
    assert trace["cost_estimated"] == 0 and trace["answered_tier"] is None


def test_a_client_leaving_a_paid_stream_before_usage_is_billed_an_estimate(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    fake_anthropic.hold_next([], SSE, path="/v1/messages")  # headers, then nothing
    proxy = start_proxy(proxy_env)
    leave_after(proxy, messages_body(stream=True), b"")
    row = only_row(proxy)  # settled
    spent = proxy.call(_spent)
    trace = _trace(proxy, tmp_path / "ocp.db")
    assert trace["cost_usd"] > 0 and trace["failed_cost_usd"] == trace["cost_usd"]
    assert trace["cost_estimated"] == 1
    assert spent == pytest.approx(row["cost_usd"]) and row["cost_usd"] == trace["cost_usd"]
    assert row["attempts"][0]["cost_estimated"] is True


def test_a_client_leaving_before_the_upstream_answered_is_billed_an_estimate(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    fake_anthropic.delay = 3.0  # the upstream is working on it when the client leaves
    proxy = start_proxy(proxy_env)
    leave_waiting(proxy, messages_body())
    trace = _trace(proxy, tmp_path / "ocp.db")
    assert trace["cost_usd"] > 0 and trace["failed_cost_usd"] == trace["cost_usd"]
    assert trace["cost_estimated"] == 1


def test_an_upstream_error_status_bills_nothing(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    fake_anthropic.fail_next(500, path="/v1/messages")
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
    trace = _trace(proxy, tmp_path / "ocp.db")
    assert not trace["cost_usd"] and trace["failed_cost_usd"] == 0
    assert trace["cost_estimated"] == 0


async def _written(proxy: Proxy) -> int:
    return proxy.recorder.written


def test_a_stored_paid_answer_is_counted_once_against_the_daily_budget(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
) -> None:
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
    row = only_row(proxy)
    while proxy.call(_written) < 1:  # bounded by the suite's timeout: a write takes ms
        time.sleep(0.02)
    assert row["cost_usd"] > 0 and proxy.call(_spent) == pytest.approx(row["cost_usd"])


def test_a_client_leaving_while_the_upstream_connection_is_still_opening_bills_nothing(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    tmp_path: Path,
) -> None:
    # The upstream never took the connection: the request never left, nothing was read.
    with unaccepting_port() as port:
        proxy = start_proxy(
            proxy_env | {"OCP_PROXY_ANTHROPIC_UPSTREAM": f"http://127.0.0.1:{port}"}
        )
        leave_waiting(proxy, messages_body())
        row = only_row(proxy)
        trace = _trace(proxy, tmp_path / "ocp.db")
    assert row["status"] == 499 and row["attempts"][0]["cost_estimated"] is False
    assert not trace["cost_usd"] and trace["failed_cost_usd"] == 0
    assert trace["cost_estimated"] == 0


@pytest.mark.parametrize("failure", ["connect timeout", "connection refused"])
def test_an_upstream_the_request_never_reached_bills_nothing(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    tmp_path: Path,
    failure: str,
) -> None:
    with unaccepting_port() as port:
        if failure == "connection refused":
            port = closed_port()
        env = proxy_env | {
            "OCP_PROXY_ANTHROPIC_UPSTREAM": f"http://127.0.0.1:{port}",
            "OCP_PROXY_UPSTREAM_TIMEOUT": "0.5",  # bounds the connect too
        }
        proxy = start_proxy(env)
        with httpx.Client(base_url=proxy.url, timeout=20) as http:
            response = http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
        trace = _trace(proxy, tmp_path / "ocp.db")
    assert response.status_code == 502
    assert not trace["cost_usd"] and trace["failed_cost_usd"] == 0
    assert trace["cost_estimated"] == 0
