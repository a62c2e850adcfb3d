"""What the proxy's stored traces show: a failed row names the model of the tier decided;
session briefs leave the proxy's rows out."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ocp_server.db import connect
from ocp_server.memory import Brief, MemoryStore
from tests.fakes._http import closed_port
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD, SIMPLE
from tests.proxy.recorded import all_written
from tests.server.traces import TraceChanges, trace


@pytest.mark.parametrize("paid", ["blocked", "failing"])
def test_a_failed_local_row_names_the_local_model_tried(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    paid: str,
) -> None:
    env = proxy_env | {"OCP_OLLAMA_URL": f"http://127.0.0.1:{closed_port()}"}
    proxy = start_proxy(env)
    headers = {}
    if paid == "failing":  # the paid tier is tried too, with the model the client asked for
        headers = {"authorization": "Bearer sk-openai"}
        fake_openai.fail_next(500)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        assert http.post("/v1/chat/completions", json=body, headers=headers).status_code >= 400
    proxy.call(all_written)
    assert proxy.db is not None
    with sqlite3.connect(proxy.db) as db:
        rows = db.execute("SELECT decision, route_to, model, backend FROM traces").fetchall()
    assert rows == [("local", "none", "llama3.2", "ollama")]


@pytest.mark.parametrize("content", ["0", "1"])
def test_proxied_requests_stay_out_of_the_session_brief(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], content: str
) -> None:
    # Requests from any client on the machine: paid and failed ones are notable routes, which
    # crowded out the agent's own (and read "request text not stored").
    proxy = start_proxy(proxy_env | {"OCP_TRACE_CONTENT": content})
    headers = {"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-test"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for n in range(20):
            body = {
                "model": "claude-opus-5-5",
                "max_tokens": 100,
                "messages": [{"role": "user", "content": f"{HARD} ({n})"}],
            }
            assert http.post("/v1/messages", json=body, headers=headers).status_code == 200
    proxy.call(all_written)
    proxy.stop()
    assert proxy.db is not None
    brief = asyncio.run(_restore_after_an_own_route(proxy.db))
    assert [t.id for t in brief.traces] == ["own-route"]
    assert "request text not stored" not in brief.text


async def _restore_after_an_own_route(db_path: Path) -> Brief:
    db = await connect(db_path)
    try:
        store = MemoryStore(db)
        sid = await store.start_session("/ws")
        paid: TraceChanges = {"route_to": "paid", "decision": "paid", "answered_by": "paid"}
        await store.record_trace(sid, trace("own-route", **paid))
        return await store.restore(max_tokens=100_000)
    finally:
        await db.close()
