"""Values written in an encoding, for `_redact_values`: base64 that decodes to a sentence (a
doc's example of encoding, not a key), and the alphabets public keys and digests are written in
(what a documented name holds).
"""

from __future__ import annotations

import base64
import binascii
import re

from ocp_router._redact_words import wordy

__all__ = ["documented_value", "encoded_prose"]

_BASE64_ANY_RE = re.compile(r"[A-Za-z0-9+/_-]{8,}={0,2}")


# What a public key, its token or a digest is written in: hex, base64 (URL-safe too), base58
# or base32, maybe with separators (`SHA256:…`, `aa:bb:…`, `sha256-…`).
_ENCODED_RE = re.compile(r"[A-Za-z0-9+/=_.:-]{8,}")


def documented_value(v: str) -> bool:
    """What a documented name (`documented_name`) holds: an encoding's characters and not
    words. A password a person chose (`Xy9$kq!2Lm`, `hunter2secret99`) under such a name is
    no public key nor digest: it is judged as under any other name."""
    return _ENCODED_RE.fullmatch(v) is not None and not wordy(v)


def encoded_prose(v: str) -> bool:
    """Base64 of a sentence ("These aren't the droids you're looking for"): a doc's example of
    encoding, where a key decodes to random bytes."""
    raw = _base64_text(v)
    return raw is not None and raw.count(" ") >= 2 and wordy(raw)


def _base64_text(v: str) -> str | None:
    """What base64 (standard or URL-safe, padded or not) `v` decodes to, if printable ASCII."""
    if not _BASE64_ANY_RE.fullmatch(v):
        return None
    try:
        raw = base64.urlsafe_b64decode(v.replace("+", "-").replace("/", "_") + "=" * (-len(v) % 4))
    except (binascii.Error, ValueError):
        return None
    if not raw.isascii():
        return None
    text = raw.decode("ascii")
    return text if text.isprintable() else None
