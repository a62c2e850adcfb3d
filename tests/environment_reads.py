"""Which environment variables a source file reads, found in its syntax tree (for the
tests that the client passes them on and that OCP's settings are read in one place)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

_NAME = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$|^[A-Z]{4,}$")


def _is_environment(node: ast.expr) -> bool:
    source = ast.unparse(node)
    return source in ("env", "environ") or source.endswith("environ")


def variables_read(roots: tuple[Path, ...]) -> set[str]:
    """Every variable name the sources under `roots` read (see `variables_in`)."""
    return {name for root in roots for path in root.rglob("*.py") for name in variables_in(path)}


def variables_in(path: Path) -> set[str]:
    """Every variable name a source file reads: `environ.get("X")`, `environ["X"]`,
    `env_value(env, "X")` and any call given the environment and a name, and pydantic
    settings' `Field(alias="X")`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[ast.expr] = []
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("get", "getenv"):
                if func.attr == "getenv" or _is_environment(func.value):
                    names += node.args[:1]
            if any(_is_environment(arg) for arg in node.args):
                names += node.args
            names += [k.value for k in node.keywords if k.arg == "alias"]
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            if not isinstance(node.ctx, ast.Store):  # `env["X"] = ...` sets it for a reader
                names.append(node.slice)
        found.update(
            n.value
            for n in names
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and _NAME.match(n.value)
        )
    return found
