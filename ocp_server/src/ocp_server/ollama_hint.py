"""What to do when the local Ollama cannot be reached because it is not installed on this
machine: "Start it with `ollama serve`" (the backend's own fix) names a command the user does
not have. Said by `doctor` and by a dry run of `ocp_model_route`."""

from __future__ import annotations

import os
import shutil

import httpx

from ocp_router.backends.ollama import OllamaBackend
from ocp_router.errors import BackendError

__all__ = ["no_ollama_here"]

_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def no_ollama_here(exc: BackendError, backend: object, path: str | None) -> str | None:
    """The fix for `exc`, met reaching `backend`, when it is an Ollama on this machine that is
    not installed (no `ollama` on `path`, the PATH to search): install it and pull the model.
    None otherwise (the backend's own message says what to do)."""
    if not isinstance(backend, OllamaBackend) or not isinstance(exc.__cause__, httpx.ConnectError):
        return None
    if httpx.URL(backend.base_url).host not in _LOCAL_HOSTS:
        return None
    if shutil.which("ollama", path=os.defpath if path is None else path) is not None:
        return None
    return (
        f"no Ollama here: nothing answers at {backend.shown_url} and `ollama` is not on PATH. "
        f"Install it from https://ollama.com, then `ollama pull {backend.model}` (or set "
        f"{backend.names.base_url} to an Ollama elsewhere)"
    )
