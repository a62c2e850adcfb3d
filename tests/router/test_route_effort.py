"""A route's `effort` (OCPRouter.route / execute): how much the local model is asked to think,
sent to Ollama's /api/chat as `think` (ollama-api.md §3: a level, false for none), in place of
what a request body asks; absent, nothing is sent (the server's default). The route's notes say
what each model was sent of it. An OpenAI-compatible server is sent it as `reasoning_effort`
(Ollama's /v1 documents it: its levels, "none" for off; one that answers 400 naming it is asked
again without it); the paid call ignores it (the reference documents no mapping)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ocp_router import EFFORTS, Effort, OCPRouter, OllamaBackend, OpenAIBackend, Tier
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.reasoning import effort_think
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI

QWEN = "qwen3:4b"
ASK = "rename this variable"


# OpenAI's error shape for a value of `reasoning_effort` a server does not take (gpt-oss on
# vLLM takes low/medium/high, not "none")
NONE_REFUSED = {
    "error": {
        "message": "Invalid value: 'none'. Supported values are: 'low', 'medium', 'high'.",
        "type": "invalid_request_error",
        "param": "reasoning_effort",
        "code": "invalid_value",
    }
}


@pytest.fixture
def thinker() -> Iterator[FakeOllama]:
    with FakeOllama([QWEN], capabilities=["completion", "thinking"]) as fake:
        yield fake


def _openai(fake: FakeOpenAI) -> OpenAIBackend:
    return OpenAIBackend("local-model", base_url=fake.url + "/v1", api_key="k")


def _effort_notes(notes: tuple[str, ...]) -> list[str]:
    return [n for n in notes if n.startswith("effort")]


@pytest.mark.parametrize(
    ("effort", "think"), [("none", False), ("low", "low"), ("medium", "medium"), ("high", "high")]
)
async def test_a_routes_effort_reaches_ollama_as_think_and_the_notes_say_so(
    thinker: FakeOllama, effort: Effort, think: object
) -> None:
    async with OCPRouter(local=OllamaBackend(QWEN, base_url=thinker.url), paid=None) as router:
        result = await router.route(ASK, effort=effort)
    assert result.tier is Tier.LOCAL
    assert thinker.requests_to("/api/chat")[-1].body["think"] == think
    assert _effort_notes(result.notes) == [
        f"effort {effort}: sent to the local model (ollama) as think="
        + ("false" if think is False else f'"{think}"')
    ]


async def test_a_route_without_effort_sends_no_think_and_notes_nothing(
    thinker: FakeOllama,
) -> None:
    async with OCPRouter(local=OllamaBackend(QWEN, base_url=thinker.url), paid=None) as router:
        result = await router.route(ASK)
    assert "think" not in thinker.requests_to("/api/chat")[-1].body
    assert _effort_notes(result.notes) == []


async def test_a_routes_effort_overrides_the_thinking_the_body_asks(thinker: FakeOllama) -> None:
    body = {"messages": [{"role": "user", "content": ASK}], "reasoning_effort": "high"}
    async with OCPRouter(local=OllamaBackend(QWEN, base_url=thinker.url), paid=None) as router:
        await router.route(body, effort="none")
    assert thinker.requests_to("/api/chat")[-1].body["think"] is False


async def test_an_effort_a_model_cannot_think_for_is_noted_as_not_sent() -> None:
    # the 400 naming think is answered by asking again without it (efed223f): the note says
    # what went in the end, not what was asked
    with FakeOllama([QWEN], capabilities=["completion"]) as plain:
        async with OCPRouter(local=OllamaBackend(QWEN, base_url=plain.url), paid=None) as router:
            result = await router.route(ASK, effort="high")
        assert [r.body.get("think") for r in plain.requests_to("/api/chat")] == ["high", None]
    assert result.tier is Tier.LOCAL
    assert _effort_notes(result.notes) == [
        "effort high: not sent to the local model (ollama turned it down: asked without it)"
    ]


@pytest.mark.parametrize(("effort", "sent"), [("none", "none"), ("medium", "medium")])
async def test_a_routes_effort_reaches_an_openai_compatible_server_as_reasoning_effort(
    fake_openai: FakeOpenAI, effort: Effort, sent: str
) -> None:
    # OpenAI's field, with Ollama's /v1's values (ollama-api.md §7): "none" turns it off
    async with OCPRouter(local=_openai(fake_openai), paid=None) as router:
        result = await router.route(ASK, effort=effort)
    (chat,) = fake_openai.requests_to("/v1/chat/completions")
    assert chat.body["reasoning_effort"] == sent
    assert _effort_notes(result.notes) == [
        f'effort {effort}: sent to the local model (openai) as reasoning_effort="{sent}"'
    ]


async def test_an_openai_compatible_server_asks_nothing_without_effort(
    fake_openai: FakeOpenAI,
) -> None:
    async with OCPRouter(local=_openai(fake_openai), paid=None) as router:
        await router.route(ASK)
    (chat,) = fake_openai.requests_to("/v1/chat/completions")
    assert "reasoning_effort" not in chat.body


async def test_a_server_that_turns_reasoning_effort_down_is_asked_again_without_it(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.fail_next(400, NONE_REFUSED, path="/v1/chat/completions")
    async with OCPRouter(local=_openai(fake_openai), paid=None) as router:
        first = await router.route(ASK, effort="none")
        await router.route(ASK, effort="none")
    sent = [r.body.get("reasoning_effort") for r in fake_openai.requests_to("/v1/chat/completions")]
    assert sent == ["none", None, None]  # and that value not sent again to this server
    assert first.tier is Tier.LOCAL
    assert _effort_notes(first.notes) == [
        "effort none: not sent to the local model (openai turned it down: asked without it)"
    ]


async def test_a_paid_call_ignores_the_effort_and_the_notes_say_so(
    fake_anthropic: FakeAnthropic,
) -> None:
    paid = AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0)
    async with OCPRouter(local=None, paid=paid) as router:
        result = await router.route(ASK, force="mid", effort="high")
    assert result.tier is Tier.MID
    (sent,) = [r.body for r in fake_anthropic.requests if r.path == "/v1/messages"]
    assert "thinking" not in sent and "output_config" not in sent
    assert _effort_notes(result.notes) == [
        "effort high: not sent to the paid model (anthropic): its call ignores it"
    ]


def test_every_effort_is_a_think_ollama_takes() -> None:
    assert [effort_think(e) for e in EFFORTS] == [False, "low", "medium", "high"]


async def test_a_server_that_turns_down_one_effort_is_still_sent_the_others(
    fake_openai: FakeOpenAI,
) -> None:
    # gpt-oss served by vLLM takes low/medium/high, not "none" (what phase 2's verdict asks):
    # the value it refused is not sent again, the levels it takes still are
    fake_openai.fail_next(400, NONE_REFUSED, path="/v1/chat/completions")
    async with OCPRouter(local=_openai(fake_openai), paid=None) as router:
        await router.route(ASK, effort="none")
        await router.route(ASK, effort="none")
        high = await router.route(ASK, effort="high")
    sent = [r.body.get("reasoning_effort") for r in fake_openai.requests_to("/v1/chat/completions")]
    assert sent == ["none", None, None, "high"]
    assert _effort_notes(high.notes) == [
        'effort high: sent to the local model (openai) as reasoning_effort="high"'
    ]
