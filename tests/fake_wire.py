"""What the fakes' tests share: the clients' timeout, and the Anthropic SDK pointed at the fake
with the model and the question it is asked."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
from anthropic.types import MessageParam

from tests.fakes import FakeAnthropic

TIMEOUT = httpx.Timeout(10.0)
SONNET = "claude-sonnet-5-5"


def claude(fake: FakeAnthropic, **kw: Any) -> anthropic.AsyncAnthropic:
    kw.setdefault("api_key", "sk-ant-test")
    kw.setdefault("timeout", 10.0)
    return anthropic.AsyncAnthropic(base_url=fake.url, max_retries=0, **kw)


USER_HI: list[MessageParam] = [{"role": "user", "content": "What is the capital of Norway?"}]
