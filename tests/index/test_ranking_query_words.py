"""What a query asks for (tests, docs, a changelog) is found case-blind, the same as the case-blind
patterns find it."""

from __future__ import annotations

import pytest

from ocp_server.index.query import parse_query


@pytest.mark.parametrize(
    "text",
    [
        "Fix the flaky TEST in the e2e suite",
        "Update README and the Configuration guide",
        "Add a CHANGE-LOG entry; Release Notes too",
        "testing_helpers are not tests",  # a word run on: no boundary before "tests"
        "Spec: parse YAML",
        "nothing asked here",
        "ſpecs and docſ",  # beyond ASCII, case-blind "ſ" is "s"; lower-casing keeps it
        "İNI files, the Kelvin sign in \u212aeep",
        "",
    ],
)
def test_what_a_query_asks_for_is_found_case_blind(text: str) -> None:
    """The plain patterns on lower-cased ASCII text find what the case-blind ones find."""
    from ocp_server.index import query as ranking_query

    query = parse_query(text)
    assert query.wants_tests == bool(ranking_query._TEST_QUERY.search(text))
    assert query.wants_docs == bool(ranking_query._DOCS_QUERY.search(text))
    assert query.wants_changelog == bool(ranking_query._CHANGELOG_QUERY.search(text))
    # lower-cased text meets lower-case ASCII patterns alone (an upper-case escape, \W or
    # \B, would mean something else lower-cased; "ſ" in a pattern matches "s" case-blind)
    assert all(p.pattern == p.pattern.lower() and p.pattern.isascii() for p in ranking_query._LOWER)


def test_what_a_query_asks_for_is_found_case_blind_in_any_ascii_text() -> None:
    import random
    import string

    from ocp_server.index import query as ranking_query

    rng = random.Random(7)
    # the patterns' own words, mixed in at random case, among random ASCII
    words = ["test", "tests", "spec", "docs", "readme", "changelog", "change-log", "news", "ini"]
    for _ in range(2000):
        parts = [
            rng.choice(words) if rng.random() < 0.5 else "".join(rng.choices(string.printable, k=3))
            for _ in range(rng.randint(0, 6))
        ]
        text = "".join(
            c.upper() if rng.random() < 0.5 else c
            for c in rng.choice([" ", "_", "-", ""]).join(parts)
        )
        query = parse_query(text)
        assert query.wants_tests == bool(ranking_query._TEST_QUERY.search(text)), text
        assert query.wants_docs == bool(ranking_query._DOCS_QUERY.search(text)), text
        assert query.wants_changelog == bool(ranking_query._CHANGELOG_QUERY.search(text)), text
