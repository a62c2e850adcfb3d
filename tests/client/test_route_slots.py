"""OCPClient against a real ocp-server with one route slot (OCP_ROUTE_CONCURRENCY=1): a
route's time counts from when it takes its slot, not from when it joined the line (routes
queued behind slow ones failed as timeouts, and were cancelled, while only waiting). A route
given up on while in line says so. `wait_for` only guards against a hang."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from mcp.types import CallToolResult

from ocp_client import OCPClient, OCPTimeoutError
from ocp_client import client as client_module
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env, wait_for_index

ROUTE = {"request": "say hi", "force": "local"}


def _answered_locally(result: CallToolResult) -> bool:
    return not result.is_error and result.structured_content["answered_by"] == "local"


async def test_routes_queued_behind_slow_ones_are_timed_from_their_slot(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven routes at once, one slot, each 0.7 s at the model: the last waits about 4 s in
    line, longer than a route may take (OCP_ROUTE_TIMEOUT 3 s plus the slack), and is not
    cut short for it; each one's own run is far inside the bound."""
    monkeypatch.setattr(client_module, "ROUTE_SLACK", 0.5)

    answering = [0, 0]  # chats being answered now, at most so far (the fake's own count
    # takes its other requests too: a model check beside a chat is no second route)
    lock = threading.Lock()

    def slow(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        with lock:
            answering[0] += 1
            answering[1] = max(answering)
        time.sleep(0.7)
        with lock:
            answering[0] -= 1
        return "local answer"

    with FakeOllama(reply=slow) as ollama:
        env = server_env(workspace, ollama, OCP_ROUTE_CONCURRENCY="1", OCP_ROUTE_TIMEOUT="3")
        async with OCPClient(env=env, cwd=workspace.parent) as client:
            await wait_for_index(client, "verify token")
            client.timeout = 1  # after the start: a route is bounded by its server's 3.5 s
            routes = [client.call("ocp_model_route", ROUTE) for _ in range(7)]
            results = await asyncio.wait_for(asyncio.gather(*routes), 60)
        assert all(_answered_locally(r) for r in results), results
        assert answering[1] == 1


async def test_a_route_given_up_on_in_line_says_it_waited_for_a_slot_and_leaves_the_line(
    workspace: Path,
) -> None:
    """With a `timeout` given, a route waits that long for its slot: given up on, it says it
    waited, behind how many and why (OCP_ROUTE_CONCURRENCY), and is cancelled before it
    reaches the model."""
    release = threading.Event()

    def held(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        release.wait(60)
        return "local answer"

    with FakeOllama(reply=held) as ollama:
        env = server_env(workspace, ollama, OCP_ROUTE_CONCURRENCY="1")
        async with OCPClient(env=env, cwd=workspace.parent, timeout=60) as client:
            await wait_for_index(client, "verify token")
            # Holds the one slot, sent without the client's bound on a route.
            first = asyncio.create_task(client.session.call_tool("ocp_model_route", ROUTE))
            async with asyncio.timeout(30):
                while not ollama.requests_to("/api/chat"):
                    await asyncio.sleep(0.05)
            client.timeout = 1
            with pytest.raises(OCPTimeoutError) as caught:
                await asyncio.wait_for(client.call("ocp_model_route", ROUTE), 30)
            message = str(caught.value)
            assert "gave a route no route slot within 1 s" in message, message
            assert "0 ahead of this one, 1 running (OCP_ROUTE_CONCURRENCY=1)" in message, message
            release.set()
            assert _answered_locally(await asyncio.wait_for(first, 30))
            client.timeout = 60
            assert _answered_locally(await client.call("ocp_model_route", ROUTE))
        assert len(ollama.requests_to("/api/chat")) == 2  # the one given up on never ran
