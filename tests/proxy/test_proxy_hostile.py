"""Hostile and unlucky clients and upstreams against the real proxy: bodies a JSON parser
accepts but the rest of the request path cannot carry (deep nesting, lone surrogates, NaN),
wrong types in fields the local translation reads, unknown routes, odd usage figures from
the upstream, a client that leaves before the paid answer starts, and web pages reaching
the loopback proxy. Each is answered in the client's dialect, and the proxy keeps serving."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

import httpx
import pytest

from ocp_server.proxy import Proxy
from ocp_server.proxy.body import MAX_VALUES
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    HARD,
    OPENAI_HEADERS,
    SIMPLE,
    messages_body,
    whole_and_streamed,
)

ROUTES = [
    ("/v1/messages", ANTHROPIC_HEADERS),
    ("/v1/messages/count_tokens", ANTHROPIC_HEADERS),
    ("/v1/chat/completions", OPENAI_HEADERS),
]


def _raw(model: str, content: str, extra: str = "") -> bytes:
    """A request body written by hand: JSON the `json` module would not produce itself."""
    return (
        f'{{"model":"{model}","max_tokens":10,{extra}'
        f'"messages":[{{"role":"user","content":"{content}"}}]}}'
    ).encode()


def _assert_dialect_400(path: str, response: httpx.Response, words: str) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    if path.startswith("/v1/messages"):
        assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert words in body["error"]["message"]


def _still_serving(http: httpx.Client) -> None:
    assert http.get("/health").json() == {"ok": True, "service": "ocp-proxy"}


@pytest.mark.parametrize(("path", "headers"), ROUTES)
@pytest.mark.parametrize("depth", [980, 100_000])
def test_a_deeply_nested_body_is_a_400_in_the_clients_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    path: str,
    headers: dict[str, str],
    depth: int,
) -> None:
    # 100 000 levels break the parser; 980 may parse, and then break what walks the body.
    extra = '"metadata":{"x":' + "[" * depth + "]" * depth + "},"
    model = "gpt-4o" if "chat" in path else "claude-opus-5-5"
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(path, content=_raw(model, HARD, extra), headers=headers)
        _assert_dialect_400(path, response, "nested")
        _still_serving(http)


@pytest.mark.parametrize(("path", "headers"), ROUTES)
def test_a_body_of_too_many_small_values_is_a_400_naming_what_it_exceeds(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    path: str,
    headers: dict[str, str],
) -> None:
    # 3 MB on the wire and about 90 MB in the proxy once parsed and forwarded: ten times as
    # many, still under the size limit, would be a gigabyte (bench/bench_request_memory.py).
    extra = '"metadata":{"x":[' + "{}," * MAX_VALUES + "{}]},"
    model = "gpt-4o" if "chat" in path else "claude-opus-5-5"
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=60) as http:
        response = http.post(path, content=_raw(model, HARD, extra), headers=headers)
        _assert_dialect_400(path, response, f"too many JSON values (over {MAX_VALUES:,}")
        _still_serving(http)


def test_as_many_brackets_and_commas_inside_strings_are_text_and_answered(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    text = HARD + ' say "[{," \\' * (MAX_VALUES // 3 + 1)  # quotes and backslashes escaped
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=60) as http:
        response = http.post(
            "/v1/messages", json=messages_body(text=text), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 200, response.text[:300]
    assert fake_anthropic.message_requests()[-1]["messages"][0]["content"] == text


@pytest.mark.parametrize(("path", "headers"), ROUTES)
@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_and_a_400(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    path: str,
    headers: dict[str, str],
    constant: str,
) -> None:
    model = "gpt-4o" if "chat" in path else "claude-opus-5-5"
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(
            path, content=_raw(model, SIMPLE, f'"temperature":{constant},'), headers=headers
        )
        _assert_dialect_400(path, response, constant)
        _still_serving(http)


@pytest.mark.parametrize("text", [SIMPLE, HARD])
def test_a_lone_surrogate_is_replaced_and_the_request_answered(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    text: str,
) -> None:
    # JSON.stringify writes a lone UTF-16 surrogate (half an emoji, a cut string) as an
    # escape; Python reads it into a str that cannot be encoded to UTF-8.
    content = text + r" \ud83d and \udc00, a pair \ud83d\ude00 and an escaped \\ud800"
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        for path, headers in ROUTES:
            model = "gpt-4o" if "chat" in path else "claude-opus-5-5"
            response = http.post(path, content=_raw(model, content), headers=headers)
            assert response.status_code == 200, response.text
    if text == HARD:
        sent = fake_anthropic.message_requests()[-1]["messages"][0]["content"]
        assert sent.endswith(" \ufffd and \ufffd, a pair \U0001f600 and an escaped \\ud800")
        chat = fake_openai.requests_to("/v1/chat/completions")[-1].body
        assert chat["messages"][0]["content"] == sent


_IMAGE_BLOCK = {"type": "text", "text": SIMPLE}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (
            "/v1/messages",
            {
                "model": "claude-opus-5-5",
                "max_tokens": 10,
                "messages": [
                    {"role": "user", "content": [_IMAGE_BLOCK, {"type": "image", "source": "x"}]}
                ],
            },
        ),
        (
            "/v1/chat/completions",
            {
                "model": "gpt-4o",
                "messages": [
                    {
                        "role": "user",
                        "content": [_IMAGE_BLOCK, {"type": "image_url", "image_url": 5}],
                    }
                ],
            },
        ),
    ],
    # (a `stop` of the wrong type is the API's 400: test_proxy_sampling.py)
    ids=["anthropic-image-source", "openai-image-url"],
)
def test_wrong_types_in_fields_the_local_translation_reads_are_not_a_500(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    path: str,
    body: dict[str, object],
) -> None:
    headers = ANTHROPIC_HEADERS if path == "/v1/messages" else OPENAI_HEADERS
    proxy = start_proxy(proxy_env, store=False)
    for response in whole_and_streamed(proxy, path, headers, body):
        assert response.status_code == 200, response.text
        assert response.headers["x-ocp-served-model"] == "llama3.2"  # the local model's


@pytest.mark.parametrize(
    ("method", "path", "headers", "status", "dialect"),
    [
        ("GET", "/v1/messages", ANTHROPIC_HEADERS, 405, "anthropic"),
        ("POST", "/v1/messages/batches", ANTHROPIC_HEADERS, 404, "anthropic"),
        ("POST", "/v1/complete", ANTHROPIC_HEADERS, 404, "anthropic"),
        ("POST", "/v1/responses", OPENAI_HEADERS, 404, "openai"),
        ("DELETE", "/v1/chat/completions", OPENAI_HEADERS, 405, "openai"),
    ],
)
def test_an_unknown_route_or_method_is_an_error_in_the_clients_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
    dialect: str,
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.request(method, path, headers=headers)
    assert response.status_code == status
    body = response.json()
    if dialect == "anthropic":
        assert body["type"] == "error"
    assert isinstance(body["error"]["type"], str)
    assert f"{method} {path}" in body["error"]["message"]


@pytest.mark.parametrize(
    "usage",
    [
        {"input_tokens": "lots"},
        {"input_tokens": {"a": 1}},
        {"cache_read_input_tokens": [1]},
        {"output_tokens": 1e400},
    ],
    ids=["string", "object", "list", "infinite"],
)
def test_an_odd_usage_figure_from_the_upstream_does_not_cost_the_client_its_answer(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    usage: dict[str, object],
) -> None:
    # Usage is read for accounting only; the answer is relayed as it came.
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        for stream in (False, True):
            fake_anthropic.add_steps({"text": "the answer", "usage": usage})
            response = http.post(
                "/v1/messages", json=messages_body(stream=stream), headers=ANTHROPIC_HEADERS
            )
            assert response.status_code == 200, response.text
            assert "answer" in response.text
            if stream:
                assert response.text.rstrip().endswith('data: {"type": "message_stop"}')
        _still_serving(http)


async def _rows(proxy: Proxy) -> list[dict[str, Any]]:
    return [asdict(r) for r in proxy.recorder.rows]


@pytest.mark.parametrize("stream", [False, True])
def test_a_client_leaving_before_the_paid_answer_starts_cancels_it_and_is_traced(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    stream: bool,
) -> None:
    # The upstream thinks for a minute before its first byte; the client hangs up (Esc in
    # Claude Code). The proxy stops waiting on its behalf, and the trace says so.
    fake_anthropic.delay = 60
    proxy = start_proxy(proxy_env, store=False)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            proxy.url + "/v1/messages",
            json=messages_body(stream=stream),
            headers=ANTHROPIC_HEADERS,
            timeout=httpx.Timeout(20, read=0.5),
        )
    rows: list[dict[str, Any]] = []
    deadline = time.monotonic() + 15  # a bound against a hang, not a timing assertion
    while not rows and time.monotonic() < deadline:
        time.sleep(0.05)
        rows = proxy.call(_rows)
    assert rows, "no trace: the proxy is still waiting on the upstream for a client that left"
    assert rows[0]["error"] == "the client went away before the answer"
    assert rows[0]["answered_tier"] is None


def test_a_web_page_cannot_spend_the_key_or_read_the_traces(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # A page the user visits can POST to 127.0.0.1 cross-site (text/plain needs no CORS
    # preflight), or reach it under its own name by DNS rebinding and read the answers.
    proxy = start_proxy(proxy_env | {"ANTHROPIC_API_KEY": "sk-ant-test"}, store=False)
    port = proxy.url.rsplit(":", 1)[1]
    body = json.dumps(messages_body()).encode()
    plain = {"content-type": "text/plain", "anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        cross_site = http.post(
            "/v1/messages", content=body, headers=plain | {"origin": "https://evil.example"}
        )
        rebound = http.get("/api/stats", headers={"host": f"rebind.evil.example:{port}"})
        assert fake_anthropic.message_requests() == []
        # Local programs and pages still are welcome.
        local_page = http.get("/api/stats", headers={"origin": "http://localhost:5173"})
        by_name = http.get("/api/stats", headers={"host": f"localhost:{port}"})
        sandboxed = http.get("/api/stats", headers={"origin": "null"})
        webview = http.get("/api/stats", headers={"origin": "vscode-webview://4f2a"})
        agent = http.post("/v1/messages", content=body, headers=plain)
    assert cross_site.status_code == 403
    assert cross_site.json()["error"]["type"] == "permission_error"
    assert rebound.status_code == 403
    assert "rebind.evil.example" in rebound.json()["error"]["message"]
    assert sandboxed.status_code == 403
    assert [r.status_code for r in (local_page, by_name, webview, agent)] == [200] * 4


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("max_tokens", -5),
        ("max_tokens", 0),
        ("max_tokens", True),
        ("max_tokens", "20"),
        ("max_completion_tokens", -1),
        ("max_completion_tokens", 2.5),
    ],
)
def test_an_openai_token_limit_that_is_not_a_positive_integer_is_a_400_naming_it(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    field: str,
    value: object,
) -> None:
    # Answered locally, `max_tokens: -5` reached Ollama as num_predict -5 (below 0: no limit
    # at all) and "20" was dropped; OpenAI refuses both, and so did the Anthropic dialect.
    proxy = start_proxy(proxy_env, store=False)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": SIMPLE}], field: value}
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post("/v1/chat/completions", headers=OPENAI_HEADERS, json=body)
        expected = f"{field}: expected a positive integer"
        _assert_dialect_400("/v1/chat/completions", response, expected)
        _still_serving(http)
    assert fake_ollama.requests_to("/api/chat") == []


@pytest.mark.parametrize(("path", "headers"), [r for r in ROUTES if "count" not in r[0]])
def test_a_model_name_longer_than_any_is_a_400_and_not_kept(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    path: str,
    headers: dict[str, str],
) -> None:
    # A 1 MB model name was answered, and kept whole in the dashboard's recent rows (500 of
    # them), its JSON and the stored trace.
    proxy = start_proxy(proxy_env)
    body = {
        "model": "m" * 1_000_000,
        "max_tokens": 10,
        "messages": [{"role": "user", "content": SIMPLE}],
    }
    with httpx.Client(base_url=proxy.url, timeout=30) as http:
        response = http.post(path, headers=headers, json=body)
        _assert_dialect_400(path, response, "model: expected a model name of at most 200")
        assert len(response.text) < 1_000
        assert http.get("/api/stats").json()["totals"]["requests"] == 0
