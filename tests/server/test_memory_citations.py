"""Memory that stays true: citations resolved on save, checked at every restore, and the
lifecycle around them (forget, expiry, merging near-identical saves)."""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosqlite
import pytest

from ocp_router.redact_names import redact_name
from ocp_server import git_commands
from ocp_server.citations import renames
from ocp_server.db import connect
from ocp_server.memory import DecisionIn, MemoryStore, NoteIn
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import close_workspace, open_workspace
from tests.server.citations import NESTED_PY, SETTINGS_PY, Clock, Repo, opened_repo
from tests.workspace_fixture import AUTH_PY, git


@pytest.fixture
async def repo(workspace: Path) -> AsyncIterator[Repo]:
    async with opened_repo(workspace) as opened:
        yield opened


async def test_every_citation_form_resolves_to_lines_a_hash_and_the_symbol(repo: Repo) -> None:
    sid = await repo.memory.start_session(str(repo.root))
    result = await repo.memory.save(
        sid,
        decisions=[
            DecisionIn(
                "Auth",
                "tokens and sessions live in src/auth.py",
                citations=(
                    "verify_token",
                    "src/auth.py:17-21",
                    "SessionStore.rotate_session",  # the same lines: stored once
                    "web/billing.ts:totalCents",
                    f"{repo.root}/src/auth.py#L19-L20",
                ),
            )
        ],
        notes=[NoteIn("the class keeps sessions in memory", ("src/auth.py:SessionStore",))],
    )
    assert [(c.field, c.citation, c.symbol) for c in result.citations] == [
        ("decisions[0]", "src/auth.py:6-8", "verify_token"),
        ("decisions[0]", "src/auth.py:17-21", "SessionStore.rotate_session"),
        ("decisions[0]", "web/billing.ts:6-9", "totalCents"),
        ("decisions[0]", "src/auth.py:19-20", "SessionStore.rotate_session"),
        ("notes[0]", "src/auth.py:11-21", "SessionStore"),
    ]
    rows = await repo.memory.db.execute_fetchall(
        "SELECT path, start_line, end_line, whole, length(content_hash), content "
        "FROM memory_citations ORDER BY id"
    )
    first = tuple(next(iter(rows)))
    assert first[:5] == ("src/auth.py", 6, 8, 1, 32)
    assert first[5].startswith("def verify_token(token: str, secret: str) -> bool:")
    brief = await repo.memory.restore()
    assert brief.decisions[0].verified == "valid"
    assert brief.notes[0].verified == "valid"
    assert "[valid: src/auth.py:6-8; valid: src/auth.py:17-21" in brief.text


@pytest.mark.parametrize(
    ("citation", "message"),
    [
        ("nope_not_defined", "no definition named 'nope_not_defined' in the index"),
        ("src/auth.py:40-42", "the file has 21 lines"),
        ("src/auth.py:9-3", "1 <= start <= end"),
        (".env:1", "not in the workspace index"),  # a secret file is never read
        ("node_modules/lib/index.js:1", "not in the workspace index"),
        ("../outside.py:1", "inside the workspace"),
        ("/etc/passwd:1", "outside the workspace"),
        ("what is this?", "is not a citation"),
        ("src/auth.py\x00:1-2", "holds a NUL character"),  # no path can: it was a crash
        ("/tmp\x00/x.py:1", "holds a NUL character"),
    ],
)
async def test_a_citation_that_cannot_be_resolved_names_the_field_and_saves_nothing(
    repo: Repo, citation: str, message: str
) -> None:
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match=r"^decisions\[1\]\.citations\[0\]: ") as err:
        await repo.memory.save(
            sid,
            decisions=[DecisionIn("Fine", "fine"), DecisionIn("Bad", "bad", citations=(citation,))],
        )
    assert message in str(err.value)
    count = await repo.memory.db.execute_fetchall("SELECT count(*) FROM decisions")
    assert next(iter(count))[0] == 0


async def test_an_absolute_citation_into_a_symlink_loop_names_the_field(repo: Repo) -> None:
    os.symlink("loop_b", repo.root / "loop_a")
    os.symlink("loop_a", repo.root / "loop_b")
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match=r"^decisions\[0\]\.citations\[0\]: "):
        await repo.memory.save(
            sid, decisions=[DecisionIn("Loop", "x", citations=(f"{repo.root}/loop_a/x.py:1",))]
        )


async def test_an_ambiguous_symbol_lists_the_places_to_choose_from(repo: Repo) -> None:
    repo.write("src/other.py", "def verify_token(token):\n    return bool(token)\n")
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="ambiguous") as err:
        await repo.memory.save(sid, notes=[NoteIn("x", ("verify_token",))])
    assert "src/auth.py:verify_token" in str(err.value)
    assert "src/other.py:verify_token" in str(err.value)
    saved = await repo.memory.save(sid, notes=[NoteIn("x", ("src/other.py:verify_token",))])
    assert saved.citations[0].citation == "src/other.py:1-2"


