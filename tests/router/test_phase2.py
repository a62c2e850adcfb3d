"""Phase 2: LLMClassifier asks the local model for a tier under a JSON schema, over real HTTP to
the fake Ollama and OpenAI-compatible servers; caches verdicts; falls back to phase 1's guess on
a timeout, a failure or an unusable answer. Plus parse_verdict on its own."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from ocp_router import (
    LLMClassifier,
    OllamaBackend,
    OpenAIBackend,
    Phase,
    TaskClassifier,
    Tier,
    parse_payload,
)
from ocp_router.backends.base import ModelBackend
from ocp_router.payload import AgentPayload
from ocp_router.phase1 import Assessment, assess
from ocp_router.phase2 import INSTRUCTIONS, VERDICT_SCHEMA, Verdict, parse_verdict
from tests.fakes import FakeOllama, FakeOpenAI

CLF = TaskClassifier()
TOP = json.dumps({"tier": "top", "reason": "needs a design decision"})


def judged(payload: Any) -> tuple[AgentPayload, Assessment]:
    p = parse_payload(payload)
    return p, assess(p, CLF)


@dataclass
class Local:
    """A fake server and a backend pointed at it."""

    kind: str
    fake: FakeOllama | FakeOpenAI
    backend: ModelBackend
    chat_path: str

    def chats(self) -> list[Any]:
        return [r.body for r in self.fake.requests_to(self.chat_path, "POST")]

    def answer_raw(self, text: str) -> None:
        """The next chat answer is `text` verbatim, as a server that ignores the schema would
        send it (the fakes otherwise coerce non-JSON into the schema, as real servers do)."""
        if isinstance(self.fake, FakeOllama):
            body: dict[str, Any] = {
                "model": "llama3.2:latest",
                "created_at": "2026-05-01T10:00:00Z",
                "message": {"role": "assistant", "content": text},
                "done": True,
                "done_reason": "stop",
            }
        else:
            body = {
                "id": "chatcmpl-raw",
                "object": "chat.completion",
                "model": "fake-model",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": text},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5},
            }
        self.fake.fail_next(200, body, path=self.chat_path)


def sent_instructions(body: dict[str, Any]) -> bool:
    """The routing instructions reached the model (as a system message or in the user turn)."""
    return any(INSTRUCTIONS in str(m.get("content")) for m in body["messages"])


@pytest.fixture(params=["ollama", "openai"])
async def local(request: pytest.FixtureRequest) -> AsyncIterator[Local]:
    backend: OllamaBackend | OpenAIBackend
    if request.param == "ollama":
        fake: FakeOllama | FakeOpenAI = request.getfixturevalue("fake_ollama")
        backend = OllamaBackend("llama3.2", base_url=fake.url, timeout=10.0)
        loc = Local("ollama", fake, backend, "/api/chat")
    else:
        fake = request.getfixturevalue("fake_openai")
        backend = OpenAIBackend("fake-model", base_url=fake.url + "/v1", timeout=10.0)
        loc = Local("openai", fake, backend, "/v1/chat/completions")
    yield loc
    await backend.aclose()


# ---- the request -----------------------------------------------------------------------------


async def test_ollama_request_carries_the_schema_as_format_with_a_small_budget(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.reply = TOP
    async with OllamaBackend("llama3.2", base_url=fake_ollama.url, timeout=10.0) as backend:
        await LLMClassifier(backend, max_tokens=48).classify(*judged("explain closures"))
    (body,) = [r.body for r in fake_ollama.requests_to("/api/chat")]
    assert body["format"] == VERDICT_SCHEMA
    assert body["options"]["num_predict"] == 48
    assert body["options"]["temperature"] == 0
    assert body["model"] == "llama3.2"
    assert sent_instructions(body)


async def test_the_verdict_is_asked_of_ollama_without_thinking() -> None:
    # From v0.12.4 Ollama has a model that can think do so unless told not to: its thinking
    # would spend the verdict's few tokens before any verdict came.
    with FakeOllama(["qwen3:4b"], capabilities=["completion", "thinking"]) as fake:
        fake.reply = TOP
        async with OllamaBackend("qwen3:4b", base_url=fake.url) as backend:
            await LLMClassifier(backend, max_tokens=48).classify(*judged("explain closures"))
        (body,) = [r.body for r in fake.requests_to("/api/chat")]
    assert body["think"] is False


async def test_openai_request_carries_a_json_schema_response_format(
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.reply = TOP
    # The backend's own (paid-sized) max_tokens does not apply to the classifier's request.
    backend = OpenAIBackend("fake-model", base_url=fake_openai.base_url, max_tokens=4096)
    async with backend:
        await LLMClassifier(backend).classify(*judged("explain closures"))
    (body,) = [r.body for r in fake_openai.requests_to("/v1/chat/completions")]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == VERDICT_SCHEMA
    assert body["max_tokens"] == 64
    assert body["temperature"] == 0
    assert sent_instructions(body)


async def test_the_prompt_holds_the_request_and_the_previous_message(local: Local) -> None:
    local.fake.reply = TOP
    payload, assessment = judged(
        [
            {"role": "user", "content": "we use postgres with read replicas"},
            {"role": "assistant", "content": "Understood, replicas lag a little."},
            {
                "role": "user",
                "content": "<system-reminder>todo: none</system-reminder>\n"
                "should reads after writes go to the primary?",
            },
        ]
    )
    await LLMClassifier(local.backend).classify(payload, assessment)
    (body,) = local.chats()
    prompt = body["messages"][-1]["content"]
    assert body["messages"][-1]["role"] == "user"
    assert "Request:\nshould reads after writes go to the primary?" in prompt
    assert "Previous message (assistant): Understood, replicas lag a little." in prompt
    assert "system-reminder" not in prompt


async def test_the_prompt_counts_one_tool_and_one_call_in_the_singular(local: Local) -> None:
    # It read "1 tools offered, 1 tool calls/results." (phase 1's reasons were fixed in 2d0d0ba)
    local.fake.reply = TOP
    tool = {"name": "bash", "description": "Run a command", "input_schema": {"type": "object"}}
    call = {"type": "tool_use", "id": "t1", "name": "bash", "input": {"cmd": "ls"}}
    messages = [
        {"role": "user", "content": "fix the failing test"},
        {"role": "assistant", "content": [call]},
    ]
    for tools, count in (
        ([tool], "1 tool offered, 1 tool call or result."),
        ([tool] * 2, "2 tools"),
    ):
        payload, assessment = judged({"messages": messages, "tools": tools})
        await LLMClassifier(local.backend).classify(payload, assessment)  # its own cache
        assert count in local.chats()[-1]["messages"][-1]["content"]


async def test_a_classifier_model_overrides_the_backend_model(local: Local) -> None:
    local.fake.reply = TOP
    if isinstance(local.fake, FakeOllama):
        local.fake.models.append("qwen3:0.6b")
    verdict = await LLMClassifier(local.backend, model="qwen3:0.6b").classify(
        *judged("explain closures")
    )
    assert verdict.phase is Phase.LLM_CLASSIFIER
    assert local.chats()[0]["model"] == "qwen3:0.6b"


# ---- verdicts --------------------------------------------------------------------------------


async def test_a_valid_verdict_is_the_llm_classifier_s_tier_and_reason(local: Local) -> None:
    local.fake.reply = TOP
    payload, assessment = judged("explain closures")
    assert assessment.tier is Tier.LOCAL  # phase 1 thought otherwise
    verdict = await LLMClassifier(local.backend).classify(payload, assessment)
    assert verdict.tier is Tier.TOP and verdict.phase is Phase.LLM_CLASSIFIER
    assert verdict.reason == "needs a design decision"
    assert not verdict.fallback and verdict.duration_ms >= 0


async def test_a_verdict_in_a_json_fence_is_accepted(local: Local) -> None:
    local.answer_raw('```json\n{"tier": "mid", "reason": "several files"}\n```')
    verdict = await LLMClassifier(local.backend).classify(*judged("explain closures"))
    assert (verdict.tier, verdict.phase, verdict.fallback) == (
        Tier.MID,
        Phase.LLM_CLASSIFIER,
        False,
    )
    assert verdict.reason == "several files"


# ---- the cache -------------------------------------------------------------------------------


async def test_the_same_last_two_messages_are_a_cache_hit(local: Local) -> None:
    local.fake.reply = TOP
    clf = LLMClassifier(local.backend)
    first = judged(
        [
            {"role": "user", "content": "hello"},
            {"role": "assistant", "content": "Hi, what do you need?"},
            {"role": "user", "content": "how should I shard this table?"},
        ]
    )
    # a different opening, the same last two messages
    again = judged(
        [
            {"role": "user", "content": "a different start entirely"},
            {"role": "assistant", "content": "Hi, what do you need?"},
            {"role": "user", "content": "how should I shard this table?"},
        ]
    )
    v1 = await clf.classify(*first)
    v2 = await clf.classify(*again)
    assert v1.phase is Phase.LLM_CLASSIFIER
    assert v2.phase is Phase.CACHE and (v2.tier, v2.reason) == (v1.tier, v1.reason)
    assert len(local.chats()) == 1
    assert (clf.hits, clf.lookups) == (1, 2)


async def test_a_different_last_message_misses_the_cache(local: Local) -> None:
    local.fake.reply = TOP
    clf = LLMClassifier(local.backend)
    await clf.classify(*judged("how should I shard this table?"))
    verdict = await clf.classify(*judged("how should I shard this index?"))
    assert verdict.phase is Phase.LLM_CLASSIFIER
    assert len(local.chats()) == 2
    assert (clf.hits, clf.lookups) == (0, 2)


async def test_the_cache_evicts_the_least_recently_used_verdict(local: Local) -> None:
    local.fake.reply = TOP
    clf = LLMClassifier(local.backend, cache_size=2)
    a, b, c = judged("alpha task"), judged("beta task"), judged("gamma task")
    phases = []
    for payload in (a, b, a, c, a, b):  # a is used again before c arrives, so b is evicted
        phases.append((await clf.classify(*payload)).phase)
    assert phases == [
        Phase.LLM_CLASSIFIER,
        Phase.LLM_CLASSIFIER,
        Phase.CACHE,
        Phase.LLM_CLASSIFIER,
        Phase.CACHE,
        Phase.LLM_CLASSIFIER,
    ]
    assert len(local.chats()) == 4
    assert (clf.hits, clf.lookups) == (2, 6)


async def test_a_zero_cache_size_never_caches(local: Local) -> None:
    local.fake.reply = TOP
    clf = LLMClassifier(local.backend, cache_size=0)
    payload = judged("explain closures")
    phases = [(await clf.classify(*payload)).phase for _ in range(2)]
    assert phases == [Phase.LLM_CLASSIFIER, Phase.LLM_CLASSIFIER]
    assert len(local.chats()) == 2


# ---- fallbacks -------------------------------------------------------------------------------


def assert_fallback(verdict: Verdict, assessment: Assessment, *words: str) -> None:
    assert verdict.fallback
    assert verdict.phase is Phase.HEURISTIC
    assert verdict.tier is assessment.tier
    assert "phase 1's best guess" in verdict.reason
    assert ".;" not in verdict.reason  # an error's own full stop, then the joining `;`
    for word in words:
        assert word in verdict.reason


async def test_a_slow_model_falls_back_to_phase_1_within_the_timeout(local: Local) -> None:
    local.fake.reply = TOP
    local.fake.delay = 60.0
    payload, assessment = judged("explain closures")
    started = time.monotonic()
    verdict = await LLMClassifier(local.backend, timeout=0.3).classify(payload, assessment)
    elapsed = time.monotonic() - started
    assert_fallback(verdict, assessment, "no verdict within 0.3s")
    assert verdict.tier is Tier.LOCAL  # not the TOP the model would have said
    assert elapsed < 30  # the timeout ended the wait, not the model's answer 60 s on


async def test_a_refused_connection_falls_back_naming_the_failure(refused_url: str) -> None:
    payload, assessment = judged("explain closures")
    async with OllamaBackend("llama3.2", base_url=refused_url, timeout=5.0) as backend:
        verdict = await LLMClassifier(backend).classify(payload, assessment)
    assert_fallback(verdict, assessment, "classifier model failed", "cannot reach ollama")


async def test_a_refused_openai_compatible_server_falls_back_too(refused_url: str) -> None:
    payload, assessment = judged("explain closures")
    async with OpenAIBackend("m", base_url=refused_url + "/v1", timeout=5.0) as backend:
        verdict = await LLMClassifier(backend).classify(payload, assessment)
    assert_fallback(verdict, assessment, "classifier model failed", "cannot reach the OpenAI-")


async def test_a_server_error_falls_back_naming_the_failure(local: Local) -> None:
    local.fake.fail_next(500, path=local.chat_path)
    payload, assessment = judged("explain closures")
    verdict = await LLMClassifier(local.backend).classify(payload, assessment)
    assert_fallback(verdict, assessment, "classifier model failed", "500")


async def test_a_truncated_response_body_falls_back(local: Local) -> None:
    local.fake.malformed_next(path=local.chat_path)
    payload, assessment = judged("explain closures")
    verdict = await LLMClassifier(local.backend).classify(payload, assessment)
    assert_fallback(verdict, assessment, "classifier model failed", "could not read")


async def test_a_misshapen_usage_block_does_not_spoil_a_good_verdict(
    fake_openai: FakeOpenAI,
) -> None:
    body = {"choices": [{"message": {"content": TOP}}], "usage": ["not", "an", "object"]}
    fake_openai.fail_next(200, body, path="/v1/chat/completions")
    backend = OpenAIBackend("local", base_url=fake_openai.url + "/v1")
    payload, assessment = judged("explain closures")
    verdict = await LLMClassifier(backend).classify(payload, assessment)
    await backend.aclose()
    assert verdict.tier is Tier.TOP and not verdict.fallback


async def test_a_wrongly_typed_response_body_falls_back(local: Local) -> None:
    if isinstance(local.fake, FakeOllama):
        body: dict[str, Any] = {"model": "llama3.2:latest", "message": "top", "done": True}
    else:
        body = {"choices": [{"message": "top"}]}
    local.fake.fail_next(200, body, path=local.chat_path)
    payload, assessment = judged("explain closures")
    verdict = await LLMClassifier(local.backend).classify(payload, assessment)
    assert_fallback(verdict, assessment, "classifier model failed")


@pytest.mark.parametrize(
    "answer",
    [
        pytest.param("I would say top, it is hard.", id="not-json"),
        pytest.param('{"tier": top, "reason": "x"}', id="broken-json"),
        pytest.param(json.dumps({"tier": "huge", "reason": "big"}), id="tier-huge"),
        pytest.param(json.dumps({"reason": "no tier"}), id="no-tier"),
        pytest.param(json.dumps(["top", "hard"]), id="array-of-strings"),
        pytest.param(
            json.dumps([{"tier": "top", "reason": "hard"}]),
            id="array-of-objects",
        ),
    ],
)
async def test_an_unusable_answer_falls_back(local: Local, answer: str) -> None:
    local.answer_raw(answer)
    payload, assessment = judged("explain closures")
    verdict = await LLMClassifier(local.backend).classify(payload, assessment)
    assert_fallback(verdict, assessment, "classifier answer unusable")


async def test_a_schema_valid_but_wrong_answer_through_the_reply_knob_falls_back(
    local: Local,
) -> None:
    # valid JSON, so the fake sends it as it is: the schema is the server's job, the tier ours
    local.fake.reply = json.dumps({"tier": "huge", "reason": "big"})
    payload, assessment = judged("explain closures")
    verdict = await LLMClassifier(local.backend).classify(payload, assessment)
    assert_fallback(verdict, assessment, "unusable", "'huge'")


async def test_fallback_verdicts_are_never_cached(local: Local) -> None:
    local.fake.reply = TOP
    local.fake.fail_next(503, path=local.chat_path)
    local.answer_raw("no idea")
    clf = LLMClassifier(local.backend)
    payload = judged("explain closures")
    first = await clf.classify(*payload)
    second = await clf.classify(*payload)
    third = await clf.classify(*payload)
    fourth = await clf.classify(*payload)
    assert first.fallback and second.fallback
    assert third.phase is Phase.LLM_CLASSIFIER and third.tier is Tier.TOP
    assert fourth.phase is Phase.CACHE
    assert len(local.chats()) == 3
    assert (clf.hits, clf.lookups) == (1, 4)


async def test_a_timed_out_verdict_is_not_cached(local: Local) -> None:
    local.fake.reply = TOP
    local.fake.delay = 5.0
    clf = LLMClassifier(local.backend, timeout=0.3)
    payload = judged("explain closures")
    assert (await clf.classify(*payload)).fallback
    local.fake.delay = 0.0
    clf.timeout = 60.0  # the model answers now: it must be asked, however loaded the machine
    verdict = await clf.classify(*payload)
    assert verdict.phase is Phase.LLM_CLASSIFIER and verdict.tier is Tier.TOP
    assert clf.hits == 0


# ---- parse_verdict ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "tier", "reason"),
    [
        ('{"tier": "local", "reason": "a definition"}', Tier.LOCAL, "a definition"),
        ('```json\n{"tier": "mid", "reason": "two files"}\n```', Tier.MID, "two files"),
        ('Sure! {"tier": "top", "reason": "design"} Hope that helps.', Tier.TOP, "design"),
        ('{"tier": " TOP ", "reason": "x"}', Tier.TOP, "x"),
        ('{"tier": "mid"}', Tier.MID, ""),
        ('{"tier": "mid", "reason": null}', Tier.MID, ""),
        ('{"tier": "mid", "reason": 42}', Tier.MID, "42"),
        ('{"tier": "local", "reason": "' + "r" * 300 + '"}', Tier.LOCAL, "r" * 200),
    ],
    ids=[
        "plain",
        "fenced",
        "chatter",
        "case-and-space",
        "no-reason",
        "null-reason",
        "number-reason",
        "long-reason",
    ],
)
def test_parse_verdict_reads_the_tier_and_reason(text: str, tier: Tier, reason: str) -> None:
    assert parse_verdict(text) == (tier, reason)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("top", "no JSON object"),
        ("", "no JSON object"),
        ('"top"', "no JSON object"),
        ('["top"]', "no JSON object"),
        ('{"tier": "huge", "reason": "x"}', "tier must be local, mid or top, got 'huge'"),
        ('{"tier": 2, "reason": "x"}', "tier must be local, mid or top, got 2"),
        ('{"reason": "x"}', "tier must be local, mid or top, got None"),
        ('{"tier": top}', "Expecting value"),
        ('{"tier": "mid"} {"tier": "top"}', "Extra data"),
    ],
    ids=[
        "bare-word",
        "empty",
        "json-string",
        "array-of-strings",
        "unknown-tier",
        "number-tier",
        "no-tier",
        "invalid-json",
        "two-objects",
    ],
)
def test_parse_verdict_rejects_what_is_not_a_verdict(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_verdict(text)


def test_parse_verdict_rejects_a_json_array_of_verdicts() -> None:
    with pytest.raises(ValueError, match="no JSON object"):
        parse_verdict('[{"tier": "top", "reason": "x"}]')
