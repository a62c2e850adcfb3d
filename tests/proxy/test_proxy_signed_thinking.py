"""A thinking block one paid model signed goes to no other model.

Claude Code took the signed thinking blocks out of every earlier answer whose `model` was not
the one it asks for now; since answers name the model asked for (served_model.py), it keeps
them all, and the proxy takes out those another model than the one it sends to signed (it
remembers which model signed each block it relayed). A block it did not relay (another
process's, or one from before a restart) is sent as the client sent it, as before."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, SIMPLE, TOOLS
from tests.proxy.outcomes import phase1_only

OTHERS = {"type": "thinking", "thinking": "earlier", "signature": "sig-relayed-by-no-one"}


def _answer(
    proxy: RunningProxy, messages: list[dict[str, Any]], stream: bool, **extra: Any
) -> dict[str, Any]:
    """The proxy's answer; a streamed one as the Anthropic SDK puts it together."""
    body: dict[str, Any] = {"model": "claude-opus-5-5", "max_tokens": 200, "messages": messages}
    body |= extra
    if stream:
        client = anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
        with client, client.messages.stream(**body) as events:
            return events.get_final_message().model_dump(exclude_none=True)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        answered = http.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
    assert answered.status_code == 200, answered.text
    message: dict[str, Any] = answered.json()
    return message


@pytest.mark.parametrize("stream", [False, True])
def test_a_thinking_block_goes_back_to_the_model_that_signed_it_and_to_no_other(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    stream: bool,
) -> None:
    # no pins: a conversation's paid model follows its tier at once (it does after 5 minutes)
    pins = {"OCP_PIN_HARD_SECONDS": "0", "OCP_PIN_SOFT_SECONDS": "0"}
    proxy = start_proxy(phase1_only(proxy_env) | pins)
    first = [{"role": "user", "content": SIMPLE}]
    fake_anthropic.script = [{"thinking": "two and two", "text": "4"}]
    answer = _answer(proxy, first, stream, tools=TOOLS)  # mid: claude-sonnet-5-5
    assert answer["model"] == "claude-opus-5-5"
    signed = answer["content"][0]
    assert signed["type"] == "thinking" and signed["signature"].startswith("fake-signature-")
    turn = {"role": "assistant", "content": [OTHERS, signed, {"type": "text", "text": "4"}]}
    fake_anthropic.clear_requests()
    _answer(proxy, [*first, turn, {"role": "user", "content": HARD}], False)  # top
    _answer(proxy, [*first, turn, {"role": "user", "content": SIMPLE}], False, tools=TOOLS)
    to_top, to_mid = fake_anthropic.message_requests()
    assert (to_top["model"], to_mid["model"]) == ("claude-opus-5-5", "claude-sonnet-5-5")
    assert to_top["messages"][1]["content"] == [OTHERS, {"type": "text", "text": "4"}]
    assert to_mid["messages"][1]["content"] == turn["content"]


def test_a_token_count_for_the_model_asked_for_carries_no_block_another_model_signed(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    """The count is the provider's for the model asked for, which the block another model
    signed would not go to (and a paid call to which carries it no more): it went (counted,
    and sent to a model that did not sign it)."""
    pins = {"OCP_PIN_HARD_SECONDS": "0", "OCP_PIN_SOFT_SECONDS": "0"}
    proxy = start_proxy(phase1_only(proxy_env) | pins)
    first = [{"role": "user", "content": SIMPLE}]
    fake_anthropic.script = [{"thinking": "two and two", "text": "4"}]
    signed = _answer(proxy, first, False, tools=TOOLS)["content"][0]  # mid: claude-sonnet-5-5
    turn = {"role": "assistant", "content": [OTHERS, signed, {"type": "text", "text": "4"}]}
    body = {
        "model": "claude-opus-5-5",
        "messages": [*first, turn, {"role": "user", "content": HARD}],
    }
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        counted = http.post("/v1/messages/count_tokens", json=body, headers=ANTHROPIC_HEADERS)
    assert counted.status_code == 200, counted.text
    (sent,) = [r.body for r in fake_anthropic.requests_to("/v1/messages/count_tokens", "POST")]
    assert sent["messages"][1]["content"] == [OTHERS, {"type": "text", "text": "4"}]
