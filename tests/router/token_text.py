"""Random-looking token bodies for the redaction tests, the same for every run."""

from __future__ import annotations

import random
import string

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


def fake(n: int, alphabet: str = ALNUM, seed: int | str = 0) -> str:
    """A random-looking string with a lower, an upper and a digit when the alphabet has them."""
    rng = random.Random(f"{seed}:{n}:{alphabet}")
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        needed = [set(string.ascii_lowercase), set(string.ascii_uppercase), set(string.digits)]
        if all(not (cls & set(alphabet)) or cls & set(s) for cls in needed):
            return s
