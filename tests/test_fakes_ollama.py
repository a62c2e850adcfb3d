"""The Ollama fake behaves like the real server, as seen by plain ``httpx``: liveness, tags, show,
chat and generate (streamed and not), structured output, thinking, tools, embeddings and its
errors.

No test sleeps, and every client call has a bounded timeout."""

from __future__ import annotations

import json
from typing import Any

import httpx

from tests.fake_wire import TIMEOUT, USER_HI
from tests.fakes import FakeOllama


def ndjson(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_ollama_root_answers_liveness_for_get_and_head_and_reports_a_version(
    fake_ollama: FakeOllama,
) -> None:
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        get = http.get("/")
        head = http.head("/")
        version = http.get("/api/version")
        missing = http.get("/api/nope")
    assert (get.status_code, get.text) == (200, "Ollama is running")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["content-length"] == str(len("Ollama is running"))
    assert version.json() == {"version": "0.32.15"}
    assert (missing.status_code, missing.text) == (404, "404 page not found")


def test_ollama_tags_lists_models_with_realistic_fields() -> None:
    with FakeOllama(models=["llama3.2", "qwen3:4b", "nomic-embed-text"]) as fake:
        tags = httpx.get(fake.url + "/api/tags", timeout=TIMEOUT).json()
    names = [m["name"] for m in tags["models"]]
    assert names == ["llama3.2:latest", "qwen3:4b", "nomic-embed-text:latest"]
    qwen = tags["models"][1]
    assert set(qwen) >= {"name", "model", "modified_at", "size", "digest", "details"}
    assert qwen["details"]["family"] == "qwen3" and qwen["details"]["parameter_size"] == "4.0B"
    assert qwen["details"]["format"] == "gguf" and len(qwen["digest"]) == 64


def test_ollama_show_reports_capabilities_and_the_context_length_under_the_architecture_key() -> (
    None
):
    with (
        FakeOllama(
            models=["qwen3:4b"],
            capabilities=["completion", "tools", "thinking"],
            context_length=40960,
        ) as fake,
        httpx.Client(base_url=fake.url, timeout=TIMEOUT) as http,
    ):
        shown = http.post("/api/show", json={"model": "qwen3:4b"})
        unknown = http.post("/api/show", json={"model": "mistral"})
    info = shown.json()
    assert info["capabilities"] == ["completion", "tools", "thinking"]
    arch = info["model_info"]["general.architecture"]
    assert arch == "qwen3" and info["model_info"][f"{arch}.context_length"] == 40960
    assert unknown.status_code == 404 and "mistral" in unknown.json()["error"]


async def test_ollama_chat_streams_ndjson_when_stream_is_omitted(fake_ollama: FakeOllama) -> None:
    body = {"model": "llama3.2", "messages": [{"role": "user", "content": "say hi to me"}]}
    async with httpx.AsyncClient(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        async with http.stream("POST", "/api/chat", json=body) as r:
            assert r.headers["content-type"] == "application/x-ndjson"
            lines = [json.loads(line) async for line in r.aiter_lines() if line]
    assert all(not line["done"] for line in lines[:-1])
    text = "".join(line["message"]["content"] for line in lines)
    assert text == "local answer: say hi to me"
    assert len(lines) == 7  # six tokens, then the final line
    final = lines[-1]
    assert final["done"] is True and final["done_reason"] == "stop"
    assert final["message"] == {"role": "assistant", "content": ""}
    assert final["prompt_eval_count"] == 4 and final["eval_count"] == 6
    assert final["eval_duration"] == 6 * 10_000_000  # nanoseconds
    assert final["total_duration"] > final["eval_duration"]


def test_ollama_chat_without_streaming_is_one_object_and_omits_zero_load_duration(
    fake_ollama: FakeOllama,
) -> None:
    body = {"model": "llama3.2:latest", "stream": False, "messages": USER_HI}
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        cold = http.post("/api/chat", json=body).json()
        warm = http.post("/api/chat", json=body).json()
    assert cold["message"] == {
        "role": "assistant",
        "content": "local answer: What is the capital of Norway?",
    }
    assert cold["done"] is True and cold["model"] == "llama3.2:latest"
    assert cold["load_duration"] > 0
    assert "load_duration" not in warm  # Go omitempty: already loaded -> absent, not 0


def test_ollama_counting_only_uncached_prompt_tokens_reads_a_repeat_as_one_token() -> None:
    first = [{"role": "user", "content": "explain this parser error " * 20}]
    longer = first + [{"role": "user", "content": "and this one"}]
    counts = []
    with FakeOllama(counts_cached_prompt=False) as fake:
        with httpx.Client(base_url=fake.url, timeout=TIMEOUT) as http:
            for messages in (first, first, longer):
                body = {"model": "llama3.2", "stream": False, "messages": messages}
                counts.append(http.post("/api/chat", json=body).json()["prompt_eval_count"])
    assert counts[0] > 60 and counts[1] == 1  # the whole prompt, then a cache hit
    assert 1 < counts[2] < 10  # only the new turn


def test_ollama_unknown_model_is_a_404_with_the_pull_hint(fake_ollama: FakeOllama) -> None:
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "x", "messages": USER_HI},
        timeout=TIMEOUT,
    )
    assert r.status_code == 404
    assert r.json() == {"error": 'model "x" not found, try pulling it first'}


def test_ollama_rejects_tools_for_a_model_without_the_tools_capability() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
    with FakeOllama(models=["gemma3:270m"], capabilities=["completion"]) as fake:
        r = httpx.post(
            fake.url + "/api/chat",
            json={"model": "gemma3:270m", "messages": USER_HI, "tools": tools, "stream": False},
            timeout=TIMEOUT,
        )
    assert r.status_code == 400
    assert r.json()["error"].endswith("gemma3:270m does not support tools")


