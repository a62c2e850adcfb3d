"""Whether a message says anything is decided without copying it (a 15 MB message's
`strip()` was one call holding the GIL), as `strip()` decided it."""

from __future__ import annotations

import sys

from ocp_router.payload import _said


def test_said_is_what_strip_says_for_every_character() -> None:
    for code in range(sys.maxunicode + 1):
        c = chr(code)
        for text in (c, c * 3, f" {c}\n", f"\u3000{c}\u2028"):
            assert _said(text) == bool(text.strip()), hex(code)
    assert not _said("") and not _said(" \t\n\r\x0b\x0c\x1c\x85\xa0\u2000\u3000")
