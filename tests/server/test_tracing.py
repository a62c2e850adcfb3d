"""The SDK's OpenTelemetry middleware runs only while a tracer provider takes its spans."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from mcp.server.lowlevel.server import Server
from opentelemetry import trace

from ocp_server.server import _SpansWhenTraced, build_server
from ocp_server.settings import ServerSettings


class _Recorder:
    """A middleware that notes it ran."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, ctx: Any, call_next: Any) -> Any:
        self.calls += 1
        return await call_next(ctx)


async def _next(ctx: Any) -> dict[str, Any]:
    return {"handled": ctx}


CTX: Any = "ctx"  # the context is handed on as it is


def test_the_sdks_span_middleware_is_wrapped(tmp_path: Path) -> None:
    assert "OpenTelemetryMiddleware" in [type(m).__name__ for m in Server("plain").middleware]
    server = build_server(ServerSettings(db_path=tmp_path / "ocp.db"))
    wrapped = [m for m in server.middleware if isinstance(m, _SpansWhenTraced)]
    assert [type(m.spans).__name__ for m in wrapped] == ["OpenTelemetryMiddleware"]
    assert not [m for m in server.middleware if type(m).__name__ == "OpenTelemetryMiddleware"]


async def test_without_a_tracer_provider_requests_skip_the_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.ProxyTracerProvider())
    spans = _Recorder()
    assert await _SpansWhenTraced(spans)(CTX, _next) == {"handled": "ctx"}
    assert spans.calls == 0


async def test_a_tracer_provider_installed_after_the_start_gets_the_spans(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spans = _Recorder()
    middleware = _SpansWhenTraced(spans)
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.NoOpTracerProvider())
    assert await middleware(CTX, _next) == {"handled": "ctx"}
    assert spans.calls == 1
