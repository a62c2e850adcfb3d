"""Which chunks redaction leaves as they are, found when they are indexed.

Every text a search returns is redacted (`ocp_router.redact`), and redacting a chunk costs
about as much as ranking a query: a cold search of twenty chunks spent milliseconds on it. So
each chunk is redacted once, when it is indexed, and `chunks.clean` says whether that found
nothing, something, or is not known (NULL): bit TEXT_CLEAN for the text, bit NAMES_CLEAN for
its symbol and scope as `redact_name` reads them (a search's first sight of a name cost ~20 µs
of detectors, a dozen names a query). A search redacts again every text and name not flagged
clean, and every text it changes (a chunk cut to fit a token budget).

The flags hold for one set of redaction rules: `meta.redaction_rules` names the rules they were
found with (a digest of the redaction modules' source, the names' included, of Python's
version, whose `re` runs the patterns, and of what the flag's bits mean), and a search trusts a
flag only under its own rules. An update by a process with other rules forgets every flag
first, then finds them again with its own, unless the sources differ in comments and layout
alone: `meta.redaction_code` names the rules by their code (`rules_code_digest`, the sources'
syntax trees, which hold no comment, no blank line and no line number, but every docstring,
name, literal and pattern) beside the source digest it was found for, and an update whose
code digest is the one stored with `meta.redaction_rules` takes the flags for its own (and
the values the files name, found under those rules: `file_secrets`). That digest costs a
parse of the sources (200 ms at load 5), so it is found only when the source digest differs
from the stored one (a first build, an upgrade, an edit), once a process, off the event loop.
"""

from __future__ import annotations

import ast
import asyncio
import hashlib
import sys
from collections.abc import Iterable
from functools import cache, lru_cache
from typing import Any

import aiosqlite

from ocp_router.redact import finds_secret
from ocp_router.redact_names import SOURCE_DIGEST, SOURCE_TEXTS, redact_name
from ocp_server.index.lexicon import unpack_text
from ocp_server.index.meta import read_meta, write_meta
from ocp_server.transactions import begin, rollback

__all__ = [
    "CODE_KEY",
    "NAMES_CLEAN",
    "RULES_DIGEST",
    "RULES_KEY",
    "TEXT_CLEAN",
    "chunk_flag",
    "code_digest",
    "fill_flags",
    "forget_other_rules",
    "is_clean",
    "rules_code_digest",
]

RULES_KEY = "redaction_rules"
CODE_KEY = "redaction_code"  # the same rules by their code alone (`rules_code_digest`)
TEXT_CLEAN = 1  # redaction finds nothing in the text (nor a value its file names)
NAMES_CLEAN = 2  # `redact_name` leaves its symbol and its scope as they are
# What the bits mean, in the digest: flags stored when they meant something else are not ours.
_FLAG_BITS = "text=1,names=2"
FILL_BATCH = 2_000  # chunks flagged per transaction


def _named(digest: str) -> str:
    """`digest` of the sources with Python's version and the bits' meaning."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    named = f"{digest}\0{version}\0{_FLAG_BITS}"
    return hashlib.blake2b(named.encode(), digest_size=12).hexdigest()


#: The redaction rules of this process, as `meta.redaction_rules` names them: the source as
#: imported (SOURCE_DIGEST), not as the file is now (this module loads later).
RULES_DIGEST = _named(SOURCE_DIGEST)


def code_digest(sources: Iterable[bytes]) -> str:
    """A digest of Python `sources` blind to their comments, blank lines and layout: their
    syntax trees (`ast.dump` leaves out line and column numbers), in order. Any other
    change, a docstring's too, changes it; so does Python's version (the trees' shape)."""
    h = hashlib.blake2b(digest_size=12)
    for source in sources:
        h.update(ast.dump(ast.parse(source)).encode())
        h.update(b"\0")
    return _named(h.hexdigest())


@cache
def rules_code_digest() -> str:
    """This process's redaction rules by their code (`code_digest` of the sources' bytes as
    imported), as `meta.redaction_code` names them."""
    return code_digest(SOURCE_TEXTS)


def is_clean(text: str) -> bool:
    """Redaction finds nothing in `text` (asked without filling the searches' redaction cache)."""
    return not finds_secret(text)


@lru_cache(maxsize=8192)  # a scope recurs in every chunk of its class
def _name_unchanged(name: str) -> bool:
    return redact_name(name).text == name  # what a search shows of it (views._name_redacted)


def chunk_flag(
    text: str, symbol: str | None, scope: str | None, *, holds_named: bool = False
) -> int:
    """A chunk's `clean` flag: TEXT_CLEAN when redaction finds nothing in `text` and it
    does not hold a value its file names (`holds_named`), NAMES_CLEAN when `redact_name`
    leaves its symbol and scope unchanged."""
    flag = 0 if holds_named or not is_clean(text) else TEXT_CLEAN
    if all(not n or _name_unchanged(n) for n in (symbol, scope)):
        flag |= NAMES_CLEAN
    return flag


async def forget_other_rules(db: aiosqlite.Connection) -> str | None:
    """In a transaction: when the flags were found with other rules, forget them and claim
    them for ours (chunks written from now on carry flags found with ours); when found with
    rules whose code is ours (their sources differ in comments or layout), claim them as
    they are. The source digest they were stored under when claimed so, else None."""
    stored = await read_meta(db, RULES_KEY)
    if stored == RULES_DIGEST:
        return None
    ours = await asyncio.to_thread(rules_code_digest)  # a parse of the sources: off the loop
    # The code digest is stored beside the source digest it was found for: a server that
    # does not know it (an older one) changes the one and leaves the other.
    same_code = stored is not None and await read_meta(db, CODE_KEY) == f"{stored} {ours}"
    if not same_code:
        await db.execute("UPDATE chunks SET clean = NULL WHERE clean IS NOT NULL")
    await write_meta(db, RULES_KEY, RULES_DIGEST)
    await write_meta(db, CODE_KEY, f"{RULES_DIGEST} {ours}")
    return stored if same_code else None


def _flags(rows: list[Any]) -> list[tuple[int, int, bytes]]:
    """(flag, id, stored text) of each (id, stored text, symbol, scope) row, for
    `UPDATE ... WHERE` (a search finds the values a file names in its chunks' texts itself)."""
    return [(chunk_flag(unpack_text(t), sym, scope), cid, t) for cid, t, sym, scope in rows]


async def fill_flags(db: aiosqlite.Connection) -> int:
    """Find the flags of the chunks that have none (written before, or by a process that does
    not know them), a batch per transaction; how many were found. Call after
    `forget_other_rules`, as the indexer does."""
    found = 0
    after = 0
    while True:
        rows = list(
            await db.execute_fetchall(
                "SELECT id, text, symbol, scope FROM chunks WHERE clean IS NULL AND id > ?"
                " ORDER BY id LIMIT ?",
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
