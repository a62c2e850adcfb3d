"""A client that hangs up while the answer is stalled (the upstream sent its headers, maybe a
first event, then nothing): the proxy closes its own connection to the upstream (the fake
records the hangup on the wire), so a paid request stops being billed and a local model stops
generating for nobody, and the trace says the client left. Nothing is escalated for it."""

from __future__ import annotations

import asyncio
import gc
import json
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from ocp_server.proxy import Proxy
from ocp_server.proxy.app import build_app
from ocp_server.savings import SavingsReport, savings_report
from tests.fakes._http import FakeServer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.proxy.conftest import RunningProxy
from tests.proxy.cut_short import leave_after, leave_waiting
from tests.proxy.dialects import ANTHROPIC_HEADERS, NDJSON, SIMPLE, SSE, messages_body
from tests.proxy.recorded import only_row

_HELLO = json.dumps({"message": {"role": "assistant", "content": "Hello"}, "done": False})
# A bound against a hang, not a timing assertion: the close comes at once or never.
_BOUND = 15
_HOLD = 120.0  # longer than any test: an upstream that would answer only after the bound


async def _rows(proxy: Proxy) -> list[dict[str, Any]]:
    return [asdict(r) for r in proxy.recorder.rows]


def _scope(path: str, body: bytes) -> dict[str, Any]:
    """An ASGI scope for a POST of `body` to `path`, as uvicorn builds it."""
    headers = {"host": "127.0.0.1", "content-length": str(len(body))} | ANTHROPIC_HEADERS
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 80),
    }


def _client_receiving(
    body: bytes, gone: asyncio.Event | None = None
) -> Callable[[], Awaitable[dict[str, Any]]]:
    """An ASGI `receive`: the request's body, then nothing while the proxy watches it as the
    upstream opens (that watch is cancelled once it has), then the hangup (once `gone` is set)."""
    received = 0

    async def receive() -> dict[str, Any]:
        nonlocal received
        received += 1
        if received == 1:
            return {"type": "http.request", "body": body, "more_body": False}
        if received == 2:
            await asyncio.Event().wait()
        if gone is not None:
            await gone.wait()
        return {"type": "http.disconnect"}

    return receive


def _closed(fake: FakeServer, path: str) -> bool:
    """Whether the client (the proxy) closed its connection to `fake` while held at `path`."""
    return fake.hung_up.wait(_BOUND) and [h.path for h in fake.hangups] == [path]


# ---- paid -------------------------------------------------------------------------------


@pytest.mark.parametrize("sent", ["headers", "an event"])
def test_a_client_leaving_a_stalled_paid_stream_closes_the_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    sent: str,
) -> None:
    first = b'event: ping\ndata: {"type": "ping"}\n\n'
    chunks = [first] if sent == "an event" else []
    fake_anthropic.hold_next(chunks, SSE, path="/v1/messages")
    proxy = start_proxy(proxy_env, store=False)
    leave_after(proxy, messages_body(stream=True), b"ping" if chunks else b"")
    assert _closed(fake_anthropic, "/v1/messages"), "the upstream connection stayed open"
    row = only_row(proxy)
    assert row["error"] == "the client went away mid-stream"


def test_a_client_leaving_a_long_paid_answer_closes_the_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    head = b'{"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "'
    fake_anthropic.hold_next([head, *(b"x" * 65536,) * 24], "application/json", path="/v1/messages")
    proxy = start_proxy(proxy_env, store=False)
    leave_after(proxy, messages_body(), b"xxxx")
    assert _closed(fake_anthropic, "/v1/messages"), "the upstream connection stayed open"
    assert only_row(proxy)["error"] == "the client went away mid-stream"


@pytest.mark.parametrize("sent", ["nothing", "headers", "part of the body"])
def test_a_client_leaving_a_stalled_token_count_closes_the_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    sent: str,
) -> None:
    path = "/v1/messages/count_tokens"
    if sent == "nothing":
        fake_anthropic.delay = _HOLD  # thinking, watching its client's socket
    else:
        chunks = [b'{"input_tokens": '] if sent == "part of the body" else []
        fake_anthropic.hold_next(chunks, "application/json", path=path)
    proxy = start_proxy(proxy_env, store=False)
    leave_waiting(proxy, messages_body(), path)
    assert _closed(fake_anthropic, path), "the upstream connection stayed open"


# ---- local ------------------------------------------------------------------------------


