"""The knobs every fake model server shares, as seen by independent clients: latency, faults
(drops, malformed answers, failures on demand) and the recording of requests and hang-ups.

No test sleeps: only the fakes' own ``delay`` / ``stream_delay`` knobs create latency, and every
client call has a bounded timeout."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time

import anthropic
import httpx
import pytest

from tests.fake_wire import SONNET, TIMEOUT, USER_HI, claude
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI, closed_port
from tests.fakes._http import Request, Response, StreamResponse


def test_a_client_timeout_fires_against_a_slow_fake() -> None:
    # An answer a minute away: only the client's timeout ends the wait, and the fake sees the
    # client hang up (a timed bound here measured the machine's load, not the fake).
    with FakeOllama(delay=60.0) as fake:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(fake.url + "/api/tags", timeout=httpx.Timeout(0.3))
        assert fake.hung_up.wait(30) and fake.hangups[0].path == "/api/tags"
        fake.delay = 0.0
        assert httpx.get(fake.url + "/api/tags", timeout=TIMEOUT).status_code == 200


async def test_the_anthropic_sdk_times_out_against_a_slow_fake() -> None:
    async with FakeAnthropic(delay=5.0) as fake, claude(fake, timeout=0.3) as client:
        with pytest.raises(anthropic.APITimeoutError):
            await client.messages.create(model=SONNET, max_tokens=10, messages=USER_HI)


async def test_a_refused_connection_is_a_connect_error_for_every_client(refused_url: str) -> None:
    with pytest.raises(httpx.ConnectError):
        httpx.get(refused_url + "/api/tags", timeout=TIMEOUT)
    async with anthropic.AsyncAnthropic(
        base_url=refused_url, api_key="sk-ant-test", max_retries=0, timeout=5.0
    ) as client:
        with pytest.raises(anthropic.APIConnectionError):
            await client.messages.create(model=SONNET, max_tokens=10, messages=USER_HI)
    assert refused_url.startswith("http://127.0.0.1:") and closed_port() > 0


def test_stream_lines_arrive_one_by_one_not_all_at_the_end() -> None:
    # A minute between two lines: with the first in hand the client leaves, and the fake,
    # still waiting to send the second, sees it go. A stream held to its end would have come
    # whole once the fake had finished, with nobody left to see the client go.
    with FakeOllama(reply="a b c d", stream_delay=60.0) as fake:
        with httpx.stream(
            "POST",
            fake.url + "/api/chat",
            json={"model": "llama3.2", "messages": USER_HI},
            timeout=TIMEOUT,
        ) as r:
            first = json.loads(next(r.iter_lines()))
        assert first["done"] is False
        assert fake.hung_up.wait(30) and fake.hangups[0].path == "/api/chat"


@pytest.mark.parametrize("answer", ["a stream", "a whole body"])
def test_a_client_gone_before_the_fake_answers_is_a_hangup(answer: str) -> None:
    # On a loaded machine the fake may begin its answer after the client has left: its writes
    # fail, and that is the client hanging up too (a test waiting for it waited in vain).
    left = threading.Event()

    class Late(FakeOllama):
        def handle(self, req: Request) -> Response | StreamResponse:
            left.wait(30)
            return super().handle(req)

    with Late(stream_delay=60.0) as fake:
        body = json.dumps(
            {"model": "llama3.2", "messages": USER_HI, "stream": answer != "a whole body"}
        )
        with socket.create_connection(("127.0.0.1", fake.port)) as client:
            client.sendall(
                b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body.encode())
            )
            while not fake.requests:
                time.sleep(0.01)
            # Reset, as a client closing with unread bytes does: the fake's next write fails.
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        left.set()
        assert fake.hung_up.wait(30) and [h.path for h in fake.hangups] == ["/api/chat"]


def test_drop_and_malformed_faults_break_the_response_like_a_real_network_would(
    fake_ollama: FakeOllama,
) -> None:
    fake_ollama.drop_next()
    fake_ollama.malformed_next(path="/api/tags")
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/api/version")
        garbled = http.get("/api/tags")
        assert garbled.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            garbled.json()
        assert http.get("/api/tags").json()["models"]


def test_a_dropped_stream_ends_without_the_final_line(fake_ollama: FakeOllama) -> None:
    fake_ollama.drop_mid_stream(after=2)
    got: list[str] = []
    with pytest.raises(httpx.RemoteProtocolError):
        with httpx.stream(
            "POST",
            fake_ollama.url + "/api/chat",
            json={"model": "llama3.2", "messages": USER_HI},
            timeout=TIMEOUT,
        ) as r:
            for line in r.iter_lines():
                got.append(line)
    assert len([line for line in got if line]) <= 2


def test_fail_next_uses_the_vendor_error_body_and_a_path_filter(fake_ollama: FakeOllama) -> None:
    fake_ollama.fail_next(503, times=2, path="/api/chat")
    fake_ollama.fail_next(500, body={"error": "custom"}, headers={"x-extra": "1"})
    with httpx.Client(base_url=fake_ollama.url, timeout=TIMEOUT) as http:
        tags = http.get("/api/tags")  # not /api/chat: skips the first fault, takes the second
        chat1 = http.post("/api/chat", json={"model": "llama3.2", "messages": USER_HI})
        chat2 = http.post("/api/chat", json={"model": "llama3.2", "messages": USER_HI})
        chat3 = http.post("/api/chat", json={"model": "llama3.2", "messages": USER_HI})
    assert (tags.status_code, tags.json(), tags.headers["x-extra"]) == (
        500,
        {"error": "custom"},
        "1",
    )
    assert chat1.status_code == chat2.status_code == 503
    assert "server busy" in chat1.json()["error"]
    assert chat3.status_code == 200


def test_every_request_is_recorded_with_method_path_query_headers_and_body(
    fake_openai: FakeOpenAI,
) -> None:
    with httpx.Client(base_url=fake_openai.url, timeout=TIMEOUT) as http:
        http.get("/v1/models?limit=5", headers={"X-Trace": "abc"})
        http.post("/v1/chat/completions", json={"model": "m", "messages": USER_HI})
        http.post(
            "/v1/chat/completions", content=b"not json", headers={"content-type": "text/plain"}
        )
    first, second, third = fake_openai.requests
    method, path, query, headers, body = first
    assert (method, path, query, body) == ("GET", "/v1/models", {"limit": "5"}, None)
    assert headers["x-trace"] == "abc"
    assert second.body == {"model": "m", "messages": USER_HI}
    assert third.body == "not json"
    assert fake_openai.requests_to("/v1/chat/completions", "POST") == [second, third]
    assert fake_openai.errors == []


def test_a_slow_fake_records_a_client_that_hangs_up_and_not_one_that_waits() -> None:
    body = json.dumps({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]})
    request = (
        f"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    with FakeOllama(delay=30.0) as fake:
        waiting = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
        leaving = socket.create_connection(("127.0.0.1", fake.port), timeout=5)
        try:
            waiting.sendall(request)
            leaving.sendall(request)
            while len(fake.requests) < 2:
                time.sleep(0.01)
            leaving.close()
            assert fake.hung_up.wait(5)
            # Only the client that left: the one still waiting is not mistaken for it.
            assert [h.path for h in fake.hangups] == ["/api/chat"]
        finally:
            waiting.close()
