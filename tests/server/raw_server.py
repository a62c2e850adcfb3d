"""ocp-server as a child process spoken to in raw JSON-RPC lines: for what a well-behaved MCP
client never sends (broken lines, bad ids) and for how the process starts and ends."""

from __future__ import annotations

import itertools
import json
import os
import select
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw", "version": "0"},
    },
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}


class RawServer:
    def __init__(
        self,
        env: dict[str, str],
        cwd: Path | None = None,
        args: tuple[str, ...] = (),
        preexec: Callable[[], object] | None = None,  # run in the child before the server
        command: tuple[str, ...] = (sys.executable, "-m", "ocp_server.cli"),
    ) -> None:
        self.proc = subprocess.Popen(
            [*command, *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd or "/"), **env},
            preexec_fn=preexec,
        )
        self._buffer = b""
        self._ids = itertools.count(1_000)  # clear of the small ids tests pick themselves

    def send(self, message: dict[str, Any] | str | bytes) -> None:
        if isinstance(message, dict):
            message = json.dumps(message)
        if isinstance(message, str):
            message = message.encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(message + b"\n")
        self.proc.stdin.flush()

    def read(self, timeout: float = 30.0) -> dict[str, Any]:
        """The next line on stdout, parsed (it must be JSON-RPC)."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no answer within {timeout}s")
            ready, _, _ = select.select([self.proc.stdout], [], [], left)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise EOFError("the server closed stdout")
                self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        parsed: dict[str, Any] = json.loads(line)
        assert parsed.get("jsonrpc") == "2.0", line
        return parsed

    def request(
        self, message: dict[str, Any] | str | bytes, timeout: float = 30.0
    ) -> dict[str, Any]:
        self.send(message)
        return self.read(timeout)

    def rpc(self, method: str, params: dict[str, Any], timeout: float = 60.0) -> dict[str, Any]:
        """Send a request under an id of its own; the whole reply."""
        message = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        return self.request(message, timeout)

    def call_tool(
        self, name: str, arguments: dict[str, Any], timeout: float = 60.0
    ) -> dict[str, Any]:
        """Call a tool; the whole reply (the tool's result is its `["result"]`)."""
        return self.rpc("tools/call", {"name": name, "arguments": arguments}, timeout)

    def initialize(self) -> dict[str, Any]:
        reply = self.request(INITIALIZE, timeout=60)
        self.send(INITIALIZED)
        return reply

    def close_stdin_and_wait(self, timeout: float = 30.0) -> float:
        """Close stdin; the seconds until the process ended (TimeoutExpired if it did not)."""
        assert self.proc.stdin is not None
        started = time.monotonic()
        self.proc.stdin.close()
        self.proc.wait(timeout)
        return time.monotonic() - started

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()

    def stderr(self) -> str:
        assert self.proc.stderr is not None
        return self.proc.stderr.read().decode(errors="replace")
