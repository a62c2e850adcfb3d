"""A backend advertises only what something reads: `supports_streaming` was set on every
backend (True on Ollama alone) and read nowhere, since the router takes each answer whole
(`generate` returns one GenerateResponse), so a library user could believe Ollama streams."""

from __future__ import annotations

import pytest

from ocp_router import AnthropicBackend, MockBackend, OllamaBackend, OpenAIBackend


@pytest.mark.parametrize("backend", [AnthropicBackend, MockBackend, OllamaBackend, OpenAIBackend])
def test_no_backend_claims_a_streaming_capability_nothing_uses(backend: type) -> None:
    assert not hasattr(backend, "supports_streaming")


@pytest.mark.parametrize("backend", [AnthropicBackend, OpenAIBackend])
def test_no_backend_names_a_key_variable_nothing_reads(backend: type) -> None:
    # `key_env_var` named OPENAI_API_KEY / ANTHROPIC_API_KEY and was read nowhere: the key
    # comes from the settings (RouterSettings) or the `api_key` argument, and the variable
    # an error names is the caller's `names.api_key`.
    assert not hasattr(backend, "key_env_var")
