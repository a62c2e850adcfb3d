"""The ModelBackend protocol and the request/response values every backend speaks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol, runtime_checkable

from ocp_router.closing import ClosesOnExit
from ocp_router.errors import BackendError


@dataclass(frozen=True, slots=True)
class SettingNames:
    """What a backend's error messages tell the user to change, each as it is named where
    the user sets it: by default the backend's own arguments (a library user built it); an
    application that reads them from its settings names those (config.build_local and
    build_paid: `OCP_PAID_TIMEOUT`)."""

    model: str = "the `model` argument"
    base_url: str = "the `base_url` argument"
    timeout: str = "the `timeout` argument"
    api_key: str = "the `api_key` argument"


ARGUMENT_NAMES = SettingNames()  # a backend built directly: its hints name its arguments

# A backend's defaults when built directly, which are the settings' defaults too
# (config.RouterSettings): a local model on a laptop is given less time than a paid one.
LOCAL_TIMEOUT = 60.0
PAID_TIMEOUT = 120.0
PAID_MAX_TOKENS = 4096
ANTHROPIC_MODEL = "claude-sonnet-4-6"  # here, not in anthropic.py: that one needs the SDK


@dataclass(frozen=True, slots=True)
class Turn:
    """One earlier turn of a conversation, flattened to text."""

    role: Literal["user", "assistant"]
    text: str


@dataclass(frozen=True, slots=True)
class GenerateRequest:
    """One completion request.

    `prompt` is the latest user turn and `history` the turns before it (oldest first);
    `system` an optional system prompt. `model` overrides the backend's model for this request
    (one paid client serves every paid tier). `json_schema` asks for structured output where
    the backend supports it (Ollama `format`, OpenAI-compatible `response_format`).
    `think` is Ollama's: True or False (think, or not), a level ("low", "medium", "high",
    "max"), or None: not sent, the server's default (from Ollama v0.12.4 a model that can
    think does: `think: true`; before, its template decided).
    """

    prompt: str
    system: str | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    history: tuple[Turn, ...] = ()
    model: str | None = None
    json_schema: dict[str, Any] | None = None
    think: bool | str | None = None


def chat_messages(request: GenerateRequest, *, system_inline: bool) -> list[dict[str, str]]:
    """The request as chat messages: history then prompt, consecutive same-role turns merged
    (Anthropic rejects two user turns in a row), starting with a user turn. With
    `system_inline` the system prompt leads as a `system` message (OpenAI, Ollama)."""
    messages: list[dict[str, str]] = []
    for turn in (*request.history, Turn("user", request.prompt)):
        if not turn.text:
            continue
        if messages and messages[-1]["role"] == turn.role:
            messages[-1]["content"] += "\n\n" + turn.text
        elif not messages and turn.role == "assistant":
            continue  # a conversation may not open with the assistant
        else:
            messages.append({"role": turn.role, "content": turn.text})
    if not messages:
        messages.append({"role": "user", "content": request.prompt})
    if system_inline and request.system:
        messages.insert(0, {"role": "system", "content": request.system})
    return messages


@dataclass(frozen=True, slots=True)
class GenerateResponse:
    """A complete answer with its usage. `duration_ms` is wall time measured by the backend.
    `thinking`: a thinking model's reasoning, apart from the answer `text`; `reasoning_tokens`:
    the part of `completion_tokens` it took (the server's count, else an estimate)."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    duration_ms: float
    stop_reason: str | None = None
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    thinking: str = ""
    reasoning_tokens: int = 0


@runtime_checkable
class ModelBackend(Protocol):
    """What the router needs from a model. No base class required: any object with these works."""

    @property
    def model(self) -> str: ...

    async def is_available(self) -> bool: ...

    async def generate(self, request: GenerateRequest) -> GenerateResponse: ...


@runtime_checkable
class CheckedBackend(Protocol):
    """A backend that can say why it would not answer now (the HTTP backends): a dry run
    shows it, with its fix, rather than only that the model is not there."""

    async def check(self) -> None:
        """Raise a BackendError saying what is wrong and what to do, naming the URL tried."""
        ...


async def passes_check(backend: CheckedBackend) -> bool:
    """Whether `backend.check()` finds nothing wrong: the `is_available` of a backend that can
    say why it would not answer."""
    try:
        await backend.check()
    except BackendError:
        return False
    return True


class ClosingBackend(ClosesOnExit):
    """Mixin: `async with Backend(...) as b:` closes the backend's HTTP client on exit."""
