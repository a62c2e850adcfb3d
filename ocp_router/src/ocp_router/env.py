"""Reading OCP_* environment variables: the one rule every entry point follows.

A value that is still a literal `${VAR}` or `$VAR` (some IDEs pass unset variables through
unexpanded), or is empty, counts as unset. Pure stdlib: the server reads its settings before
anything heavy is imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["env_value"]

_UNEXPANDED = re.compile(r"^\$\{[^}]*\}$|^\$[A-Za-z_]\w*$")


def env_value(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value, or None when unset, empty or an unexpanded `${VAR}`."""
    value = env.get(name)
    if value is None:
        return None
    value = value.strip()
    if not value or _UNEXPANDED.match(value):
        return None
    return value
