"""A non-streaming paid answer too long to hold: relayed as it comes (no cap, memory flat),
its usage found on the way; one short enough is still read whole and checked."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocp_server.proxy import Proxy
from ocp_server.proxy.json_field import TopLevelField
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, JSON, PATHS, messages_body, request_in
from tests.proxy.recorded import last_row

_PIECE = b"x" * 65536


# ---- finding the top-level usage in pieces ------------------------------------------------


TRICKY: dict[str, Any] = {
    "id": "msg_1",
    "type": "usage",  # a value that reads like the key
    "content": [
        {"type": "text", "text": 'he said "usage": {"input_tokens": 99} \\" \\\\'},
        {"type": "tool_use", "name": "f", "input": {"usage": {"input_tokens": 98}, "x": [[]]}},
        {"type": "text", "text": '\\\\\\"usage\\\\" {[}]'},
    ],
    "usage": {"input_tokens": 5, "output_tokens": 7, "nested": {"a": [1, {"b": "}"}]}},
    "stop_reason": "end_turn",
}


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 10_000])
def test_the_top_level_usage_is_found_however_the_body_is_cut(size: int) -> None:
    raw = json.dumps(TRICKY).encode()
    for offset in range(min(size, len(raw))):  # every alignment of the cuts
        field = TopLevelField("usage")
        pieces = [raw[:offset]] + [raw[i : i + size] for i in range(offset, len(raw), size)]
        for piece in pieces:
            field.feed(piece)
        assert field.value == TRICKY["usage"], (size, offset)
        assert field.whole


@pytest.mark.parametrize(
    ("raw", "cut_short"),
    [
        (b'{"usage": {"input_tokens": 5}', True),
        (b'{"text": "never closed', True),
        (b'{"text": "ends in an escape \\', True),
        (b"not json at all", False),
        (b"", False),
        (b'["usage", {"input_tokens": 5}]', False),  # not an object
        (b'{"a": 1}} and more', False),
    ],
)
def test_a_body_that_is_not_a_whole_object_says_so(raw: bytes, cut_short: bool) -> None:
    field = TopLevelField("usage")
    field.feed(raw)
    assert not field.whole
    assert field.cut_short is cut_short


def test_a_usage_too_long_to_be_one_is_not_held() -> None:
    field = TopLevelField("usage", limit=100)
    field.feed(b'{"usage": {"input_tokens": 5, "pad": "' + b"x" * 200 + b'"}, "usage": 3}')
    assert field.value is None and field.whole


# ---- on the wire ----------------------------------------------------------------------------


def _long_answer(dialect: str, mib: int) -> tuple[bytes, ...]:
    """A valid answer with `mib` MiB of text, usage 5 in / 7 out, in socket-sized chunks."""
    if dialect == "anthropic":
        head = b'{"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "'
        tail = b'"}], "usage": {"input_tokens": 5, "output_tokens": 7}}'
    else:
        head = b'{"id": "c1", "object": "chat.completion", "choices": [{"index": 0, '
        head += b'"message": {"role": "assistant", "content": "'
        tail = b'"}, "finish_reason": "stop"}], "usage": {"prompt_tokens": 5, '
        tail += b'"completion_tokens": 7}}'
    return (head, *(_PIECE,) * (16 * mib), tail)


def _post(proxy: RunningProxy, dialect: str, **extra: Any) -> httpx.Response:
    path, body, headers = request_in(dialect, **extra)
    with httpx.Client(base_url=proxy.url, timeout=60) as http:
        return http.post(path, json=body, headers=headers)


def _answer_next(
    dialect: str,
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    chunks: tuple[bytes, ...],
    status: int = 200,
    content_type: str = JSON,
    headers: dict[str, str] | None = None,
) -> None:
    fake = fake_anthropic if dialect == "anthropic" else fake_openai
    fake.raw_stream_next(chunks, content_type, path=PATHS[dialect], status=status, headers=headers)


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_paid_answer_longer_than_the_old_cap_is_relayed_whole_with_its_usage(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    dialect: str,
) -> None:
    chunks = _long_answer(dialect, 24)  # the old cap was 16 MiB: a 502
    _answer_next(dialect, fake_anthropic, fake_openai, chunks)
    proxy = start_proxy(proxy_env)
    response = _post(proxy, dialect)
    assert response.status_code == 200
    assert response.content == b"".join(chunks)
    assert response.headers["content-type"] == JSON
    row = proxy.call(last_row)
    assert row["error"] is None and row["answered_tier"] is not None
    assert (row["input_tokens"], row["output_tokens"]) == (5, 7)


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_paid_error_body_too_long_to_be_honest_is_a_readable_error_with_its_status(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
    dialect: str,
) -> None:
    head = b'{"type": "error", "error": {"type": "overloaded_error", "message": "'
    chunks = (head, *(_PIECE,) * 128, b'"}}')  # 8 MiB; a broken upstream may send without end
    retry = {"retry-after": "7", "x-request-id": "req_1"}
    _answer_next(dialect, fake_anthropic, fake_openai, chunks, 529, JSON, headers=retry)
    proxy = start_proxy(proxy_env)
    response = _post(proxy, dialect)
    assert response.status_code == 529
    assert response.headers["retry-after"] == "7" and response.headers["x-request-id"] == "req_1"
    message = response.json()["error"]["message"]
    assert message.startswith(
        f"the {dialect} upstream answered HTTP 529 with an error body over 65,536 bytes, "
        'not relayed; it began: {"type": "error", "error": {"type": "overloaded_error"'
    )
    assert len(response.content) < 1000
    row = proxy.call(last_row)
    assert row["status"] == 529 and row["answered_tier"] is None and row["error"] == message


def test_a_paid_error_body_within_the_cap_is_relayed_as_it_came(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> None:
    chunks = (b"<html><body>", b"gateway timeout " * 3000, b"</body></html>")  # 48 KB
    _answer_next("anthropic", fake_anthropic, fake_openai, chunks, 504, "text/html")
    proxy = start_proxy(proxy_env)
    response = _post(proxy, "anthropic")
    assert response.status_code == 504
    assert response.content == b"".join(chunks)
    assert response.headers["content-type"] == "text/html"


def test_a_count_tokens_error_body_too_long_is_a_readable_error_with_its_status(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    chunks = (b'{"type": "error", "error": {"message": "', *(_PIECE,) * 32, b'"}}')
    fake_anthropic.raw_stream_next(chunks, JSON, path="/v1/messages/count_tokens", status=500)
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=60) as http:
        response = http.post(
            "/v1/messages/count_tokens", json=messages_body(), headers=ANTHROPIC_HEADERS
        )
    assert response.status_code == 500
    assert response.json()["error"]["message"].startswith(
        "the Anthropic upstream answered HTTP 500 with an error body over 65,536 bytes"
    )


def test_a_long_paid_answer_that_is_not_json_is_relayed_and_noted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> None:
    chunks = (b"<html>", *(_PIECE,) * 32, b"</html>")
    _answer_next("anthropic", fake_anthropic, fake_openai, chunks, content_type="text/html")
    proxy = start_proxy(proxy_env)
    response = _post(proxy, "anthropic")
    assert response.status_code == 200  # sent before the end showed it
    assert response.content == b"".join(chunks)
    row = proxy.call(last_row)
    assert "not JSON" in row["error"] and row["answered_tier"] is None


@pytest.mark.parametrize("framing", ["chunked", "length", "close"])
def test_a_long_paid_answer_cut_short_fails_the_clients_read_and_is_traced_failed(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
    framing: str,
) -> None:
    # The 200 went out with the first MiB: the cut can only show as a read that fails, not as
    # a clean end that looks whole. Closing the connection ends a body framed by the close
    # itself (HTTP/1.1 allows it) cleanly, yet its JSON never closed.
    chunks = _long_answer("anthropic", 4)
    fake_anthropic.raw_stream_next(chunks, JSON, path="/v1/messages", framing=framing)
    fake_anthropic.drop_mid_stream(after=40)  # 2.5 MiB in
    proxy = start_proxy(proxy_env)
    with pytest.raises(httpx.RemoteProtocolError):
        _post(proxy, "anthropic")
    row = proxy.call(last_row)
    assert row["status"] == 200 and row["answered_tier"] is None
    assert row["error"] in (
        f"the anthropic upstream at {fake_anthropic.url}/v1/messages closed the connection "
        "mid-body (set by OCP_PROXY_ANTHROPIC_UPSTREAM)",
        "the upstream's answer ended before its JSON closed (cut short)",
    )
    assert [a["outcome"] for a in row["attempts"]] == ["error"]
    spent = proxy.call(_spent)
    proxy.stop()  # writes the trace
    with sqlite3.connect(tmp_path / "ocp.db") as conn:
        trace = conn.execute(
            "SELECT answered_tier, failed_cost_usd, cost_estimated, trace_json FROM traces"
        ).fetchone()
    answered, failed_cost, estimated, detail = trace
    assert answered is None and json.loads(detail)["error"] == row["error"]
    assert failed_cost > 0 and estimated == 1  # the input it read is billed, as an estimate
    assert spent == pytest.approx(failed_cost)


async def _spent(proxy: Proxy) -> float:
    return await proxy.router.ledger.spent_today()


def _random_value(rng: random.Random, depth: int) -> Any:
    kind = rng.choice(["str", "num", "obj", "list", "lit"] if depth < 4 else ["str", "num"])
    if kind == "str":
        return "".join(
            rng.choice(['"', "\\", "{", "}", "[", "]", "usage", " ", "é", "\n"])
            for _ in range(rng.randint(0, 6))
        )
    if kind == "num":
        return rng.choice([0, -1.5, 10**6])
    if kind == "lit":
        return rng.choice([True, False, None])
    if kind == "list":
        return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    keys = ["usage", "text", "input", '"usage"', "u\\sage"]
    return {rng.choice(keys): _random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))}


def test_the_top_level_usage_matches_what_json_reads_for_random_answers() -> None:
    rng = random.Random(37)
    for _ in range(400):
        answer = {k: _random_value(rng, 1) for k in rng.sample(["id", "usage", "content", "x"], 3)}
        if rng.random() < 0.7:
            answer["usage"] = {"input_tokens": rng.randint(0, 9), "n": [_random_value(rng, 2)]}
        raw = json.dumps(answer, ensure_ascii=rng.random() < 0.5).encode()
        field = TopLevelField("usage")
        at = 0
        while at < len(raw):
            step = rng.randint(1, 9)
            field.feed(raw[at : at + step])
            at += step
        expected = answer.get("usage")
        assert field.value == (expected if isinstance(expected, dict | list) else None), raw
        assert field.whole
