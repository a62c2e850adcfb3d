"""The secrets a file names, hidden in whichever of its chunks a search returns.

Redaction hides a value a name tells (`DB_PASSWORD = "..."`) wherever it repeats in the same
text (`connect(user, "...")`). A search returns chunks: a chunk that only repeats the value
has nothing of its own to tell it by. So when a file is indexed, the values its whole text
names (`ocp_router.redact.named_values`) are looked for in each of its chunks, and where they
occur is stored with the chunk (`chunks.named`: a JSON list of [start, end, kind], offsets in
the chunk's text; NULL when not known, for a chunk an older server wrote). A search hands those
values to the chunk's redaction, as secrets found elsewhere (`SearchResult.known`).

They hold for the redaction rules they were found with (`meta.named_rules`, as
`clean_text.RULES_DIGEST` names them): an update under other rules reads every file again,
and the values found before are used until each is read.

Offsets, not the values: the values are in the chunk's text already, and stay nowhere else.
Whatever else shows a file's lines (a restore's "what changed" of a cited stretch, memory's
copy of it) takes the values the whole file names from its chunks the same way
(`known_in_file`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import aiosqlite

from ocp_router.redact import named_values, occurrences
from ocp_server.index.clean_text import RULES_DIGEST
from ocp_server.index.lexicon import unpack_text
from ocp_server.index.meta import read_meta, write_meta

__all__ = [
    "NAMED_RULES_KEY",
    "NONE",
    "claim_named",
    "known_in",
    "known_in_file",
    "named_in_chunks",
    "named_with_our_rules",
]

NAMED_RULES_KEY = "named_rules"

#: A chunk whose file names no value it holds.
NONE = "[]"


def named_in_chunks(text: str, chunks: Sequence[str]) -> list[str]:
    """For each of `chunks` (of the file whose text is `text`), where the values `text` names
    as secrets occur in it, as `chunks.named` stores them."""
    values = named_values(text)
    if not values:
        return [NONE] * len(chunks)
    return [_encoded(chunk, values) for chunk in chunks]


def _encoded(chunk: str, values: dict[str, str]) -> str:
    spans = sorted(_occurrences(chunk, values))
    return json.dumps(spans, separators=(",", ":")) if spans else NONE


def _occurrences(chunk: str, values: dict[str, str]) -> list[tuple[int, int, str]]:
    return [(i, i + len(v), values[v]) for i, v in occurrences(chunk, values)]


def known_in(text: str, named: str | None) -> tuple[tuple[str, str], ...]:
    """The values (with their kinds) a chunk's `named` column marks in its `text`."""
    if not named or named == NONE:
        return ()
    out: dict[str, str] = {}
    for start, end, kind in json.loads(named):
        out.setdefault(text[start:end], kind)
    return tuple(out.items())


async def known_in_file(db: aiosqlite.Connection, path: str) -> dict[str, str]:
    """The values (with their kinds) the indexed file `path` names as secrets: those its
    chunks' `named` columns mark (every value a file names is in the chunk that names it)."""
    rows = await db.execute_fetchall(
        "SELECT c.text, c.named FROM chunks c JOIN files f ON f.id = c.file_id "
        "WHERE f.path = ? AND c.named IS NOT NULL AND c.named != ?",
        (path, NONE),
    )
    out: dict[str, str] = {}
    for stored, named in rows:
        for value, kind in known_in(unpack_text(stored), named):
            out.setdefault(value, kind)
    return out


async def named_with_our_rules(db: aiosqlite.Connection) -> bool:
    """The chunks' named values were found with this process's redaction rules."""
    return await read_meta(db, NAMED_RULES_KEY) == RULES_DIGEST


async def claim_named(db: aiosqlite.Connection) -> None:
    """Record that every file's named values were found with this process's rules (after an
    update that read again every file whose were not)."""
    await write_meta(db, NAMED_RULES_KEY, RULES_DIGEST)
