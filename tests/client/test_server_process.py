"""OCPClient against a server process that fails: missing, exiting at once, silent, killed
mid-call. Each failure is an error naming the command (with the last lines the server wrote
on stderr), raised promptly rather than a hang; `wait_for` only guards against a hang."""

from __future__ import annotations

import asyncio
import sys

import pytest

from ocp_client import OCPClient, OCPServerError


def fake_server(source: str, *, timeout: float = 120.0) -> OCPClient:
    """A client whose server is this Python source, run by this interpreter."""
    return OCPClient(sys.executable, ["-c", source], timeout=timeout)


async def test_a_missing_command_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="/nonexistent/ocp-server"):
        await asyncio.wait_for(OCPClient("/nonexistent/ocp-server").__aenter__(), 10)


async def test_a_server_exiting_at_once_is_named_with_its_last_stderr_lines() -> None:
    client = fake_server("import sys; print('no workspace: /x', file=sys.stderr); sys.exit(3)")
    with pytest.raises(OCPServerError) as caught:
        await asyncio.wait_for(client.__aenter__(), 10)
    message = str(caught.value)
    assert sys.executable in message and "no workspace: /x" in message


SILENT = """
import sys, time
print("Starting up...", flush=True)  # junk on the wire, then nothing
print("loading models", file=sys.stderr, flush=True)
time.sleep(60)
"""


async def test_a_server_that_never_answers_initialize_fails_within_the_clients_timeout() -> None:
    with pytest.raises(OCPServerError, match="did not answer") as caught:
        await asyncio.wait_for(fake_server(SILENT, timeout=1).__aenter__(), 20)
    assert "loading models" in str(caught.value)
