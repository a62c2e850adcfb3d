"""OCPClient against a server process that fails: missing, exiting at once, silent, killed
mid-call. Each failure is an error naming the command (with the last lines the server wrote
on stderr), raised promptly rather than a hang; `wait_for` only guards against a hang. And a
client closed from another task, by `aclose`, or never (a ResourceWarning) stops its server."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import warnings
from pathlib import Path

import pytest

from ocp_client import OCPClient, OCPServerError, OCPTimeoutError
from ocp_client import client as client_module


def fake_server(source: str, *, timeout: float = 120.0) -> OCPClient:
    """A client whose server is this Python source, run by this interpreter."""
    return OCPClient(sys.executable, ["-c", source], timeout=timeout)


async def test_a_missing_command_is_named() -> None:
    with pytest.raises(FileNotFoundError, match="/nonexistent/ocp-server"):
        await asyncio.wait_for(OCPClient("/nonexistent/ocp-server").__aenter__(), 10)


async def test_a_missing_working_folder_is_named_as_cwd_not_taken_for_the_command(
    tmp_path: Path,
) -> None:
    # It said "[Errno 2] No such file or directory: '<cwd>'", which reads as the command.
    missing = tmp_path / "repo"
    with pytest.raises(FileNotFoundError) as caught:
        await asyncio.wait_for(OCPClient(sys.executable, cwd=missing).__aenter__(), 10)
    assert str(caught.value) == (
        f"[Errno 2] cwd {str(missing)!r} is not an existing folder (the server's working "
        "folder, its workspace when OCP_WORKSPACE is unset)"
    )


async def test_a_server_exiting_at_once_is_named_with_its_last_stderr_lines() -> None:
    client = fake_server("import sys; print('no workspace: /x', file=sys.stderr); sys.exit(3)")
    with pytest.raises(OCPServerError) as caught:
        await asyncio.wait_for(client.__aenter__(), 10)
    message = str(caught.value)
    assert sys.executable in message and "no workspace: /x" in message


async def test_a_server_that_did_not_start_is_named_with_its_exit_status() -> None:
    # `OCPClient("/bin/false")` said only "did not start (nothing on stderr)".
    with pytest.raises(OCPServerError) as caught:
        await asyncio.wait_for(OCPClient("/bin/false").__aenter__(), 10)
    assert str(caught.value) == (
        "ocp-server did not start: `/bin/false` (exit status 1; nothing on stderr)"
    )
    client = fake_server("import sys; print('no workspace', file=sys.stderr); sys.exit(3)")
    with pytest.raises(OCPServerError, match=r"\(exit status 3\); its stderr ended with:\n"):
        await asyncio.wait_for(client.__aenter__(), 10)
    killed = fake_server("import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(OCPServerError, match=r"\(killed by SIGKILL; nothing on stderr\)"):
        await asyncio.wait_for(killed.__aenter__(), 10)


async def test_a_server_writing_other_than_mcp_on_stdout_is_told_with_the_line() -> None:
    # A wrapper's banner, or `ocp-server --help`, said only "did not start (exit status 0;
    # nothing on stderr)": the line on stdout was the clue.
    client = fake_server("print('usage: ocp-server [-h] {serve,init}')")
    with pytest.raises(OCPServerError) as caught:
        await asyncio.wait_for(client.__aenter__(), 10)
    assert str(caught.value).endswith(
        "(exit status 0; nothing on stderr); on stdout, which carries only MCP messages, it "
        "wrote: 'usage: ocp-server [-h] {serve,init}'"
    )


async def test_a_servers_stray_stdout_lines_are_told_once_not_logged_line_by_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # `OCPClient("ocp-server", ["--help"])` printed the SDK's parse traceback once per line of
    # the help (about 40) before the error that names the first line; another MCP client's
    # stray lines in the same process are still the SDK's to log.
    import logging

    import mcp.client.stdio as sdk_stdio

    lines = "\n".join(f"usage line {i}" for i in range(5))
    with caplog.at_level(logging.ERROR, logger=sdk_stdio.__name__):
        with pytest.raises(OCPServerError, match="it wrote: 'usage line 0'"):
            await asyncio.wait_for(fake_server(f"print({lines!r})").__aenter__(), 10)
        assert [r for r in caplog.records if r.name == sdk_stdio.__name__] == []
        sdk_stdio.logger.error("Failed to parse JSONRPC message from server")
    assert [r.getMessage() for r in caplog.records if r.name == sdk_stdio.__name__] == [
        "Failed to parse JSONRPC message from server"
    ]


SILENT = """
import sys, time
print("Starting up...", flush=True)  # junk on the wire, then nothing
print("loading models", file=sys.stderr, flush=True)
time.sleep(60)
"""


async def test_a_server_that_never_answers_initialize_fails_within_the_clients_timeout() -> None:
    with pytest.raises(OCPTimeoutError, match="did not answer") as caught:
        await asyncio.wait_for(fake_server(SILENT, timeout=1).__aenter__(), 20)
    assert str(caught.value).endswith(
        "; on stdout, which carries only MCP messages, it wrote: 'Starting up...'; its stderr "
        "ended with:\nloading models"
    )


def dying_server() -> OCPClient:
    return OCPClient(sys.executable, [str(Path(__file__).with_name("dying_server.py"))])


async def test_a_server_dying_mid_call_fails_that_call_and_the_next_naming_it() -> None:
    async with dying_server() as client:
        with pytest.raises(OCPServerError, match="fatal: the index is corrupt") as caught:
            await asyncio.wait_for(client.call("die", {}), 10)
        assert "dying_server.py` (exit status 70); its stderr ended with:\n" in str(caught.value)
        assert not isinstance(caught.value, OCPTimeoutError)  # dead, not slow: no retry
        assert "dying_server.py" in str(caught.value)
        with pytest.raises(OCPServerError, match="dying_server.py"):
            await asyncio.wait_for(client.list_tools(), 10)


async def test_a_call_unanswered_within_the_timeout_is_a_server_error_and_the_next_works() -> None:
    async with dying_server() as client:
        client.timeout = 1  # for the call only: a loaded machine may take longer to start it
        with pytest.raises(OCPTimeoutError, match=r"did not answer within 1 s: .*dying_server\.py"):
            await asyncio.wait_for(client.call("hang", {}), 20)
        assert (await client.call("pid", {})).structured_content is not None


async def test_a_route_may_take_what_its_server_allows_one_unless_a_timeout_was_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """By default a route is waited for as long as its server may take on one (its
    OCP_ROUTE_TIMEOUT plus ROUTE_SLACK), when that is longer than the client's 120 s: the
    defaults let a route take 305 s, and a route cut short is cancelled, its paid call too."""
    monkeypatch.setattr(client_module, "ROUTE_SLACK", 0.5, raising=False)
    script = str(Path(__file__).with_name("dying_server.py"))
    async with OCPClient(sys.executable, [script], env={"OCP_ROUTE_TIMEOUT": "1.5"}) as client:
        client.timeout = 1  # set after the start: a loaded machine may take longer to start it
        with pytest.raises(OCPTimeoutError, match=r"did not answer within 2 s"):
            await asyncio.wait_for(client.call("ocp_model_route", {}), 20)
        with pytest.raises(OCPTimeoutError, match=r"did not answer within 1 s"):
            await asyncio.wait_for(client.call("hang", {}), 20)
    given = OCPClient(sys.executable, [script], env={"OCP_ROUTE_TIMEOUT": "1.5"}, timeout=30)
    async with given:
        given.timeout = 1  # given: what the caller chose holds for a route too
        with pytest.raises(OCPTimeoutError, match=r"did not answer within 1 s"):
            await asyncio.wait_for(given.call("ocp_model_route", {}), 20)


async def test_a_pending_call_fails_when_the_server_is_killed() -> None:
    async with dying_server() as client:
        pid = (await client.call("pid", {})).structured_content
        assert isinstance(pid, dict)
        pending = asyncio.create_task(client.call("hang", {}))
        await asyncio.sleep(0)  # the request is on its way
        os.kill(pid["result"], signal.SIGKILL)
        # It said "(nothing on stderr)" alone: how the server ended is the clue (an OOM kill).
        with pytest.raises(
            OCPServerError,
            match=r"closed the connection: .*\(killed by SIGKILL; nothing on stderr\)",
        ):
            await asyncio.wait_for(pending, 10)


async def test_a_call_pending_when_its_client_closes_fails_as_a_server_error_saying_so() -> None:
    # It raised the SDK's own `MCPError: Connection closed`, none of the client's errors.
    client = dying_server()
    await asyncio.wait_for(client.__aenter__(), 10)
    pending = asyncio.create_task(client.call("hang", {}))
    await asyncio.sleep(0)  # the request is on its way
    await asyncio.wait_for(client.aclose(), 10)
    with pytest.raises(OCPServerError) as caught:
        await asyncio.wait_for(pending, 10)
    assert str(caught.value).startswith(
        "the client was closed while a request to ocp-server was waiting for its answer: `"
    )


async def test_entering_an_open_client_again_is_refused_instead_of_orphaning_its_server() -> None:
    client = dying_server()
    async with client:
        with pytest.raises(RuntimeError, match="already open"):
            await asyncio.wait_for(client.__aenter__(), 10)
        assert (await client.call("pid", {})).structured_content is not None
    async with client:  # once closed it opens again
        assert (await client.call("pid", {})).structured_content is not None


def running(pid: int) -> bool:
    """Whether the process exists, unreaped zombies included (Linux)."""
    return Path(f"/proc/{pid}").exists()


async def test_a_client_dropped_open_warns_stops_its_server_and_cancels_nothing() -> None:
    """A ResourceWarning naming the server's command, as asyncio's for an unclosed transport."""
    client = dying_server()
    await client.__aenter__()
    answer = (await client.call("pid", {})).structured_content
    assert isinstance(answer, dict)
    with pytest.warns(ResourceWarning, match=r"unclosed OCPClient .*dying_server\.py"):
        del client
        gc.collect()
    async with asyncio.timeout(20):  # only a guard: the server is stopped, reaped, and the
        while running(answer["result"]):  # task that opened the client goes on
            await asyncio.sleep(0.05)


async def test_a_dropped_client_s_server_is_stopped_even_where_warnings_are_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As under this suite's `filterwarnings = ["error"]`: the warning, raised in the garbage
    collector, goes to `sys.unraisablehook`, after the server was told to stop."""
    unraisable: list[BaseException | None] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda report: unraisable.append(report.exc_value))
    client = dying_server()
    await client.__aenter__()
    answer = (await client.call("pid", {})).structured_content
    assert isinstance(answer, dict)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del client
        gc.collect()
    assert [type(exc) for exc in unraisable] == [ResourceWarning]
    async with asyncio.timeout(20):
        while running(answer["result"]):
            await asyncio.sleep(0.05)


