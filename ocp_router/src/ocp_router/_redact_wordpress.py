"""WordPress's keys and salts (AUTH_KEY ... NONCE_SALT): the eight constants wp-config.php
defines, copied into deploy scripts, docs, .env files (Bedrock's `AUTH_SALT='...'`) and the
official image's `WORDPRESS_AUTH_SALT=`. Each holds 64 random characters from an alphabet
with symbols and the space; a salt there is a secret (it keys the login cookies' HMAC), unlike
a password hash's salt stored beside it (`salt = bcrypt.gensalt()`). The eight are made and
copied together: the salts are looked for in a text that names one of the keys
(_redact_assignments.assignment_hits), sparing every other text a pass."""

from __future__ import annotations

import re

from ocp_router._redact_values import symbol_heavy_random

__all__ = ["wordpress_key", "wordpress_value"]

# The constants' words at the end of a name (words_of_name: lower-case, `_`-split), after any
# prefix (WORDPRESS_, WP_, an app's).
_NAME_RE = re.compile(r"(?:^|_)(?:auth|logged_in|nonce)_(?:key|salt)")
_MIN_VALUE = 32  # the generator makes 64; a hand-made one is shorter


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
    return len(v) >= _MIN_VALUE and symbol_heavy_random(v.replace(" ", ""))
