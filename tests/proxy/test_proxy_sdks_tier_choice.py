"""Through the SDKs, which requests stay local and which go paid: local tools, the daily budget,
what a local answer lacks (structured output, server tools), tool choice, and the local server's
key."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, cast

import anthropic
import httpx
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD, SIMPLE, TOOLS
from tests.proxy.recorded import recorded_rows
from tests.proxy.sdk_clients import (
    OPENAI_TOOLS,
    anthropic_client,
    close_clients,  # noqa: F401 - autouse, closes the SDK clients a test opened
    openai_client,
)

SUM_SCHEMA = {
    "type": "object",
    "properties": {"sum": {"type": "integer"}},
    "required": ["sum"],
    "additionalProperties": False,
}


def test_with_local_tools_a_tool_call_is_answered_locally_in_the_clients_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.reply = {
        "content": "",
        "tool_calls": [{"name": "read_file", "arguments": {"path": "a.py"}}],
    }
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    message = anthropic_client(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        tools=TOOLS,
        messages=[{"role": "user", "content": SIMPLE}],
    )
    assert message.model == "claude-haiku-5-5"  # the model asked for (served_model.py)
    assert message.stop_reason == "tool_use"
    (call,) = [b for b in message.content if b.type == "tool_use"]
    assert (call.name, call.input) == ("read_file", {"path": "a.py"})
    sent = fake_ollama.requests_to("/api/chat")[0].body
    assert sent["tools"][0]["function"]["name"] == "read_file"
    assert fake_anthropic.requests == []


def test_over_the_daily_budget_a_paid_request_without_tools_is_answered_locally(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_DAILY_BUDGET_USD": "0"})
    message = anthropic_client(proxy).messages.create(
        model="claude-opus-5-5", max_tokens=100, messages=[{"role": "user", "content": HARD}]
    )
    assert message.model == "claude-opus-5-5"
    assert fake_anthropic.requests_to("/v1/messages") == []
    row = proxy.call(recorded_rows)[0]
    assert (row["tier"], row["answered_tier"]) == ("top", "local")
    assert row["notes"][0].startswith("paid: budget: $0.0000 spent today")


@pytest.mark.parametrize(
    "asks",
    [
        {"n": 2},
        {"logprobs": True, "top_logprobs": 2},
        {"response_format": {"type": "json_schema", "json_schema": {"name": "sum"}}},
        {"web_search_options": {}},
        {"tools": [{"type": "custom", "custom": {"name": "apply_patch"}}]},
        {"tools": OPENAI_TOOLS, "tool_choice": "required"},
        {
            "tools": OPENAI_TOOLS,
            "tool_choice": {"type": "function", "function": {"name": "read_file"}},
        },
    ],
    ids=[
        "n",
        "logprobs",
        "json_schema_without_a_schema",
        "web_search",
        "custom_tool",
        "tool_required",
        "tool_named",
    ],
)
def test_a_simple_openai_request_asking_what_a_local_answer_lacks_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
    asks: dict[str, Any],
) -> None:
    # A local answer has one choice, no log probabilities and no shape it was not given:
    # answered locally, `n=2` came back with one choice.
    # A tool call demanded (OCP_LOCAL_TOOLS=1: tools alone keep nothing paid): no local model
    # can be made to make one, and the local answer was text.
    fake_openai.api_key = "sk-openai"
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    openai_client(proxy).chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": SIMPLE}], **asks
    )
    sent = fake_openai.requests_to("/v1/chat/completions")
    assert len(sent) == 1 and all(sent[0].body[k] == v for k, v in asks.items())
    assert fake_ollama.requests_to("/api/chat") == []


@pytest.mark.parametrize(
    ("asks", "said"),
    [
        ({"tools": TOOLS, "tool_choice": {"type": "any"}}, "tool_choice 'any'"),
        (
            {"tools": TOOLS, "tool_choice": {"type": "tool", "name": "read_file"}},
            "tool_choice 'tool'",
        ),
        # a format that is not a JSON schema: nothing a local model can be held to
        ({"output_config": {"format": {"type": "grammar"}}}, "output_config.format"),
        ({"output_format": {"type": "json_schema"}}, "output_format"),
    ],
    ids=["tool_any", "tool_named", "output_config_not_a_schema", "output_format_no_schema"],
)
def test_a_simple_anthropic_request_asking_what_a_local_answer_lacks_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    asks: dict[str, Any],
    said: str,
) -> None:
    # Answered locally, a demanded tool call came back as text.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    anthropic_client(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        messages=[{"role": "user", "content": SIMPLE}],
        extra_body=asks,
    )
    sent = fake_anthropic.requests_to("/v1/messages")
    assert len(sent) == 1 and all(sent[0].body[k] == v for k, v in asks.items())
    assert fake_ollama.requests_to("/api/chat") == []
    (note,) = proxy.call(recorded_rows)[0]["notes"]
    assert note.startswith(f"local: {said}") and note.endswith("answered by the paid tier")


def test_a_request_that_forbids_tool_calls_reaches_the_local_model_without_tools(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], fake_ollama: FakeOllama
) -> None:
    # tool_choice none: the local model was offered the tools all the same, free to call one.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    anthropic_client(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        tools=TOOLS,
        tool_choice={"type": "none"},
        messages=[{"role": "user", "content": SIMPLE}],
    )
    openai_client(proxy).chat.completions.create(
        model="gpt-4o",
        tools=cast(Any, OPENAI_TOOLS),
        tool_choice="none",
        messages=[{"role": "user", "content": SIMPLE}],
    )
    sent = fake_ollama.requests_to("/api/chat")
    assert len(sent) == 2 and not any(r.body.get("tools") for r in sent)


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "web_search_20250305", "name": "web_search", "max_uses": 2},
        {"type": "code_execution_20250825", "name": "code_execution"},
    ],
    ids=["web_search", "code_execution"],
)
def test_a_request_offering_an_anthropic_server_tool_goes_paid(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    tool: dict[str, Any],
) -> None:
    # Anthropic runs these itself; with OCP_LOCAL_TOOLS=1 the local model got none of them
    # (they have no input_schema to translate) and answered without searching or running.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_TOOLS": "1"})
    anthropic_client(proxy).messages.create(
        model="claude-haiku-5-5",
        max_tokens=100,
        messages=[{"role": "user", "content": SIMPLE}],
        extra_body={"tools": [tool]},
    )
    assert fake_ollama.requests_to("/api/chat") == []
    (sent,) = fake_anthropic.requests_to("/v1/messages")
    assert sent.body["tools"] == [tool]
    (note,) = proxy.call(recorded_rows)[0]["notes"]
    assert note.startswith(f"local: the tool {tool['name']!r} is Anthropic's own ({tool['type']!r}")


@pytest.mark.parametrize(
    "asks",
    [
        {"output_config": {"format": {"type": "json_schema", "schema": SUM_SCHEMA}}},
        {"output_format": {"type": "json_schema", "schema": SUM_SCHEMA}},  # the beta's name
    ],
    ids=["output_config_format", "output_format"],
)
@pytest.mark.parametrize("local_backend", ["ollama", "openai"])
def test_a_simple_anthropic_request_for_structured_output_is_answered_locally_in_its_schema(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    asks: dict[str, Any],
    local_backend: str,
) -> None:
    # Claude Code asks for its session titles so: sent paid (a local model was thought unable
    # to follow a schema), though both local backends constrain their output to one.
    with FakeOpenAI() as local:
        env = proxy_env
        if local_backend == "openai":
            env = env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": local.base_url}
        proxy = start_proxy(env)
        message = anthropic_client(proxy).messages.create(
            model="claude-haiku-5-5",
            max_tokens=100,
            messages=[{"role": "user", "content": SIMPLE}],
            extra_body=asks,
        )
        assert message.model == "claude-haiku-5-5" and fake_anthropic.requests == []
        block = message.content[0]
        assert isinstance(block, anthropic.types.TextBlock)
        assert isinstance(json.loads(block.text)["sum"], int)
        if local_backend == "ollama":
            (sent,) = fake_ollama.requests_to("/api/chat")
            assert sent.body["format"] == SUM_SCHEMA
        else:
            (sent,) = local.requests_to("/v1/chat/completions")
            assert sent.body["response_format"]["json_schema"]["schema"] == SUM_SCHEMA
        assert proxy.call(recorded_rows)[0]["notes"] == []


@pytest.mark.parametrize(
    ("response_format", "ollama_format"),
    [
        ({"type": "json_object"}, "json"),
        ({"type": "json_schema", "json_schema": {"name": "sum", "schema": SUM_SCHEMA}}, SUM_SCHEMA),
    ],
    ids=["json_object", "json_schema"],
)
@pytest.mark.parametrize("stream", [False, True])
def test_a_simple_openai_request_for_json_is_answered_locally_as_json(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_ollama: FakeOllama,
    response_format: dict[str, Any],
    ollama_format: Any,
    stream: bool,
) -> None:
    # JSON mode and structured outputs went paid; Ollama's `format` holds a local answer to both.
    proxy = start_proxy(proxy_env)
    client = openai_client(proxy)
    messages: list[Any] = [{"role": "user", "content": SIMPLE}]
    if stream:
        chunks = client.chat.completions.create(
            model="gpt-4o", messages=messages, response_format=cast(Any, response_format),
            stream=True,
        )  # fmt: skip
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    else:
        completion = client.chat.completions.create(
            model="gpt-4o", messages=messages, response_format=cast(Any, response_format)
        )
        assert completion.model == "gpt-4o"
        text = completion.choices[0].message.content or ""
    assert isinstance(json.loads(text), dict)
    assert fake_openai.requests_to("/v1/chat/completions") == []
    (sent,) = fake_ollama.requests_to("/api/chat")
    assert sent.body["format"] == ollama_format


@pytest.mark.parametrize("stream", [False, True])
def test_a_local_openai_compatible_server_that_needs_a_key_answers_with_ocp_local_api_key(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    stream: bool,
) -> None:
    # It got no key: a 401, and every simple request escalated to the paid tier.
    with FakeOpenAI(api_key="local-key-8a7f3c") as local:
        env = proxy_env | {
            "OCP_LOCAL_BACKEND": "openai",
            "OCP_LOCAL_BASE_URL": local.base_url,
            "OCP_LOCAL_API_KEY": "local-key-8a7f3c",
        }
        client = anthropic_client(proxy := start_proxy(env))
        messages: list[anthropic.types.MessageParam] = [{"role": "user", "content": SIMPLE}]
        message: anthropic.types.Message
        if stream:
            with client.messages.stream(
                model="claude-haiku-5-5", max_tokens=50, messages=messages
            ) as answer:
                message = answer.get_final_message()
        else:
            message = client.messages.create(
                model="claude-haiku-5-5", max_tokens=50, messages=messages
            )
        assert proxy.call(recorded_rows)[0]["escalations"] == 0
        assert message.model == "claude-haiku-5-5" and fake_anthropic.requests == []
        assert local.requests[-1].headers["authorization"] == "Bearer local-key-8a7f3c"


@pytest.mark.parametrize("dialect", ["openai", "anthropic"])
def test_a_stream_flag_that_is_not_a_boolean_is_a_400_naming_it(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], dialect: str
) -> None:
    # "stream": "yes" was answered as a whole JSON body, to a client that asked for events.
    proxy = start_proxy(proxy_env)
    body: dict[str, Any] = {
        "model": "gpt-4o",
        "messages": [{"role": "user", "content": SIMPLE}],
        "stream": "yes",
    }
    path = "/v1/chat/completions" if dialect == "openai" else "/v1/messages"
    if dialect == "anthropic":
        body["max_tokens"] = 100
    answer = httpx.post(proxy.url + path, json=body, timeout=20)
    assert answer.status_code == 400, answer.text
    assert "stream: expected true or false" in answer.text, answer.text