OVERLOADED_PY = """import typing as t


@t.overload
def parse(raw: str) -> int: ...


@t.overload
def parse(raw: bytes) -> int: ...


def parse(raw: str | bytes) -> int:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return int(text.strip())
"""


async def test_an_overloaded_function_cited_by_name_is_its_implementation(repo: Repo) -> None:
    repo.write("src/parsing.py", OVERLOADED_PY)
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    for cited in ("parse", "src/parsing.py:parse"):
        saved = await repo.memory.save(sid, notes=[NoteIn(f"parse via {cited}", (cited,))])
        assert (saved.citations[0].citation, saved.citations[0].symbol) == (
            "src/parsing.py:12-14",
            "parse",
        )
    # Two implementations are still two: the overloads decide nothing.
    repo.write("src/other.py", "def parse(raw):\n    return raw\n")
    await repo.reindex()
    with pytest.raises(ValueError, match="ambiguous"):
        await repo.memory.save(sid, notes=[NoteIn("parse again", ("parse",))])


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


async def test_an_edited_body_makes_the_memory_stale_with_what_changed(repo: Repo) -> None:
    decision = await repo.decide("verify_token")
    repo.edit("src/auth.py", "hmac.compare_digest(token, secret)", "token == secret")
    brief = await repo.memory.restore()
    assert brief.decisions == ()  # not served as a fact
    (stale,) = brief.stale
    assert (stale.kind, stale.id) == ("decision", decision)
    (citation,) = stale.citations
    assert citation.status == "stale"
    assert citation.change == (
        "`verify_token` changed: -`return hmac.compare_digest(token, secret)` "
        "+`return token == secret`"
    )
    assert brief.stale_count == 1
    assert "## Stale" in brief.text and "+`return token == secret`" in brief.text
    # Put back as it was: valid again.
    repo.edit("src/auth.py", "token == secret", "hmac.compare_digest(token, secret)")
    again = await repo.memory.restore()
    assert [d.verified for d in again.decisions] == ["valid"] and again.stale == ()


async def test_lines_shifted_by_an_edit_above_are_moved_and_the_citation_follows(
    repo: Repo,
) -> None:
    await repo.decide("verify_token", "src/auth.py:19-20")
    repo.edit("src/auth.py", '"""Authentication helpers."""\n', '"""Auth."""\n\nimport os\n')
    brief = await repo.memory.restore()
    (d,) = brief.decisions
    assert d.verified == "moved"
    assert [(c.status, c.moved_from, c.citation) for c in d.citations] == [
        ("moved", "src/auth.py:6-8", "src/auth.py:8-10"),
        ("moved", "src/auth.py:19-20", "src/auth.py:21-22"),
    ]
    assert "[moved to src/auth.py:8-10 (was 6-8); moved to src/auth.py:21-22 (was 19-20)]" in (
        brief.text
    )
    rows = await repo.memory.db.execute_fetchall(
        "SELECT path, start_line, end_line FROM memory_citations ORDER BY id"
    )
    assert [tuple(r) for r in rows] == [("src/auth.py", 8, 10), ("src/auth.py", 21, 22)]


async def test_a_moved_citation_checked_again_where_it_moved_to_stays_moved(
    repo: Repo,
) -> None:
    # Was: an edit elsewhere in the file (or a racily clean signature) checked it again,
    # found it at the lines it had moved to, and served it as valid, its move forgotten.
    await repo.decide("verify_token")
    repo.edit("src/auth.py", '"""Authentication helpers."""\n', '"""Auth."""\n\nimport os\n')
    await repo.memory.restore()
    repo.write("src/auth.py", (repo.root / "src" / "auth.py").read_text() + "# the end\n")
    brief = await repo.memory.restore()
    (citation,) = brief.decisions[0].citations
    assert (citation.status, citation.citation, citation.moved_from) == (
        "moved",
        "src/auth.py:8-10",
        "src/auth.py:6-8",
    )
    assert brief.decisions[0].verified == "moved"


