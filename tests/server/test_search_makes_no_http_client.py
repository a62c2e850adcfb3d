"""A search makes no HTTP client: the router's (its backends' httpx clients, each with a TLS
context that took ~40 ms of a fresh server's CPU) is made when a route first needs it, so a
server's first search, asked as soon as it started, does not wait for it. Settings are still
read and checked at start (test_stdio_robust: a bad value is every tool's answer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.server.inproc import inproc_client


async def test_a_search_makes_no_http_client_and_a_route_makes_the_routers(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[httpx.AsyncClient] = []
    real_init = httpx.AsyncClient.__init__

    def counted(self: httpx.AsyncClient, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "__init__", counted)
    async with inproc_client(workspace, monkeypatch, {"OCP_CLASSIFIER_MODEL": "none"}) as client:
        for query in ("verify token", "verify_token"):
            found = await client.call_tool("ocp_context_search", {"query": query})
            assert not found.is_error and found.structured_content is not None
            assert found.structured_content["results"], query
        assert made == []
        # the local model's port is closed: the route fails, but it made its client to try
        await client.call_tool("ocp_model_route", {"request": "say hello"})
        assert len(made) == 1
