"""Citations checked at every restore against their own file: an edit makes them stale
with what changed, lines shifted or re-indented are followed (and stay moved), code put back
is valid again; a refactor in steps never serves a stale memory as valid; unchanged files are
only stat'ed."""

from __future__ import annotations

import os
import time
from collections.abc import Callable

import pytest

from ocp_server.memory import NoteIn
from tests.server.citations import Repo
from tests.workspace_fixture import AUTH_PY


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
