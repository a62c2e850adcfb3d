"""Which chunks redaction leaves as they are, found when they are indexed.

Every text a search returns is redacted (`ocp_router.redact`), and redacting a chunk costs
about as much as ranking a query: a cold search of twenty chunks spent milliseconds on it. So
each chunk is redacted once, when it is indexed, and `chunks.clean` says whether that found
nothing (1), something (0), or is not known (NULL). A search redacts again every chunk that is
not clean, and every text it changes (a chunk cut to fit a token budget).

The flags hold for one set of redaction rules: `meta.redaction_rules` names the rules they were
found with (a digest of the redaction module's source and of Python's version, whose `re` runs
the patterns), and a search trusts a flag only under its own rules. An update by a process
with other rules forgets every flag first, then finds them again with its own.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from typing import Any

import aiosqlite

from ocp_router.redact import SOURCE_DIGEST, finds_secret
from ocp_server.index.lexicon import unpack_text
from ocp_server.index.meta import read_meta, write_meta
from ocp_server.transactions import begin, rollback

__all__ = ["RULES_DIGEST", "RULES_KEY", "fill_flags", "forget_other_rules", "is_clean"]

RULES_KEY = "redaction_rules"
FILL_BATCH = 2_000  # chunks flagged per transaction


def _rules_digest() -> str:
    # the source as imported (SOURCE_DIGEST), not as the file is now: this module loads later
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    return hashlib.blake2b(f"{SOURCE_DIGEST}\0{version}".encode(), digest_size=12).hexdigest()


#: The redaction rules of this process, as `meta.redaction_rules` names them.
RULES_DIGEST = _rules_digest()


def is_clean(text: str) -> bool:
    """Redaction finds nothing in `text` (asked without filling the searches' redaction cache)."""
    return not finds_secret(text)


async def forget_other_rules(db: aiosqlite.Connection) -> bool:
    """In a transaction: when the flags were found with other rules, forget them and claim
    them for ours (chunks written from now on carry flags found with ours). True when so."""
    if await read_meta(db, RULES_KEY) == RULES_DIGEST:
        return False
    await db.execute("UPDATE chunks SET clean = NULL WHERE clean IS NOT NULL")
    await write_meta(db, RULES_KEY, RULES_DIGEST)
    return True


def _flags(rows: list[Any]) -> list[tuple[int, int, bytes]]:
    """(flag, id, stored text) of each (id, stored text) row, for `UPDATE ... WHERE`."""
    return [(int(is_clean(unpack_text(text))), cid, text) for cid, text in rows]


async def fill_flags(db: aiosqlite.Connection) -> int:
    """Find the flags of the chunks that have none (written before, or by a process that does
    not know them), a batch per transaction; how many were found. Call after
    `forget_other_rules`, as the indexer does."""
    found = 0
    after = 0
    while True:
        rows = list(
            await db.execute_fetchall(
                "SELECT id, text FROM chunks WHERE clean IS NULL AND id > ? ORDER BY id LIMIT ?",
                (after, FILL_BATCH),
            )
        )
        if not rows:
            return found
        after = rows[-1][0]
        flags = await asyncio.to_thread(_flags, rows)
        await begin(db)
        try:
            # Only rows as they were read: a chunk rewritten meanwhile keeps its own flag.
            await db.executemany(
                "UPDATE chunks SET clean = ? WHERE id = ? AND clean IS NULL AND text = ?", flags
            )
            await db.execute("COMMIT")
        except BaseException:
            await rollback(db)
            raise
        found += len(flags)
