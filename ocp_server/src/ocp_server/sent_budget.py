"""What is sent kept to a token budget that was filled before redaction: a search or a brief
fills its `max_tokens` by the token counts of its texts as stored, and a redaction marker can
be longer than the value it hides (`https://u:[REDACTED:connection_string_password]@x.io` for
`https://u:p1@x.io`). The tool's search and the paid prompt's code and brief all fit so."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

__all__ = ["fitted", "fitted_counted"]

T = TypeVar("T")


async def fitted(
    fetch: Callable[[int], Awaitable[T]], measure: Callable[[T], Awaitable[int]], share: int
) -> T:
    """What `fetch(max_tokens)` returns whose texts, as sent (`measure`), keep to `share`
    tokens: what is over the share is fetched again with less, by more each time (at 0
    nothing is shown, so this ends). Within the share: one fetch."""
    return (await fitted_counted(fetch, measure, share))[0]


async def fitted_counted(
    fetch: Callable[[int], Awaitable[T]], measure: Callable[[T], Awaitable[int]], share: int
) -> tuple[T, int]:
    """`fitted`, with what `measure` counted of it (not measured twice)."""
    limit = share
    attempt = 0
    while True:
        found = await fetch(limit)
        tokens = await measure(found)
        over = tokens - share
        if over <= 0 or limit <= 0:
            return found, tokens
        limit = max(0, limit - over * 2**attempt)
        attempt += 1
