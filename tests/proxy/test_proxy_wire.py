"""HTTP on the wire around the proxy: an upstream that compresses though asked not to (the
answer reaches the client readable, its length headers consistent), methods no route serves
(HEAD, OPTIONS), request bodies that are huge, compressed or not JSON, and many requests at
once, each answered with its own answer."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    HARD,
    JSON,
    OPENAI_HEADERS,
    SIMPLE,
    SSE,
    anthropic_sse,
    chat_body,
    messages_body,
)
from tests.proxy.recorded import last_row

# ---- an upstream that compresses anyway -----------------------------------------------------


def _compress(encoding: str, data: bytes) -> bytes:
    return gzip.compress(data) if encoding == "gzip" else zlib.compress(data)


def _pieces(data: bytes, size: int = 40) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_a_compressed_paid_stream_reaches_the_client_readable(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    encoding: str,
) -> None:
    plain = b"".join(anthropic_sse("\n"))
    fake_anthropic.raw_stream_next(
        _pieces(_compress(encoding, plain)),
        SSE,
        path="/v1/messages",
        headers={"content-encoding": encoding},
    )
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages", json=messages_body(stream=True), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 200
    assert response.content == plain  # decoded by whichever side the headers say
    row = proxy.call(last_row)
    assert row["error"] is None
    assert (row["input_tokens"], row["output_tokens"]) == (5, 7)


@pytest.mark.parametrize("size", ["short", "long"])
def test_a_compressed_paid_answer_is_relayed_with_consistent_length_headers(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    size: str,
) -> None:
    text = "an answer " * (10 if size == "short" else 300_000)  # 3 MB: relayed as it comes
    answer = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "content": [{"type": "text", "text": text}],
        "usage": {"input_tokens": 5, "output_tokens": 7},
    }
    plain = json.dumps(answer).encode()
    fake_anthropic.raw_stream_next(
        _pieces(gzip.compress(plain), 65536),
        JSON,
        path="/v1/messages",
        headers={"content-encoding": "gzip"},
    )
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        with http.stream(
            "POST", "/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS
        ) as response:
            raw = response.read()
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    if "content-length" in response.headers:
        assert int(response.headers["content-length"]) == len(raw)
    else:
        assert response.headers["transfer-encoding"] == "chunked"
    assert raw == plain
    row = proxy.call(last_row)
    assert row["error"] is None and (row["input_tokens"], row["output_tokens"]) == (5, 7)


@pytest.mark.parametrize("stream", [False, True])
def test_a_paid_answer_in_an_encoding_the_proxy_cannot_read_is_a_502_naming_it(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    stream: bool,
) -> None:
    # Relayed without its content-encoding header, the bytes would be unreadable; relayed with
    # it, the proxy could neither read the usage nor end a stream with an error event.
    body = b"\x1b\x07\x00\xf8\xa5\x40\xc2\xaa\x02" * 10  # brotli-looking bytes
    fake_anthropic.raw_stream_next(
        [body], SSE if stream else JSON, path="/v1/messages", headers={"content-encoding": "br"}
    )
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages", json=messages_body(stream=stream), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 502
    assert "content-encoding" not in response.headers
    error = response.json()["error"]
    assert "br" in error["message"] and "encoding" in error["message"]
    assert "encoding" in proxy.call(last_row)["error"]


def test_a_count_in_an_encoding_the_proxy_cannot_read_is_a_502_too(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.raw_stream_next(
        [b"\x1b\x07\x00\xf8"], JSON, path="/v1/messages", headers={"content-encoding": "br"}
    )
    proxy = start_proxy(proxy_env, store=False)
    response = httpx.post(
        proxy.url + "/v1/messages/count_tokens",
        json=messages_body(),
        headers=ANTHROPIC_HEADERS,
        timeout=30,
    )
    assert response.status_code == 502
    assert "(br)" in response.json()["error"]["message"]


# ---- methods no route serves ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("HEAD", "/health", 200),
        ("HEAD", "/v1/models", 200),
        ("HEAD", "/v1/messages", 405),
        ("OPTIONS", "/v1/messages", 405),
        ("OPTIONS", "/v1/chat/completions", 405),
        ("HEAD", "/nowhere", 404),
    ],
)
def test_head_and_options_are_answered_without_reaching_an_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    method: str,
    path: str,
    status: int,
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.request(method, path, headers=ANTHROPIC_HEADERS)
        assert response.status_code == status
        if method == "HEAD":
            assert response.content == b""
        elif status == 405:
            assert "POST" in response.headers["allow"]
            assert "method not allowed" in response.json()["error"]["message"]
        # the connection is still in step
        assert http.get("/health").json() == {"ok": True, "service": "ocp-proxy"}
    assert fake_anthropic.requests == [] and fake_openai.requests == []


def test_a_browser_preflight_is_refused_before_any_route(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    preflight = {
        "origin": "https://example.com",
        "access-control-request-method": "POST",
        "access-control-request-headers": "x-api-key,content-type",
    }
    response = httpx.options(proxy.url + "/v1/messages", headers=preflight, timeout=30)
    assert response.status_code == 403
    assert not any(k.startswith("access-control-") for k in response.headers)


# ---- request bodies ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "extra_headers", "words"),
    [
        (b"", {}, "not valid JSON"),
        (b"\xff\xfe{}", {}, "not valid JSON"),
        (gzip.compress(json.dumps(messages_body()).encode()), {"content-encoding": "gzip"}, "JSON"),
        (
            b"model=claude&max_tokens=5",
            {"content-type": "application/x-www-form-urlencoded"},
            "JSON",
        ),
        (json.dumps(messages_body(temperature=0.5)).replace("0.5", "1e999").encode(), {}, "1e999"),
        (b'{"model": "m", "max_tokens": ' + b"9" * 5000 + b', "messages": []}', {}, "JSON"),
    ],
    ids=["empty", "not-utf8", "gzip", "form", "overflowing-float", "huge-int"],
)
def test_a_request_body_the_proxy_cannot_read_is_a_400_and_never_forwarded(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    content: bytes,
    extra_headers: dict[str, str],
    words: str,
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            "/v1/messages", content=content, headers=ANTHROPIC_HEADERS | extra_headers
        )
        assert response.status_code == 400, response.text
        assert words in response.json()["error"]["message"]
        assert http.get("/health").json() == {"ok": True, "service": "ocp-proxy"}
    assert fake_anthropic.requests == []


# ---- many at once -----------------------------------------------------------------------------


def test_concurrent_requests_each_get_their_own_answer(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    fake_openai: FakeOpenAI,
) -> None:
    fake_anthropic.stream_delay = fake_ollama.stream_delay = fake_openai.stream_delay = 0.01
    proxy = start_proxy(proxy_env)

    def one(n: int) -> tuple[int, str]:
        kind, stream = ["paid", "local", "openai"][n % 3], n % 2 == 0
        tag = f"#{n:02d}"
        with httpx.Client(base_url=proxy.url, timeout=60) as http:
            if kind == "openai":
                request = chat_body(f"{tag} {HARD}", stream=stream)
                response = http.post("/v1/chat/completions", json=request, headers=OPENAI_HEADERS)
            else:
                text = f"{tag} {HARD if kind == 'paid' else SIMPLE}"
                request = messages_body(text=text, stream=stream)
                response = http.post("/v1/messages", json=request, headers=ANTHROPIC_HEADERS)
        assert response.status_code == 200, response.text
        return n, response.text

    with ThreadPoolExecutor(24) as pool:
        answers = list(pool.map(one, range(48)))
    for n, text in answers:
        tags = {f"#{m:02d}" for m in range(48)}
        assert [t for t in tags if t in text] == [f"#{n:02d}"], (n, text[:300])
    rows: Any = proxy.call(_rows)
    assert len(rows) == 48
    assert all(r.error is None for r in rows)


async def _rows(proxy: Any) -> Any:
    return list(proxy.recorder.rows)


# ---- count_tokens ----------------------------------------------------------------------------


@pytest.mark.parametrize("model", [None, "", 7])
def test_a_count_without_credentials_refuses_a_body_without_a_model_as_the_api_does(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], model: object
) -> None:
    # `model` is required by the API (400 invalid_request_error); the estimate answered anyway,
    # so a client that forgot it worked against the proxy and failed against the provider.
    proxy = start_proxy(proxy_env, store=False)
    body = {"messages": [{"role": "user", "content": "hello"}]}
    if model is not None:
        body["model"] = model  # type: ignore[assignment]
    response = httpx.post(
        proxy.url + "/v1/messages/count_tokens", json=body, headers=ANTHROPIC_HEADERS, timeout=30
    )
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["message"].startswith("model: expected a model name")
