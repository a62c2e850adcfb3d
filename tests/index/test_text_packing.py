"""Chunk texts as stored and read back: one at a time and a search's rows together."""

from __future__ import annotations

import zlib

import pytest

from ocp_server.index.lexicon import pack_text, unpack_text, unpack_texts

_TEXTS = ["def f():\n    return 'ü'\n", "", "x = 1\n" * 400, "class A:\n    pass\n"]


def test_texts_unpacked_together_are_each_unpacked_alone_in_order() -> None:
    # zstd frames as the indexer writes them, and zlib's as older servers did, mixed
    stored = [pack_text(t) if i % 2 else zlib.compress(t.encode()) for i, t in enumerate(_TEXTS)]
    assert unpack_texts(stored) == [unpack_text(s) for s in stored] == _TEXTS


def test_a_text_in_an_unknown_format_is_refused_with_its_first_bytes() -> None:
    with pytest.raises(ValueError, match="unknown format.*00010203"):
        unpack_texts([pack_text("a"), b"\x00\x01\x02\x03rest"])
