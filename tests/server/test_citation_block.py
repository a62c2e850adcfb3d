"""Finding a cited block again in its file (`blocks.find_block`): the lines checked with a
hash stay few when a secret, kept redacted, begins the block; in a file as CodeView reads it
(FileLines), the places of its line are looked up, not each line of the file compared for
each citation, with the same places found."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ocp_server.at_rest import redacted
from ocp_server.citations import Stored, blocks, content_hash
from ocp_server.citations.values import FileLines

FILLER = [f"x_{i} = {i}" for i in range(2000)]


def _stored(block: Sequence[str], start: int) -> Stored:
    text = "\n".join(block)
    return Stored(
        1,
        "keys.py",
        start,
        start + len(block) - 1,
        None,
        False,
        content_hash(block),
        redacted(text),
    )


def _hashes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    counted: list[int] = []
    real = content_hash

    def counting(lines: Sequence[str]) -> str:
        counted.append(len(lines))
        return real(lines)

    monkeypatch.setattr(blocks, "content_hash", counting)
    return counted


@pytest.mark.parametrize(
    "block",
    [
        ["AKIAIOSFODNN7EXAMPLE,", "def load_keys():", "    return KEYS"],  # the secret first
        ["AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "def load_keys():"],
        ["keys = ['AKIAIOSFODNN7EXAMPLE',", "    'x']"],  # text before the secret
        ["def load_keys():", "    return 'AKIAIOSFODNN7EXAMPLE'"],  # no secret in line one
    ],
)
def test_a_moved_block_is_found_hashing_few_places(
    monkeypatch: pytest.MonkeyPatch, block: list[str]
) -> None:
    # Every line of the file was a place to hash when a redaction marker began the block.
    lines = FILLER[:1500] + block + FILLER[1500:]
    stored = _stored(block, 1001)
    hashed = _hashes(monkeypatch)
    assert blocks.find_block(lines, stored, 1, len(lines)) == (1501, 1500 + len(block))
    assert len(hashed) <= 2


def test_a_block_of_secrets_only_is_still_found() -> None:
    block = ["AKIAIOSFODNN7EXAMPLE", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"]
    lines = FILLER[:30] + block + FILLER[30:60]
    assert blocks.find_block(lines, _stored(block, 10), 1, len(lines)) == (31, 32)


def test_places_in_a_file_read_once_are_looked_up_not_compared_line_by_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A restore checks many citations of one file: each compared every line of it with its
    # anchor line (a whole-file scan for a line outside any definition whose both
    # neighbours were edited, checking._shifted).
    lines = FileLines(FILLER[:1500] + ["    TIMEOUT = 10"] + FILLER[1500:], {})
    compared: list[str] = []
    real = blocks._fits

    def counting(line: str, text: str, how: str) -> bool:
        compared.append(line)
        return real(line, text, how)

    monkeypatch.setattr(blocks, "_fits", counting)
    stored = _stored(["TIMEOUT = 10"], 1001)
    for _ in range(3):
        assert blocks.places_in(lines, stored, [(1, len(lines))]) == [(1501, 1501)]
    assert compared == []


@pytest.mark.parametrize(
    "block",
    [
        ["x_7 = 7"],
        ["x_7 = 7", "x_8 = 8"],
        ["", "x_7 = 7"],
        ["TIMEOUT = 10"],
        ["keys = ['AKIAIOSFODNN7EXAMPLE',", "    'x']"],
    ],
)
@pytest.mark.parametrize("span", [(1, 41), (5, 20), (8, 8), (30, 29), (30, 41)])
def test_places_looked_up_are_those_compared_line_by_line(
    block: list[str], span: tuple[int, int]
) -> None:
    text = FILLER[:10] + block + FILLER[:12] + ["    TIMEOUT = 10", *block] + FILLER[5:20] + block
    stored = _stored(block, 12)
    read = FileLines(text, {})
    for spans in ([span], [span, (1, len(text))]):
        assert blocks.places_in(read, stored, spans) == blocks.places_in(text, stored, spans)
    lo, hi = span
    assert blocks.find_block(read, stored, lo, hi) == blocks.find_block(text, stored, lo, hi)
    assert blocks.only_place(read, stored) == blocks.only_place(text, stored)
