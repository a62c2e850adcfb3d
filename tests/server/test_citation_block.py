"""Finding a cited block again in its file (`blocks.find_block`): the lines checked with a
hash stay few when a secret, kept redacted, begins the block."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ocp_server.at_rest import redacted
from ocp_server.citations import Stored, blocks, content_hash

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
