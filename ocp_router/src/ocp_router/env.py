"""Reading OCP_* environment variables: the one rule every entry point follows.

A value that is still a literal `${VAR}` or `$VAR` (some IDEs pass unset variables through
unexpanded), or is empty, counts as unset. Pure stdlib: the server reads its settings before
anything heavy is imported.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["HTTP_URL", "HTTP_URL_EXPECTED", "env_value", "unexpanded"]

# A base URL setting: a scheme, then a host (not `http://`, nor `http://:8080`: they passed a
# bare '^https?://' and failed only at the first request, with httpx saying the URL "is missing
# an 'http://' or 'https://' protocol"), and no whitespace anywhere.
HTTP_URL = r"^https?://[^\s/?#:@][^\s/?#]*(?:[/?#]\S*)?$"
HTTP_URL_EXPECTED = "expected an http:// or https:// URL with a host (http://localhost:11434)"

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


def unexpanded(env: Mapping[str, str], name: str) -> str | None:
    """The variable's value when it is a literal `${VAR}` the client did not expand (which
    env_value reads as unset), for an error to name; else None."""
    value = (env.get(name) or "").strip()
    return value if _UNEXPANDED.match(value) else None
