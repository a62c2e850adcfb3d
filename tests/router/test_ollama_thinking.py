"""A thinking model behind Ollama's native /api/chat (`message.thinking`, streamed in lines of
its own before the answer's), and thinking inline as a `<think>…</think>` block at the start
of the answer (a model whose thinking the server does not parse): the answer and the thinking
come apart, the thinking counted, as the OpenAI backend does (test_openai_thinking.py)."""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterator

import pytest

from ocp_router import (
    BackendResponseError,
    GenerateRequest,
    OCPRouter,
    OllamaBackend,
    OpenAIBackend,
    Tier,
)
from ocp_router.backends.reasoning import ThinkTags, split_think_tag
from tests.fakes import FakeOllama, FakeOpenAI
from tests.router.thinking import routed_by

THOUGHT = "221 is 13 times 17, so it is not prime; check 13 first since 11 fails"
QWEN = "qwen3:4b"


@pytest.fixture
def thinker() -> Iterator[FakeOllama]:
    """A thinking model on a server that thinks unasked (OCP does not send `think`)."""
    with FakeOllama([QWEN], capabilities=["completion", "thinking"], thinks_unasked=True) as f:
        yield f


async def test_the_answer_and_the_thinking_come_apart_and_the_thinking_is_counted(
    thinker: FakeOllama,
) -> None:
    thinker.reply = {"content": "No: 221 = 13 x 17.", "thinking": THOUGHT}
    async with OllamaBackend(QWEN, base_url=thinker.url) as backend:
        response = await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    assert response.text == "No: 221 = 13 x 17."
    assert response.thinking == THOUGHT  # joined from its streamed pieces
    # Ollama counts the thinking in eval_count without saying how much: OCP's estimate
    assert 0 < response.reasoning_tokens < response.completion_tokens


async def test_think_is_not_sent_when_the_request_asks_nothing(thinker: FakeOllama) -> None:
    # whether a model thinks stays the server's default (from v0.12.4: it does, if it can)
    async with OllamaBackend(QWEN, base_url=thinker.url) as backend:
        await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    chat = thinker.requests_to("/api/chat")
    assert chat and "think" not in chat[-1].body


@pytest.mark.parametrize(
    ("asked", "think"),
    [
        ({"reasoning_effort": "xhigh"}, "high"),  # the nearest level Ollama has
        ({"reasoning_effort": "none"}, False),
        ({"reasoning": {"effort": "low"}}, "low"),  # Ollama's /v1 spelling
        ({"output_config": {"effort": "max"}}, "max"),  # Anthropic's effort
        ({"thinking": {"type": "enabled", "budget_tokens": 2048}}, True),
        ({"thinking": {"type": "disabled"}}, False),
        ({"think": "medium"}, "medium"),  # Ollama's own field
    ],
)
async def test_the_thinking_a_request_body_asks_is_sent_as_think(
    thinker: FakeOllama, asked: dict[str, object], think: object
) -> None:
    body = {"messages": [{"role": "user", "content": "rename this variable"}], **asked}
    router = OCPRouter(local=OllamaBackend(QWEN, base_url=thinker.url), paid=None)
    async with router:
        result = await router.route(body)
    assert result.decision.tier is Tier.LOCAL
    assert thinker.requests_to("/api/chat")[-1].body["think"] == think


async def test_a_model_that_cannot_think_is_asked_again_without_think() -> None:
    with FakeOllama([QWEN], capabilities=["completion"]) as fake:
        async with OllamaBackend(QWEN, base_url=fake.url) as backend:
            first = await backend.generate(GenerateRequest(prompt="hi", think="high"))
            await backend.generate(GenerateRequest(prompt="hi again", think=True))
        sent = [r.body.get("think") for r in fake.requests_to("/api/chat")]
    assert first.text  # answered: the 400 ("does not support thinking") cost one request
    assert sent == ["high", None, None]  # and it is not asked to think again


async def test_a_server_before_levels_is_asked_again_with_true() -> None:
    with FakeOllama([QWEN], capabilities=["completion", "thinking"], version="0.10.1") as fake:
        async with OllamaBackend(QWEN, base_url=fake.url) as backend:
            first = await backend.generate(GenerateRequest(prompt="hi", think="low"))
            await backend.generate(GenerateRequest(prompt="hi again", think="high"))
        sent = [r.body.get("think") for r in fake.requests_to("/api/chat")]
    assert first.thinking  # it thought, asked with `true`
    assert sent == ["low", True, True]


