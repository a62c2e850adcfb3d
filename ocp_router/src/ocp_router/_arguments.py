"""Checks for the values passed to the router's constructors from Python: a value they cannot
use is a ConfigError naming the argument, raised where it is given (the environment's values
are checked by `RouterSettings`, with the variables' names)."""

from __future__ import annotations

import math
from enum import StrEnum
from typing import TypeVar

from ocp_router.errors import ConfigError

E = TypeVar("E", bound=StrEnum)


def choice(name: str, value: str, kind: type[E]) -> E:
    """`value` as a member of `kind`, else a ConfigError listing the choices."""
    try:
        return kind(value)
    except ValueError:
        accepted = ", ".join(member.value for member in kind)
        raise ConfigError(f"{name} must be one of {accepted}; got {value!r}") from None


def seconds(name: str, value: float) -> float:
    """A time limit: finite and above 0 (one never reached is no limit: leave it unset)."""
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise ConfigError(f"{name} must be a number of seconds > 0, got {value!r}")
    return value


def within(name: str, value: float, low: float, high: float) -> float:
    """A number between `low` and `high`, both included (nan is not)."""
    if not (isinstance(value, int | float) and low <= value <= high):
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, got {value!r}")
    return value


def at_least(name: str, value: float | None, low: float) -> None:
    """None (no limit), or a number not below `low` (nan is not)."""
    if value is not None and not (isinstance(value, int | float) and value >= low):
        raise ConfigError(f"{name} must be at least {low:g} (or None), got {value!r}")


def http_url(name: str, value: str) -> str:
    """A server's URL: http:// or https:// (without it httpx fails at the first request, in a
    message about a broken connection)."""
    if not (isinstance(value, str) and value.lower().startswith(("http://", "https://"))):
        shown = (
            f"***@{value.rpartition('@')[2]}" if isinstance(value, str) and "@" in value else value
        )
        raise ConfigError(f"{name} must start with http:// or https://, got {shown!r}")
    return value
