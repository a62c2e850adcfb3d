"""The one registry of tree-sitter languages: every module of this package that exports `SPECS`.

Adding a language is one module here (its `SPECS`, see `spec.py`) plus its `tree-sitter-<lang>`
dependency in `ocp_server/pyproject.toml`: the registry finds the module, `languages.py` takes
its extensions and file names from here, and `chunk_text` parses its files.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from pathlib import Path

from ocp_server.index.chunking.spec import LanguageSpec

__all__ = ["EXTENSIONS", "FILENAMES", "SPECS", "discover", "index"]

# The package's own machinery, which defines no language.
_MACHINERY = frozenset({"cutter", "markdown", "registry", "spec", "walker"})


def discover(directory: Path, package: str) -> dict[str, LanguageSpec]:
    """Every `SPECS` entry of the modules in `directory` (the package `package`), by name."""
    specs: dict[str, LanguageSpec] = {}
    for module in sorted(pkgutil.iter_modules([str(directory)]), key=lambda m: m.name):
        if module.name in _MACHINERY or module.ispkg:
            continue
        found: tuple[LanguageSpec, ...] = getattr(
            importlib.import_module(f"{package}.{module.name}"), "SPECS", ()
        )
        for spec in found:
            if spec.name in specs:
                raise RuntimeError(f"language {spec.name!r} is defined twice ({module.name})")
            specs[spec.name] = spec
    return specs


def index(
    specs: dict[str, LanguageSpec], keys: Callable[[LanguageSpec], tuple[str, ...]]
) -> dict[str, str]:
    """Key (an extension, a file name) -> language name; a key claimed twice is an error."""
    out: dict[str, str] = {}
    for spec in specs.values():
        for key in keys(spec):
            if key in out:
                raise RuntimeError(f"{key!r} is claimed by both {out[key]!r} and {spec.name!r}")
            out[key] = spec.name
    return out


#: Every tree-sitter language, by name.
SPECS: dict[str, LanguageSpec] = discover(Path(__file__).parent, __package__ or "")
#: Extension (lower-case, with the dot) -> language name.
EXTENSIONS: dict[str, str] = index(SPECS, lambda spec: spec.extensions)
#: Whole file name (lower-case) -> language name.
FILENAMES: dict[str, str] = index(SPECS, lambda spec: spec.filenames)