async def test_thinking_that_is_not_text_is_a_response_error_naming_the_field(
    thinker: FakeOllama,
) -> None:
    line = {
        "model": QWEN,
        "created_at": "2026-12-07T07:00:00Z",
        "message": {"role": "assistant", "content": "No.", "thinking": ["13", "17"]},
        "done": True,
        "done_reason": "stop",
        "eval_count": 3,
    }
    thinker.fail_next(200, body=json.dumps(line) + "\n", path="/api/chat")
    async with OllamaBackend(QWEN, base_url=thinker.url) as backend:
        with pytest.raises(BackendResponseError, match=r"`message\.thinking`"):
            await backend.generate(GenerateRequest(prompt="is 221 prime?"))


async def test_a_route_answered_by_ollama_carries_the_thinking_apart(
    thinker: FakeOllama,
) -> None:
    thinker.reply = {"content": "Use a set.", "thinking": THOUGHT}
    local = OllamaBackend(QWEN, base_url=thinker.url)
    result = await routed_by(local)
    assert result.text == "Use a set." and result.thinking == THOUGHT
    assert 0 < result.reasoning_tokens <= result.completion_tokens


async def test_an_ollama_answer_that_is_only_thinking_is_empty_and_says_so(
    thinker: FakeOllama,
) -> None:
    # num_predict ran out while the model was still thinking: no answer text at all
    thinker.reply = {"content": "", "thinking": THOUGHT, "done_reason": "length"}
    local = OllamaBackend(QWEN, base_url=thinker.url)
    result = await routed_by(local)
    first = result.attempts[0]
    assert first.outcome == "empty" and result.text == "paid"
    assert first.error is not None and "only thinking" in first.error
    assert "stop reason length" in first.error


async def test_a_think_block_at_the_start_of_an_ollama_answer_is_thinking(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = f"<think>\n{THOUGHT}\n</think>\n\nNo: 221 = 13 x 17."
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url) as backend:
        response = await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    assert response.text == "No: 221 = 13 x 17."
    assert response.thinking == THOUGHT
    assert 0 < response.reasoning_tokens < response.completion_tokens


async def test_a_think_block_at_the_start_of_an_openai_answer_is_thinking(
    fake_openai: FakeOpenAI,
) -> None:
    # llama.cpp with --reasoning-format none leaves the block in `content`
    fake_openai.reply = {"content": f"<think>{THOUGHT}</think>No: 221 = 13 x 17."}
    async with OpenAIBackend("qwen3", base_url=fake_openai.base_url) as backend:
        response = await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    assert response.text == "No: 221 = 13 x 17."
    assert response.thinking == THOUGHT


@pytest.mark.parametrize(
    "content",
    [
        f"<think>{THOUGHT}",  # never closed (cut off by num_predict, or the answer itself)
        "Write <think>x</think> in the template.",  # not at the start: the answer's own
    ],
)
async def test_content_without_a_leading_closed_think_block_stays_the_answer(
    fake_ollama: FakeOllama, content: str
) -> None:
    fake_ollama.reply = content
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url) as backend:
        response = await backend.generate(GenerateRequest(prompt="is 221 prime?"))
    assert response.text == content and response.thinking == ""


async def test_a_think_block_only_is_an_empty_answer_that_says_only_thinking(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = {"content": f"<think>{THOUGHT}</think>", "done_reason": "length"}
    local = OllamaBackend("llama3.2", base_url=fake_ollama.url)
    result = await routed_by(local)
    first = result.attempts[0]
    assert first.outcome == "empty" and first.error is not None
    assert "only thinking" in first.error


@pytest.mark.parametrize(
    "content",
    [
        f"  <think>\n{THOUGHT} </thi nk>\n</think>\n\nNo: <think> stays.",
        f"<think>{THOUGHT}",
        "Write <think>x</think> in the template.",
        "<thin",
        "   ",
        "<think></think>ok",
        f"<think>{THOUGHT * 40}</think</think>\n after",
    ],
)
def test_a_streamed_answer_cut_anywhere_splits_as_the_whole_answer_does(content: str) -> None:
    # the proxy reads a stream by ThinkTags; the backends a whole answer by split_think_tag,
    # which is built on ThinkTags: both are checked against the rule read with a regex
    expected = _split_by_regex(content)
    assert split_think_tag(content) == expected
    for seed in range(50):
        rng = random.Random(seed)
        tags, answer, thinking, at = ThinkTags(), "", "", 0
        while at < len(content):
            size = rng.randint(0, 4)
            said, thought = tags.feed(content[at : at + size])
            answer, thinking, at = answer + said, thinking + thought, at + size
        assert (answer + tags.end(), thinking) == expected


def _split_by_regex(content: str) -> tuple[str, str]:
    """`(answer, thinking)` by the rule, read over the whole text: a `<think>` block after
    blanks only, closed by its first `</think>`, its thinking stripped and the answer after it
    from its first non-blank character; without both tags, all answer."""
    block = re.fullmatch(r"\s*<think>(.*?)</think>\s*(.*)", content, re.DOTALL)
    return (block[2], block[1].strip()) if block else (content, "")
