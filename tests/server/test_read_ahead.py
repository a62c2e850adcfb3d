"""The SDK's serving loop reads the client's first request to choose the protocol era and
hands every frame on without a relay task of its own (read_ahead.py): the frames before that
request, it, and the rest, in order, as the SDK's relay gave them."""

from __future__ import annotations

from pathlib import Path

import anyio
import mcp_types as types
import pytest
from mcp.server import runner
from mcp.shared.message import SessionMessage

from ocp_server import read_ahead
from ocp_server.read_ahead import LEAD_LIMIT, REPLACED, install, replay_read_ahead
from tests.server.raw_server import INITIALIZE, INITIALIZED, RawServer

ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": "2026-07-28",
    "io.modelcontextprotocol/clientInfo": {"name": "raw", "version": "0"},
    "io.modelcontextprotocol/clientCapabilities": {},
}


def _request(n: int) -> SessionMessage:
    return SessionMessage(types.JSONRPCRequest(jsonrpc="2.0", id=n, method="ping"))


def _note(n: int) -> SessionMessage:
    return SessionMessage(
        types.JSONRPCNotification(jsonrpc="2.0", method="notifications/progress", params={"n": n})
    )


async def _served(frames: list[SessionMessage]) -> tuple[object, list[object], bool]:
    """What the era's loop gets from `frames` sent and the stream closed: the opening
    request, every frame it reads, and whether the transport's stream was closed after."""
    send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](len(frames))
    for frame in frames:
        send.send_nowait(frame)
    send.close()
    async with replay_read_ahead(receive) as (opening, stream):
        got = [item async for item in stream]
    try:
        receive.receive_nowait()
    except anyio.ClosedResourceError:
        closed = True
    except (anyio.EndOfStream, anyio.WouldBlock):
        closed = False
    return opening, got, closed


async def test_frames_before_the_first_request_come_again_before_it_then_the_rest() -> None:
    frames = [_note(1), _note(2), _request(1), _note(3), _request(2)]
    opening, got, closed = await _served(frames)
    assert opening == frames[2].message
    assert got == frames
    assert closed


async def test_a_stream_that_ends_before_any_request_opens_nothing() -> None:
    opening, got, closed = await _served([_note(1)])
    assert opening is None
    assert got == [_note(1)]
    assert closed


async def test_frames_past_the_limit_before_the_first_request_are_dropped() -> None:
    early = [_note(n) for n in range(LEAD_LIMIT + 3)]
    opening, got, _ = await _served([*early, _request(1), _note(99)])
    assert got == [*early[:LEAD_LIMIT], _request(1), _note(99)]


def test_the_sdks_serving_loop_reads_through_the_read_ahead(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # serve_dual_era_loop looks the function up by name when it serves: an SDK that stops
    # doing so would keep its relay task whatever install() replaced
    assert REPLACED in runner.serve_dual_era_loop.__code__.co_names
    # the SDK's own is back after this test: in-process servers of later tests keep its relay
    monkeypatch.setattr(runner, REPLACED, getattr(runner, REPLACED))
    assert install()
    assert getattr(runner, REPLACED) is replay_read_ahead


def test_another_sdk_release_keeps_its_own_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    # a private function may keep its name and change its contract in any release
    sdk_own = object()
    monkeypatch.setattr(runner, REPLACED, sdk_own)
    monkeypatch.setattr(read_ahead, "sdk_version", lambda: "2.4.0")
    assert not install()
    assert getattr(runner, REPLACED) is sdk_own


def test_the_sdk_line_this_was_read_against_is_the_one_installed() -> None:
    # when the lock moves to another mcp release, read the SDK's function again, then move this
    assert read_ahead.sdk_version().startswith(read_ahead.CHECKED_SDK + ".")


async def test_a_transport_closed_under_the_stream_ends_it_as_the_sdk_relay_did() -> None:
    send, receive = anyio.create_memory_object_stream[SessionMessage | Exception](4)
    send.send_nowait(_request(1))
    async with replay_read_ahead(receive) as (opening, stream):
        assert await stream.receive() == _request(1)
        receive.close()  # the transport's end closed under the reader (a stateless teardown)
        assert [item async for item in stream] == []
    send.close()
    assert opening == _request(1).message


def _server(tmp_path: Path) -> RawServer:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    env = {"OCP_WORKSPACE": str(ws), "OCP_DB_PATH": str(tmp_path / "ocp.db")}
    return RawServer(env, cwd=tmp_path)


def test_the_real_server_serves_the_era_its_client_opens_with(tmp_path: Path) -> None:
    handshake = _server(tmp_path)
    try:
        handshake.send(INITIALIZED)  # a frame before the first request, read ahead
        assert handshake.request(INITIALIZE, timeout=60)["result"]["serverInfo"]
        handshake.send(INITIALIZED)
        listed = handshake.rpc("tools/list", {})["result"]["tools"]
        assert listed
        refused = handshake.rpc("tools/list", {"_meta": ENVELOPE})  # the other era's claim
        assert "envelope" in refused["error"]["message"]
    finally:
        handshake.kill()
    enveloped = _server(tmp_path)
    try:
        assert enveloped.rpc("tools/list", {"_meta": ENVELOPE})["result"]["tools"] == listed
        refused = enveloped.request(INITIALIZE, timeout=60)  # the handshake on a 2026 one
        assert "2026-07-28" in refused["error"]["message"]
    finally:
        enveloped.kill()
