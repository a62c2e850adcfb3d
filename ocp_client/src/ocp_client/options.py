"""OCPClient's constructor arguments, checked before anything starts: a wrong one is an error
naming the argument and what it takes, not a server started with the wrong command line (a
string for `args` was split into characters) nor a failure later reported as the server's."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["command_args", "server_env", "timeout_seconds"]

StrPath = str | os.PathLike[str]


def command_args(args: Sequence[StrPath]) -> list[str]:
    """The arguments as strings; paths are accepted, as subprocess does."""
    if isinstance(args, str | bytes):
        raise TypeError(
            f"args must be a sequence of strings, not a {type(args).__name__}: {args!r}"
        )
    checked = []
    for index, arg in enumerate(args):
        if not isinstance(arg, str | os.PathLike):
            raise TypeError(f"args[{index}] must be a str or a path, got {_shown(arg)}")
        checked.append(os.fspath(arg))
    return checked


def server_env(env: Mapping[str, str] | None) -> dict[str, str]:
    checked = dict(env or {})
    for name, value in checked.items():
        if not isinstance(name, str):
            raise TypeError(f"env's names must be str, got {_shown(name)}")
        if not isinstance(value, str):
            raise TypeError(f"env[{name!r}] must be a str, got {_shown(value)}")
    return checked


def timeout_seconds(timeout: Any) -> float:
    """A positive number of seconds (infinity waits forever)."""
    expected = f"timeout must be a number of seconds > 0, got {timeout!r}"
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise TypeError(expected)
    if math.isnan(timeout) or timeout <= 0:
        raise ValueError(expected)
    return float(timeout)


def _shown(value: Any) -> str:
    return f"{value!r} ({type(value).__name__})"
