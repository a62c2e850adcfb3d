"""Which definitions bear a cited name (`definitions.matches`): 2 the qualified name, 1 the bare
name, 0 none; told first by the tails of the names, as a restore asks it of most of a file's
definitions for each citation, with the same answers as the names compared in full."""

from __future__ import annotations

import itertools

from ocp_server.citations import Definition
from ocp_server.citations.definitions import matches

NAMES = [
    ("load", "load"),
    ("Loader.load", "load"),
    ("Outer.Loader.load", "load"),
    ("reload", "reload"),
    ("Loader.reload", "reload"),
    ("Intro > v1.2", "v1.2"),
    ("Intro > Setup", "Setup"),
    ("Setup", "Setup"),
    ("Loader", "Loader"),
    ("x", "x"),
]
SYMBOLS = [
    "load", "Loader.load", "Other.load", "oad", "reload", "Loader.reload", "Intro > v1.2",
    "v1.2", "2", "Setup", "Docs > Setup", "Intro > Setup", "Loader", "Outer.Loader.load", "x",
    "a.x", "",
]  # fmt: skip


def _compared_in_full(d: Definition, symbol: str) -> int:
    if d.name == symbol or d.name.endswith(f".{symbol}"):
        return 2
    return 1 if d.symbol == symbol.rsplit(".", 1)[-1].rsplit(" > ", 1)[-1] else 0


def test_names_told_by_their_tails_match_as_compared_in_full() -> None:
    for (name, bare), symbol in itertools.product(NAMES, SYMBOLS):
        d = Definition(name, bare, "function", 1, 2)
        assert matches(d, symbol) == _compared_in_full(d, symbol), (name, symbol)


def test_a_method_matches_by_its_qualified_name_and_a_function_moved_by_its_bare_one() -> None:
    method = Definition("Loader.load", "load", "method", 1, 2)
    assert [matches(method, s) for s in ("Loader.load", "load", "Other.load", "reload")] == [
        2,
        2,
        1,
        0,
    ]
