"""Reading an upstream body whole, with a cap: a non-streaming paid answer (or error), and a
local server's error body. Without the cap an upstream that sends without end grows the
proxy's memory until it fails; streams are capped line by line instead (lines.py)."""

from __future__ import annotations

import httpx

# Far above any whole body an honest upstream sends (a non-streaming answer at the largest
# max_tokens is a few MB, an error a few KB), far below trouble. Counted after decoding, so a
# compressed body cannot hide its size.
MAX_BODY_BYTES = 16 * 1024 * 1024


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
