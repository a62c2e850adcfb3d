"""OCPClient's constructor arguments, checked before anything starts: a wrong one is an error
naming the argument and what it takes, not a server started with the wrong command line (a
string for `args` was split into characters) nor a failure later reported as the server's."""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["command_args", "program", "server_env", "split_hint", "timeout_seconds"]

StrPath = str | os.PathLike[str]


def program(command: StrPath) -> str:
    """The program to start: a str or a path. A whole command line (a list, as IDE configs
    spell a server) is refused with the call that would start it."""
    if isinstance(command, list | tuple):
        parts = [os.fspath(p) if isinstance(p, str | os.PathLike) else p for p in command]
        fix = f" (the program alone; its arguments go in args: {_call(parts)})" if parts else ""
        raise TypeError(f"command must be a str or a path, got a {type(command).__name__}{fix}")
    if not isinstance(command, str | os.PathLike):
        raise TypeError(f"command must be a str or a path, got {_shown(command)}")
    return os.fspath(command)


def split_hint(command: str) -> str:
    """For a program not found: when `command` is a whole command line (its first word is a
    program; a path with a space in it is not), the call that would start it, else ''."""
    parts = command.split()
    if len(parts) < 2 or shutil.which(parts[0]) is None:
        return ""
    return f"; `command` is one program, its arguments go in args: {_call(parts)}"


def _call(parts: Sequence[Any]) -> str:
    args = f", {list(parts[1:])!r}" if len(parts) > 1 else ""
    return f"OCPClient({parts[0]!r}{args})"


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
