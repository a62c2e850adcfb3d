"""ocp_router used as a library, without the server: its hints name what the user set (the
backend's arguments), and its log lines stay off a program's stderr until it sets logging up.
Built from the settings (as the server and the proxy build it), the hints name those."""

from __future__ import annotations

import subprocess
import sys

import anthropic
import httpx2
import pytest

from ocp_router import BackendAuthError, GenerateRequest, OllamaBackend, RouterSettings
from ocp_router.backends.anthropic import AnthropicBackend, translate
from ocp_router.config import build_local, build_paid

_REQUEST = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")


def _anthropic_errors(backend: AnthropicBackend) -> dict[str, str]:
    """What a timeout, a rejected key and an unknown model tell the user of `backend`."""
    errors = {
        "timeout": anthropic.APITimeoutError(request=_REQUEST),
        "key": anthropic.AuthenticationError(
            "no", response=httpx2.Response(401, request=_REQUEST), body=None
        ),
        "model": anthropic.NotFoundError(
            "no", response=httpx2.Response(404, request=_REQUEST), body=None
        ),
    }
    return {kind: str(translate(exc, "m", None, backend.names)) for kind, exc in errors.items()}


def test_an_anthropic_backend_built_directly_is_told_of_its_arguments() -> None:
    told = _anthropic_errors(AnthropicBackend(api_key="sk-ant-test"))
    assert "raise the `timeout` argument" in told["timeout"]
    assert "Set the `api_key` argument" in told["key"]
    assert "check the `model` argument" in told["model"]
    with pytest.raises(BackendAuthError) as no_key:
        AnthropicBackend(api_key=None)
    for message in [*told.values(), str(no_key.value)]:
        assert "OCP_" not in message and ".mcp.json" not in message, message


def test_an_anthropic_backend_built_from_the_settings_is_told_of_them() -> None:
    backend = build_paid(RouterSettings.from_env({"ANTHROPIC_API_KEY": "sk-ant-test"}))
    assert isinstance(backend, AnthropicBackend)
    told = _anthropic_errors(backend)
    assert "raise OCP_PAID_TIMEOUT" in told["timeout"]
    assert "Set ANTHROPIC_API_KEY in the env block of .mcp.json (or your shell)" in told["key"]
    assert "check OCP_PAID_MODEL" in told["model"]


async def _unreachable(backend: OllamaBackend) -> str:
    try:
        await backend.generate(GenerateRequest(prompt="hi"))
    except Exception as exc:  # noqa: BLE001 - its message is what is checked
        return str(exc)
    finally:
        await backend.aclose()
    raise AssertionError("a refused connection answered")


async def test_an_ollama_backend_is_told_of_its_argument_or_of_the_setting(
    refused_url: str,
) -> None:
    direct = await _unreachable(OllamaBackend(base_url=refused_url))
    assert "set the `base_url` argument to where it runs" in direct and "OCP_" not in direct
    settings = RouterSettings.from_env({"OCP_OLLAMA_URL": refused_url})
    local = build_local(settings)
    assert isinstance(local, OllamaBackend)
    assert "set OCP_OLLAMA_URL to where it runs" in await _unreachable(local)


_FALLBACK_ANSWERS = """
import asyncio
from ocp_router import MockBackend, OCPRouter

def down(request):
    raise ConnectionError("the local model is down")

async def main():
    router = OCPRouter(local=MockBackend(down), paid=MockBackend(lambda r: "paid", model="p"))
    result = await router.route("explain this function")
    print(result.text, result.attempts[0].outcome)

asyncio.run(main())
"""


def test_a_program_without_logging_set_up_sees_no_router_log_on_stderr() -> None:
    # The router logs a WARNING for each failed attempt; with no handler anywhere, Python's
    # last-resort handler printed it on stderr, though the fallback answered.
    done = subprocess.run(
        [sys.executable, "-c", _FALLBACK_ANSWERS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["paid", "error"]
    assert done.stderr == ""
