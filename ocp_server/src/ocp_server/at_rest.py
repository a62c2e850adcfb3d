"""Memory is kept redacted: what `ocp_result_save` stores (notes, open items, summaries,
decisions, state, trace outcomes) has its secrets replaced by ``[REDACTED:<kind>]`` markers
before it reaches `.ocp/ocp.db`, like trace requests. An `.ocp/` folder can be committed,
synced or copied by accident, and the database keeps whatever it was given.

Tool results are still redacted on the way out too (`views.redacted_result`): the rules improve,
and a rule added later finds what rows stored before it hold (m016 redacted the rows stored
before this module existed)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from ocp_router.redact_names import redact_name, redact_name_head

__all__ = [
    "kept_id",
    "redacted",
    "redacted_after",
    "redacted_decision",
    "redacted_head",
    "redacted_state",
]


def redacted(text: str, known: Mapping[str, str] | None = None) -> str:
    """`text` as memory stores it. Read as a name too (redact_names.py): an agent's titles,
    state keys and ids glue words together (`cfgghp_<token>`), and a token there is one.
    `known`: secrets found elsewhere (those a cited file names outside the cited lines)."""
    return redact_name(text, known).text


def redacted_head(text: str, limit: int) -> str:
    """`redacted(text)[:limit]`, reading only about as much of `text` as that keeps (a trace
    keeps 2,000 characters of a request that may be 400 KB): `redact_name_head`."""
    return redact_name_head(text, limit)


def kept_id(said: str, limit: int) -> str:
    """An id another party chose (a paid upstream's request id) as a trace keeps it, to be
    found again by what the client saw: as given, up to `limit` characters, when redaction
    leaves it so (an id is an opaque name, and the client was shown it); one redaction
    would change (shaped like a key: an upstream that echoed a credential) as its redaction
    and a SHA-256 digest of it whole, so the same id given back finds the trace and the
    secret never reaches the database."""
    kept = redact_name_head(said, limit)
    if kept == said[:limit]:
        return kept
    digest = " sha256:" + hashlib.sha256(said.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return kept[: max(0, limit - len(digest))] + digest


def redacted_state(key: str, value: str) -> tuple[str, str]:
    """A state key and its value as memory stores them. The value is read after its key,
    which says what it is ({"db_password": "hunter2"} is an assignment); the key on its own
    (it is free text)."""
    key = redacted(key)
    return key, redacted_after(key, value)


def redacted_after(name: str, value: str) -> str:
    """`value` as memory stores it, read after `name` (redacted already), which may say what
    it is: a state key, a decision's title ({"title": "DB password", "decision": "hunter2"})."""
    prefix = f"{name}: "
    found = redacted(prefix + value)
    if found.startswith(prefix):
        return found[len(prefix) :]
    return redacted(value)  # a marker swallowed the separator: the value alone


def redacted_decision(
    title: str, decision: str, rationale: str | None
) -> tuple[str, str, str | None]:
    """A decision's title, text and rationale as memory stores them (a save, and m036 for the
    rows stored before): the text and rationale read after the title, which may name what they
    hold ("DB password"), as a state value after its key."""
    title = redacted(title)
    return (
        title,
        redacted_after(title, decision),
        redacted_after(title, rationale) if rationale else rationale,
    )
