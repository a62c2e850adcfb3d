"""One file read and cut into the chunk records the index stores (in the indexer's thread or
in a worker process, see file_pool): its hash, its chunks with their search terms, and what
redaction needs of them (whether it finds anything, and the values the whole file names)."""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from ocp_router.tokens import estimate_tokens
from ocp_server.index.chunk_columns import DEFINITION_KINDS
from ocp_server.index.chunking import chunk_text
from ocp_server.index.clean_text import chunk_flag
from ocp_server.index.file_secrets import NONE, named_in_chunks
from ocp_server.index.files import Candidate, content_exclusion, path_exclusion
from ocp_server.index.languages import detect_language
from ocp_server.index.lexicon import body_blobs, names_blob, pack_text
from ocp_server.index.literal_pairs import literal_blobs
from ocp_server.index.real_paths import inside
from ocp_server.index.regular_file import read_regular
from ocp_server.index.secret_files import secret_content_of_link
from ocp_server.index.source_text import utf8_bytes

__all__ = ["ChunkRecord", "Processed", "chunk_hash", "file_hash", "process_file"]

logger = logging.getLogger(__name__)


class ChunkRecord(NamedTuple):
    """A chunk as a worker process hands it back: a tuple, which unpickles several times
    faster than a dataclass (the indexer's process unpickles every chunk of a build)."""

    start_line: int
    end_line: int
    symbol: str | None
    kind: str
    scope: str | None
    text: bytes  # packed (see lexicon.pack_text)
    content_hash: str
    terms: bytes  # packed search terms (see lexicon)
    pairs: bytes
    tiles: bytes  # per term record, the tiles of lines holding it (lexicon.body_blobs)
    names: bytes
    literals: bytes  # the word pairs its string literals may hold (literal_pairs)
    length: int
    tokens: int  # estimate_tokens(text): a search's token budget needs no counting
    clean: int  # what redaction leaves unchanged: the text, the names (clean_text.chunk_flag)
    named: str  # where the values its file names as secrets occur in it (file_secrets)
    line_from: int | None  # a piece of a long line: the character it starts at (Chunk)


@dataclass(frozen=True, slots=True)
class Processed:
    candidate: Candidate
    content_hash: str = ""
    language: str | None = None
    chunks: tuple[ChunkRecord, ...] | None = None  # None: content unchanged
    skip: str | None = None
    read_at: float = 0.0  # time.time() as the file was read


def file_hash(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def chunk_hash(kind: str, symbol: str | None, scope: str | None, text: str) -> str:
    return file_hash(f"{kind}\0{symbol or ''}\0{scope or ''}\0{text}".encode())


def process_file(
    workspace: Path, candidate: Candidate, known_hash: str | None, max_bytes: int
) -> Processed:
    """Read, hash and (if changed) chunk one file, in the indexer's thread or in a worker
    process (see file_pool). A file that grew past `max_bytes` since it was listed is skipped
    as the listing skips it."""
    # Followed now, not only at the listing: a folder swapped for a symlink in between must
    # not lead the read out of the workspace.
    real = os.path.realpath(workspace / candidate.path)
    if not inside(real, str(workspace)):
        return Processed(candidate, skip="symlink_outside")
    # ... nor a file swapped for a link to a secret one (by its name: `.env`, `id_rsa`).
    target = Path(os.path.relpath(real, workspace)).as_posix()
    if target != candidate.path and (reason := path_exclusion(target)):
        return Processed(candidate, skip=reason)
    read_at = time.time()
    try:
        data = read_regular(Path(real), max_bytes)
    except FileNotFoundError:
        return Processed(candidate, skip="vanished")
    except OSError:
        return Processed(candidate, skip="unreadable")
    if len(data) > max_bytes:
        return Processed(candidate, skip="too_large")
    # The file as its text whatever its encoding: every check below, and the lines, see it
    data = utf8_bytes(data)
    name = candidate.path.rsplit("/", 1)[-1].lower()
    if reason := content_exclusion(data, name):
        return Processed(candidate, skip=reason)
    if candidate.linked_outside and secret_content_of_link(data) is not None:
        return Processed(candidate, skip="secret_content")  # `ln ~/app/.env defaults.py`
    digest = file_hash(data)
    if digest == known_hash:
        return Processed(candidate, content_hash=digest, read_at=read_at)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("utf-8", errors="replace")
    language = detect_language(candidate.path)
    try:
        pieces = chunk_text(candidate.path, text, language)
    except Exception:  # noqa: BLE001 - one bad file must not stop the index
        logger.exception("chunking %s failed; indexing it as plain text", candidate.path)
        pieces = chunk_text(candidate.path, text, "text")
    chunks = []
    blobs = body_blobs([(c.text, c.start_line) for c in pieces])
    literals = literal_blobs([c.text for c in pieces])
    named = named_in_chunks(text, [c.text for c in pieces])
    for c, blob, literal, spans in zip(pieces, blobs, literals, named, strict=True):
        chunks.append(
            ChunkRecord(
                c.start_line,
                c.end_line,
                c.symbol,
                c.kind,
                c.scope,
                pack_text(c.text),
                chunk_hash(c.kind, c.symbol, c.scope, c.text),
                blob.terms,
                blob.pairs,
                blob.tiles,
                names_blob(c.symbol, c.scope, c.kind in DEFINITION_KINDS),
                literal,
                blob.length,
                estimate_tokens(c.text),
                chunk_flag(c.text, c.symbol, c.scope, holds_named=spans != NONE),
                spans,
                c.line_from,
            )
        )
    return Processed(candidate, digest, language, tuple(chunks), read_at=read_at)
