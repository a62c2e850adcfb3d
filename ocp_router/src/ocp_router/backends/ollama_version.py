"""Whether an Ollama server may cut an over-long prompt silently: one older than v0.12.4
ignores `truncate: false` and answers what it read of the prompt. Only there does a
`prompt_eval_count` far under OCP's estimate of the prompt mean a cut (`unread_tokens`): a
later server refuses such a prompt with a 400, and some of its builds (on llama-server,
until mid-2026: ollama/ollama#16428) count only the prompt tokens the cache did not hold, so
a cache hit reads low there.

The version is asked once per server (`GET /api/version`), the first time a count reads
low, and remembered. A server that gives no readable version (an error, a timeout, "0.0.0"
from a build from source, a proxy in front that does not pass the route on) is taken as one
that may cut: its age is unknown, and a missed cut is a wrong answer while a cache hit taken
for a cut costs one paid call. A version, or an answer that gives none, is kept while the
process runs: no request per call. A request that failed (refused, dropped, timed out, an
HTTP error) is asked again after RETRY_AFTER seconds: an Ollama restarting or still loading
must not send every later cache hit to the paid tier for the rest of the session.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time

import httpx

from ocp_router.backends._http import capped_send, shown_url
from ocp_router.errors import BackendError

logger = logging.getLogger(__name__)

# The first release that honours `truncate: false` (ollama-api.md §11).
HONOURS_TRUNCATE = (0, 12, 4)
# How long the version may take: a local server answers it in milliseconds.
VERSION_TIMEOUT = 2.0
# Seconds before a version request that failed is made again (until then: may cut).
RETRY_AFTER = 60.0

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def parse_version(text: object) -> tuple[int, int, int] | None:
    """`"0.12.4"`, `"v0.12.4"`, `"0.12.4-rc1"` (a candidate of that release) -> (0, 12, 4);
    "0.0.0" (a build from source, which says nothing) or anything else -> None."""
    match = _VERSION.match(text) if isinstance(text, str) else None
    if match is None:
        return None
    version = (int(match[1]), int(match[2]), int(match[3]))
    return version if version != (0, 0, 0) else None


class SilentCutCheck:
    """Whether the Ollama at `base_url` may cut a prompt silently, asked once."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.version: str | None = None  # as the server reported it, for messages
        self._may_cut: bool | None = None
        self._ask_again_at: float | None = None  # monotonic; set while a failed ask stands
        self._lock = asyncio.Lock()

    async def may_cut(self, client: httpx.AsyncClient) -> bool:
        """True unless the server reports a version from v0.12.4 on."""
        if self._may_cut is None or self._due():
            async with self._lock:  # concurrent low counts ask once
                if self._may_cut is None or self._due():
                    self._may_cut = await self._ask(client)
        return self._may_cut

    def _due(self) -> bool:
        return self._ask_again_at is not None and time.monotonic() >= self._ask_again_at

    async def _ask(self, client: httpx.AsyncClient) -> bool:
        self._ask_again_at = None
        try:
            response = await capped_send(
                client,
                "GET",
                f"{self.base_url}/api/version",
                backend="ollama",
                timeout=VERSION_TIMEOUT,
            )
            reported = response.json().get("version") if response.status_code == 200 else None
        except (httpx.HTTPError, BackendError, ValueError, AttributeError) as exc:
            reported, why = None, f"{type(exc).__name__}"
            if isinstance(exc, httpx.HTTPError):
                self._ask_again_at = time.monotonic() + RETRY_AFTER
        else:
            why = f"HTTP {response.status_code}"
            if response.status_code != 200:
                self._ask_again_at = time.monotonic() + RETRY_AFTER
        self.version = reported if isinstance(reported, str) else None
        version = parse_version(reported)
        if version is None:
            logger.info(
                "ollama at %s gave no readable version (%s): a prompt it reads far short is "
                "taken as cut",
                shown_url(self.base_url),
                self.version or why,
            )
            return True
        return version < HONOURS_TRUNCATE
