"""The one registry of tree-sitter languages: every module of this package that exports `SPECS`.

Adding a language is one module here (its `SPECS`, see `spec.py`) plus its `tree-sitter-<lang>`
dependency in `ocp_server/pyproject.toml`: the registry finds the module, `languages.py` takes
its extensions and file names from here, and `chunk_text` parses its files.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from ocp_server.index.chunking.spec import LanguageSpec

__all__ = ["EXTENSIONS", "FILENAMES", "SPECS"]

# The package's own machinery, which defines no language.
_MACHINERY = frozenset({"cutter", "markdown", "registry", "spec", "walker"})


def _discover() -> dict[str, LanguageSpec]:
    specs: dict[str, LanguageSpec] = {}
    for module in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
        if module.name in _MACHINERY or module.ispkg:
            continue
        found: tuple[LanguageSpec, ...] = importlib.import_module(
            f"{__package__}.{module.name}"
        ).SPECS
        for spec in found:
            if spec.name in specs:
                raise RuntimeError(f"language {spec.name!r} is defined twice ({module.name})")
            specs[spec.name] = spec
    return specs


def _index(specs: dict[str, LanguageSpec], field: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for spec in specs.values():
        for key in getattr(spec, field):
            if key in out:
                raise RuntimeError(f"{key!r} is claimed by both {out[key]!r} and {spec.name!r}")
            out[key] = spec.name
    return out


#: Every tree-sitter language, by name.
SPECS: dict[str, LanguageSpec] = _discover()
#: Extension (lower-case, with the dot) -> language name.
EXTENSIONS: dict[str, str] = _index(SPECS, "extensions")
#: Whole file name (lower-case) -> language name.
FILENAMES: dict[str, str] = _index(SPECS, "filenames")
