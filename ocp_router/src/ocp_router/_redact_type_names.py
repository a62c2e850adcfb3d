"""Class names that name a secret's kind (`HTTPPasswordMgr`, `rsa.RSAPrivateKey`): a type
annotation's, not a value (_redact_values.is_placeholder asks)."""

from __future__ import annotations

import re

from ocp_router._redact_words import wordy

__all__ = ["secret_type_name"]

# A class name's pieces: a capitalised word, an acronym (with the digits that end it), digits.
_CAMEL_PIECE_RE = re.compile(r"[A-Z][a-z]+|[A-Z]+[0-9]*(?![a-z])|[0-9]+")
_MODULE_RE = re.compile(r"[a-z_][a-z0-9_]*")
_SECRET_KIND_WORDS = frozenset("password passwd secret token key credential credentials".split())
_SECRET_KIND_RE = re.compile(r"Passw|Secret|Token|Key|Credential|PASSW|SECRET|TOKEN|KEY|CREDENTIAL")


def secret_type_name(s: str) -> bool:
    """A class that names a secret's kind, maybe after its module (`HTTPPasswordMgr`,
    `rsa.RSAPrivateKey,`, `x25519.X25519PrivateKey`): a type annotation's, not a value. Its
    pieces are capitalised words of three letters or more, acronyms (digits may end one:
    X25519; one letter only first: IPasswordHasher) and a word naming a secret's kind; a number
    after a word (`Password2024`) or random letters (`GmPwKTjOFWcFAr`) are a value."""
    if _SECRET_KIND_RE.search(s) is None:
        return False
    *modules, cls = s.rstrip(",;").split(".")
    if not all(_MODULE_RE.fullmatch(m) for m in modules):
        return False
    pieces = _CAMEL_PIECE_RE.findall(cls)
    if len(pieces) < 2 or "".join(pieces) != cls:
        return False
    telling = False
    for i, p in enumerate(pieces):
        if p.lower() in _SECRET_KIND_WORDS:
            telling = True
        elif p.isdigit():
            return False
        elif p[1:].islower():
            if len(p) < 3 or len(p) > 4 and not wordy(p):
                return False  # Gm, Qwzrtk: random letters
        elif i and len(p) == 1:
            return False  # KTj: no acronym of one letter within a name
    return telling
