"""MockBackend: answers with a function of yours. For tests and for routing without a network."""

from __future__ import annotations

import inspect
import time
from collections.abc import Awaitable, Callable

from ocp_router._tokens import estimate_tokens
from ocp_router.backends.base import GenerateRequest, GenerateResponse

Handler = Callable[[GenerateRequest], "str | GenerateResponse | Awaitable[str | GenerateResponse]"]


class MockBackend:
    name = "mock"

    def __init__(self, handler: Handler, *, model: str = "mock", available: bool = True) -> None:
        if not callable(handler):  # taken, every route failed with "not callable"
            fix = f"; for a fixed answer: MockBackend(lambda request: {handler!r})"
            raise TypeError(
                f"handler must be a function of the request, got {type(handler).__name__}"
                + (fix if isinstance(handler, str) else "")
            )
        self._handler = handler
        self._model = model
        self.available = available
        self.requests: list[GenerateRequest] = []

    @property
    def model(self) -> str:
        return self._model

    async def is_available(self) -> bool:
        return self.available

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        started = time.perf_counter()
        self.requests.append(request)
        result = self._handler(request)
        if inspect.isawaitable(result):
            result = await result
        if isinstance(result, GenerateResponse):
            return result
        if not isinstance(result, str):
            raise TypeError(
                f"the handler returned {type(result).__name__}; it must return a str or a "
                "GenerateResponse (or an awaitable of one)"
            )
        return GenerateResponse(
            text=result,
            model=request.model or self._model,
            prompt_tokens=estimate_tokens((request.system or "") + request.prompt),
            completion_tokens=estimate_tokens(result),
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            stop_reason="stop",
        )
