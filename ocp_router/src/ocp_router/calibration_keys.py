"""What a local model's calibration is filed under: `name @ endpoint`, one spelling for one
model on one server.

The same model is written several ways: Ollama reads an untagged name as its default tag
(`llama3.2` is `llama3.2:latest`, what `ollama list` shows) and a name in any case as the
model pulled under it (`Llama3:8B` is `llama3:8b`: since v0.5.2 its chat handlers look the
name up part by part ignoring ASCII case, `getExistingName` in server/routes.go, and it
cannot hold two models whose names differ only in case); its OpenAI-compatible layer at
`/v1` serves the same models as its native API; and a URL as typed may differ in case, a
default port or a trailing slash (`http://LOCALHOST:11434/`). Each spelling was once a model
of its own that started from the defaults. Now the name is kept in lower case without
`:latest`, and the URL as scheme, host and port (lower case, the scheme's default port left
out) and path, without a trailing slash or `/v1`, a user, a password or a query.

These rules hold on any server, which the key cannot tell apart: a vLLM or llama.cpp model
named `x:latest` is taken for `x`, `X` for `x` (a server that tells case apart answers one
spelling and refuses the other as a missing model, and llama.cpp's answers any name with its
one model, so two spellings on one server are never two models that answer), and a server's
`/v1` for the server (no known server serves other models there than at its root).

`localhost` and `127.0.0.1` stay apart: `localhost` may resolve to `::1` first, where another
server (or none) may listen, so the two can be different servers.
"""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["canonical_key", "endpoint_key", "model_key", "name_key"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_LATEST = ":latest"
_OPENAI_LAYER = "/v1"  # where Ollama (and every OpenAI-compatible server) serves that API
_SEP = " @ "


def name_key(model: str) -> str:
    """`model` in lower case without Ollama's default tag: `Llama3.2:latest` is `llama3.2`."""
    model = model.strip().lower()
    last = model.rpartition("/")[2]  # a registry host's port is no tag (host:5000/m)
    return model[: -len(_LATEST)] if last.endswith(_LATEST) and last != _LATEST else model


def endpoint_key(url: str) -> str:
    """`url` as scheme://host[:port]/path, lower case, no default port, no trailing slash or
    `/v1`, no user, password, query or fragment; a string that is no URL as it is, less a
    trailing slash."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return url.rstrip("/")
    scheme, host = parts.scheme.lower(), parts.hostname
    if not scheme or not host:
        return url.rstrip("/")
    if ":" in host:  # IPv6
        host = f"[{host}]"
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    return f"{scheme}://{host}{parts.path.rstrip('/').removesuffix(_OPENAI_LAYER)}"


def model_key(model: str, endpoint: str | None = None) -> str:
    """What a local model's calibration is filed under: its name, and where it runs (the same
    name on another server may be another build or quantization)."""
    name = name_key(model)
    return f"{name}{_SEP}{endpoint_key(endpoint)}" if endpoint else name


def canonical_key(key: str) -> str:
    """A key as `model_key` writes it now: one stored (or carried by a trace) before keys
    were normalized is read as the same model's."""
    name, sep, endpoint = key.rpartition(_SEP)
    return model_key(name, endpoint) if sep else model_key(key)
