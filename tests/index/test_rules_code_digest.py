"""Flags found under redaction rules whose sources differ from ours in comments and layout
alone are ours: an update takes them as they are (and the values the files name) instead of
flagging every chunk and reading every file again. Rules whose code differs, or a source
digest another server stored without its code digest, are not. Secrets are assembled at run
time, so this file holds no literal token."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

from ocp_router import redact_names
from ocp_server.index.clean_text import (
    CODE_KEY,
    RULES_DIGEST,
    RULES_KEY,
    TEXT_CLEAN,
    code_digest,
    rules_code_digest,
)
from ocp_server.index.file_secrets import NAMED_RULES_KEY
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.built import built_index

RULE = b'''"""Tokens."""

import re

# the prefix first
_TOKEN_RE = re.compile(r"ghp_[A-Za-z0-9]{36}")
LIMIT = 512


def found(text):
    """Whether a token is in `text`."""
    return bool(_TOKEN_RE.search(text)) and len(text) < LIMIT
'''


def test_the_code_digest_is_blind_to_comments_and_layout_alone() -> None:
    base = code_digest([RULE])
    commented = RULE.replace(b"# the prefix first", b"# read the prefix first, then the rest")
    laid_out = RULE.replace(b"    return bool(", b"\n\n    return bool(\n        ")
    assert code_digest([commented]) == base
    assert code_digest([laid_out + b"\n# a closing note\n"]) == base
    for changed in (
        RULE.replace(b"{36}", b"{40}"),  # a pattern
        RULE.replace(b"512", b"513"),  # a value
        RULE.replace(b"< LIMIT", b"<= LIMIT"),  # an operator
        RULE.replace(b"Whether a token", b"If a token"),  # a docstring
    ):
        assert code_digest([changed]) != base
    assert code_digest([RULE, RULE]) != base  # every source counts


def test_the_rules_code_digest_covers_every_source_of_the_rules() -> None:
    sources = redact_names.SOURCE_TEXTS
    folder = Path(redact_names.__file__).parent
    assert len(sources) == len(list(folder.glob("_redact_*.py"))) + 2  # redact, redact_names
    assert rules_code_digest() == code_digest(sources)
    noted = [s + b"\n# a note\n" for s in sources]
    assert code_digest(noted) == rules_code_digest()
    pattern = sources[-1].replace(b'r"|hf_|npm_|', b'r"|hf_|npm_|zz_|')
    assert pattern != sources[-1]
    assert code_digest([*sources[:-1], pattern]) != rules_code_digest()


FILES = {
    "auth.py": "def verify_token(token):\n    return token.startswith('t')\n",
    "config.py": 'DB_PASSWORD = "' + "Zq8v" + 'R2mLp4Tx!"\n',
}


async def _stored_as(db: Path, rules: str, code: str) -> None:
    """The index at `db` as a process with source digest `rules` and the given code entry
    left it: auth.py's chunk flagged 0 (its rules' verdict, as far as this test knows)."""
    async with aiosqlite.connect(db) as conn:
        await conn.execute(
            "UPDATE chunks SET clean = 0 WHERE file_id = (SELECT id FROM files WHERE path = ?)",
            ("auth.py",),
        )
        for key, value in ((RULES_KEY, rules), (CODE_KEY, code), (NAMED_RULES_KEY, rules)):
            await conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
        await conn.commit()


async def _updated(tmp_path: Path, db: Path) -> tuple[int, int, dict[str, str]]:
    """After an update: how many files it read, auth.py's flag, and the rules' meta."""
    index = await WorkspaceIndex.open(tmp_path / "ws", db)
    try:
        summary = await index.update()
        rows = await index.db.execute_fetchall(
            "SELECT c.clean FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ?",
            ("auth.py",),
        )
        meta = await index.db.execute_fetchall(
            "SELECT key, value FROM meta WHERE key IN (?, ?, ?)",
            (RULES_KEY, CODE_KEY, NAMED_RULES_KEY),
        )
    finally:
        await index.close()
    assert summary is not None
    return summary.changed, int(next(iter(rows))[0]), {str(k): str(v) for k, v in meta}


async def test_flags_found_under_rules_differing_in_comments_alone_are_kept(
    tmp_path: Path,
) -> None:
    db = tmp_path / "ocp.db"
    async with built_index(tmp_path / "ws", FILES, db):
        pass
    await _stored_as(db, "older source", f"older source {rules_code_digest()}")
    changed, flag, meta = await _updated(tmp_path, db)
    assert flag == 0  # taken as it was: not flagged again
    assert changed == 0  # no file read again for the values it names
    assert meta == {
        RULES_KEY: RULES_DIGEST,
        CODE_KEY: f"{RULES_DIGEST} {rules_code_digest()}",
        NAMED_RULES_KEY: RULES_DIGEST,
    }


async def test_flags_found_under_rules_of_other_code_are_found_again(tmp_path: Path) -> None:
    db = tmp_path / "ocp.db"
    async with built_index(tmp_path / "ws", FILES, db):
        pass
    await _stored_as(db, "older source", "older source other code")
    changed, flag, meta = await _updated(tmp_path, db)
    assert flag & TEXT_CLEAN  # found again with ours
    assert changed == len(FILES)  # every file read again for the values it names
    assert meta[RULES_KEY] == RULES_DIGEST
    assert meta[CODE_KEY] == f"{RULES_DIGEST} {rules_code_digest()}"


async def test_a_source_digest_stored_without_its_code_digest_is_not_trusted(
    tmp_path: Path,
) -> None:
    # An older server knows no code digest: it stores its source digest and leaves the code
    # digest a newer one stored beside another source digest.
    db = tmp_path / "ocp.db"
    async with built_index(tmp_path / "ws", FILES, db):
        pass
    await _stored_as(db, "older server", f"{RULES_DIGEST} {rules_code_digest()}")
    changed, flag, _ = await _updated(tmp_path, db)
    assert flag & TEXT_CLEAN
    assert changed == len(FILES)