async def test_a_client_opened_in_one_task_closes_in_another() -> None:
    """As an async pytest fixture or a `wait_for(client.__aenter__(), ...)` does."""
    client = dying_server()
    await asyncio.wait_for(client.__aenter__(), 10)
    answer = (await client.call("pid", {})).structured_content
    assert isinstance(answer, dict)
    await asyncio.wait_for(client.__aexit__(None, None, None), 10)
    assert not running(answer["result"])


async def test_a_client_opened_by_hand_closes_with_aclose_and_again_does_nothing() -> None:
    client = dying_server()
    await asyncio.wait_for(client.__aenter__(), 10)
    answer = (await client.call("pid", {})).structured_content
    assert isinstance(answer, dict)
    await asyncio.wait_for(client.aclose(), 10)
    assert not running(answer["result"])
    await client.aclose()


async def test_a_secret_the_server_wrote_on_stderr_is_redacted_in_the_error() -> None:
    # The key is built in the child, so only its stderr holds it (not our command line).
    source = (
        "import sys; key = 'sk-proj-' + 'Xk9vQ2mL7pRt4WzN8bYc3HdF' * 2; "
        "print('bad config: OPENAI_API_KEY=' + key, file=sys.stderr); sys.exit(3)"
    )
    with pytest.raises(OCPServerError) as caught:
        await asyncio.wait_for(fake_server(source).__aenter__(), 10)
    message = str(caught.value)
    assert "bad config: OPENAI_API_KEY=[REDACTED:openai_key]" in message
    assert "Xk9vQ2mL7pRt4WzN8bYc3HdFXk9v" not in message
