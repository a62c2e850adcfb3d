"""An answer names the model its client asked for; the model that served it is in the
`x-ocp-served-model` header and the trace.

Claude Code 2.1.197 reads a response's `model` back (read in its bundled code): `--continue` and
`--resume` make the last answer's model the session's model (a local model's name is refused
with "Session model X could not be restored", a cheaper tier's model becomes the model asked for
from then on, and the proxy never sends a request above the model asked for), and it takes the
signed thinking blocks out of every earlier answer whose model is not the one it asks for now.
So the proxy answers as the model asked for, as LiteLLM's proxy does (docs/routing-rounds.md,
round 59), in both dialects, whole and streamed, local and paid. An answer the paid provider
served with the model asked for is relayed as it came (a dated snapshot's name included)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ocp_server.proxy.served_model import renamed, renamed_lines
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD, SIMPLE, TOOLS, request_in, sse_events, whole_and_streamed
from tests.proxy.recorded import all_written, recorded_rows

SERVED = "x-ocp-served-model"
# The paid backend speaking OpenAI: its mid and top models.
OPENAI_PAID = {
    "OCP_PAID_BACKEND": "openai",
    "OCP_PAID_MODEL": "gpt-4o-mini",
    "OCP_PAID_TOP_MODEL": "gpt-4o",
}
OPENAI_TOOLS = [
    {
        "type": "function",
        "function": {
            "name": t["name"],
            "description": t.get("description", ""),
            "parameters": t["input_schema"],
        },
    }
    for t in TOOLS
]


def _models_named(answer: httpx.Response) -> set[str]:
    """Every `model` the answer's body names: the message's, or each streamed event's."""
    assert answer.status_code == 200, answer.text
    if not answer.headers["content-type"].startswith("text/event-stream"):
        return {answer.json()["model"]}
    named = set()
    for _, data in sse_events(answer.text):
        if not data or data == "[DONE]":
            continue
        event = json.loads(data)
        if "model" in event:
            named.add(event["model"])
        if isinstance(event.get("message"), dict):  # Anthropic's message_start
            named.add(event["message"]["model"])
    return named


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_local_answer_names_the_model_asked_for_and_its_header_the_local_model(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], dialect: str
) -> None:
    proxy = start_proxy(proxy_env)
    path, body, headers = request_in(dialect, SIMPLE)
    for answer in whole_and_streamed(proxy, path, headers, body):
        assert _models_named(answer) == {body["model"]}
        assert answer.headers[SERVED] == "llama3.2"
    proxy.call(all_written)
    rows = proxy.call(recorded_rows)
    assert [(r["answered_tier"], r["model"]) for r in rows] == [("local", "llama3.2")] * 2


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_paid_answer_of_a_cheaper_tier_names_the_model_asked_for(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    dialect: str,
) -> None:
    """The top model asked for a request with tools (mid: the local model has none)."""
    tools: Any
    if dialect == "anthropic":
        proxy, mid, tools = start_proxy(proxy_env), "claude-sonnet-5-5", TOOLS
    else:
        proxy, mid, tools = start_proxy(proxy_env | OPENAI_PAID), "gpt-4o-mini", OPENAI_TOOLS
    path, body, headers = request_in(dialect, SIMPLE, tools=tools)
    body["model"] = asked = "claude-opus-5-5" if dialect == "anthropic" else "gpt-4o"
    for answer in whole_and_streamed(proxy, path, headers, body):
        assert _models_named(answer) == {asked}
        assert answer.headers[SERVED] == mid
    upstream = fake_anthropic if dialect == "anthropic" else fake_openai
    assert {r.body["model"] for r in upstream.requests if r.body} == {mid}
    proxy.call(all_written)
    rows = proxy.call(recorded_rows)
    assert [(r["answered_tier"], r["model"]) for r in rows] == [("mid", mid)] * 2


def test_a_paid_answer_of_the_model_asked_for_is_relayed_with_the_name_its_provider_gave(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    """OpenAI answers `gpt-4o` as the snapshot that served it: nothing was substituted, so
    nothing is renamed."""
    fake_openai.answer_model = "gpt-4o-2024-08-06"
    proxy = start_proxy(proxy_env | OPENAI_PAID)
    path, body, headers = request_in("openai", HARD)
    for answer in whole_and_streamed(proxy, path, headers, body):
        assert _models_named(answer) == {"gpt-4o-2024-08-06"}
        assert answer.headers[SERVED] == "gpt-4o"


@pytest.mark.parametrize(
    ("relayed", "expected"),
    [
        (
            b'{"id":"m","model": "claude-sonnet-5-5","content":[]}',
            b'{"id":"m","model":"A","content":[]}',
        ),
        # a "model" inside the answer (a tool call's input) is never reached
        (b'{"content":[{"input":{"model":"x"}}],"model":"s"}', None),
        (
            b'{"id":"c","model":"a \\"quoted\\" name","choices":[]}',
            b'{"id":"c","model":"A","choices":[]}',
        ),
        (b'{"id":"m","model":null,"content":[]}', None),  # not a string: as it came
        (
            b'data: {"id":"c","model":"s","choices":[]}\n',
            b'data: {"id":"c","model":"A","choices":[]}\n',
        ),
    ],
)
def test_a_relayed_answers_model_is_renamed_in_its_bytes_only_where_it_names_the_model(
    relayed: bytes, expected: bytes | None
) -> None:
    assert renamed(relayed, "A") == (relayed if expected is None else expected)


def test_a_streamed_tool_calls_input_naming_a_model_is_relayed_as_it_came() -> None:
    """A `content_block_start` may carry a tool call's whole input (an upstream that sends no
    `input_json_delta` after it): its `"model"` is the tool's argument, not the answer's model
    (it was renamed, no `"content"` key coming before it in that event)."""
    start = (
        b'event: content_block_start\ndata: {"type":"content_block_start","index":1,'
        b'"content_block":{"type":"tool_use","id":"toolu_1","name":"pick",'
        b'"input":{"model":"gpt-4o"}}}\n\n'
    )
    assert renamed_lines(start, "A") == start
