"""WordPress's keys and salts (AUTH_KEY ... NONCE_SALT): the eight constants wp-config.php
defines, copied into deploy scripts, docs, .env files (Bedrock's `AUTH_SALT='...'`) and the
official image's `WORDPRESS_AUTH_SALT=`. Each holds 64 random characters from an alphabet
with symbols and the space; a salt there is a secret (it keys the login cookies' HMAC), unlike
a password hash's salt stored beside it (`salt = bcrypt.gensalt()`). The eight are made and
copied together: the salts are looked for in a text that names one of the keys
(_redact_assignments.assignment_hits), sparing every other text a pass; in a text that names
none, a salt alone (one line pasted, a deploy step setting one) is hidden when its value is
machine-made as the generator or `openssl rand` makes it."""

from __future__ import annotations

import re

from ocp_router._redact_values import looks_random, spaced_random

__all__ = ["lone_salt_name", "machine_made_salt", "wordpress_key", "wordpress_value"]

# The constants' words at the end of a name (words_of_name: lower-case, `_`-split), after any
# prefix (WORDPRESS_, WP_, an app's).
_NAME_RE = re.compile(r"(?:^|_)(?:auth|logged_in|nonce)_(?:key|salt)")
_MIN_VALUE = 32  # the generator makes 64; a hand-made one is shorter
# What stands before "salt" in the four salts' names (SECURE_AUTH_SALT, WORDPRESS_NONCE_SALT).
_SALT_WORDS = ("auth_", "logged_in_", "nonce_")
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


def wordpress_key(words: tuple[str, ...]) -> bool:
    """The name (as words_of_name splits it) is one of WordPress's keys or salts."""
    return (
        len(words) >= 2
        and words[-1] in ("key", "salt")
        and _NAME_RE.search("_".join(words[-3:])) is not None
    )


def wordpress_value(v: str) -> bool:
    """What WordPress's generator makes: random characters with symbols, spaces among them
    (not 'put your unique phrase here')."""
    return spaced_random(v, _MIN_VALUE)


def lone_salt_name(lowered: str, salt_at: int) -> bool:
    """The "salt" at `salt_at` of the lower-cased text ends one of the four salts' names
    (AUTH_SALT, …_NONCE_SALT; not oauth_salt) and no longer name (auth_salt_length)."""
    end = salt_at + 4
    if end < len(lowered) and lowered[end] in _NAME_CHARS:
        return False
    for word in _SALT_WORDS:
        start = salt_at - len(word)
        if start >= 0 and lowered.startswith(word, start):
            return start == 0 or not lowered[start - 1].isalnum()
    return False


def machine_made_salt(v: str) -> bool:
    """A salt's value as WordPress's generator makes it (symbols and spaces), or as `openssl
    rand -hex 32` / `-base64 48` does: never a word, a phrase or a placeholder."""
    return wordpress_value(v) or (len(v) >= _MIN_VALUE and looks_random(v))
