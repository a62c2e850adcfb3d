"""One HTTP backend's server: a request sent to it, and its transport and status failures
said as the library's errors with that backend's own hints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from ocp_router.backends._http import (
    ClientOnFirstUse,
    capped_body,
    capped_send,
    shown_url,
    status_error,
    transport_error,
)
from ocp_router.errors import BackendError


@dataclass(frozen=True, slots=True)
class Hints:
    """What a backend's errors tell the user to do."""

    # the server cannot be reached, or broke the connection (a callable: the fix depends on
    # the failure, Ollama's on whether it is installed here)
    reach: str | Callable[[httpx.HTTPError], str]
    auth: str  # 401, 403
    missing: str  # 404, unless the call names what it asked for


class Endpoint:
    """A backend's server at `base_url`, through its client made on first use. `key`, the one
    sent, is never quoted in an error."""

    def __init__(
        self,
        http: ClientOnFirstUse,
        base_url: str,
        *,
        backend: str,
        hints: Hints,
        key: str | None = None,
        said: str | None = None,
    ) -> None:
        """`said`: how messages name the server (by default `backend`, the errors' name)."""
        self._http = http
        self._said = said
        self._base_url = base_url
        self._backend = backend
        self._hints = hints
        self._key = key
        # how a message about the body names the server: with its URL when it has a name
        self._said_at = None if said is None else f"{said} at {shown_url(base_url)}"

    def transport_failure(self, exc: httpx.HTTPError) -> BackendError:
        """`exc`, met talking to this server, with the fix (reach hint)."""
        reach = self._hints.reach
        hint = reach if isinstance(reach, str) else reach(exc)
        return transport_error(
            exc, backend=self._backend, url=self._base_url, hint=hint, said=self._said
        )

    def status_failure(self, response: httpx.Response, missing: str | None = None) -> BackendError:
        """An answer other than 200 as the error its status means; `missing`: what a 404
        means for this call (the backend's own by default)."""
        return status_error(
            response,
            backend=self._backend,
            auth_hint=self._hints.auth,
            model_hint=self._hints.missing if missing is None else missing,
            key=self._key,
            said=self._said,
        )

    async def send(
        self,
        method: str,
        path: str,
        *,
        checked: bool = True,
        missing: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """The answer to `method` `path` (after the base URL), its body read within the cap
        (capped_send); `kwargs` go to httpx (json, timeout). A transport failure raises its
        BackendError; so does a status other than 200 when `checked`."""
        try:
            response = await capped_send(
                self._http.get(),
                method,
                f"{self._base_url}{path}",
                backend=self._backend,
                said=self._said_at,
                **kwargs,
            )
        except httpx.HTTPError as exc:
            raise self.transport_failure(exc) from exc
        if checked and response.status_code != 200:
            raise self.status_failure(response, missing)
        return response

    @asynccontextmanager
    async def stream(self, method: str, path: str, **kwargs: Any) -> AsyncIterator[httpx.Response]:
        """The answer to `method` `path` opened as a stream once its status is 200 (else its
        BackendError); a transport failure while it is read raises its BackendError too."""
        try:
            async with self._http.get().stream(
                method, f"{self._base_url}{path}", **kwargs
            ) as response:
                if response.status_code != 200:
                    body = await capped_body(response, backend=self._backend, said=self._said_at)
                    raise self.status_failure(body)
                yield response
        except httpx.HTTPError as exc:
            raise self.transport_failure(exc) from exc