async def test_code_back_at_its_cited_lines_after_going_stale_elsewhere_is_valid_there(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    repo.edit("src/auth.py", '"""Authentication helpers."""\n', '"""Auth."""\n\nimport os\n')
    moved = await repo.memory.restore()
    assert moved.decisions[0].citations[0].citation == "src/auth.py:8-10"
    repo.edit("src/auth.py", "hmac.compare_digest(token, secret)", "token == secret")
    stale = await repo.memory.restore()
    assert stale.stale[0].citations[0].citation == "src/auth.py:8-10"
    repo.write("src/auth.py", AUTH_PY)  # the file as it was when the memory was saved
    back = await repo.memory.restore()
    (citation,) = back.decisions[0].citations
    assert (citation.status, citation.citation, citation.moved_from) == (
        "valid",
        "src/auth.py:6-8",
        None,
    )
    assert back.decisions[0].verified == "valid"
    assert "[valid: src/auth.py:6-8]" in back.text


async def test_a_stale_memory_says_where_its_code_was_last_seen_not_where_it_was_saved(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    repo.edit("src/auth.py", '"""Authentication helpers."""\n', '"""Auth."""\n\nimport os\n')
    await repo.memory.restore()  # moved to src/auth.py:8-10 (was 6-8)
    repo.edit("src/auth.py", "hmac.compare_digest(token, secret)", "token == secret")
    brief = await repo.memory.restore()
    (line,) = [t for t in brief.text.splitlines() if t.startswith("- decision #")]
    assert "cites src/auth.py:8-10 (saved at src/auth.py:6-8): `verify_token` changed" in line


def _move_verify_token_to_its_own_file(repo: Repo) -> None:
    """verify_token cut from src/auth.py and pasted, unchanged, into src/tokens.py."""
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    repo.write("src/auth.py", AUTH_PY[:start] + AUTH_PY[end:])
    repo.write("src/tokens.py", "import hmac\n\n\n" + AUTH_PY[start:end])


async def test_a_function_moved_to_another_file_is_found_there_through_the_index(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    _move_verify_token_to_its_own_file(repo)
    await repo.reindex()
    brief = await repo.memory.restore()
    (citation,) = brief.decisions[0].citations
    assert (citation.status, citation.citation, citation.moved_from) == (
        "moved",
        "src/tokens.py:4-6",
        "src/auth.py:6-8",
    )
    # The new place is what is checked from now on.
    repo.edit("src/tokens.py", "compare_digest", "compare_digest_v2")
    assert (await repo.memory.restore()).stale[0].citations[0].citation == "src/tokens.py:4-6"


async def test_a_move_noticed_before_the_index_caught_up_is_found_once_it_has(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    _move_verify_token_to_its_own_file(repo)
    early = await repo.memory.restore()
    assert early.stale and "no longer defined" in (early.stale[0].citations[0].change or "")
    await repo.reindex()
    late = await repo.memory.restore()
    assert late.stale == () and late.decisions[0].citations[0].citation == "src/tokens.py:4-6"


async def test_a_renamed_function_is_stale_and_names_what_replaced_it(repo: Repo) -> None:
    await repo.decide("verify_token")
    repo.write("src/auth.py", AUTH_PY.replace("verify_token", "check_token"))
    await repo.reindex()
    brief = await repo.memory.restore()
    (citation,) = brief.stale[0].citations
    assert citation.change == (
        "`verify_token` is no longer defined in src/auth.py or elsewhere in the index; most "
        "alike now: `check_token` at src/auth.py:6-8: "
        "-`def verify_token(token: str, secret: str) -> bool:` "
        "+`def check_token(token: str, secret: str) -> bool:`"
    )


async def test_a_same_named_function_elsewhere_is_not_taken_for_the_cited_one(
    repo: Repo,
) -> None:
    await repo.decide("src/auth.py:verify_token")
    repo.write("src/other.py", "def verify_token(raw):\n    return raw.startswith('tok_')\n")
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    repo.write("src/auth.py", AUTH_PY[:start] + AUTH_PY[end:])
    await repo.reindex()
    (stale,) = (await repo.memory.restore()).stale
    assert stale.citations[0].change == (
        "`verify_token` is no longer defined in src/auth.py (one in src/other.py is not alike)"
    )
    assert stale.citations[0].citation == "src/auth.py:6-8"  # what was cited, not the other


async def test_a_deleted_file_or_one_no_longer_indexed_makes_its_citations_stale(
    repo: Repo,
) -> None:
    await repo.decide("totalCents", title="Billing")
    await repo.decide("verify_token")
    (repo.root / "web" / "billing.ts").unlink()
    repo.write(".ocpignore", "src/\n")
    brief = await repo.memory.restore()
    changes = sorted(s.citations[0].change or "" for s in brief.stale)
    assert changes == ["src/auth.py is no longer indexed", "web/billing.ts was deleted"]


async def test_a_file_renamed_with_its_cited_function_changed_says_where_it_is_now(
    repo: Repo,
) -> None:
    await repo.decide("verify_token")
    # `git mv src/auth.py src/session.py`, and the function edited in the same commit.
    (repo.root / "src" / "auth.py").unlink()
    repo.write(
        "src/session.py", AUTH_PY.replace("hmac.compare_digest(token, secret)", "token == secret")
    )
    await repo.reindex()
    (stale,) = (await repo.memory.restore()).stale
    assert stale.citations[0].change == (
        # much the same lines under a new name: the file renamed (index/edited_moves.py)
        "src/auth.py was renamed to src/session.py; `verify_token` is now in "
        "src/session.py:6-8, changed: "
        "-`return hmac.compare_digest(token, secret)` +`return token == secret`"
    )


async def test_lines_outside_any_definition_follow_their_file_renamed_unchanged(
    repo: Repo,
) -> None:
    repo.write("src/settings.py", SETTINGS_PY)
    await repo.reindex()
    await repo.decide("src/settings.py:3-6", title="Timeouts", decision="read waits 10 s")
    # `git mv src/settings.py src/config/settings.py`, then `git mv` to another name.
    for old, new in (("src/settings.py", "src/config/settings.py"), (None, "src/config/env.py")):
        (repo.root / (old or "src/config/settings.py")).unlink()
        repo.write(new, SETTINGS_PY)
        await repo.reindex()
        brief = await repo.memory.restore()
        assert brief.stale == (), brief.stale[0].citations
        (citation,) = brief.decisions[0].citations
        assert (citation.status, citation.citation) == ("moved", f"{new}:3-6")


async def test_a_whole_function_grown_in_a_renamed_file_is_stale_not_moved(repo: Repo) -> None:
    await repo.decide("verify_token")
    (repo.root / "src" / "auth.py").unlink()  # git mv, and the function grows a line
    grown = "return hmac.compare_digest(token, secret)\n    log_attempt(token)\n"
    repo.write(
        "src/session.py", AUTH_PY.replace("return hmac.compare_digest(token, secret)\n", grown)
    )
    await repo.reindex()
    brief = await repo.memory.restore()
    assert brief.decisions == ()
    assert "`verify_token` is now in src/session.py:6-9, changed" in (
        brief.stale[0].citations[0].change or ""
    )


async def test_lines_outside_any_definition_found_once_the_index_has_their_new_file(
    repo: Repo,
) -> None:
    repo.write("src/settings.py", SETTINGS_PY)
    await repo.reindex()
    await repo.decide("src/settings.py:3-6", title="Timeouts", decision="read waits 10 s")
    (repo.root / "src/settings.py").unlink()
    await repo.reindex()  # the index saw the file go first, then the new one come
    early = await repo.memory.restore()
    assert early.stale[0].citations[0].change == "src/settings.py was deleted"
    repo.write("src/config.py", SETTINGS_PY)
    await repo.reindex()
    late = await repo.memory.restore()
    assert late.stale == () and late.decisions[0].citations[0].citation == "src/config.py:3-6"


async def test_a_cited_file_grown_past_the_size_limit_is_not_read_and_its_citation_is_stale(
    workspace: Path,
) -> None:
    settings = ServerSettings(db_path=workspace.parent / "ocp.db", max_file_bytes=4_000)
    ws = await open_workspace(settings, workspace, "s1", watch=False)
    try:
        await ws.index.update()
        decisions = [DecisionIn("Token check", "constant time", citations=("verify_token",))]
        await ws.memory.save("s1", decisions=decisions)
        with (workspace / "src" / "auth.py").open("a") as grown:
            grown.write("# generated\n" * 1_000)  # the cited lines are still there, unchanged
        too_large = "src/auth.py is larger than OCP_MAX_FILE_BYTES (4,000 bytes): not read"
        for _ in range(2):  # before the index saw it grow, and after
            brief = await ws.memory.restore()
            assert brief.decisions == ()
            assert [c.change for s in brief.stale for c in s.citations] == [too_large]
            await ws.index.update()
        with pytest.raises(ValueError, match=re.escape(f"notes[0].citations[0]: {too_large}")):
            await ws.memory.save("s1", notes=[NoteIn("sessions", ("src/auth.py:11-21",))])
    finally:
        await close_workspace(ws)


async def test_citing_a_large_file_the_index_may_not_read_says_only_that_it_is_not_indexed(
    workspace: Path, tmp_path: Path
) -> None:
    # A secret file, or one through a link out of the workspace, is refused as any file the
    # index does not hold: the refusal must not tell whether it exists and how large it is.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "dump.log").write_text("x\n" * 3_000)
    (workspace / "logs").symlink_to(outside)
    (workspace / ".env").write_text("API_TOKEN=abc\n" * 400)
    settings = ServerSettings(db_path=workspace.parent / "ocp.db", max_file_bytes=4_000)
    ws = await open_workspace(settings, workspace, "s1", watch=False)
    try:
        await ws.index.update()
        for path in (".env", "logs/dump.log"):
            with pytest.raises(ValueError, match="is not in the workspace index"):
                await ws.memory.save("s1", notes=[NoteIn("where", (f"{path}:1-2",))])
    finally:
        await close_workspace(ws)


async def test_a_cited_file_replaced_by_a_symlink_loop_makes_its_citation_stale(
    repo: Repo,
) -> None:
    await repo.decide("src/auth.py:6-8")
    (repo.root / "src" / "auth.py").unlink()
    os.symlink("auth.py", repo.root / "src" / "auth.py")  # a link to itself
    brief = await repo.memory.restore()
    assert [s.title for s in brief.stale] == ["Token check"]


async def test_a_function_moved_into_a_class_is_a_move_not_a_change(repo: Repo) -> None:
    await repo.decide("verify_token")
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    body = "".join(
        "    " + line if line.strip() else line for line in AUTH_PY[start:end].splitlines(True)
    )
    moved = AUTH_PY[:start] + AUTH_PY[end:] + "\n" + body
    repo.write("src/auth.py", moved)
    brief = await repo.memory.restore()
    (citation,) = brief.decisions[0].citations
    assert citation.status == "moved" and citation.symbol == "SessionStore.verify_token"


async def test_stale_memories_can_be_counted_instead_of_listed(repo: Repo) -> None:
    await repo.decide("verify_token")
    await repo.decide(title="Style", decision="keep functions short")
    repo.edit("src/auth.py", "compare_digest", "compare")
    brief = await repo.memory.restore(stale="count")
    assert brief.stale == () and brief.stale_count == 1
    assert [d.verified for d in brief.decisions] == ["uncited"]
    assert "[uncited]" in brief.text
    assert "1 stale memory (their cited code changed) not listed" in brief.text
    assert "compare_digest" not in brief.text


async def test_unchanged_files_are_only_stat_ed_at_restore(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Files last written an hour ago: one written within the mtime tick of a check is
    # read again (test_memory_racy_signature.py).
    def written_long_ago(rel: str) -> None:
        old = time.time_ns() - 3600 * 10**9
        os.utime(repo.root / rel, ns=(old, old))

    written_long_ago("src/auth.py")
    written_long_ago("web/billing.ts")
    await repo.decide("verify_token", "totalCents")
    reads: list[str] = []
    from ocp_server.citations import CodeView

    original = CodeView._read

    async def counting(self: CodeView, path: str) -> list[str] | None:
        reads.append(path)
        return await original(self, path)

    monkeypatch.setattr(CodeView, "_read", counting)
    await repo.memory.restore()
    assert reads == []
    repo.edit("web/billing.ts", "sum + inv.cents", "sum + inv.cents * 1")
    written_long_ago("web/billing.ts")
    await repo.memory.restore()
    assert reads == ["web/billing.ts"]
    await repo.memory.restore()
    assert reads == ["web/billing.ts"]  # its new signature was recorded


async def test_a_memory_served_while_valid_lives_on_and_an_unused_one_expires(
    repo: Repo,
) -> None:
    used = await repo.decide("verify_token", title="Tokens", decision="use hmac for tokens " * 3)
    unused = await repo.decide(title="Billing", decision="cents are integers " * 20)
    repo.clock.days(27)
    served = await repo.memory.restore(query="hmac tokens", max_tokens=140)
    assert [d.id for d in served.decisions] == [used]  # only it fitted
    repo.clock.days(2)  # 29 days after both were saved
    later = await repo.memory.restore(max_tokens=5000)
    assert [d.id for d in later.decisions] == [used]
    assert later.expired == 1 and "1 memory expired" in later.text
    rows = await repo.memory.db.execute_fetchall("SELECT id, retired FROM decisions ORDER BY id")
    assert [tuple(r) for r in rows] == [(used, None), (unused, "expired")]


async def test_a_stale_memory_is_not_renewed_by_being_listed(repo: Repo) -> None:
    await repo.decide("verify_token")
    repo.edit("src/auth.py", "compare_digest", "compare")
    for _ in range(3):
        repo.clock.days(10)
        brief = await repo.memory.restore()
    assert brief.stale == () and brief.expired == 1


async def test_ttl_zero_never_expires(db_path_memory: MemoryStore) -> None:
    sid = await db_path_memory.start_session("/ws")
    await db_path_memory.save(sid, notes=["kept forever"])
    clock = db_path_memory.clock
    assert isinstance(clock, Clock)
    clock.days(3650)
    assert [n.text for n in (await db_path_memory.restore()).notes] == ["kept forever"]


@pytest.fixture
async def db_path_memory(tmp_path: Path) -> AsyncIterator[MemoryStore]:
    conn = await connect(tmp_path / "m.db")
    yield MemoryStore(conn, clock=Clock(), ttl_days=0)
    await conn.close()


async def test_forget_by_id_erases_the_memory_and_it_is_never_served(repo: Repo) -> None:
    decision = await repo.decide("verify_token")
    sid = await repo.memory.start_session(str(repo.root), "s1")
    note = (await repo.memory.save(sid, notes=["the api key lives in vault"])).note_ids[0]
    result = await repo.memory.save(sid, forget_decisions=[decision], forget_notes=[note])
    assert result.forgotten == (f"decision #{decision}", f"note #{note}")
    brief = await repo.memory.restore()
    assert brief.decisions == () and brief.notes == ()
    assert brief.text == "Nothing saved by earlier sessions yet."
    db: aiosqlite.Connection = repo.memory.db
    texts = await db.execute_fetchall(
        "SELECT (SELECT group_concat(decision) FROM decisions), "
        "(SELECT group_concat(text) FROM notes), (SELECT count(*) FROM memory_citations), "
        "(SELECT count(*) FROM memory_fts WHERE text LIKE '%vault%')"
    )
    assert tuple(next(iter(texts))) == ("", "", 0, 0)
    again = await repo.memory.save(sid, forget_decisions=[decision])
    assert again.warnings == (f"decision #{decision} was already forgotten",)
    with pytest.raises(ValueError, match=r"^forget_notes: no note #999"):
        await repo.memory.save(sid, forget_notes=[999])
    with pytest.raises(ValueError, match=r"^decisions\[0\]\.supersedes: .*does not exist"):
        await repo.memory.save(sid, decisions=[DecisionIn("x", "y", supersedes=decision)])


async def test_a_near_identical_save_merges_and_says_so(repo: Repo) -> None:
    first = await repo.decide(decision="always compare tokens in constant time with hmac")
    sid = await repo.memory.start_session(str(repo.root), "s1")
    again = await repo.memory.save(
        sid,
        decisions=[
            DecisionIn(
                "token check",
                "Always compare tokens in constant time, with hmac.",
                "timing attacks",
                citations=("verify_token",),
            )
        ],
    )
    assert again.decision_ids == (first,)
    assert [(m.field, m.into) for m in again.merged] == [("decisions[0]", first)]
    assert "merged into it" in again.warnings[0] and "1 new citation(s)" in again.warnings[0]
    brief = await repo.memory.restore()
    (d,) = brief.decisions
    assert d.rationale == "timing attacks" and d.verified == "valid"
    # Different enough: a second decision.
    other = await repo.memory.save(
        sid, decisions=[DecisionIn("Token check", "compare tokens with == for speed")]
    )
    assert other.merged == () and other.decision_ids[0] != first
    # Superseding is never a merge.
    newer = await repo.memory.save(
        sid,
        decisions=[
            DecisionIn(
                "Token check", "always compare tokens in constant time with hmac", supersedes=first
            )
        ],
    )
    assert newer.merged == () and newer.superseded == (first,)


async def test_the_same_text_citing_different_code_is_not_a_duplicate(repo: Repo) -> None:
    sid = await repo.memory.start_session(str(repo.root), "s1")
    a = await repo.memory.save(sid, notes=[NoteIn("this function is hot", ("verify_token",))])
    b = await repo.memory.save(sid, notes=[NoteIn("this function is hot", ("totalCents",))])
    c = await repo.memory.save(sid, notes=["this function is hot"])
    assert b.merged == () and b.note_ids != a.note_ids
    assert [m.into for m in c.merged] == [a.note_ids[0]]  # uncited: merges with the first


async def test_a_scripted_refactor_never_serves_a_stale_memory_as_valid(repo: Repo) -> None:
    """Memories over every definition; a refactor in steps; after each, every memory served
    as valid or moved shows exactly the lines it was saved with at the place it names."""
    repo.write(
        "src/util.py",
        "def slug(text):\n    return text.lower().replace(' ', '-')\n\n\n"
        "def clamp(x, lo, hi):\n    return max(lo, min(hi, x))\n\n\n"
        "class Money:\n    def __init__(self, cents):\n        self.cents = cents\n\n"
        "    def add(self, other):\n        return Money(self.cents + other.cents)\n",
    )
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root), "s1")
    cites = [
        "verify_token",
        "SessionStore.rotate_session",
        "SessionStore",
        "totalCents",
        "slug",
        "clamp",
        "Money.add",
        "Money",
        "src/auth.py:19-20",
        "src/util.py:6",
    ]
    saved: dict[int, str] = {}
    for n, cite in enumerate(cites):
        result = await repo.memory.save(sid, notes=[NoteIn(f"memory {n} about {cite}", (cite,))])
        rows = await repo.memory.db.execute_fetchall(
            "SELECT content FROM memory_citations WHERE note_id = ?", (result.note_ids[0],)
        )
        saved[result.note_ids[0]] = next(iter(rows))[0]
    steps: list[Callable[[], object]] = [
        lambda: repo.edit("src/auth.py", '"""Authentication helpers."""', '"""Auth."""\n# v2'),
        lambda: repo.edit("src/util.py", "def slug(text):", "def make_slug(text):"),
        lambda: repo.edit("src/util.py", "max(lo, min(hi, x))", "min(max(x, lo), hi)"),
        lambda: repo.write(
            "src/money.py",
            "class Money:\n    def __init__(self, cents):\n        self.cents = cents\n\n"
            "    def add(self, other):\n        return Money(self.cents + other.cents)\n",
        ),
        lambda: repo.edit("src/util.py", "class Money:", "class OldMoney:"),
        lambda: repo.edit("web/billing.ts", "sum + inv.cents", "sum + inv.cents"),  # no-op
        lambda: repo.edit("src/auth.py", 'self.sessions.pop(old, "")', "self.sessions.pop(old)"),
        lambda: (repo.root / "web" / "billing.ts").unlink(),
    ]
    for step in steps:
        step()
        await repo.reindex()
        brief = await repo.memory.restore(max_tokens=20_000)
        assert len(brief.notes) + len(brief.stale) == len(cites)
        for note in brief.notes:
            for c in note.citations:
                path, lines = c.citation.rsplit(":", 1)
                start, end = (int(x) for x in lines.split("-"))
                text = (repo.root / path).read_text().splitlines()[start - 1 : end]
                from ocp_server.citations import normalized

                assert normalized(text) == normalized(saved[note.id].splitlines()), (step, c)
    final = await repo.memory.restore(max_tokens=20_000)
    verdicts: dict[str, str] = {n.text.split(" about ")[1]: n.verified for n in final.notes}
    verdicts |= {s.text.split(" about ")[1]: "stale" for s in final.stale}
    assert verdicts == {
        "verify_token": "moved",  # by step 1, and checked again where it went
        "SessionStore.rotate_session": "stale",
        "SessionStore": "stale",
        "totalCents": "stale",
        "slug": "stale",
        "clamp": "stale",
        "Money.add": "valid",  # the method's own lines did not change
        "Money": "moved",  # to src/money.py, as it was
        "src/auth.py:19-20": "stale",
        "src/util.py:6": "stale",
    }


async def test_a_near_identical_save_that_corrects_a_fact_is_what_restore_serves(
    repo: Repo,
) -> None:
    # "at most 3" then "at most 5" is 94% alike: it merges, and the correction must not be lost
    sid = await repo.memory.start_session(str(repo.root), "s1")
    old = "retry failed uploads at most 3 times, then give up and report the error"
    new = "retry failed uploads at most 5 times, then give up and report the error"
    first = await repo.memory.save(sid, decisions=[DecisionIn("Upload retries", old, "flaky")])
    again = await repo.memory.save(sid, decisions=[DecisionIn("Upload retries", new)])
    assert again.decision_ids == first.decision_ids and len(again.merged) == 1
    assert "now reads as this save" in again.warnings[0]
    note = await repo.memory.save(
        sid, notes=["the nightly build passes on linux macos and windows with python 3.11 and 3.12"]
    )
    fixed = await repo.memory.save(
        sid, notes=["the nightly build fails on linux macos and windows with python 3.11 and 3.12"]
    )
    assert fixed.note_ids == note.note_ids and len(fixed.merged) == 1
    brief = await repo.memory.restore()
    (d,) = brief.decisions
    assert d.decision == new and d.rationale == "flaky"  # the rationale saved earlier stays
    assert [n.text for n in brief.notes] == [
        "the nightly build fails on linux macos and windows with python 3.11 and 3.12"
    ]
    # a query finds it by its new words: it comes before a newer note the query does not match
    await repo.memory.save(sid, notes=["deploys go out on fridays"])
    found = await repo.memory.restore(query="fails")
    assert (
        found.notes[0].text
        == "the nightly build fails on linux macos and windows with python 3.11 and 3.12"
    )


async def test_functions_nested_in_functions_are_cited_by_their_dotted_name(repo: Repo) -> None:
    # The index does not chunk function bodies: "no definition named 'with_retries.backoff'".
    repo.write("src/retry.py", NESTED_PY)
    repo.write("src/pacing.py", "def backoff(n):\n    return n\n")  # the same name, top level
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    result = await repo.memory.save(
        sid,
        notes=[
            NoteIn(
                "backoff doubles, capped at 30 s",
                (
                    "with_retries.backoff",
                    "src/retry.py:with_retries.Budget.spend",
                    "Client.send.encode",
                ),
            )
        ],
    )
    assert [(c.citation, c.symbol) for c in result.citations] == [
        ("src/retry.py:7-8", "with_retries.backoff"),
        ("src/retry.py:11-12", "with_retries.Budget.spend"),
        ("src/retry.py:19-20", "Client.send.encode"),
    ]
    # Lines inserted above: the nested definitions are followed by their names.
    repo.edit("src/retry.py", '"""Retries."""\n', '"""Retries."""\n\nimport time\n')
    (note,) = (await repo.memory.restore()).notes
    assert [(c.status, c.citation) for c in note.citations] == [
        ("moved", "src/retry.py:9-10"),
        ("moved", "src/retry.py:13-14"),
        ("moved", "src/retry.py:21-22"),
    ]
    # Its body edited: stale, saying what changed in it.
    repo.edit("src/retry.py", "min(2**n, 30)", "min(3**n, 60)")
    (stale,) = (await repo.memory.restore()).stale
    assert stale.citations[0].change == (
        "`with_retries.backoff` changed: -`return min(2**n, 30)` +`return min(3**n, 60)`"
    )


async def test_a_nested_name_that_is_not_defined_is_refused(repo: Repo) -> None:
    repo.write("src/retry.py", NESTED_PY)
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="no definition named 'with_retries.missing'"):
        await repo.memory.save(sid, notes=[NoteIn("x", ("with_retries.missing",))])


async def test_lines_follow_their_file_renamed_into_another_folder_by_git(repo: Repo) -> None:
    # Neither the same name nor the same folder: the file was said to be deleted.
    repo.write("src/settings.py", SETTINGS_PY)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "settings")
    await repo.reindex()
    await repo.decide("src/settings.py:3-6", title="Timeouts", decision="read waits 10 s")
    (repo.root / "lib" / "net").mkdir(parents=True)
    git(repo.root, "mv", "src/settings.py", "lib/net/timeouts.py")  # staged
    await repo.reindex()
    staged = await repo.memory.restore()
    assert staged.stale == (), staged.stale[0].citations
    assert staged.decisions[0].citations[0].citation == "lib/net/timeouts.py:3-6"
    git(repo.root, "commit", "-qm", "move the settings")  # and renamed again, committed
    (repo.root / "conf").mkdir()
    git(repo.root, "mv", "lib/net/timeouts.py", "conf/limits.py")
    git(repo.root, "commit", "-qm", "move them again")
    await repo.reindex()
    committed = await repo.memory.restore()
    assert committed.stale == (), committed.stale[0].citations
    assert committed.decisions[0].citations[0].citation == "conf/limits.py:3-6"


RETRY_PY = '''"""Retries."""


def send_with_retries(send, body):
    """Send until it succeeds."""
    attempts = 0
    while True:
        attempts += 1
        try:
            return send(body)
        except OSError:
            if attempts >= 3:
                raise
            delay = min(2**attempts, 30)
            time.sleep(delay)
'''


async def test_lines_changed_in_their_function_before_a_rename_say_where_it_went(
    repo: Repo,
) -> None:
    # Three lines inside a function, edited, then the file renamed into another folder: the
    # change said only "src/retry.py was deleted".
    repo.write("src/retry.py", RETRY_PY)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "retry")
    await repo.reindex()
    await repo.decide("src/retry.py:12-14", title="Retries", decision="three attempts")
    repo.edit("src/retry.py", "if attempts >= 3:", "if attempts >= 5:")
    git(repo.root, "commit", "-qam", "five attempts")
    (repo.root / "net").mkdir()
    git(repo.root, "mv", "src/retry.py", "net/sending.py")
    git(repo.root, "commit", "-qm", "move")
    await repo.reindex()
    (stale,) = (await repo.memory.restore()).stale
    assert stale.citations[0].change == (
        "src/retry.py was renamed to net/sending.py; `send_with_retries` is now in "
        "net/sending.py:4-15, its "
        "lines changed: -`if attempts >= 3:` +`if attempts >= 5:`"
    )