def test_ollama_rejects_content_part_arrays_on_the_native_api(fake_ollama: FakeOllama) -> None:
    messages = [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "llama3.2", "messages": messages, "stream": False},
        timeout=TIMEOUT,
    )
    assert r.status_code == 400 and "cannot unmarshal array" in r.json()["error"]


def test_ollama_structured_output_returns_json_text_matching_the_schema(
    fake_ollama: FakeOllama,
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "complexity": {"type": "string", "enum": ["simple", "complex"]},
            "files": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["complexity"],
    }
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "llama3.2", "messages": USER_HI, "format": schema, "stream": False},
        timeout=TIMEOUT,
    )
    content = r.json()["message"]["content"]
    assert isinstance(content, str)
    parsed = json.loads(content)
    assert parsed["complexity"] in ("simple", "complex") and isinstance(parsed["files"], list)


def test_a_scripted_ollama_reply_sees_the_messages_and_num_predict_truncates(
    fake_ollama: FakeOllama,
) -> None:
    seen: list[list[dict[str, Any]]] = []

    def reply(messages: list[dict[str, Any]], body: dict[str, Any]) -> str:
        seen.append(messages)
        return "alpha beta gamma delta"

    fake_ollama.reply = reply
    body = {"model": "llama3.2", "messages": USER_HI, "stream": False}
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        full = http.post("/api/chat", json=body).json()
        cut = http.post("/api/chat", json={**body, "options": {"num_predict": 2}}).json()
    assert seen == [USER_HI, USER_HI]
    assert (full["message"]["content"], full["done_reason"]) == ("alpha beta gamma delta", "stop")
    assert (cut["message"]["content"], cut["done_reason"]) == ("alpha beta", "length")
    assert cut["eval_count"] == 2


def test_ollama_streams_thinking_first_and_tool_calls_in_a_non_final_chunk() -> None:
    reply = {"content": "", "tool_calls": [{"name": "get_weather", "arguments": {"city": "Oslo"}}]}
    caps = ["completion", "tools", "thinking"]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    body = {"model": "qwen3:4b", "think": True, "tools": tools, "messages": USER_HI}
    with FakeOllama(models=["qwen3:4b"], reply=reply, capabilities=caps) as fake:
        lines = ndjson(httpx.post(fake.url + "/api/chat", json=body, timeout=TIMEOUT).text)
    thinking = "".join(line["message"].get("thinking", "") for line in lines)
    calls = [c for line in lines for c in line["message"].get("tool_calls", [])]
    assert thinking.startswith("thinking about:")
    assert calls == [
        {"function": {"index": 0, "name": "get_weather", "arguments": {"city": "Oslo"}}}
    ]
    assert "tool_calls" not in lines[-1]["message"] and lines[-1]["done"] is True


def test_an_ollama_failure_after_output_started_is_an_error_line_with_status_200(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.fail_mid_stream("an error was encountered while running the model", after=2)
    r = httpx.post(
        fake_ollama.url + "/api/chat",
        json={"model": "llama3.2", "messages": USER_HI},
        timeout=TIMEOUT,
    )
    lines = ndjson(r.text)
    assert r.status_code == 200
    assert [line.get("done") for line in lines] == [False, False, None]
    assert lines[-1] == {"error": "an error was encountered while running the model"}


def test_ollama_generate_uses_response_and_streams_by_default(fake_ollama: FakeOllama) -> None:
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        streamed = ndjson(
            http.post("/api/generate", json={"model": "llama3.2", "prompt": "hi"}).text
        )
        whole = http.post(
            "/api/generate", json={"model": "llama3.2", "prompt": "hi", "stream": False}
        ).json()
        loaded = http.post("/api/generate", json={"model": "llama3.2"}).json()
    assert "".join(line["response"] for line in streamed) == "local answer: hi"
    assert streamed[-1]["done"] is True and streamed[-1]["response"] == ""
    assert whole["response"] == "local answer: hi" and whole["done_reason"] == "stop"
    assert loaded == {**loaded, "response": "", "done": True, "done_reason": "load"}


def test_ollama_embed_returns_deterministic_vectors_and_rejects_bad_input() -> None:
    with (
        FakeOllama(models=["nomic-embed-text"]) as fake,
        httpx.Client(base_url=fake.url, timeout=TIMEOUT) as http,
    ):
        one = http.post(
            "/api/embed", json={"model": "nomic-embed-text", "input": "def foo(): pass"}
        )
        two = http.post(
            "/api/embed",
            json={"model": "nomic-embed-text", "input": ["def foo(): pass", "class Bar: ..."]},
        )
        bad = http.post("/api/embed", json={"model": "nomic-embed-text", "input": 42})
        chat = http.post("/api/chat", json={"model": "nomic-embed-text", "messages": USER_HI})
    assert len(one.json()["embeddings"]) == 1  # a list of vectors even for one input
    vecs = two.json()["embeddings"]
    assert vecs[0] == one.json()["embeddings"][0] and vecs[0] != vecs[1]
    assert abs(sum(x * x for x in vecs[0]) - 1.0) < 1e-4
    assert two.json()["prompt_eval_count"] == 6  # 3 + 3 whitespace tokens
    assert (bad.status_code, bad.json()) == (400, {"error": "invalid input type"})
    assert chat.status_code == 400 and "does not support chat" in chat.json()["error"]
