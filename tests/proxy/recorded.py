"""What the proxy recorded, read on its own loop (`proxy.call(...)`) and waited for, bounded:
a stream is recorded only once the proxy has finished it, which can be just after the client
has seen its last event."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from ocp_server.proxy import Proxy
from tests.proxy.conftest import RunningProxy


async def recorded_rows(proxy: Proxy) -> list[dict[str, Any]]:
    """Every recorded request, the newest first."""
    return list(proxy.recorder.summary({})["recent"])


async def all_written(proxy: Proxy) -> None:
    """Return once every recorded request is in the database (or 30 s have passed)."""
    deadline = time.monotonic() + 30
    while proxy.recorder.written < len(proxy.recorder.rows) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


async def last_row(proxy: Proxy) -> dict[str, Any]:
    """The newest recorded request. A stream is recorded when the proxy has finished it, which
    can be just after the client has seen its last event (and raised): wait for it, bounded."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        recent = proxy.recorder.summary({})["recent"]
        if recent:
            row: dict[str, Any] = recent[0]
            return row
        await asyncio.sleep(0.01)
    raise AssertionError("no request was recorded within 30 s")


def last_row_once_recorded(proxy: RunningProxy) -> dict[str, Any]:
    """The last row the proxy recorded, waiting up to 30 s for a first one."""
    deadline = time.monotonic() + 30
    while not proxy.call(_rows_count) and time.monotonic() < deadline:
        time.sleep(0.05)
    return proxy.call(last_row)


async def _rows_count(proxy: Proxy) -> int:
    return len(proxy.recorder.rows)


def only_row(proxy: RunningProxy) -> dict[str, Any]:
    """The one request recorded, waiting up to 15 s for it."""
    deadline = time.monotonic() + 15
    while not (rows := proxy.call(recorded_rows)) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(rows) == 1, rows
    return rows[0]
