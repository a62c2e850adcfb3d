"""What a backend's server says about one model: `ocp-server doctor` asks each configured
backend (model present, tool support, context window) instead of trusting the settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class ModelProbe:
    backend: str
    url: str
    model: str
    present: bool
    available: tuple[str, ...] = ()  # the models the server offers (names the fix can suggest)
    tools: bool | None = None  # None: the server does not say
    context_window: int | None = None  # tokens the model was trained for (None: not reported)
    loaded_context: int | None = None  # Ollama: the context it is loaded with right now


@runtime_checkable
class Probing(Protocol):
    """A backend that can say what its server knows about a model."""

    async def probe(self, model: str | None = None) -> ModelProbe: ...
