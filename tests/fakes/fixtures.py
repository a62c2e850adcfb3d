"""Pytest fixtures for the fake servers (register with `pytest_plugins`).

Each fake is started before and stopped after every test, so knobs and recorded requests never
leak between tests. Tweak a fake inside the test (``fake_ollama.reply = ...``,
``fake_anthropic.script = [...]``, ``fake_openai.api_key = ...``) before the code under test
calls it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ._http import closed_port
from .anthropic import FakeAnthropic
from .ollama import FakeOllama
from .openai import FakeOpenAI


@pytest.fixture
def fake_ollama() -> Iterator[FakeOllama]:
    with FakeOllama() as fake:
        yield fake


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
def refused_url() -> str:
    """A base URL where nothing listens: connecting is refused."""
    return f"http://127.0.0.1:{closed_port()}"


@pytest.fixture
def ollama_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An `ollama` program first on PATH: an Ollama that does not answer is then one to start
    (`ollama serve`), not one to install, whatever the machine running the tests has."""
    bin_dir = tmp_path / "ollama-bin"
    bin_dir.mkdir()
    (bin_dir / "ollama").write_text("#!/bin/sh\n")
    (bin_dir / "ollama").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
