"""The official SDKs' clients pointed at a running proxy, each closed after its test (the autouse
fixture close_clients), and the tool and schema the SDK tests offer."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest

from tests.proxy.conftest import RunningProxy

OPENAI_TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "read_file",
            "description": "Read a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}},
        },
    }
]


_clients: list[anthropic.Anthropic | openai.OpenAI] = []


@pytest.fixture(autouse=True)
def close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def anthropic_client(proxy: RunningProxy, key: str = "sk-ant-test") -> anthropic.Anthropic:
    client = anthropic.Anthropic(base_url=proxy.url, api_key=key, max_retries=0, timeout=20)
    _clients.append(client)
    return client


def openai_client(proxy: RunningProxy, key: str = "sk-openai") -> openai.OpenAI:
    client = openai.OpenAI(base_url=proxy.url + "/v1", api_key=key, max_retries=0, timeout=20)
    _clients.append(client)
    return client