async def test_a_restore_after_many_cited_files_went_spends_a_bounded_time_in_git(
    repo: Repo, monkeypatch: pytest.MonkeyPatch
) -> None:
    # After a refactor many cited files are gone at once, and git walks the history for each
    # (0.2 s a file in pytest's); a restore asked git about every one of them.
    for name in ("a", "b", "c", "d"):
        repo.write(f"src/{name}.py", SETTINGS_PY)
    git(repo.root, "add", "-A")
    git(repo.root, "commit", "-qm", "settings")
    await repo.reindex()
    for name in ("a", "b", "c", "d"):
        await repo.decide(f"src/{name}.py:3-6", title=f"Timeouts {name}", decision="10 s")
    git(repo.root, "rm", "-q", "src/a.py", "src/b.py", "src/c.py", "src/d.py")
    git(repo.root, "commit", "-qm", "gone")
    await repo.reindex()
    run = git_commands.run_git
    asked: list[tuple[str, ...]] = []

    def slow_git(workspace: Path, *args: str, **kwargs: Any) -> Any:
        asked.append(args)
        time.sleep(0.3)  # a long history
        return run(workspace, *args, **kwargs)

    monkeypatch.setattr(renames, "run_git", slow_git)  # as renames.py calls it
    monkeypatch.setattr(renames, "GIT_BUDGET_S", 0.5, raising=False)
    restored = await repo.memory.restore()
    assert len(asked) == 2, asked  # 0.6 s spent: no more
    assert {s.title for s in restored.stale} == {f"Timeouts {n}" for n in "abcd"}
    assert all("was deleted" in (s.citations[0].change or "") for s in restored.stale)


async def test_an_ambiguous_name_holding_a_token_is_not_cut_inside_it(repo: Repo) -> None:
    # the list of places is cut to 600 characters: cut inside the token, its head matched no
    # pattern and stayed in the error the agent's model reads (the raw citation's copy did not)
    token = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
    for pad in range(1, 80):  # a folder name that puts the 600th character inside a token
        paths = [f"src/{'d' * pad}/m{i}.py" for i in range(12)]
        place = f"{paths[0]}:{token} ({paths[0]}:1-2), "
        at = 600 % len(place) - len(paths[0]) - 1  # where in the token the cut falls
        if 6 < at < len(token) - 6:
            break
    for path in paths:
        repo.write(path, f"def {token}():\n    return 1\n")
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="ambiguous") as err:
        await repo.memory.save(sid, notes=[NoteIn("x", (token,))])
    shown = redact_name(str(err.value)).text  # as every tool's answer is redacted
    assert "[REDACTED:github_token]" in shown
    assert "ghp_" not in shown
