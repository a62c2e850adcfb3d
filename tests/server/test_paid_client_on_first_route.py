"""With a paid key set, the anthropic SDK is imported and its client made when a route first
needs it, not at server start: its import and the client's TLS context were ~150 ms of CPU a
fresh server's first search waited for (bench/bench_first_search.py with a key set). Run in a
fresh interpreter, since this one has imported the SDK by now."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from ocp_router import ConfigError, GenerateRequest, make_router
from ocp_router.backends.anthropic import AnthropicBackend
from tests.fakes import FakeAnthropic

ROOT = Path(__file__).resolve().parents[2]

SEARCH = """
import asyncio, json, sys
from pathlib import Path
from typing import Any
import pytest
from tests.server.inproc import inproc_client

async def main(ws):
    with pytest.MonkeyPatch.context() as monkeypatch:
        env = {"ANTHROPIC_API_KEY": "sk-ant-test", "OCP_CLASSIFIER_MODEL": "none"}
        async with inproc_client(Path(ws), monkeypatch, env) as client:
            found = await client.call_tool("ocp_context_search", {"query": "verify token"})
            assert not found.is_error and found.structured_content["results"]
            sdk = {"anthropic", "ocp_router.backends.anthropic_sdk"}
            print(json.dumps(sorted(sdk & set(sys.modules))))

asyncio.run(main(sys.argv[1]))
"""


def test_a_server_with_a_paid_key_searches_without_the_anthropic_sdk(workspace: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-c", SEARCH, str(workspace)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


async def test_the_paid_client_is_made_on_first_use_and_not_after_close(
    fake_anthropic: FakeAnthropic,
) -> None:
    backend = AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url)
    assert not backend.client_made
    answer = await backend.generate(GenerateRequest(prompt="hi"))
    assert answer.text and backend.client_made
    await backend.aclose()
    unused = AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url)
    await unused.aclose()  # nothing to close, and nothing made to close it
    assert not unused.client_made
    with pytest.raises(RuntimeError, match="client has been closed"):
        await unused.generate(GenerateRequest(prompt="hi"))


async def test_without_the_sdk_installed_the_setting_is_still_refused_at_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "anthropic", None)  # what an absent package looks like
    with pytest.raises(ConfigError, match=r"pip install 'ocp-router\[anthropic\]'"):
        await make_router({"ANTHROPIC_API_KEY": "sk-ant-x"})


async def test_the_first_request_makes_the_client_off_the_event_loop(
    fake_anthropic: FakeAnthropic, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The SDK's import (~1.2 s of CPU) would hold up every other call on the loop."""
    from ocp_router.backends import anthropic_sdk

    threads: list[threading.Thread] = []
    real = anthropic_sdk.make_client

    def recorded(**kwargs: Any) -> Any:
        threads.append(threading.current_thread())
        return real(**kwargs)

    monkeypatch.setattr(anthropic_sdk, "make_client", recorded)
    async with AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url) as backend:
        await backend.generate(GenerateRequest(prompt="hi"))
        await backend.generate(GenerateRequest(prompt="again"))
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
