"""Memory keeps no token glued to a word (`backupghp_<token>`, at_rest.py): rows an earlier
server stored with the prose rules are redacted by m022, the memory index's rows with them, and
a route's request is stored the way every output reads it.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

from pathlib import Path

import aiosqlite

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.db import connect
from ocp_server.index.terms import body_terms
from ocp_server.memory import MemoryStore
from ocp_server.migrations import MIGRATIONS, m022_memory_glued_tokens, migrate
from tests.server.app_fixture import opened
from tests.server.at_rest import database_bytes

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = f"ghp_{BODY}"
AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"
GHP_MARK = "[REDACTED:github_token]"


def _held(raw: bytes) -> list[str]:
    """The token bodies `raw` holds, whole or lower-cased as the memory index keeps terms."""
    return [s for s in (BODY, AKIA[4:]) if s.encode() in raw or s.lower().encode() in raw]


async def _old_database(path: Path) -> None:
    """A database as a server before m022 left it: each memory stored with a glued token."""
    db = await aiosqlite.connect(path, isolation_level=None)
    await migrate(db, tuple(m for m in MIGRATIONS if m is not m022_memory_glued_tokens))
    texts = {
        "note": f"the nightly job reads backup{GHP} from the vault",
        "decision": f"Vault path cfg{GHP}\nUse keys{AKIA} for the deploy\nit rotates weekly",
        "state": f"tok{GHP}: live",
        "session": f"Moved the mirror; it pulls with mirror{GHP} now",
        "trace": f"why does deploy{GHP} fail\nbad: it printed keys{AKIA}",
    }
    await db.execute("INSERT INTO sessions VALUES ('s', '/ws', 1.0, 2.0, ?)", (texts["session"],))
    await db.execute(
        "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
        "VALUES ('s', 3.0, 'note', ?, 3.0)",
        (texts["note"],),
    )
    await db.execute(
        "INSERT INTO decisions (session_id, created_at, title, decision, rationale, renewed_at) "
        "VALUES ('s', 4.0, ?, ?, 'it rotates weekly', 4.0)",
        (f"Vault path cfg{GHP}", f"Use keys{AKIA} for the deploy"),
    )
    await db.execute(
        "INSERT INTO state VALUES (?, 1, 'test', 's', 5.0), (?, 2, 'live', 's', 6.0), "
        "('mirror', 1, ?, 's', 5.0)",
        (f"tok{GHP}", f"tok{GHP}", f"pulls with mirror{GHP}"),
    )
    await db.execute(
        "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
        "decided_by, model, backend, task_type, complexity, prompt_tokens, completion_tokens, "
        "duration_ms, outcome, trace_json, answered_by) VALUES ('t1', 's', 7.0, ?, 'local', "
        "'local', 'classifier', 'm', 'ollama', 'explain', 0.2, 1, 1, 1.0, ?, '{}', 'ollama')",
        (f"why does deploy{GHP} fail", f"bad: it printed keys{AKIA}"),
    )
    for kind, ref_id in (("note", "1"), ("decision", "1"), ("state", f"tok{GHP}"),
                         ("session", "s"), ("trace", "t1")):  # fmt: skip
        await db.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES (?, ?, ?)",
            (kind, ref_id, body_terms(texts[kind])),
        )
        await db.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), ?, ?)",
            (kind, ref_id),
        )
    await db.execute("BEGIN")
    for n in range(2, 1300):  # more than a batch of other memories around them
        text = f"note {n} about the build_cache and its retry_policy"
        await db.execute(
            "INSERT INTO notes (session_id, created_at, kind, text, renewed_at) "
            "VALUES ('s', 3.0, 'note', ?, 3.0)",
            (text,),
        )
        await db.execute(
            "INSERT INTO memory_fts (kind, ref_id, text) VALUES ('note', ?, ?)",
            (str(n), body_terms(text)),
        )
        await db.execute(
            "INSERT INTO memory_refs (id, kind, ref_id) VALUES (last_insert_rowid(), 'note', ?)",
            (str(n),),
        )
    await db.execute("COMMIT")
    await db.execute(  # the last batch holds a glued token too
        "UPDATE notes SET text = text || ?, renewed_at = 9.0 WHERE id = 1299", (f" (cache{GHP})",)
    )
    await db.close()


async def test_memories_stored_with_a_glued_token_before_m022_are_redacted_in_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    await _old_database(path)
    assert _held(database_bytes(path)) == [BODY, AKIA[4:]]

    async with aiosqlite.connect(path, isolation_level=None) as upgrade:
        await upgrade.execute("PRAGMA secure_delete = OFF")  # m022 must not count on the build's
        assert await migrate(upgrade) == ["m022_memory_glued_tokens"]
    db = await connect(path)
    store = MemoryStore(db, clock=lambda: 10.0)
    brief = await store.restore(query="nightly vault mirror deploy")
    history = await store.state_history(f"tok{GHP_MARK}")
    last = await db.execute_fetchall("SELECT text FROM notes WHERE id = 1299")
    request = await db.execute_fetchall("SELECT request FROM traces")
    await db.close()
    assert [n.text for n in brief.notes][:1] == [
        f"the nightly job reads backup{GHP_MARK} from the vault"
    ]
    assert brief.decisions[0].title == f"Vault path cfg{GHP_MARK}"
    assert brief.decisions[0].decision == "Use keys[REDACTED:aws_access_key] for the deploy"
    assert brief.sessions[0].summary == f"Moved the mirror; it pulls with mirror{GHP_MARK} now"
    assert brief.traces[0].outcome == "bad: it printed keys[REDACTED:aws_access_key]"
    assert dict(brief.state) == {f"tok{GHP_MARK}": "live", "mirror": f"pulls with mirror{GHP_MARK}"}
    assert [(v, value) for v, value, _, _ in history] == [(2, "live"), (1, "test")]
    assert list(last) == [
        (f"note 1299 about the build_cache and its retry_policy (cache{GHP_MARK})",)
    ]
    assert list(request) == [(f"why does deploy{GHP_MARK} fail",)]
    assert _held(database_bytes(path)) == []


async def test_a_routed_request_is_stored_without_a_glued_token(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    request = f"why does the mirror job read backup{GHP} and fail"
    await app.route(ws, wire.RouteArgs(request=request, dry_run=True))
    restored = await app.restore(ws, wire.RestoreArgs(query="mirror job"))
    await app.aclose()
    assert BODY not in restored.model_dump_json()
    assert _held(database_bytes(workspace.parent / "ocp.db")) == []
