"""A large request's parsing, judging, redaction and serialising run in a worker thread, not
on the proxy's event loop: there, a 30 MB conversation held every other request and stream
for 1.4 to 4.5 seconds (bench/bench_proxy_stall.py measures it). Each step is watched where
the proxy calls it, and the thread it ran in is what is checked."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from ocp_server.collector import collecting as collector_on
from ocp_server.off_loop import OFF_LOOP_CHARS
from ocp_server.proxy import admission, base, paid, serving, upstream
from ocp_server.proxy.boundary import redact_body
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, OPENAI_HEADERS

# The proxy's steps whose cost grows with the body, by the name it calls them by.
WATCHED = [
    (admission, "parse_body"),
    (serving, "parse_payload"),
    (paid, "redact_body"),
    (base, "estimate_tokens"),
    (upstream, "request_bytes"),
]


@pytest.fixture
def threads_of_steps(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, set[str]]]:
    """Each watched step's name -> the names of the threads it ran in."""
    seen: dict[str, set[str]] = {}

    def watch(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def watched(*args: Any, **kwargs: Any) -> Any:
            seen.setdefault(name, set()).add(threading.current_thread().name)
            return fn(*args, **kwargs)

        return watched

    for module, name in WATCHED:
        monkeypatch.setattr(module, name, watch(name, getattr(module, name)))
    yield seen


def _body(path: str, size: int) -> dict[str, Any]:
    text = HARD + " " + "the service logs show retries. " * (size // 31)
    body: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "messages": [{"role": "user", "content": text}],
    }
    if path == "/v1/messages":
        body["max_tokens"] = 100
    return body


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1/messages", ANTHROPIC_HEADERS), ("/v1/chat/completions", OPENAI_HEADERS)],
)
def test_a_paid_request_large_or_small_is_parsed_judged_and_redacted_off_the_event_loop(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    threads_of_steps: dict[str, set[str]],
    path: str,
    headers: dict[str, str],
) -> None:
    proxy = start_proxy(proxy_env, store=False)  # its loop runs in the thread named "proxy"
    with httpx.Client(base_url=proxy.url, timeout=60) as http:
        small = http.post(path, headers=headers, json=_body(path, 1_000))
        assert small.status_code == 200, small.text
        on_loop = {name: set(threads) for name, threads in threads_of_steps.items()}
        threads_of_steps.clear()
        large = http.post(path, headers=headers, json=_body(path, 2 * OFF_LOOP_CHARS))
        assert large.status_code == 200, large.text
    # A small request leaves the loop too: its bytes do not bound its work (48 KB slow to
    # redact took 190-300 ms there), and a hand-over to an idle thread costs about 40 us.
    for steps in (on_loop, threads_of_steps):
        assert {"parse_body", "parse_payload", "redact_body", "request_bytes"} <= set(steps)
        for name, threads in steps.items():
            assert "proxy" not in threads, f"{name} ran on the event loop"


def test_a_large_requests_redaction_runs_with_the_collector_paused(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Redaction walks every text of the parsed body and makes a result for each: the collector
    # ran a full collection over the whole body in the middle of it (0.8 s holding the GIL
    # for 30 MB of 60,000 messages, in its worker thread: the event loop waited), finding
    # nothing, as what it builds holds no cycles.
    collecting: list[bool] = []

    def watched(body: dict[str, Any]) -> Any:
        collecting.append(collector_on())
        return redact_body(body)

    monkeypatch.setattr(paid, "redact_body", watched)
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=60) as http:
        for size in (1_000, 2 * OFF_LOOP_CHARS):
            answer = http.post(
                "/v1/messages", headers=ANTHROPIC_HEADERS, json=_body("/v1/messages", size)
            )
            assert answer.status_code == 200, answer.text
    assert collecting == [True, False]
    assert collector_on()
