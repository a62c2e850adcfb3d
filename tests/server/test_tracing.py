"""The SDK's OpenTelemetry middleware stays only where a tracer provider takes its spans."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.server.lowlevel.server import Server
from opentelemetry import trace

from ocp_server.server import build_server
from ocp_server.settings import ServerSettings

OTEL = "OpenTelemetryMiddleware"


def _names(server: Server) -> list[str]:
    return [type(m).__name__ for m in server.middleware]


def test_without_a_tracer_provider_requests_are_not_wrapped_in_spans(tmp_path: Path) -> None:
    assert OTEL in _names(Server("plain"))  # what the SDK does by default
    assert OTEL not in _names(build_server(ServerSettings(db_path=tmp_path / "ocp.db")))


def test_a_tracer_provider_installed_keeps_the_spans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: trace.NoOpTracerProvider())
    assert OTEL in _names(build_server(ServerSettings(db_path=tmp_path / "ocp.db")))
