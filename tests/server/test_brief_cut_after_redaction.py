"""A memory row longer than the brief shows is redacted whole, then cut (`brief.cap`): rows
are stored redacted, but one stored before a rule that finds its token, cut first, kept the
token's head, which the redaction on the way out no longer recognised."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.brief import CAP_RATIONALE, cap
from tests.server.inproc import inproc_client, text_of

TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
HEAD = TOKEN[:12]  # what a cut at the limit kept of it


def _store_as_given(db_path: Path) -> None:
    con = sqlite3.connect(db_path, timeout=30)
    with con:
        con.execute("UPDATE decisions SET rationale = ?", (straddling(CAP_RATIONALE),))
    con.close()


def straddling(limit: int) -> str:
    """A text whose token starts 12 characters before the cut at `limit` ("…" is the last)."""
    lead = "the reason is long " * 40
    return lead[: limit - 1 - len(HEAD)] + TOKEN + " and more after it"


def test_a_text_cut_to_its_cap_hides_a_token_the_cut_goes_through() -> None:
    text = straddling(CAP_RATIONALE)
    shown, cut = cap(text, CAP_RATIONALE)
    assert cut and shown.endswith("…") and len(shown) <= CAP_RATIONALE
    assert HEAD[:6] not in shown, shown[-40:]
    assert "[REDACTED" in shown


async def test_a_stored_rationale_cut_in_the_brief_does_not_show_a_token_head(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        saved = await client.call_tool(
            "ocp_result_save",
            {"decisions": [{"title": "token comparison", "decision": "constant time"}]},
        )
        assert not saved.is_error, text_of(saved)
        # As a row stored before the rule that finds its token: written as it was given, from
        # a thread: the in-process server's first index build may hold the write lock across
        # awaits, and a wait on this event loop would keep it from ever letting go.
        await asyncio.to_thread(_store_as_given, workspace.parent / "ocp.db")
        raw = await client.call_tool("ocp_session_restore", {"max_tokens": 2_000})
    result = wire.RestoreResult.model_validate(raw.structured_content)
    (served,) = result.decisions
    assert served.rationale is not None and served.rationale.endswith("…")
    assert HEAD[:6] not in result.model_dump_json()
    assert HEAD[:6] not in text_of(raw)
