"""The ModelBackend protocol and the request/response values every backend speaks."""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Protocol, Self, runtime_checkable


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """One completion request. `prompt` is the user turn; `system` an optional system prompt."""

    prompt: str
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None


@dataclass(frozen=True, slots=True)
class GenerateResponse:
    """A complete answer with its usage. `duration_ms` is wall time measured by the backend."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    stop_reason: str | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0


@runtime_checkable
class ModelBackend(Protocol):
    """What the router needs from a model. No base class required: any object with these works."""

    @property
    def model(self) -> str: ...

    async def is_available(self) -> bool: ...

    async def generate(self, request: GenerateRequest) -> GenerateResponse: ...


class ClosingBackend:
    """Mixin: `async with Backend(...) as b:` closes the backend's HTTP client on exit."""

    async def aclose(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()
