"""The HTTP backends make their httpx client at their first request (backends/_http.py,
ClientOnFirstUse), not when built: closing one never used is quick and quiet, and one closed
refuses a request as a closed httpx client does, instead of making a new client to leak."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from ocp_router import GenerateRequest, OllamaBackend
from ocp_router.backends.openai import OpenAIBackend
from tests.fakes import FakeOllama


async def test_a_backend_closed_unused_refuses_a_request(refused_url: str) -> None:
    for backend in (
        OllamaBackend("llama3.2", base_url=refused_url),
        OpenAIBackend("qwen", base_url=refused_url + "/v1"),
    ):
        await backend.aclose()
        await backend.aclose()  # twice: as httpx's own
        with pytest.raises(RuntimeError, match="client has been closed"):
            await backend.generate(GenerateRequest("hi"))


async def test_a_backend_used_then_closed_refuses_a_request(fake_ollama: FakeOllama) -> None:
    backend = OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5)
    assert (await backend.generate(GenerateRequest("hi"))).text
    await backend.aclose()
    with pytest.raises(RuntimeError, match="client has been closed"):
        await backend.generate(GenerateRequest("hi"))


async def test_the_tls_context_is_built_off_the_event_loop_ahead_of_the_first_client(
    fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx's TLS context (its CAs read: ~20 ms of CPU) is built in a thread as soon as a
    backend is made, and every client made later uses it: not built on the event loop by the
    first route's client."""
    import ssl

    from ocp_router.backends import _http

    built_in: list[threading.Thread] = []
    real = ssl.create_default_context

    def recorded(*args: Any, **kwargs: Any) -> ssl.SSLContext:
        built_in.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(ssl, "create_default_context", recorded)
    monkeypatch.setattr(_http, "TLS_AHEAD", _http.TLSAhead())  # none built yet
    backends = (
        OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=5),
        OpenAIBackend("qwen", base_url=fake_ollama.url + "/v1", timeout=5),
    )
    assert (await backends[0].generate(GenerateRequest("hi"))).text
    await backends[1].is_available()
    for backend in backends:
        await backend.aclose()
    assert len(built_in) == 1 and built_in[0] is not threading.main_thread()
