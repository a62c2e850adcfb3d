"""A large body's long strings are read a piece at a time, into the values json.loads gives."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import pytest

from ocp_server.proxy import body as body_module
from ocp_server.proxy import long_strings
from ocp_server.proxy.body import BodyError, parse_body

# Small pieces here: every case crosses many pieces' and blocks' ends.
BLOCK, PIECE = 8, 16

# What a string may hold: escapes of every kind (a surrogate pair's two halves, a lone one),
# runs of backslashes, quotes, non-ASCII text.
ATOMS = [
    "a",
    "word ",
    "é",
    "日本",
    "😀",
    '\\"',
    "\\\\",
    "\\\\\\\\",
    "\\n",
    "\\t",
    "\\/",
    "\\u00e9",
    "\\ud83d\\ude00",
    "\\ud800",
    "\\uDFFF",
    "\\\\u0041",
    " ",
]


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(long_strings, "BLOCK_CHARS", BLOCK)
    monkeypatch.setattr(long_strings, "PIECE_CHARS", PIECE)
    monkeypatch.setattr(body_module, "OFF_LOOP_CHARS", 0)  # every body is "large"


def _string(rng: random.Random, atoms: int) -> str:
    return '"' + "".join(rng.choice(ATOMS) for _ in range(atoms)) + '"'


def _value(rng: random.Random, depth: int = 0) -> str:
    roll = rng.random()
    if depth > 2 or roll < 0.4:
        return rng.choice(
            [
                _string(rng, rng.randrange(0, 3)),
                _string(rng, rng.randrange(10, 60)),  # long here
                "12",
                "-0.5e3",
                "true",
                "null",
                " " * rng.randrange(0, 30) + "3",
                "[" + ",".join(str(n) for n in range(rng.randrange(0, 40))) + "]",  # no quotes
            ]
        )
    if roll < 0.7:
        items = [_value(rng, depth + 1) for _ in range(rng.randrange(0, 5))]
        return "[" + ", ".join(items) + "]"
    keys = [_string(rng, rng.randrange(0, 30 if rng.random() < 0.1 else 3)) for _ in range(4)]
    pairs = [f"{k}: {_value(rng, depth + 1)}" for k in keys[: rng.randrange(0, 5)]]
    return "{" + ",".join(pairs) + "}"


def _same(text: str) -> None:
    raw = text.encode("utf-8", "surrogatepass")
    try:
        expected: Any = json.loads(text)
    except ValueError:
        with pytest.raises(BodyError) as refused:
            parse_body(raw)
        with pytest.raises(BodyError) as whole, pytest.MonkeyPatch.context() as patch:
            patch.setattr(body_module, "OFF_LOOP_CHARS", 1 << 40)
            parse_body(raw)
        assert str(refused.value) == str(whole.value)  # json's own words and position
        return
    got = parse_body(raw)
    if "\\ud" in text.lower():  # lone surrogates become U+FFFD, as before
        expected = body_module._without_lone_surrogates(expected)
    assert got == expected, text


def test_bodies_of_every_shape_parse_as_json_reads_them() -> None:
    rng = random.Random(47)
    for _ in range(3000):
        body = '{"model": "m", "messages": [' + ", ".join(
            _value(rng) for _ in range(rng.randrange(0, 4))
        )
        body += "], " + f'"x": {_value(rng)}' + "}"
        _same(body)
        _same(_value(rng))  # any top level


def test_a_long_string_at_every_offset_and_of_every_escape_reads_the_same() -> None:
    for atom in ATOMS:
        for before in range(0, PIECE + 8):
            content = "x" * before + atom + "y" * (3 * PIECE)
            _same('{"messages": [{"role": "user", "content": "' + content + '"}]}')
            _same('{"messages": ["' + content + '", "' + atom * 20 + '"]}')


def test_what_json_refuses_is_refused_with_its_words() -> None:
    long = "z" * (4 * PIECE)
    for bad in (f'"{long}\x01{long}"', f'"{long}\\x{long}"', f'"{long}\\u12{long}"'):
        _same('{"messages": [' + bad + "]}")
    _same('{"messages": ["' + long)  # never closed
    _same('{"messages": [1, 2], "' + long + '": 3}')  # a long key
    _same('{"' + long + '": "' + long + '"}')


def test_a_long_string_is_read_a_piece_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    # json reads a string in one call, which holds the GIL for all of it (18-26 ms over a
    # 15 MB message): the proxy's other connections waited that long.
    read: list[int] = []
    scan: Callable[[str, int], tuple[str, int]] = long_strings._scanstring

    def counted(text: str, end: int) -> tuple[str, int]:
        read.append(len(text))
        return scan(text, end)

    monkeypatch.setattr(long_strings, "_scanstring", counted)
    # pieces end 6 characters past a backslash: code's escapes leave room for that
    message = "word " * (40 * PIECE) + "x = 1  # \\u00e9 \\ud83d\\ude00 it\\\\s\\n" * (3 * PIECE)
    text = '{"model": "m", "messages": [{"role": "user", "content": "' + message + '"}]}'
    assert parse_body(text.encode()) == json.loads(text)
    assert sum(read) >= len(message) and max(read) <= PIECE + 2 * 6 + 1


def test_structure_is_counted_a_piece_at_a_time_as_at_once() -> None:
    rng = random.Random(7)
    for _ in range(500):
        raw = bytes(rng.choice(b'{[,]}" ab\\') for _ in range(rng.randrange(0, 100)))
        assert body_module._structure_bytes(raw) == len(raw.translate(None, b'\\" ]}ab'))
