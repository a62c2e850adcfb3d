"""Citations suggested on save for the identifiers a memory's text names that the index
defines once (returned, never added), the texts read for them once per word, off the event
loop."""

from __future__ import annotations

import threading

import pytest

from ocp_server.memory import DecisionIn
from tests.server.citations import OVERLOADED_PY, Repo


async def test_a_short_name_marked_in_a_note_is_suggested_as_its_one_definition(
    repo: Repo,
) -> None:
    # `parse` names one function: its @overload stubs are not more of them (as when cited)
    repo.write("src/parsing.py", OVERLOADED_PY)
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    for text in ("we changed `parse` to take bytes", "parse() takes bytes"):
        saved = await repo.memory.save(sid, notes=[text])
        assert [(s.citation, s.symbol) for s in saved.suggested] == [
            ("src/parsing.py:12-14", "parse")
        ]
    # an unmarked word is prose, and two implementations are still two
    assert not (await repo.memory.save(sid, notes=["parse takes bytes now"])).suggested
    repo.write("src/other.py", "def parse(raw):\n    return raw\n")
    await repo.reindex()
    assert not (await repo.memory.save(sid, notes=["`parse` again, twice"])).suggested


async def test_a_long_text_is_read_for_identifiers_once_per_distinct_word(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A save at its limits (150 texts of 5,000 characters) read every word of every text in
    # one go on the event loop: every other call waited about a second for it.
    from ocp_server.citations import suggestions

    looked_at: list[str] = []
    real = suggestions.identifier_shaped

    def counted(token: str) -> bool:
        looked_at.append(token)
        return real(token)

    monkeypatch.setattr(suggestions, "identifier_shaped", counted)
    sid = await repo.memory.start_session(str(repo.root))
    text = "the session store keeps rotate_session warm " * 500
    result = await repo.memory.save(sid, notes=[text, text])
    assert len(looked_at) <= 2 * 6  # each of its six words once per text, at most
    assert [s.symbol for s in result.suggested] == ["SessionStore.rotate_session"] * 2


async def test_a_save_reads_its_texts_for_identifiers_in_a_worker_thread(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Reading up to 150 texts of 5,000 characters word by word took about half a second of
    # the event loop per max-size save: every other call waited for it.
    from ocp_server.citations import suggestions

    threads: set[int] = set()
    real = suggestions.identifier_shaped

    def where(token: str) -> bool:
        threads.add(threading.get_ident())
        return real(token)

    monkeypatch.setattr(suggestions, "identifier_shaped", where)
    sid = await repo.memory.start_session(str(repo.root))
    result = await repo.memory.save(sid, notes=["the session store keeps rotate_session warm"])
    assert threads and threading.get_ident() not in threads
    assert [s.symbol for s in result.suggested] == ["SessionStore.rotate_session"]


def test_the_identifiers_a_text_names_are_those_one_pass_over_every_word_found() -> None:
    from ocp_server.citations.suggestions import names_in

    # each distinct run of non-space characters is read once: the names (and their order)
    # are those of a pass over every word, whatever the spaces (\xa0, \u2003) and repeats
    text = (
        "Use `parse` and load() then cache.get_item, rotate_session\xa0totalCents() TotalCents "
        "HTTPServer Ab `a b` `x` `SessionStore.rotate` obj::method Foo#bar prose words here. "
        "rotate_session again loadData\u2003`load()`\n_private __dunder__ x.y.z() 9abc a.b."
    )
    names = ["parse", "load", "cache.get_item", "rotate_session", "totalCents", "TotalCents"]
    names += ["SessionStore.rotate", "loadData", "x.y.z", "a.b"]
    assert names_in(text) == names
    assert names_in(f"{text}\n{text.replace(' ', chr(9))} {text}") == names


async def test_saving_suggests_citations_for_identifiers_the_index_defines_and_adds_none(
    repo: Repo,
) -> None:
    sid = await repo.memory.start_session(str(repo.root))
    result = await repo.memory.save(
        sid,
        decisions=[
            DecisionIn(
                "Sessions",
                "rotate_session drops the old id; totalCents() sums invoices; "
                "SessionStore stays in memory; the Database is SQLite",
                citations=("totalCents",),
            )
        ],
    )
    assert [(s.field, s.citation, s.symbol) for s in result.suggested] == [
        ("decisions[0]", "src/auth.py:17-21", "SessionStore.rotate_session"),
        ("decisions[0]", "src/auth.py:11-21", "SessionStore"),
    ]
    # Only the given citation is stored; the suggestion was returned, not added.
    rows = await repo.memory.db.execute_fetchall("SELECT cited FROM memory_citations")
    assert [r[0] for r in rows] == ["web/billing.ts:6-9"]
