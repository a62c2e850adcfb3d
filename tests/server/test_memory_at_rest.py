"""Memory is kept redacted (at_rest.py): a secret handed to `ocp_result_save` never reaches the
database file, and merging, the memory index and restore work on the redacted text.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from pydantic import ValidationError

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.db import connect
from ocp_server.errors import InputError
from ocp_server.index.terms import body_terms
from ocp_server.memory import MemoryStore
from ocp_server.migrations import MIGRATIONS, m016_memory_redacted, migrate
from tests.server.app_fixture import opened
from tests.server.at_rest import database_bytes

PASSWORD = "Zq8v" + "R2mLp4Tx!"
STRIPE = "sk_live_" + "4eC39HqLyjWD" + "arjtT1zdp7dc"
AWS = "AKIA" + "QX7RZ2MPLK4" + "TNB3V"
SECRETS = (PASSWORD, STRIPE, AWS)
CONFIG_PY = f'''"""Billing settings."""

DB_PASSWORD = "{PASSWORD}"
STRIPE_KEY = "{STRIPE}"


def stripe_client(timeout: float) -> dict[str, object]:
    key = "{STRIPE}"
    return {{"api_key": key, "timeout": timeout, "retries": 3}}
'''


def leftovers(raw: bytes) -> list[str]:
    """The secrets `raw` holds whole, or as the end of a term of the memory index (which
    lower-cases them and stores each term after the prefix it shares with the one before)."""
    return [
        s
        for s in SECRETS
        if s.encode() in raw or re.sub(r"\W", "", s.lower())[-10:].encode() in raw
    ]


async def test_secrets_saved_to_memory_never_reach_the_database_file(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    routed = await app.route(ws, wire.RouteArgs(request="explain verify_token", dry_run=True))
    await app.save(
        ws,
        wire.SaveArgs(
            trace_id=routed.trace.trace_id,
            outcome=f"bad: it printed STRIPE_KEY={STRIPE}",
            summary=f"Rotated the DB; new DB_PASSWORD={PASSWORD}",
            decisions=[
                wire.DecisionArg(
                    title=f"Deploy key {AWS}",
                    decision=f"Use STRIPE_KEY={STRIPE} in prod",
                    rationale=f"the old DB_PASSWORD={PASSWORD} leaked",
                )
            ],
            state={"db_password": PASSWORD, f"aws {AWS}": "live"},
            notes=[f"staging still takes DB_PASSWORD={PASSWORD}"],
            open_items=[f"revoke {AWS} before Friday"],
        ),
    )
    restored = await app.restore(ws, wire.RestoreArgs(query="staging deploy revoke"))
    served = restored.model_dump_json()
    assert not any(secret in served for secret in SECRETS)
    assert restored.state == {
        "db_password": "[REDACTED:password_assignment]",
        "aws [REDACTED:aws_access_key]": "live",
    }
    assert [o.text for o in restored.open_items] == [
        "revoke [REDACTED:aws_access_key] before Friday"
    ]
    assert restored.decisions[0].title == "Deploy key [REDACTED:aws_access_key]"
    db_path = workspace.parent / "ocp.db"
    await app.aclose()
    raw = database_bytes(db_path)
    assert b"staging still takes DB_PASSWORD=" in raw  # the text is there, only the secret is not
    assert leftovers(raw) == []


async def test_saves_that_differ_only_in_a_secret_merge_and_are_found_by_their_words(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    first = await app.save(ws, wire.SaveArgs(notes=[f"billing runs with STRIPE_KEY={STRIPE}"]))
    other = "sk_live_" + "9xQ2" * 6  # another key of the same kind: the same note once stored
    again = await app.save(ws, wire.SaveArgs(notes=[f"billing runs with STRIPE_KEY={other}"]))
    assert again.note_ids == first.note_ids and [m.item for m in again.merged] == ["notes[0]"]
    restored = await app.restore(ws, wire.RestoreArgs(query="billing stripe"))
    assert [n.text for n in restored.notes] == [
        "billing runs with STRIPE_KEY=[REDACTED:stripe_key]"
    ]
    assert "billing runs" in restored.brief and STRIPE not in restored.brief


async def test_memories_stored_before_m016_are_redacted_in_the_file_and_still_found(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = await aiosqlite.connect(path, isolation_level=None)
    await migrate(old, tuple(m for m in MIGRATIONS if m is not m016_memory_redacted))
    texts = {
        "note": f"staging still takes DB_PASSWORD={PASSWORD}",
        "decision": f"Stripe\nUse STRIPE_KEY={STRIPE} in prod\nthe key rotates monthly",
        "state": f"aws {AWS}: live",
        "session": f"Rotated the DB; new DB_PASSWORD={PASSWORD}",
        "trace": f"explain billing\nbad: it printed {STRIPE}",
    }
    await old.execute("INSERT INTO sessions VALUES ('s', '/ws', 1.0, 2.0, ?)", (texts["session"],))
    await old.execute(
        "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) VALUES "
        "('s', 3.0, 'note', ?, 3.0), ('s', 3.0, 'summary', ?, 3.0)",
        (texts["note"], texts["session"]),
    )
    await old.execute(
        "INSERT INTO decisions (session_id, created_at, title, decision, rationale, renewed_at) "
        "VALUES ('s', 4.0, 'Stripe', ?, 'the key rotates monthly', 4.0)",
        (f"Use STRIPE_KEY={STRIPE} in prod",),
    )
    await old.execute(
        "INSERT INTO state VALUES (?, 1, 'test', 's', 5.0), (?, 2, 'live', 's', 6.0), "
        "('db_password', 1, ?, 's', 5.0)",
        (f"aws {AWS}", f"aws {AWS}", PASSWORD),
    )
    await old.execute(
        "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
        "decided_by, model, backend, task_type, complexity, prompt_tokens, completion_tokens, "
        "duration_ms, outcome, trace_json, answered_by) VALUES ('t1', 's', 7.0, "
        "'explain billing', 'local', 'local', 'classifier', 'm', 'ollama', 'explain', 0.2, "
        "1, 1, 1.0, ?, '{}', 'ollama')",
        (f"bad: it printed {STRIPE}",),
    )
    for kind, ref_id in (("note", "1"), ("decision", "1"), ("state", f"aws {AWS}"),
                         ("session", "s"), ("trace", "t1")):  # fmt: skip
        await old.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES (?, ?, ?)",
            (kind, ref_id, body_terms(texts[kind])),
        )
        await old.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), ?, ?)",
            (kind, ref_id),
        )
    for n in range(2, 60):  # other memories around them, as a real database has
        await old.execute(
            "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
            "VALUES ('s', 3.0, 'note', ?, 3.0)",
            (f"note {n} about the build_cache and its retry_policy",),
        )
        await old.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES ('note', ?, ?)",
            (str(n), body_terms(f"note {n} about the build_cache and its retry_policy")),
        )
        await old.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), 'note', ?)",
            (str(n),),
        )
    await old.close()
    assert all(s.encode() in database_bytes(path) for s in SECRETS)

    upgrade = await aiosqlite.connect(path, isolation_level=None)
    # Some SQLite builds zero deleted content by default (Debian's), others do not: m016
    # must not count on it.
    await upgrade.execute("PRAGMA secure_delete = OFF")
    assert await migrate(upgrade) == ["m016_memory_redacted"]
    await upgrade.close()
    db = await connect(path)
    store = MemoryStore(db, clock=lambda: 10.0)
    brief = await store.restore(query="staging rotates billing aws rotated")
    history = await store.state_history("aws [REDACTED:aws_access_key]")
    await db.close()
    assert brief.notes[0].text == "staging still takes DB_PASSWORD=[REDACTED:password_assignment]"
    assert brief.decisions[0].decision == "Use STRIPE_KEY=[REDACTED:stripe_key] in prod"
    assert brief.traces[0].outcome == "bad: it printed [REDACTED:stripe_key]"
    assert (
        brief.sessions[0].summary
        == "Rotated the DB; new DB_PASSWORD=[REDACTED:password_assignment]"
    )
    assert dict(brief.state) == {
        "aws [REDACTED:aws_access_key]": "live",
        "db_password": "[REDACTED:password_assignment]",
    }
    assert [(v, value) for v, value, _, _ in history] == [(2, "live"), (1, "test")]
    assert brief.matched == 5  # the memory index found each by its words
    assert leftovers(database_bytes(path)) == []


async def test_cited_code_is_stored_redacted_and_still_checked_against_the_workspace(
    app: AppState, workspace: Path
) -> None:
    config = workspace / "src" / "config.py"
    config.write_text(CONFIG_PY)
    ws = await opened(app, workspace)
    cited = ["src/config.py:3-4", "stripe_client"]  # each holds a secret on its first line
    decision = wire.DecisionArg(title="Billing keys", decision="from config", citations=cited)
    await app.save(ws, wire.SaveArgs(decisions=[decision]))
    rows = await ws.memory.db.execute_fetchall("SELECT content FROM memory_citations ORDER BY id")
    assert [r[0] for r in rows] == [
        'DB_PASSWORD = "[REDACTED:password_assignment]"\nSTRIPE_KEY = "[REDACTED:stripe_key]"',
        "def stripe_client(timeout: float) -> dict[str, object]:\n"
        '    key = "[REDACTED:stripe_key]"\n'
        '    return {"api_key": key, "timeout": timeout, "retries": 3}',
    ]

    async def checked() -> list[tuple[str, str, str | None]]:
        brief = await app.restore(ws, wire.RestoreArgs())
        found = [c for d in brief.decisions for c in d.citations]
        found += [c for s in brief.stale for c in s.citations]
        return [(c.status, c.citation, c.change) for c in found]

    assert await checked() == [("valid", "src/config.py:3-4", None),
                               ("valid", "src/config.py:7-9", None)]  # fmt: skip
    config.write_text(CONFIG_PY.replace('"""\n', '"""\n\nimport os\n', 1))
    assert await checked() == [("moved", "src/config.py:5-6", None),
                               ("moved", "src/config.py:9-11", None)]  # fmt: skip
    rotated = "sk_live_" + "9xQ2" * 6
    config.write_text(config.read_text().replace(STRIPE, rotated))
    hidden = "only a value that is kept redacted changed"
    assert await checked() == [
        ("stale", "src/config.py:5-6", f"lines 5-6 changed: {hidden}"),
        ("stale", "src/config.py:9-11", f"`stripe_client` changed: {hidden}"),
    ]
    config.write_text(config.read_text().replace('retries": 3', 'retries": 5'))
    (_, _, first), (_, _, second) = await checked()
    assert first == f"lines 5-6 changed: {hidden}"
    assert (
        second == '`stripe_client` changed: -`return {"api_key": key, "timeout": timeout, '
        '"retries": 3}` +`return {"api_key": key, "timeout": timeout, "retries": 5}`'
    )


async def test_cited_code_stored_before_m017_is_redacted_and_still_reads_valid(
    app: AppState, workspace: Path
) -> None:
    (workspace / "src" / "config.py").write_text(CONFIG_PY)
    ws = await opened(app, workspace)
    cited = ["src/config.py:3-4", "stripe_client"]
    decision = wire.DecisionArg(title="Billing keys", decision="from config", citations=cited)
    await app.save(ws, wire.SaveArgs(decisions=[decision]))
    db = ws.memory.db
    # As a version before m017 stored them: the lines verbatim.
    lines = CONFIG_PY.splitlines()
    for start, end in ((3, 4), (7, 9)):
        await db.execute(
            "UPDATE memory_citations SET content = ? WHERE start_line = ?",
            ("\n".join(lines[start - 1 : end]), start),
        )
    await db.execute("DELETE FROM _migrations WHERE name = 'm017_citations_redacted'")
    await app.aclose()

    db = await connect(workspace.parent / "ocp.db")  # migrates
    try:
        rows = await db.execute_fetchall("SELECT content FROM memory_citations ORDER BY id")
        kept = "\n".join(str(r[0]) for r in rows)
        assert not any(secret in kept for secret in SECRETS)
        assert 'STRIPE_KEY = "[REDACTED:stripe_key]"' in kept
        memory = MemoryStore(db, workspace=workspace)
        valid = await memory.restore()
        shifted = CONFIG_PY.replace('"""\n', '"""\n\nimport os\n', 1)
        (workspace / "src" / "config.py").write_text(shifted)
        moved = await memory.restore()  # found again by the redacted text
    finally:
        await db.close()
    assert [(c.status, c.citation) for d in valid.decisions for c in d.citations] == [
        ("valid", "src/config.py:3-4"),
        ("valid", "src/config.py:7-9"),
    ]
    assert [(c.status, c.citation) for d in moved.decisions for c in d.citations] == [
        ("moved", "src/config.py:5-6"),
        ("moved", "src/config.py:9-11"),
    ]


async def test_forgotten_memories_leave_no_trace_in_the_database_file(
    app: AppState, workspace: Path
) -> None:
    words = ("quabbitzel", "vexmorplan", "frondexyla", "glimtorvak", "plunderoft")  # nowhere else
    ws = await opened(app, workspace)
    for n in range(30):  # other memories around them, kept
        await app.save(ws, wire.SaveArgs(notes=[f"note {n} about the build_cache and retries"]))
    routed = await app.route(ws, wire.RouteArgs(request="explain verify_token", dry_run=True))
    saved = await app.save(
        ws,
        wire.SaveArgs(
            trace_id=routed.trace.trace_id,
            outcome=f"worked once {words[4]} was set",  # kept on the trace and as a note
            decisions=[
                wire.DecisionArg(
                    title=f"Cache {words[0]}",
                    decision=f"keep the {words[1]} cache",
                    rationale=f"because {words[2]}",
                    citations=["verify_token"],
                )
            ],
            notes=[f"the {words[3]} service restarts nightly"],
            open_items=[f"ask about {words[0]} again"],
        ),
    )
    db_path = workspace.parent / "ocp.db"

    def traces() -> list[str]:
        raw = database_bytes(db_path)
        return [w for w in words if w.encode() in raw or w[-7:].encode() in raw]

    assert traces() == list(words) and saved.outcome_id is not None
    # Some SQLite builds zero deleted content by default (Debian's), others do not.
    await ws.memory.db.execute("PRAGMA secure_delete = OFF")
    forgotten = await app.save(
        ws,
        wire.SaveArgs(
            forget_decisions=saved.decision_ids,
            forget_notes=[*saved.note_ids, saved.outcome_id, *saved.open_item_ids],
        ),
    )
    assert len(forgotten.forgotten) == 4 and forgotten.warnings == []
    assert traces() == []  # at once, while the server runs
    restored = await app.restore(ws, wire.RestoreArgs(query="build_cache retries"))
    assert len(restored.notes) + restored.omitted["notes"] == 30 and restored.decisions == []
    await app.aclose()
    assert traces() == []


async def test_text_a_near_identical_save_overwrote_leaves_no_trace_in_the_database_file(
    app: AppState, workspace: Path
) -> None:
    old = ("quorvantel", "brizzlemok", "zentharqua")  # words nowhere else
    new = ("plimsovardite", "tronkelb", "wexafundorix")  # other lengths: not overwritten in place
    filler = "the nightly deploy of the billing service runs after the cache warms up"
    ws = await opened(app, workspace)
    for n in range(30):  # other memories around them, kept
        await app.save(ws, wire.SaveArgs(notes=[f"note {n} about the build_cache and retries"]))
    decision = wire.DecisionArg(title="Deploy window", decision=f"{filler} via {old[0]} at 2am")
    await app.save(
        ws,
        wire.SaveArgs(
            decisions=[decision.model_copy(update={"rationale": f"because {old[1]} is idle"})],
            notes=[f"{filler} and {old[2]} restarts"],
        ),
    )
    db_path = workspace.parent / "ocp.db"

    def traces(words: tuple[str, ...]) -> list[str]:
        raw = database_bytes(db_path)
        return [w for w in words if w.encode() in raw or w[-7:].encode() in raw]

    assert traces(old) == list(old)
    # Some SQLite builds zero deleted content by default (Debian's), others do not.
    await ws.memory.db.execute("PRAGMA secure_delete = OFF")
    merged = await app.save(
        ws,
        wire.SaveArgs(
            decisions=[
                wire.DecisionArg(
                    title="Deploy window",
                    decision=f"{filler} via {new[0]} at 2am",
                    rationale=f"because {new[1]} is idle",
                )
            ],
            notes=[f"{filler} and {new[2]} restarts"],
        ),
    )
    assert len(merged.merged) == 2
    assert traces(new) == list(new)
    assert traces(old) == []  # at once, while the server runs
    restored = await app.restore(ws, wire.RestoreArgs(query="billing deploy"))
    assert new[0] in restored.decisions[0].decision and new[2] in restored.brief
    await app.aclose()
    assert traces(old) == []


async def test_a_session_id_holding_a_secret_is_refused_not_stored(
    app: AppState, workspace: Path
) -> None:
    # A session id is a key other rows point to: stored as given, so it cannot be redacted.
    ws = await opened(app, workspace)
    for secret in (STRIPE, AWS):  # (a password alone is not recognised without its name)
        with pytest.raises(ValidationError, match="session_id"):  # the tool's arguments
            wire.SaveArgs(session_id=f"s-{secret}", notes=["a note"])
        with pytest.raises(InputError, match="`session_id`: .*secret"):  # the store's own
            await ws.memory.start_session(str(ws.path), f"s-{secret}")
    await app.save(ws, wire.SaveArgs(session_id="ci-run-4521", notes=["a note"]))
    assert leftovers(database_bytes(workspace.parent / "ocp.db")) == []


async def test_a_large_save_is_redacted_off_the_event_loop(
    app: AppState, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A save at its limits (3.5 MB of text) was redacted in one go on the event loop: every
    # other call (a ping, a search) waited for all of it. A small one stays on the loop.
    import threading

    from ocp_server import at_rest

    threads: list[bool] = []
    real = at_rest.redacted

    def watched(text: str) -> str:
        threads.append(threading.current_thread() is threading.main_thread())
        return real(text)

    monkeypatch.setattr("ocp_server.memory.kept.redacted", watched)
    ws = await opened(app, workspace)
    await app.save(ws, wire.SaveArgs(notes=["a short note"]))
    assert threads == [True]
    threads.clear()
    big = wire.SaveArgs(notes=[f"note {n}: " + "words in a long note " * 200 for n in range(20)])
    await app.save(ws, big)
    assert threads and not any(threads)


async def test_a_few_pages_of_save_or_route_dense_with_secret_names_are_redacted_off_the_loop(
    app: AppState, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Text dense with secrets' names costs up to 60 µs a character to redact (1,000 times
    # ordinary text): 20 KB of `password=` in a save's summary held every other call for 1-2 s
    # (redacted on the loop, in the write transaction), 49 KB in a route's request for 11 s
    # (its paid prompt and its trace's head). Where each is redacted is watched, not timed.
    import threading

    from ocp_router import boundary
    from ocp_server import at_rest, trace_store
    from ocp_server.memory import kept

    on_loop: list[str] = []

    def watched(name: str, real: Any) -> Any:
        def call(*args: Any, **kwargs: Any) -> Any:
            text = args[0] if isinstance(args[0], str) else "".join(args[0])
            if threading.current_thread() is threading.main_thread() and len(text) >= 1_000:
                on_loop.append(name)  # (a session's id and folder are redacted there too)
            return real(*args, **kwargs)

        return call

    for module, name in [
        (kept, "redacted"),
        (trace_store, "redacted"),
        (boundary, "redact_all"),
        (at_rest, "redact_name_head"),
    ]:
        monkeypatch.setattr(module, name, watched(name, getattr(module, name)))
    ws = await opened(app, workspace)
    dense = "password=" * 500
    await app.save(ws, wire.SaveArgs(summary=dense, notes=[dense]))
    await app.route(ws, wire.RouteArgs(request=dense, force="paid", dry_run=True))
    assert on_loop == []


async def test_a_large_save_redacted_in_its_thread_keeps_no_secret(
    app: AppState, workspace: Path
) -> None:
    # Past OFF_LOOP_CHARS the texts are redacted in a worker thread (memory/kept.py): every
    # field still reaches the database and the answer redacted.
    ws = await opened(app, workspace)
    filler = "words in a long note " * 200
    big = wire.SaveArgs(
        notes=[f"{filler} note {n} password={PASSWORD}" for n in range(20)],
        open_items=[f"rotate {STRIPE} today"],
        state={"aws_key": AWS, "db_url": f"postgres://app:{PASSWORD}@db/app"},
        outcome=f"deployed with {STRIPE}",
        decisions=[wire.DecisionArg(title=f"key {AWS}", decision=f"use {STRIPE}")],
    )
    answer = await app.save(ws, big)
    assert not [s for s in SECRETS if s in str(answer)]
    assert leftovers(database_bytes(workspace.parent / "ocp.db")) == []
