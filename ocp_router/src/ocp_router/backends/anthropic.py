"""AnthropicBackend: Claude through the official SDK (AsyncAnthropic).

The SDK is imported, and its client made, when the backend first sends a request
(anthropic_sdk.py): a server with a key set, asked only to search, never pays for them. The
SDK's own retries are off by default: OCP's router owns retries (it escalates to another
model or tier), and a slow or rate-limited Anthropic must not use up the route's whole time
bound on repeats of one failing call. Needs the `anthropic` extra:
`pip install 'ocp-router[anthropic]'`.
"""

from __future__ import annotations

import asyncio
import time
from importlib.util import find_spec
from typing import TYPE_CHECKING

from ocp_router.backends._http import basic_auth_header, shown_url, without_credentials
from ocp_router.backends.base import (
    ANTHROPIC_MODEL,
    ARGUMENT_NAMES,
    PAID_MAX_TOKENS,
    PAID_TIMEOUT,
    ClosingBackend,
    GenerateRequest,
    GenerateResponse,
    SettingNames,
    chat_messages,
)
from ocp_router.backends.probe import ModelProbe
from ocp_router.errors import BackendAuthError, BackendResponseError
from ocp_router.redact_names import redact_name_head

if TYPE_CHECKING:
    import anthropic

# Without the extra this module is not there, as before the SDK waited for first use: the
# name `ocp_router.AnthropicBackend` then says what to install.
if find_spec("anthropic") is None:
    raise ModuleNotFoundError("No module named 'anthropic'", name="anthropic")

# Always passed to the SDK: given none, it reads ANTHROPIC_BASE_URL from the process's
# environment itself, an unexpanded `${ANTHROPIC_BASE_URL}` included, past the settings.
DEFAULT_URL = "https://api.anthropic.com"


class AnthropicBackend(ClosingBackend):
    name = "anthropic"

    def __init__(
        self,
        model: str = ANTHROPIC_MODEL,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = PAID_TIMEOUT,
        max_tokens: int = PAID_MAX_TOKENS,
        max_retries: int = 0,
        names: SettingNames = ARGUMENT_NAMES,
    ) -> None:
        """`names`: what error messages tell the user to change (by default these arguments)."""
        if not api_key:
            raise BackendAuthError(f"no Anthropic API key. Set {names.api_key}.", backend=self.name)
        self._model = model
        self.names = names
        self.max_tokens = max_tokens
        self.timeout = timeout
        self._api_key = api_key
        self._max_retries = max_retries
        # A user and password in the URL go as the header they make: the SDK logs every
        # request's URL as it is.
        self._url, auth = without_credentials(base_url or DEFAULT_URL)
        self._headers = {"Authorization": basic_auth_header(auth)} if auth else None
        self._made: anthropic.AsyncAnthropic | None = None
        self._closed = False

    @property
    def model(self) -> str:
        return self._model

    def __repr__(self) -> str:  # never show the key
        return f"AnthropicBackend(model={self._model!r})"

    @property
    def client_made(self) -> bool:
        return self._made is not None

    @property
    def _client(self) -> anthropic.AsyncAnthropic:
        """The SDK's client, made (and the SDK imported) on first use."""
        if self._made is None:
            if self._closed:  # as httpx says of a closed client: no new one after aclose
                raise RuntimeError("Cannot send a request, as the client has been closed.")
            self._made = self._new_client()
        return self._made

    async def _ready_client(self) -> anthropic.AsyncAnthropic:
        """`_client`, first made in a thread: the SDK's import is ~1.2 s of CPU, which on the
        event loop would hold up every other call (a search) for as long."""
        if self._made is None and not self._closed:
            made = await asyncio.to_thread(self._new_client)
            if self._made is None and not self._closed:
                self._made = made
            else:  # another call made one meanwhile, or the backend was closed
                await made.close()
        return self._client

    def _new_client(self) -> anthropic.AsyncAnthropic:
        from ocp_router.backends.anthropic_sdk import make_client

        return make_client(
            api_key=self._api_key,
            base_url=self._url,
            headers=self._headers,
            timeout=self.timeout,
            max_retries=self._max_retries,
            names=self.names,
        )

    async def aclose(self) -> None:
        self._closed = True
        if self._made is not None:
            await self._made.close()

    async def is_available(self) -> bool:
        """A key is configured; the API itself is only contacted by real requests."""
        return True

    async def probe(self, model: str | None = None) -> ModelProbe:
        """Ask the Models API about `model` (default: this backend's): it exists for this key,
        and its context window (`max_input_tokens`, where the API reports it). Free: no tokens
        are spent. Every Claude model takes tools."""
        client = await self._ready_client()
        import anthropic  # imported by now: the client's making imported it

        from ocp_router.backends.anthropic_sdk import translate

        model = model or self._model
        try:
            info = await client.models.retrieve(model)
        except anthropic.NotFoundError:
            return ModelProbe(self.name, shown_url(str(client.base_url)), model, False)
        except anthropic.AnthropicError as exc:
            raise translate(exc, model, self._api_key, self.names) from exc
        return ModelProbe(
            self.name,
            shown_url(str(client.base_url)),
            model,
            True,
            tools=True,
            context_window=info.max_input_tokens,
        )

    async def generate(self, request: GenerateRequest) -> GenerateResponse:
        client = await self._ready_client()
        import anthropic  # imported by now: the client's making imported it

        from ocp_router.backends.anthropic_sdk import translate

        started = time.perf_counter()
        model = request.model or self._model
        messages = chat_messages(request, system_inline=False)
        try:
            message = await client.messages.create(
                model=model,
                max_tokens=request.max_tokens or self.max_tokens,
                system=request.system or anthropic.omit,
                messages=messages,  # type: ignore[arg-type]
            )
        except anthropic.AnthropicError as exc:
            raise translate(exc, model, self._api_key, self.names) from exc
        except ValueError as exc:  # the SDK lets a body that is not JSON escape as ValueError
            raise BackendResponseError(
                f"anthropic sent a response we could not read ({exc}); check "
                f"{self.names.base_url}.",
                backend=self.name,
            ) from exc
        if not isinstance(message, anthropic.types.Message):
            # A non-streaming call answered with an event stream, or another body the SDK
            # hands back as it came: a backend error, which escalates like any other.
            shown = redact_name_head(str(message), 80)
            raise BackendResponseError(
                f"anthropic sent a response we could not read (a {type(message).__name__}, "
                f"not a message: {shown!r}); check {self.names.base_url}.",
                backend=self.name,
            )
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = message.usage
        cache_read = usage.cache_read_input_tokens or 0
        cache_write = usage.cache_creation_input_tokens or 0
        return GenerateResponse(
            text=text,
            model=message.model,
            prompt_tokens=usage.input_tokens + cache_read + cache_write,
            completion_tokens=usage.output_tokens,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            stop_reason=message.stop_reason,
            cache_read_tokens=cache_read,
            cache_write_tokens=cache_write,
        )
