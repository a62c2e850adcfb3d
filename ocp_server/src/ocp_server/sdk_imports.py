"""The mcp SDK's low-level server, imported in the least time, so `initialize` is answered soon.

Importing the SDK is most of a server's start: the server's main thread spent 780 ms of CPU
before answering `initialize` without this module, 600 ms with it, about 500 of them in the
SDK (2 shared cores; `bench/bench_server.py --start`). Two parts of the SDK's import are not
needed to answer `initialize`, and `import_server_sdk` leaves them for later:

- `mcp/__init__.py` and `mcp/server/__init__.py` re-export the whole SDK: the client with its
  HTTP stack, and the high-level `MCPServer` with its resources, prompts and templates
  (about 100 ms). `defer_package_init` puts such a package in `sys.modules` with its
  `__path__` set but its `__init__` not yet run, so its submodules import as usual; the first
  attribute only the `__init__` defines (`from mcp import ClientSession`) runs it, in the same
  module object. From then on the package is what a plain import makes.
- pydantic builds each model's validator when its class is defined, and `mcp_types` defines
  about 500 models, one set per protocol era. Imported with pydantic's `defer_build` default
  on, a model is built the first time it is used instead (about 80 ms less); only the SDK's
  classes are defined meanwhile, and the default is put back before anything else runs.

Both reach into internals (an import-system detail, a pydantic default): each checks what it
relies on and does nothing when it is missing (a package that is a module, a pydantic without
that default), and an SDK module that reads a deferred package's names runs its `__init__`,
so a newer SDK or pydantic costs time, not correctness.
Drop them once the SDK loads its re-exports on first use (PEP 562) and defers its models.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType
from typing import Any

__all__ = [
    "DEFERRED_PACKAGES",
    "SERVER_MODULES",
    "defer_package_init",
    "import_server_sdk",
    "models_built_on_use",
]

# What ocp_server.server imports from the SDK, by full name, so neither package's re-exports
# run. The packages themselves are deferred.
SERVER_MODULES = (
    "mcp.server.lowlevel.server",
    "mcp.server.context",
    "mcp.shared.exceptions",
    "mcp.shared.message",
    "mcp.types",
)
DEFERRED_PACKAGES = ("mcp", "mcp.server")


def import_server_sdk() -> None:
    """Import what the stdio server needs of the SDK, and nothing it does not."""
    for package in DEFERRED_PACKAGES:
        defer_package_init(package)
    with models_built_on_use():
        for name in SERVER_MODULES:
            importlib.import_module(name)


@contextmanager
def models_built_on_use() -> Iterator[None]:
    """pydantic models defined inside build their validators on first use (`defer_build`).
    Not thread-safe: for the start, before the server's other threads exist."""
    defaults = _pydantic_defaults()
    if defaults is None:
        yield
        return
    previous = defaults["defer_build"]
    defaults["defer_build"] = True
    try:
        yield
    finally:
        defaults["defer_build"] = previous


def _pydantic_defaults() -> dict[str, Any] | None:
    """pydantic's default configuration, which every model's `defer_build` falls back to."""
    try:
        from pydantic._internal._config import config_defaults
    except ImportError:  # pragma: no cover - another pydantic layout: build eagerly
        return None
    defaults: Any = config_defaults
    if isinstance(defaults, dict) and defaults.get("defer_build") is False:
        return defaults
    return None  # pragma: no cover


def defer_package_init(name: str) -> ModuleType | None:
    """Make `name` (a package not yet imported) importable with its `__init__` deferred until
    an attribute it defines is first read. Returns the module, or None when it is already
    imported or is not a plain package (then nothing changes)."""
    if name in sys.modules:
        return None
    parent_name, _, child = name.rpartition(".")
    parent = sys.modules.get(parent_name) if parent_name else None
    if parent_name and parent is None:
        return None
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return None
    loader = spec.loader
    module = importlib.util.module_from_spec(spec)
    lock = threading.RLock()
    running = False

    def __getattr__(attr: str) -> object:
        # Another thread waits here until the `__init__` has run; the running thread's own
        # lookups (the `__init__` importing its submodules) fall through to AttributeError,
        # as during any package's first import.
        nonlocal running
        with lock:
            if module.__dict__.get("__getattr__") is __getattr__ and not running:
                running = True
                try:
                    loader.exec_module(module)
                finally:
                    if module.__dict__.get("__getattr__") is __getattr__:
                        del module.__dict__["__getattr__"]
        try:
            return module.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = module
    if parent is not None:
        setattr(parent, child, module)
    return module
