"""The text of a save says what was saved in words: "1 decision, 2 open items", not the
counts' keys ("1 decisions, 2 open_items")."""

from __future__ import annotations

import ocp_wire as wire
from ocp_server.render import render


def _saved(**counts: int) -> wire.SaveResult:
    return wire.SaveResult(
        session_id="s1",
        saved=counts,
        decision_ids=[],
        note_ids=[],
        open_item_ids=[],
        citations=[],
        suggested=[],
        merged=[],
        forgotten=[],
        warnings=[],
    )


def test_one_of_each_is_named_in_the_singular_and_in_words() -> None:
    out = _saved(decisions=1, state=1, notes=1, open_items=1, summary=1, citations=1, merged=0)
    first = render(out).splitlines()[0]
    assert first == (
        "Saved 1 decision, 1 state key, 1 note, 1 open item, 1 summary, 1 citation (session s1)."
    )


def test_several_are_named_in_the_plural() -> None:
    out = _saved(decisions=2, notes=3, open_items=2, summary=0, citations=4, resolved=2)
    first = render(out).splitlines()[0]
    assert first == (
        "Saved 2 decisions, 3 notes, 2 open items, 4 citations, 2 resolved (session s1)."
    )


def test_nothing_saved_says_so() -> None:
    assert render(_saved(decisions=0, notes=0)).splitlines()[0] == "Saved nothing (session s1)."
