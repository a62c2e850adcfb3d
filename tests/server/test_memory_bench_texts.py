"""bench/memory_saves.py's max-size saves: the `named` shape's texts name identifiers, so
that its digest covers the citations a save suggests (the other shapes' texts name none)."""

from __future__ import annotations

import sys
from pathlib import Path

from ocp_server.citations.suggestions import names_in

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))  # as bench_memory.py
from memory_saves import NAMES, _named, _Prose, _prose, _repeated, _Save  # noqa: E402


def _names(save: _Save) -> set[str]:
    texts = [f"{d.title}\n{d.decision}\n{d.rationale or ''}" for d in save.decisions]
    return {name for text in texts + [n.text for n in save.notes] for name in names_in(text)}


def test_only_the_named_shape_names_identifiers_and_it_names_those_of_the_sample() -> None:
    earlier: dict[str, list[str]] = {"decisions": [], "notes": [], "open_items": []}
    cite = "ocp_server/src/ocp_server/memory/alike.py:words_of"
    assert _names(_repeated("R0", cite)) == set()
    assert _names(_prose(_Prose(seed=43), "P0", cite, dict(earlier))) == set()
    named = _names(_named(_Prose(seed=43), "N0", cite, {k: [] for k in earlier}))
    expected = {names_in(n)[0] if names_in(n) else None for n in NAMES} - {None}
    # each name is in some text (most of 150 texts hold several); bare prose words are not
    # identifiers
    assert named == expected
    assert {"MemoryStore", "Comparer", "_Words.ratio_with", "run"} <= named
    assert not {"save", "index", "Editor"} & named
