"""The ocp_router error hierarchy.

    RouterError                  anything the router raises on purpose
     +-- ConfigError             an OCP_* variable (or argument) has an invalid value
     |    +-- PayloadError           a request route() cannot read (payload.py); names the field
     +-- RoutingFailed           no model could answer; `.attempts` says why each failed
     |    +-- BudgetExceeded         a paid call the budget refused, and nothing else answered
     +-- BackendError            a model backend failed; `.backend` names it
          +-- BackendUnavailable     cannot reach the server, or the model is not there
          +-- BackendTimeout         no complete answer within the timeout
          +-- BackendAuthError       the key is missing or rejected
          +-- BackendRateLimited     429 / overloaded: try later or elsewhere
          +-- BackendResponseError   the server answered with an error or a malformed body
               +-- BackendContextExceeded   the request does not fit the model's context window

RoutingFailed and BudgetExceeded live in results.py, with the attempts they carry; all import
from `ocp_router`. Every message says what to do next. Backends translate vendor and httpx
errors into these at the boundary (`raise ... from exc`), so callers never see a vendor
exception.
"""

from __future__ import annotations


class RouterError(Exception):
    """Base class for every error ocp_router raises on purpose."""


class ConfigError(RouterError, ValueError):
    """An environment variable or argument has a value the router cannot use. The message
    quotes the value redacted, read as a name (redact_names.py): a key pasted into the wrong
    variable would reach the CLI's error line, and every tool's answer, as it is."""

    def __init__(self, message: str) -> None:
        from ocp_router.redact_names import redact_name  # the rules load only for an error

        super().__init__(redact_name(message).text)


class BackendError(RouterError):
    """A model backend failed."""

    def __init__(self, message: str, *, backend: str = "", status_code: int | None = None):
        super().__init__(message)
        self.backend = backend
        self.status_code = status_code


class BackendUnavailable(BackendError):
    """The backend cannot be reached, or the model is not available on it."""


class BackendTimeout(BackendError):
    """The backend did not answer in time. `sent` is False when the request never left whole
    (the connection, a pooled one, or writing the body timed out): nothing there to bill."""

    def __init__(
        self,
        message: str,
        *,
        backend: str = "",
        status_code: int | None = None,
        sent: bool = True,
    ):
        super().__init__(message, backend=backend, status_code=status_code)
        self.sent = sent


class BackendAuthError(BackendError):
    """The API key is missing or was rejected."""


class BackendRateLimited(BackendError):
    """The backend is rate limiting or overloaded (HTTP 429, 529)."""


class BackendResponseError(BackendError):
    """The backend answered with an error status or a body we could not read."""


class BackendContextExceeded(BackendResponseError):
    """The request is longer than the model's context window (or the API's size limit): the
    provider said so by its error code or type, or, where it gives none, in words."""
