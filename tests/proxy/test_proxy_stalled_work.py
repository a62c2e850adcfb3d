"""The proxy's own work on a large body that never finishes (a hang, not a crash: a step
that waits forever, as a pathological input could make one): the client gets a clear error
within OCP_PROXY_WORK_TIMEOUT, later requests get threads of their own, and the proxy still
stops, in a test's thread and as `ocp-server proxy`. Each step is made to hang where the
proxy calls it, as tests/proxy/test_proxy_large_bodies.py watches them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocp_router import OCPRouter
from ocp_server.off_loop import OFF_LOOP_CHARS
from ocp_server.proxy import admission, paid, serving, upstream
from ocp_server.proxy.boundary import redact_body
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, OPENAI_HEADERS
from tests.proxy.proxy_process import read_until

STALL = "please-stall-here"  # a request whose text holds this makes the patched step hang

# The steps whose cost grows with the body: (where the proxy finds it, its name).
STEPS: list[tuple[Any, str]] = [
    (admission, "parse_body"),
    (serving, "parse_payload"),
    (OCPRouter, "assess"),
    (paid, "redact_body"),
    (upstream, "request_bytes"),
]


def _holds_stall(args: tuple[Any, ...]) -> bool:
    """Whether a step's arguments are (or hold) the stalling request."""
    for arg in args:
        if isinstance(arg, bytes | bytearray) and STALL.encode() in arg:
            return True
        if isinstance(arg, dict) and STALL in str(arg.get("messages")):
            return True
        if STALL in str(getattr(arg, "user_turn", "")):
            return True
    return False


class Hang:
    """A step patched to wait forever on the stalling request (until the test ends)."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.entered: list[threading.Thread] = []

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            if _holds_stall(args):
                self.entered.append(threading.current_thread())
                self.release.wait()
            return fn(*args, **kwargs)

        return step


@pytest.fixture
def hang() -> Iterator[Hang]:
    held = Hang()
    yield held
    held.release.set()  # whatever the outcome, no thread of the test is left waiting


def _body(path: str, text: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "messages": [{"role": "user", "content": text}],
    }
    if path == "/v1/messages":
        body["max_tokens"] = 100
    return body


# Large enough for the collector to be paused, and hard enough for the paid tier (redacted,
# sent); a small body is worked on off the event loop as well (a few hundred bytes can be slow).
LARGE = HARD + " " + "the service logs show retries. " * (2 * OFF_LOOP_CHARS // 31)
SMALL = HARD


@pytest.mark.parametrize("text", [LARGE, SMALL], ids=["large", "small"])
@pytest.mark.parametrize(("where", "name"), STEPS, ids=[name for _, name in STEPS])
@pytest.mark.parametrize(
    ("path", "headers"),
    [("/v1/messages", ANTHROPIC_HEADERS), ("/v1/chat/completions", OPENAI_HEADERS)],
    ids=["anthropic", "openai"],
)
def test_a_step_that_hangs_is_a_clear_error_in_time_and_the_proxy_still_serves_and_stops(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    hang: Hang,
    monkeypatch: pytest.MonkeyPatch,
    where: Any,
    name: str,
    path: str,
    headers: dict[str, str],
    text: str,
) -> None:
    monkeypatch.setattr(where, name, hang.wrap(getattr(where, name)))
    proxy = start_proxy(proxy_env | {"OCP_PROXY_WORK_TIMEOUT": "1"}, store=False)
    with httpx.Client(base_url=proxy.url, timeout=15) as http:
        for _ in range(2):  # each leaves a thread behind, hanging
            stalled = http.post(path, headers=headers, json=_body(path, text + STALL))
            assert stalled.status_code == 500, stalled.text
            message = stalled.json()["error"]["message"]
            assert "OCP_PROXY_WORK_TIMEOUT" in message and "1 s" in message, message
            # the same body would hang again: an SDK's automatic retries would only wait
            assert stalled.headers["x-should-retry"] == "false"
        assert len(hang.entered) == 2 and all(t.is_alive() for t in hang.entered)
        served = http.post(path, headers=headers, json=_body(path, text))
        assert served.status_code == 200, served.text
    proxy.stop()  # asserts the proxy's thread ended: the hanging ones do not hold it
    assert all(t.is_alive() for t in hang.entered)  # still waiting: nothing was released


def test_a_small_body_slow_to_work_on_holds_up_no_other_request(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    hang: Hang,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Under 50,000 bytes every step ran on the event loop: 48 KB that redaction reads slowly
    # ("key=" over and over) held every other client 190-300 ms; a step that hung held them
    # for good. Here the redaction of a small body waits until a health check has come back.
    monkeypatch.setattr(paid, "redact_body", hang.wrap(redact_body))
    proxy = start_proxy(proxy_env, store=False)
    slow: list[httpx.Response] = []
    path, body = "/v1/messages", _body("/v1/messages", SMALL + STALL)

    def send() -> None:
        slow.append(httpx.post(proxy.url + path, headers=ANTHROPIC_HEADERS, json=body, timeout=30))

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    deadline = time.monotonic() + 30
    while not hang.entered and time.monotonic() < deadline:
        time.sleep(0.01)
    assert hang.entered, "the slow step was never reached"
    with httpx.Client(base_url=proxy.url, timeout=10) as http:
        # the event loop is free
        assert http.get("/health").json() == {"ok": True, "service": "ocp-proxy"}
        other = http.post(path, headers=ANTHROPIC_HEADERS, json=_body(path, SMALL))
        assert other.status_code == 200, other.text
    assert not slow  # still held
    hang.release.set()
    sender.join(30)
    assert slow and slow[0].status_code == 200, slow


_HANGING_PROXY = """
import sys, threading
from ocp_server.proxy import paid
real, forever = paid.redact_body, threading.Event()
def redact_body(body):
    if "please-stall-here" in str(body.get("messages")):
        print("hanging", file=sys.stderr, flush=True)
        forever.wait()
    return real(body)
paid.redact_body = redact_body
from ocp_server.cli import main
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_ocp_server_proxy_stops_while_a_step_hangs(
    proxy_env: dict[str, str], tmp_path: Path, stop: signal.Signals
) -> None:
    # The request is not answered before the stop: only the stop is tested here.
    env = os.environ | proxy_env | {"OCP_PROXY_WORK_TIMEOUT": "600"}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HANGING_PROXY, "proxy", "--port", "0"],
        cwd=tmp_path,
        env=env | {"OCP_PROXY_SHUTDOWN_GRACE": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    answers: list[int | str] = []

    def send(url: str) -> None:
        path = "/v1/messages"
        try:
            body = _body(path, LARGE + STALL)
            answers.append(
                httpx.post(url + path, headers=ANTHROPIC_HEADERS, json=body, timeout=60).status_code
            )
        except httpx.HTTPError as exc:
            answers.append(type(exc).__name__)

    try:
        url = read_until(proc, "proxy on").split("proxy on ", 1)[1].split()[0]
        client = threading.Thread(target=send, args=(url,), daemon=True)
        client.start()
        assert "hanging" in read_until(proc, "hanging")
        proc.send_signal(stop)
        proc.communicate(timeout=30)  # raises TimeoutExpired if it does not end
        assert proc.returncode == 0  # unwound, not ended by the signal (-15 before)
        client.join(30)
        assert answers and answers[0] != 200  # given up: an error or the connection closed
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()
