"""The real MCP server in this process, behind the SDK's in-memory client: fast enough to run
many tool calls per test, with the same handlers, validation and errors as over stdio."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult, TextContent

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_server.server import build_server
from ocp_server.settings import ServerSettings
from tests.fakes import FakeAnthropic, FakeOllama

#: `paid_server(env)` (the fixture in conftest.py): a client of an in-process server on the test
#: workspace whose local and paid models are the fakes, `env` set besides.
PaidServer = Callable[..., AbstractAsyncContextManager[Client]]


def paid_env(ollama: FakeOllama, anthropic: FakeAnthropic) -> dict[str, str]:
    """Settings for a server whose local and paid models are the fakes, with no phase 2
    classifier (phase 1 alone decides)."""
    return {
        "OCP_OLLAMA_URL": ollama.url,
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": anthropic.url,
        "OCP_CLASSIFIER_MODEL": "none",
    }


def text_of(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if isinstance(c, TextContent))


def restore_sent(result: CallToolResult) -> tuple[wire.RestoreResult, int]:
    """A restore's structured result, and the tokens of its whole answer as sent: its text
    block (the brief) and its structured content."""
    out = wire.RestoreResult.model_validate(result.structured_content)
    return out, estimate_tokens(text_of(result)) + estimate_tokens(
        compact_json(result.structured_content)
    )


def compact_json(structured: Any) -> str:
    """A tool's structured content as the wire carries it (as pydantic's `model_dump_json`
    writes it): a model validated from it would add the fields it left out (a restore's
    `note`, said only when there is one)."""
    return json.dumps(structured, separators=(",", ":"), ensure_ascii=False)


@asynccontextmanager
async def inproc_client(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str] | None = None,
    **settings: Any,
) -> AsyncIterator[Client]:
    """A client connected to `build_server` on `workspace`; `env` sets OCP_* variables (the
    router reads them when the server starts). The first search waits for the first index
    up to a minute, not the default 5 s, which a loaded machine can take for the test
    workspace: a test of that wait sets `first_index_wait`."""
    base = {"OCP_OLLAMA_URL": "http://127.0.0.1:9", "OCP_DB_PATH": str(workspace.parent / "ocp.db")}
    for name, value in {**base, **(env or {})}.items():
        monkeypatch.setenv(name, value)
    server_settings = ServerSettings.from_env()
    server_settings = ServerSettings(
        **{
            **{f: getattr(server_settings, f) for f in ServerSettings.__dataclass_fields__},
            "workspace": workspace,
            **({} if "OCP_FIRST_INDEX_WAIT" in (env or {}) else {"first_index_wait": 60.0}),
            **settings,
        }
    )
    # "legacy": the initialize handshake, as the IDE clients of today connect.
    server = build_server(server_settings)
    async with Client(server, read_timeout_seconds=60, mode="legacy") as client:
        yield client
