"""The dashboard drawn by headless Chromium from a live proxy (marker `browser`, like the HTML
report's test: `uv run pytest -m browser`)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, SIMPLE, chat_body, messages_body
from tests.server.report_dom import CHROMIUM_FLAGS, chromium


@pytest.mark.browser
def test_chromium_shows_the_requests_just_made(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], tmp_path: Path
) -> None:
    token = "dashboard-token-1"
    proxy = start_proxy(proxy_env | {"OCP_PROXY_TOKEN": token}, store=False)
    auth = {"x-ocp-proxy-token": token}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        http.post("/v1/messages", json=messages_body(text=SIMPLE), headers=ANTHROPIC_HEADERS | auth)
        http.post("/v1/messages", json=messages_body(text=HARD), headers=ANTHROPIC_HEADERS | auth)
        http.post("/v1/chat/completions", json=chat_body(SIMPLE), headers=auth)
    done = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            "--dump-dom",
            f"{proxy.url}/ui?token={token}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    dom = done.stdout
    body = dom.split('id="requests"', 1)[1].split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    assert body.count("<tr ") == 3
    assert (
        body.count("llama3.2") == 2 and body.count("claude-opus-5-5") == 3
    )  # asked twice, answered once
    assert 't-top">top' in body and 't-local">local' in body
    assert "<b>3</b>" in dom  # the requests card
    assert dom.split('id="status">', 1)[1].startswith("updated")
    assert dom.count("<rect") >= 3  # tier split and latency bars drawn
