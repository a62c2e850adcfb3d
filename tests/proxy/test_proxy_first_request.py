"""A proxy's first request imports nothing: what it used to import on the event loop (anyio's
asyncio backend, 21 modules, 20-27 ms compiled from source) is imported while the proxy
starts. In a process of its own (`ocp-server proxy`): the tests' process has imported
everything already. bench/bench_proxy_holds.py shows the first request's time against the
next ones' (cold, warm)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.proxy.dialects import ANTHROPIC_HEADERS, OPENAI_HEADERS, chat_body, messages_body
from tests.proxy.proxy_process import read_until

# `ocp-server proxy`, printing the modules each request imported while it was served.
_WATCHED_PROXY = """
import json, sys
from ocp_server.proxy import app
served = app.Proxy._guarded
async def guarded(self, request, d):
    before = set(sys.modules)
    try:
        return await served(self, request, d)
    finally:
        new = sorted(set(sys.modules) - before)
        print("imported", json.dumps(new), file=sys.stderr, flush=True)
app.Proxy._guarded = guarded
from ocp_server.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_the_first_request_imports_nothing(proxy_env: dict[str, str], tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _WATCHED_PROXY, "proxy", "--port", "0"],
        cwd=tmp_path,
        env=os.environ | proxy_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = read_until(proc, "proxy on").split("proxy on ", 1)[1].split()[0]
        imported = []
        with httpx.Client(base_url=url, timeout=60) as http:
            first = http.post("/v1/messages", json=messages_body(), headers=ANTHROPIC_HEADERS)
            assert first.status_code == 200, first.text
            imported.append(read_until(proc, "imported"))
            chat = http.post("/v1/chat/completions", json=chat_body(), headers=OPENAI_HEADERS)
            assert chat.status_code == 200, chat.text
            imported.append(read_until(proc, "imported"))
        assert [json.loads(line.split(" ", 1)[1]) for line in imported] == [[], []], imported
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
