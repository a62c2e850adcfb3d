"""Validation rule strings, Laravel's `'password' => 'required|min:8'`: under a password's
name, but no password."""

from __future__ import annotations

import re

__all__ = ["validation_rules"]

# A validation rule string: two or more of Laravel's rule names, each maybe with arguments
# ('min:8', 'max:255', 'in:a,b'), joined by `|`. Every piece must be a rule's name, so a
# password with a `|` in it ('required|Xk9mQ2vLp7') is no such string.
_RULE = (
    r"(?:required|nullable|sometimes|bail|filled|present|string|min|max|size|between|confirmed"
    r"|different|same|regex|not_regex|alpha|alpha_num|alpha_dash|ascii|numeric|integer"
    r"|email|current_password|password|letters|mixed_case|numbers|symbols|uncompromised"
    r"|in|not_in|unique|exists|digits|digits_between|lowercase|uppercase|prohibited)"
    r"(?::[\w.,-]+)?"
)
_RULES_RE = re.compile(rf"{_RULE}(?:\|{_RULE})+")


def validation_rules(s: str) -> bool:
    """'required|min:8': Laravel's rules for a field, two or more."""
    return "|" in s and _RULES_RE.fullmatch(s) is not None
