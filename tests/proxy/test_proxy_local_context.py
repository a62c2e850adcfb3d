"""The proxy's local tier and a request longer than the local model's context: Ollama would
cut it silently (200, the model answering a prompt it never fully saw) unless asked
`truncate: false`, which makes it a 400 before the first byte, so the proxy escalates to the
paid tier and the trace says why (ollama-api.md §3)."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, SIMPLE, messages_body, post
from tests.proxy.dialects import OPENAI_HEADERS as OPENAI
from tests.proxy.recorded import last_row
from tests.router.context_errors import LLAMA_CPP_CONTEXT

# A simple request with a pasted list: about 200 tokens by OCP's estimate, local by the classifier.
LISTED = SIMPLE + " and of these: " + ", ".join(f"{n} + {n}" for n in range(40))


def test_a_request_over_the_local_context_escalates_instead_of_being_cut(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.default_num_ctx = 3  # shorter than SIMPLE ("what is 2 + 2?")
    proxy = start_proxy(proxy_env)
    response = post(proxy, "/v1/messages", messages_body(text=SIMPLE))
    assert response.status_code == 200
    assert response.json()["content"][0]["text"].startswith("claude answer")
    assert fake_ollama.requests_to("/api/chat")[0].body["truncate"] is False
    row = proxy.call(last_row)
    assert (row["tier"], row["answered_tier"], row["escalated"]) == ("local", "mid", True)
    local = row["attempts"][0]
    assert local["outcome"] == "error" and "exceeds the context length" in local["error"]


def test_a_request_that_fits_is_still_answered_locally(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env)
    response = post(proxy, "/v1/messages", messages_body(text=SIMPLE))
    assert response.json()["content"][0]["text"].startswith("local answer")
    assert fake_anthropic.requests_to("/v1/messages") == []


def test_llama_cpps_context_error_escalates_too(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
) -> None:
    # llama-server refuses an over-long prompt itself (400 `exceed_context_size_error`).
    env = proxy_env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}
    fake_openai.fail_next(400, LLAMA_CPP_CONTEXT, path="/v1/chat/completions")
    proxy = start_proxy(env)
    response = post(proxy, "/v1/messages", messages_body(text=SIMPLE))
    assert response.json()["content"][0]["text"].startswith("claude answer")
    row = proxy.call(last_row)
    assert [a["outcome"] for a in row["attempts"]] == ["error", "ok"]
    assert "exceeds the available context size" in row["attempts"][0]["error"]


def test_an_older_ollama_that_cut_the_prompt_escalates_a_whole_answer(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    # Before v0.12.4 Ollama ignores `truncate` and cuts the prompt silently; the answer's
    # prompt_eval_count shows it read under half of it. Not streamed: nothing has reached
    # the client yet, so the proxy escalates.
    fake_ollama.version, fake_ollama.default_num_ctx = "0.12.3", 20
    proxy = start_proxy(proxy_env)
    response = post(proxy, "/v1/messages", messages_body(text=LISTED))
    assert response.json()["content"][0]["text"].startswith("claude answer")
    row = proxy.call(last_row)
    assert row["attempts"][0]["error"].startswith("the local model read 20 of about")
    assert row["attempts"][0]["error_type"] == "BackendContextExceeded"


def test_an_older_ollama_that_cut_the_prompt_of_a_stream_is_noted_in_the_trace(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # Streamed, the answer has reached the client before the count comes: too late to
    # escalate, the trace says the model answered a prompt it did not read whole.
    fake_ollama.version, fake_ollama.default_num_ctx = "0.12.3", 20
    proxy = start_proxy(proxy_env)
    post(proxy, "/v1/messages", messages_body(text=LISTED, stream=True))
    row = proxy.call(last_row)
    assert row["answered_tier"] == "local"
    assert any(n.startswith("the local model read 20 of about") for n in row["notes"])


def test_a_short_prompt_counted_a_little_low_is_not_taken_for_a_cut(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # The model counts "what is 2 + 2?" as 3 tokens, OCP about 7: under half, but a few
    # tokens either way are the tokenizers differing, not a cut.
    fake_ollama.version, fake_ollama.default_num_ctx = "0.12.3", 3
    proxy = start_proxy(proxy_env)
    response = post(proxy, "/v1/messages", messages_body(text=SIMPLE))
    assert response.json()["content"][0]["text"].startswith("local answer")


def _ask(proxy: RunningProxy, times: int, *, stream: bool = False) -> list[str]:
    """LISTED `times` times: the text each answer starts with ("local" or "claude")."""
    starts = []
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for _ in range(times):
            body = messages_body(text=LISTED, stream=stream)
            response = http.post("/v1/messages", json=body, headers=ANTHROPIC_HEADERS)
            text = response.text if stream else response.json()["content"][0]["text"]
            starts.append("claude" if "claude answer" in text else "local")
    return starts


def test_a_cache_hit_on_a_current_ollama_is_answered_locally(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    # An Ollama from v0.12.4 that counts only uncached prompt tokens (ollama/ollama#16428):
    # the repeated prompt reads 1 token, a cache hit, not a cut. Its version is asked once.
    fake_ollama.counts_cached_prompt = False
    proxy = start_proxy(proxy_env)
    assert _ask(proxy, 3) + _ask(proxy, 2, stream=True) == ["local"] * 5
    row = proxy.call(last_row)
    assert not any("read" in n for n in row["notes"])
    assert fake_anthropic.requests_to("/v1/messages") == []
    assert len(fake_ollama.requests_to("/api/version")) == 1


def test_a_low_count_from_an_ollama_that_gives_no_version_escalates(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
) -> None:
    # No readable version: taken as an Ollama that may cut (ollama_version.py says why).
    fake_ollama.counts_cached_prompt = False
    fake_ollama.fail_next(500, path="/api/version")
    proxy = start_proxy(proxy_env)
    assert _ask(proxy, 3) == ["local", "claude", "claude"]
    row = proxy.call(last_row)
    assert "version none" in row["attempts"][0]["error"]
    assert len(fake_ollama.requests_to("/api/version")) == 1


def test_an_openai_compatible_local_server_is_not_asked_a_version(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    env = proxy_env | {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake_openai.base_url}
    proxy = start_proxy(env)
    assert _ask(proxy, 2) == ["local", "local"]
    assert fake_openai.requests_to("/api/version") == []


def test_a_local_answer_is_capped_by_ocp_local_max_tokens_when_the_client_sets_none(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
) -> None:
    # An OpenAI client may leave max_tokens out; a local server would then write until its
    # context is full (llama.cpp, vLLM). The client's own limit, when it gives one, stands.
    proxy = start_proxy(proxy_env | {"OCP_LOCAL_MAX_TOKENS": "300"})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for extra in ({}, {"max_tokens": 50}):
            chat = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}]}
            response = http.post("/v1/chat/completions", json=chat | extra, headers=OPENAI)
            assert response.status_code == 200
    sent = [r.body["options"]["num_predict"] for r in fake_ollama.requests_to("/api/chat")]
    assert sent == [300, 50]
    assert fake_openai.requests_to("/v1/chat/completions") == []