def test_a_client_leaving_a_stalled_local_stream_closes_the_local_model(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_ollama.hold_next([_HELLO.encode() + b"\n"], NDJSON, path="/api/chat")
    proxy = start_proxy(proxy_env, store=False)
    leave_after(proxy, messages_body(text=SIMPLE, stream=True), b"Hello")
    assert _closed(fake_ollama, "/api/chat"), "the local model is still answering for nobody"
    assert only_row(proxy)["error"] == "the client went away mid-stream"
    assert fake_anthropic.requests_to("/v1/messages") == []


@pytest.mark.parametrize(
    ("stream", "sent"), [(True, "headers"), (False, "headers"), (False, "a line")]
)
def test_a_client_leaving_before_the_local_answer_closes_the_local_model(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    stream: bool,
    sent: str,
) -> None:
    # The local model thinks (or, not streaming to the client, is still answering) when the
    # client hangs up: it is stopped, and the paid tier is not asked in its place.
    chunks = [_HELLO.encode() + b"\n"] if sent == "a line" else []
    fake_ollama.hold_next(chunks, NDJSON, path="/api/chat")
    proxy = start_proxy(proxy_env, store=False)
    leave_waiting(proxy, messages_body(text=SIMPLE, stream=stream))
    assert _closed(fake_ollama, "/api/chat"), "the local model is still answering for nobody"
    row = only_row(proxy)
    assert row["error"] == "the client went away before the answer"
    assert row["answered_tier"] is None
    assert fake_anthropic.requests_to("/v1/messages") == []


def test_a_client_gone_before_the_relay_starts_still_closes_the_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # The client hangs up in the moment between the upstream's headers reaching the proxy and
    # the proxy's own going out: the relay never starts, yet the upstream is closed and the
    # request traced. Driven through the ASGI app, where that moment can be chosen.
    fake_anthropic.hold_next([], SSE, path="/v1/messages")
    proxy = start_proxy(proxy_env, store=False)
    body = json.dumps(messages_body(stream=True)).encode()
    scope = _scope("/v1/messages", body)

    async def call(p: Proxy) -> list[MutableMapping[str, Any]]:
        sent: list[MutableMapping[str, Any]] = []

        async def send(message: MutableMapping[str, Any]) -> None:
            sent.append(message)

        # gone at once, before the relay's first step
        await build_app(p)(scope, _client_receiving(body), send)
        return sent

    proxy.call(call)
    assert _closed(fake_anthropic, "/v1/messages"), "the upstream connection stayed open"
    assert only_row(proxy)["error"] == "the client went away mid-stream"


@pytest.mark.parametrize("answer", ["paid stream", "long paid answer", "local stream"])
def test_a_client_leaving_while_the_relay_waits_on_it_closes_the_upstream(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_ollama: FakeOllama,
    answer: str,
) -> None:
    # The client stopped reading, so the relay waits on it to send, and then it hangs up: the
    # server cancels the send and leaves the relay suspended there. The upstream must close
    # then, not whenever the garbage collector finds the relay (collection is off here, as it
    # may not come for minutes). Driven through the ASGI app, where that moment can be chosen.
    fake: FakeServer
    if answer == "local stream":
        fake, upstream = fake_ollama, "/api/chat"
        fake.hold_next([_HELLO.encode() + b"\n"], NDJSON, path=upstream)
        request = messages_body(text=SIMPLE, stream=True)
    else:
        fake, upstream = fake_anthropic, "/v1/messages"
        if answer == "paid stream":
            fake.hold_next([b'event: ping\ndata: {"type": "ping"}\n\n'], SSE, path=upstream)
        else:
            head = b'{"id": "msg_1", "type": "message", "content": [{"type": "text", "text": "'
            fake.hold_next([head, *(b"x" * 65536,) * 24], "application/json", path=upstream)
        request = messages_body(stream=answer == "paid stream")
    proxy = start_proxy(proxy_env, store=False)
    body = json.dumps(request).encode()

    async def call(p: Proxy) -> None:
        stuck = asyncio.Event()

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.body":  # a client that stopped reading
                stuck.set()
                await asyncio.Event().wait()

        await build_app(p)(_scope("/v1/messages", body), _client_receiving(body, stuck), send)

    gc.disable()
    try:
        proxy.call(call)
        assert _closed(fake, upstream), "the upstream connection stayed open"
    finally:
        gc.enable()
    assert only_row(proxy)["error"] == "the client went away mid-stream"


def test_a_client_leaving_while_phase_2_judges_it_closes_the_local_classifier(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    # An ambiguous request (the simple one is, at the widest margin round a low threshold)
    # asks the local model for a verdict first: the client that hung up meanwhile left it
    # judging for nobody until the classifier's timeout.
    fake_ollama.hold_next([], NDJSON, path="/api/chat")  # the verdict that never comes
    env = proxy_env | {
        "OCP_AMBIGUOUS_MARGIN": "0.5",
        "OCP_ROUTE_THRESHOLD": "0.1",
        "OCP_CLASSIFIER_TIMEOUT": str(_HOLD),
    }
    proxy = start_proxy(env, store=False)
    leave_waiting(proxy, messages_body(text=SIMPLE, stream=False))
    assert _closed(fake_ollama, "/api/chat"), "the classifier is still judging for nobody"
    (judged,) = fake_ollama.requests_to("/api/chat")
    assert "You route coding requests" in json.dumps(judged.body)  # phase 2's, not an answer
    row = only_row(proxy)
    assert row["status"] == 499 and row["answered_tier"] is None
    assert len(fake_ollama.requests_to("/api/chat")) == 1
    assert fake_anthropic.requests_to("/v1/messages") == []


def test_a_request_left_while_phase_2_judged_it_is_counted_under_no_phase(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    tmp_path: Path,
) -> None:
    # No verdict was reached: its trace said phase `heuristic`, and `stats` counted it as
    # decided by phase 1's heuristics.
    fake_ollama.hold_next([], NDJSON, path="/api/chat")
    env = proxy_env | {
        "OCP_AMBIGUOUS_MARGIN": "0.5",
        "OCP_ROUTE_THRESHOLD": "0.1",
        "OCP_CLASSIFIER_TIMEOUT": str(_HOLD),
    }
    proxy = start_proxy(env)
    leave_waiting(proxy, messages_body(text=SIMPLE, stream=False))
    assert only_row(proxy)["status"] == 499
    proxy.stop()  # writes what is queued
    with sqlite3.connect(tmp_path / "ocp.db") as db:
        assert db.execute("SELECT phase, proxied FROM traces").fetchall() == [(None, 1)]

    async def report() -> SavingsReport:
        async with aiosqlite.connect(tmp_path / "ocp.db") as db:
            return await savings_report(db, since=None)

    stats = asyncio.run(report())
    assert stats["routes"] == 1 and sum(stats["by_phase"].values()) == 0, stats["by_phase"]
