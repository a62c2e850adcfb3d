"""A backend advertises only what something reads: `supports_streaming` was set on every
backend (True on Ollama alone) and read nowhere, since the router takes each answer whole
(`generate` returns one GenerateResponse), so a library user could believe Ollama streams."""

from __future__ import annotations

import pytest

from ocp_router import AnthropicBackend, MockBackend, OllamaBackend, OpenAIBackend


@pytest.mark.parametrize("backend", [AnthropicBackend, MockBackend, OllamaBackend, OpenAIBackend])
def test_no_backend_claims_a_streaming_capability_nothing_uses(backend: type) -> None:
    assert not hasattr(backend, "supports_streaming")
