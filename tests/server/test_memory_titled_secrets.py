"""A decision whose title names a secret and whose text (or rationale) is the secret's value,
as an agent may save one ({"title": "DB password", "decision": "<the password>"}): kept
redacted as a state key's value is, read after its name, over real MCP stdio. The value
reached the database file and came back in every restore, in the brief and its structured
items both; one stored so before is redacted on its way out.

Secrets are assembled at run time, so this file holds no literal one."""

from __future__ import annotations

import json
from pathlib import Path

import aiosqlite

import ocp_wire as wire
from ocp_client import OCPClient
from ocp_server.app import AppState
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.app_fixture import opened
from tests.server.at_rest import database_bytes
from tests.server.stdio_env import server_env
from tests.server.titled_secrets import (
    DECISIONS,
    PLAIN,
    SECRETS,
)


async def test_a_secret_a_decision_s_title_names_is_not_stored_nor_restored(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    db_path = workspace.parent / "ocp.db"
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        saved = await client.call("ocp_result_save", {"decisions": DECISIONS + PLAIN})
        assert not saved.is_error, tool_text(saved)
        restored = await client.call("ocp_session_restore", {"max_tokens": 20_000})
    served = tool_text(restored) + json.dumps(restored.structured_content)
    assert [s for s in SECRETS if s in served] == []
    decisions = {
        (d["title"], d["decision"], d["rationale"])
        for d in (restored.structured_content or {})["decisions"]
    }
    assert {
        ("DB password", "[REDACTED:password_assignment]", None),
        ("The deploy token", "kept in the vault", "[REDACTED:generic_secret_assignment]"),
    } <= decisions
    assert {(d["title"], d["decision"], d.get("rationale")) for d in PLAIN} <= decisions
    raw = database_bytes(db_path)
    assert [s for s in SECRETS if s.encode() in raw] == []


async def test_a_decision_stored_before_with_the_secret_its_title_names_is_restored_redacted(
    app: AppState, workspace: Path
) -> None:
    # As a save stored it before kept.py read it after its title: field by field, the value kept.
    ws = await opened(app, workspace)
    saved = await app.save(ws, wire.SaveArgs(decisions=[wire.DecisionArg(**d) for d in DECISIONS]))
    async with aiosqlite.connect(workspace.parent / "ocp.db") as db:
        await db.executemany(
            "UPDATE decisions SET decision = ?, rationale = ? WHERE id = ?",
            [
                (d["decision"], d.get("rationale"), i)
                for d, i in zip(DECISIONS, saved.decision_ids, strict=True)
            ],
        )
        await db.commit()
    restored = await app.restore(ws, wire.RestoreArgs(max_tokens=20_000))
    served = restored.model_dump_json()
    assert [s for s in SECRETS if s in served] == []
    assert "**DB password**: [REDACTED:password_assignment]" in restored.brief
