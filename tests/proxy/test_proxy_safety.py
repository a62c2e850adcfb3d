"""Admission: the proxy's token, size limits, loops, the bind address; traces in the store
`ocp-server stats` reads; sticky sessions; the dashboard's JSON."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest

from ocp_server.cli import main
from ocp_server.proxy import local_answer
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import (
    ANTHROPIC_HEADERS,
    HARD,
    SDK_MESSAGE,
    SIMPLE,
    chat_body,
    messages_body,
)

TOKEN = "proxy-token-123456"


def test_with_a_token_set_every_route_needs_it(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_PROXY_TOKEN": TOKEN}, store=False)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        refused = [
            http.post("/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS),
            http.post("/v1/chat/completions", json=chat_body(SIMPLE)),
            http.post("/v1/messages/count_tokens", json=messages_body()),
            http.get("/v1/models"),
            http.get("/v1/models/llama3.2"),
            http.get("/ui"),
            http.get("/api/stats"),
        ]
        assert [r.status_code for r in refused] == [401] * 7
        assert refused[0].json()["error"]["type"] == "authentication_error"
        assert "OCP_PROXY_TOKEN" in refused[1].json()["error"]["message"]
        assert http.get("/ui", params={"token": TOKEN}).status_code == 200
        bearer = {"authorization": f"Bearer {TOKEN}"}
        assert http.get("/api/stats", headers=bearer).status_code == 200
        assert http.get("/v1/models", headers=bearer).status_code == 200
        assert http.get("/v1/models/llama3.2", headers=bearer).status_code == 200


def test_a_client_keeps_its_own_key_and_sends_the_token_beside_it(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(
        proxy_env | {"OCP_PROXY_TOKEN": TOKEN, "ANTHROPIC_API_KEY": "sk-ant-test"}, store=False
    )
    own_key = anthropic.Anthropic(
        base_url=proxy.url,
        api_key="sk-ant-test",
        max_retries=0,
        default_headers={"x-ocp-proxy-token": TOKEN},
    )
    token_as_key = anthropic.Anthropic(base_url=proxy.url, api_key=TOKEN, max_retries=0)
    with own_key, token_as_key:
        own_key.messages.create(**SDK_MESSAGE)
        token_as_key.messages.create(**SDK_MESSAGE)
    sent = [r.headers for r in fake_anthropic.requests_to("/v1/messages")]
    assert all(TOKEN not in json.dumps(h) for h in sent)
    # the token used as the key: the environment's key goes upstream instead
    assert sent[1]["x-api-key"] == "sk-ant-test"
    assert "authorization" not in sent[1]


def test_a_body_over_the_limit_is_a_413_in_each_dialect(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_PROXY_MAX_BODY_BYTES": "2000"}, store=False)
    big = "x" * 5000
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        a = http.post("/v1/messages", json=messages_body(text=big), headers=ANTHROPIC_HEADERS)
        o = http.post("/v1/chat/completions", json=chat_body(big))

        def chunks() -> Iterator[bytes]:  # no content-length: counted while reading
            yield b'{"model": "m", "messages": [{"role": "user", "content": "'
            yield b"y" * 5000
            yield b'"}]}'

        chunked = http.post("/v1/chat/completions", content=chunks())
    assert a.status_code == 413
    assert a.json()["error"]["type"] == "request_too_large"
    assert "OCP_PROXY_MAX_BODY_BYTES" in a.json()["error"]["message"]
    assert o.status_code == 413 and o.json()["error"]["code"] == "request_too_large"
    assert chunked.status_code == 413


def test_a_request_that_loops_back_to_the_proxy_is_refused(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        response = http.post(
            "/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS | {"x-ocp-proxy": "1"}
        )
    assert response.status_code == 508
    assert "points at itself" in response.json()["error"]["message"]


def test_a_model_list_asked_of_an_upstream_that_is_the_proxy_is_refused(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    # An OpenAI client's list is its upstream's while the paid backend is anthropic: pointed at
    # the proxy itself, each answer asked the proxy again, without end.
    proxy = start_proxy(proxy_env, store=False)
    looped = {"authorization": "Bearer sk-openai", "x-ocp-proxy": "1"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        listed = http.get("/v1/models", headers=looped)
        one = http.get("/v1/models/gpt-4o", headers=looped)
    for response in (listed, one):
        assert response.status_code == 508
        assert "points at itself" in response.json()["error"]["message"]


def test_binding_beyond_loopback_without_a_token_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["proxy", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "set OCP_PROXY_TOKEN" in capsys.readouterr().err


def test_a_bad_port_option_is_named_as_the_option_not_the_variable(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["proxy", "--port", "99999"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and "--port" in err and "65535" in err
    assert "OCP_PROXY_PORT" not in err


def test_the_cli_says_where_it_listens_on_stderr_and_nothing_on_stdout(
    proxy_env: dict[str, str], tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ocp_server.cli", "proxy", "--port", "0"],
        cwd=tmp_path,
        env={**os.environ, **proxy_env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        line = ""
        deadline = time.monotonic() + 60
        while "proxy on" not in line and time.monotonic() < deadline:
            line = proc.stderr.readline()
        url = line.split("proxy on ", 1)[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/health", timeout=10).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert out == ""


def test_a_port_already_taken_is_one_line_naming_it_not_a_traceback(
    proxy_env: dict[str, str], tmp_path: Path
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "ocp_server.cli", "proxy", "--port", str(port)],
            cwd=tmp_path,
            env={**os.environ, **proxy_env},
            capture_output=True,
            text=True,
            timeout=120,
        )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 1 and done.stdout == ""
    assert len(lines) == 1, done.stderr
    assert f"127.0.0.1:{port}" in lines[0] and "in use" in lines[0] and "--port" in lines[0]


def test_requests_are_traced_in_the_store_that_stats_reads_without_contents(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS)
        http.post("/v1/messages", json=messages_body(text=HARD), headers=ANTHROPIC_HEADERS)
    proxy.stop()
    with sqlite3.connect(tmp_path / "ocp.db") as db:
        rows = db.execute(
            "SELECT route_to, tier, answered_tier, request, model, trace_json FROM traces "
            "ORDER BY created_at"
        ).fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [
        ("local", "local", "local"),
        ("paid", "top", "top"),
    ]
    assert [r[3] for r in rows] == ["", ""]  # no contents without OCP_TRACE_CONTENT=1
    assert [r[4] for r in rows] == ["llama3.2", "claude-opus-5-5"]
    detail = json.loads(rows[1][5])
    assert (detail["source"], detail["dialect"]) == ("proxy", "anthropic")
    assert SIMPLE not in rows[0][5] and HARD not in rows[1][5]
    env = {"OCP_DB_PATH": str(tmp_path / "ocp.db")}
    assert _stats(tmp_path / "ws", env, capsys)["routes"] == 2


def _stats(
    workspace: Path, env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert main(["stats", "--json", "--workspace", str(workspace)]) == 0
    stats: dict[str, Any] = json.loads(capsys.readouterr().out)
    return stats


def test_contents_are_traced_redacted_with_trace_content_on(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], tmp_path: Path
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_TRACE_CONTENT": "1"})
    aws = "AKIA" + "QW7B3PDKHX4PY8GP"  # not AWS's documented example, a placeholder
    text = f"{SIMPLE} token {aws}"
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(text=text), headers=ANTHROPIC_HEADERS)
    proxy.stop()
    with sqlite3.connect(tmp_path / "ocp.db") as db:
        (request,) = db.execute("SELECT request FROM traces").fetchone()
    assert request.startswith(SIMPLE) and aws not in request


def test_contents_traced_hold_no_token_glued_to_a_word(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], tmp_path: Path
) -> None:
    # hf_ glued to a word: prose leaves it (a shorter prefix), memory does not (at_rest.py).
    body = "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue"
    proxy = start_proxy(proxy_env | {"OCP_TRACE_CONTENT": "1"})
    text = f"{SIMPLE} with the model at cache/model{'hf_'}{body}"
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(text=text), headers=ANTHROPIC_HEADERS)
    proxy.stop()
    with sqlite3.connect(tmp_path / "ocp.db") as db:
        (request,) = db.execute("SELECT request FROM traces").fetchone()
    assert request.endswith("cache/model[REDACTED:huggingface_token]")
    assert body not in (tmp_path / "ocp.db").read_bytes().decode("latin-1")


def test_sticky_upward_keeps_a_session_at_the_highest_tier_it_reached(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env | {"OCP_STICKY": "upward"}, store=False)
    session = {"x-ocp-session": "s-1"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        for text in (SIMPLE, HARD, SIMPLE):
            http.post(
                "/v1/messages", json=messages_body(text=text), headers=ANTHROPIC_HEADERS | session
            )
        other = http.post(
            "/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS
        )
        stats = http.get("/api/stats").json()
    tiers = [r["answered_tier"] for r in reversed(stats["recent"])]
    assert tiers == ["local", "top", "top", "local"]
    assert other.headers["x-ocp-served-model"] == "llama3.2"
    assert [s["tier"] for s in stats["sticky"]] == ["top"]


def test_the_dashboard_and_its_json_show_the_requests_made(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(proxy_env, store=False)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS)
        http.post("/v1/messages", json=messages_body(text=HARD), headers=ANTHROPIC_HEADERS)
        http.post("/v1/chat/completions", json=chat_body(SIMPLE))
        page = http.get("/ui")
        stats = http.get("/api/stats").json()
    assert page.status_code == 200
    assert "<script>" in page.text  # inline: no CDN, nothing fetched but /api/stats
    assert "src=" not in page.text and "<link" not in page.text
    assert "/api/stats" in page.text
    totals = stats["totals"]
    assert totals["requests"] == 3
    assert totals["tiers"] == {"local": 2, "mid": 0, "top": 1, "none": 0}
    assert totals["counterfactual_usd"] > totals["cost_usd"] > 0
    assert sum(stats["latency"]["counts"]) == 3
    assert sum(s["local"] + s["top"] for s in stats["series"]) == 3
    assert [r["dialect"] for r in stats["recent"]] == ["openai", "anthropic", "anthropic"]


def test_settings_errors_name_the_variable() -> None:
    from ocp_router.errors import ConfigError
    from ocp_server.proxy import ProxySettings

    with pytest.raises(ConfigError, match="OCP_PROXY_CEILING='up' is invalid"):
        ProxySettings.from_env({"OCP_PROXY_CEILING": "up"})
    with pytest.raises(ConfigError, match="OCP_PROXY_TOKEN=<hidden>"):
        ProxySettings.from_env({"OCP_PROXY_TOKEN": "short"})
    with pytest.raises(ConfigError, match="OCP_PROXY_UPSTREAM_TIMEOUT='inf' is invalid"):
        ProxySettings.from_env({"OCP_PROXY_UPSTREAM_TIMEOUT": "inf"})


async def test_shutdown_writes_every_queued_trace(
    tmp_path: Path, proxy_env: dict[str, str]
) -> None:
    from ocp_server.proxy import ProxySettings, open_proxy
    from ocp_server.proxy.recorder import ProxyRecord
    from ocp_server.settings import ServerSettings

    ws = tmp_path / "ws"
    ws.mkdir()
    settings = ProxySettings.from_env(proxy_env)
    async with open_proxy(
        settings, ws, env=proxy_env, server_settings=ServerSettings(db_path=tmp_path / "o.db")
    ) as proxy:
        for i in range(50):
            proxy.recorder.add(
                ProxyRecord(f"{i:032x}", 1.0 + i, "openai", "t", "proxy-s", False, "gpt-4o")
            )
        await asyncio.sleep(0)
    with sqlite3.connect(tmp_path / "o.db") as db:
        assert db.execute("SELECT count(*) FROM traces").fetchone() == (50,)


def _shown_on_uvicorn_error(message: object) -> list[str]:
    """What reaches a handler of "uvicorn.error" when `message` is logged there."""
    seen: list[logging.LogRecord] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    handler = Collect()
    log = logging.getLogger("uvicorn.error")
    log.addHandler(handler)
    try:
        log.error(message)
    finally:
        log.removeHandler(handler)
    return [str(r.msg) for r in seen]


def test_an_oserror_logged_outside_a_failed_bind_is_shown(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    # Only the failed bind is said once, in the proxy's words: uvicorn's own record of it was
    # held back by a filter on "uvicorn.error" that hid every OSError logged there, for good.
    import ocp_server.proxy.service  # noqa: F401 - what installed that filter

    emfile = OSError(errno.EMFILE, "Too many open files")
    assert _shown_on_uvicorn_error(emfile) == ["[Errno 24] Too many open files"]
    start_proxy(proxy_env)  # listening
    assert _shown_on_uvicorn_error(emfile) == ["[Errno 24] Too many open files"]


def test_an_upstream_error_quoting_a_key_is_shown_and_traced_redacted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    tmp_path: Path,
) -> None:
    # An upstream that refuses a key may quote it: the dashboard's JSON (which an agent on
    # this machine can read) and the stored trace show the error, and the model asked for.
    key = "sk-ant-api03-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2 + "-x9AA"
    body = "Xk29dLq7" * 4 + "Ab3Z"
    error = {"type": "error", "error": {"type": "authentication_error", "message": key}}
    fake_anthropic.fail_next(401, body={**error, "message": f"invalid x-api-key {key}"}, times=4)
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post(
            "/v1/messages",
            json=messages_body(text=HARD) | {"model": f"claude-opus-5-5-team{'ghp_'}{body}"},
            headers=ANTHROPIC_HEADERS,
        )
        shown = http.get("/api/stats").text
    proxy.stop()
    stored = (tmp_path / "ocp.db").read_bytes().decode("latin-1")
    assert '"status":401' in shown.replace(" ", "")
    assert "[REDACTED:anthropic_key]" in shown and "team[REDACTED:github_token]" in shown
    assert not [s for s in (key, body) if s in shown or s in stored]


def test_a_local_models_error_quoting_a_key_is_logged_redacted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The trace had the local failure redacted, the log line the same failure as it came: a
    # local server (or a gateway in front of it) that quotes the key it refused put the key
    # in the proxy's log.
    caplog.set_level(logging.WARNING, logger=local_answer.__name__)
    key = "sk-ant-api03-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2 + "-x9AA"
    fake_ollama.fail_mid_stream(f"invalid api key {key}", after=0)
    proxy = start_proxy(proxy_env | {"ANTHROPIC_API_KEY": "sk-ant-test"})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post(
            "/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS
        )
    assert answered.status_code == 200, answered.text  # the paid tier answered instead
    logged = [r.getMessage() for r in caplog.records if r.name == local_answer.__name__]
    assert any("invalid api key [REDACTED:anthropic_key]" in line for line in logged), logged
    assert not [line for line in logged if key in line]


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
def test_a_local_models_mid_stream_error_quoting_a_key_reaches_the_client_redacted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    dialect: str,
) -> None:
    # After the first byte the error goes to the client, whose model is often a cloud one:
    # the trace had it redacted, the stream's error event carried the key as it came.
    key = "sk-ant-api03-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2 + "-x9AA"
    fake_ollama.fail_mid_stream(f"invalid api key {key}", after=2)
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        if dialect == "anthropic":
            body, headers = messages_body(text=SIMPLE, stream=True), ANTHROPIC_HEADERS
            answered = http.post("/v1/messages", json=body, headers=headers)
        else:
            answered = http.post("/v1/chat/completions", json=chat_body(SIMPLE, stream=True))
    assert answered.status_code == 200
    last = [line for line in answered.text.splitlines() if line.startswith("data:")][-1]
    said = json.loads(last[5:])["error"]["message"]
    assert "failed mid-stream" in said and "invalid api key [REDACTED:anthropic_key]" in said
    assert key not in answered.text
