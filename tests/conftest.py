"""Shared fixtures: protocol-faithful fake model servers and a clean environment per test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

pytest_plugins = ["tests.fakes.fixtures", "tests.workspace_fixture"]

_PREFIXES = ("OCP_", "ANTHROPIC_", "OPENAI_", "CLAUDE_PROJECT_DIR", "OLLAMA_")


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's keys or OCP settings."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES):
            monkeypatch.delenv(name)
    yield
