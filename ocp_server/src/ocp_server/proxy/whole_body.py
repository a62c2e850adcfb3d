"""Reading an upstream body whole, with a cap, where the proxy must parse it or should not
relay more: a short non-streaming paid answer (checked, its usage read), a count_tokens
answer, an error body, a local server's error body. Without the cap an upstream that sends
without end grows the proxy's memory until it fails; streams are capped line by line instead
(lines.py), and a paid answer too long to hold is relayed as it comes (`read_head`,
upstream.relay_body)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx

from ocp_router.redact_names import redact_name_head

# Far above any whole body an honest upstream sends (a non-streaming answer at the largest
# max_tokens is a few MB, an error a few KB), far below trouble. Counted after decoding, so a
# compressed body cannot hide its size.
MAX_BODY_BYTES = 16 * 1024 * 1024

# A paid body up to this size is read whole before it is relayed (a broken one becomes a 502);
# a longer one is relayed as it comes, with at most this much of it held.
HEAD_BYTES = 1024 * 1024

# An upstream's error body (any status but 200) up to this size is relayed as it came; a longer
# one is not relayed at all (providers' errors are under a few KB, a gateway's HTML page tens
# of KB; a broken or hostile upstream can send one without end).
ERROR_BODY_BYTES = 64 * 1024


class BodyTooLarge(Exception):
    """The upstream's body passed MAX_BODY_BYTES."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the upstream sent a body larger than {limit:,} bytes")


async def read_whole(response: httpx.Response, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole body, or BodyTooLarge as soon as it passes `limit` (or says it will)."""
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > limit:
            raise BodyTooLarge(limit)
    return bytes(body)


@dataclass(frozen=True, slots=True)
class Head:
    """The start of a body: all of it when `rest` is None, else the chunks still to come."""

    data: bytes
    rest: AsyncIterator[bytes] | None


async def read_head(response: httpx.Response, limit: int = HEAD_BYTES) -> Head:
    """The body whole if it ends within `limit` bytes, else its first `limit`-odd bytes and
    the rest still unread."""
    chunks = response.aiter_bytes()
    head = bytearray()
    async for chunk in chunks:
        head += chunk
        if len(head) > limit:
            return Head(bytes(head), chunks)
    return Head(bytes(head), None)


def error_too_long(upstream: str, status: int, limit: int, start: bytes) -> str:
    """What the client reads instead of an upstream's error body over `limit` bytes."""
    began = redact_name_head(start.decode("utf-8", "replace"), 200)  # whole, then cut
    return (
        f"the {upstream} upstream answered HTTP {status} with an error body over {limit:,} "
        f"bytes, not relayed; it began: {began}"
    )
