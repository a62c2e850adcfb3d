"""Search terms that understand code: identifiers whole and split.

`verify_token`, `verifyToken`, `VerifyToken` and "verify token" must all find the same
definition, and an exact identifier must rank first. So every compound identifier is indexed
whole (FTS5 keeps `_` inside tokens) and also as its parts (`verify`, `token`), and queries are
expanded the same way, plus the joined forms of adjacent words (`verify token` also looks for
`verify_token` and `verifytoken`).
"""

from __future__ import annotations

import re
from functools import lru_cache

_COMPOUND = re.compile(r"\b\w*(?:_|[a-z][A-Z]|[A-Za-z]\d|\d[A-Za-z])\w*\b")
_PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_QUERY_TOKEN = re.compile(r"\w+")
_PATH_SEP = re.compile(r"[/\\.\-]+")

STOPWORDS = frozenset(
    "a an the of to in on at for and or but is are was were be been do does did how what "
    "where which who whom why when this that these those it its we our i you your with by "
    "from into can could should would will shall may might there here about as if then than "
    "so not no yes all any some me my us they them their get gets find show tell".split()
)
MAX_QUERY_TERMS = 32


@lru_cache(maxsize=65536)
def split_identifier(identifier: str) -> tuple[str, ...]:
    """`verifyToken2FA` -> ("verify", "token", "2", "fa"); `__init__` -> ("init",)."""
    return tuple(p.lower() for p in _PARTS.findall(identifier))


def _parts_of_compounds(text: str) -> list[str]:
    extra: list[str] = []
    for ident in set(_COMPOUND.findall(text)):
        parts = split_identifier(ident)
        if len(parts) > 1 or (parts and parts[0] != ident.lower()):
            extra.extend(parts)
    return extra


def body_terms(text: str) -> str:
    """The text plus the parts of its compound identifiers."""
    extra = _parts_of_compounds(text)
    return text + "\n" + " ".join(extra) if extra else text


def symbol_terms(symbol: str | None, scope: str | None) -> str:
    words = [w for w in (symbol, scope) if w]
    if not words:
        return ""
    text = " ".join(words)
    return text + " " + " ".join(_parts_of_compounds(text.replace(".", " ")))


def path_terms(path: str) -> str:
    pieces = [p for p in _PATH_SEP.split(path) if p]
    return " ".join(pieces) + " " + " ".join(_parts_of_compounds(" ".join(pieces)))


def query_terms(query: str) -> list[str]:
    """Distinct lower-case terms for a query: identifiers whole and split, joined word pairs.

    Only word characters survive, so FTS5 syntax (quotes, NEAR, *, :, parentheses) in a query
    is never interpreted. Stopwords are dropped unless nothing else is left.
    """
    tokens = _QUERY_TOKEN.findall(query[:4000])
    terms: dict[str, None] = {}
    plain: list[str] = []
    for token in tokens:
        lower = token.lower()
        parts = split_identifier(token)
        if len(parts) > 1:
            terms[lower] = None
            terms["_".join(parts)] = None
            for p in parts:
                if p not in STOPWORDS:
                    terms[p] = None
            plain.append("")
            continue
        if lower in STOPWORDS:
            plain.append("")
            continue
        terms[lower] = None
        plain.append(lower)
    for a, b in zip(plain, plain[1:], strict=False):
        if a and b:
            terms[f"{a}_{b}"] = None
            terms[f"{a}{b}"] = None
    if not terms:
        terms = {t.lower(): None for t in tokens}
    return list(terms)[:MAX_QUERY_TERMS]


def fts_query(terms: list[str]) -> str:
    """An FTS5 MATCH expression: any of the terms, each quoted."""
    return " OR ".join('"' + t.replace('"', "") + '"' for t in terms)
