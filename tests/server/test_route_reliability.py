"""ocp_model_route and the savings report over the real server: a call without a session id
does not inherit another conversation's pinned model, a local route the local model cannot
answer comes back to the agent when there is no paid key, a route nothing could answer is a
tool error listing its attempts, the report counts what really happened, and the daily budget
counts a paid call once while its trace is being stored."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from ocp_server.db import connect
from ocp_server.ledger import WorkspaceLedger
from ocp_server.memory import MemoryStore, TraceRecord
from ocp_server.proxy.recorder import ProxyRecord, Recorder
from ocp_server.savings import savings_report
from tests.fakes import FakeAnthropic, FakeOllama
from tests.results import tool_text
from tests.server import traces
from tests.server.inproc import inproc_client, paid_env, text_of

DESIGN = "design the architecture of our payment service: sharding, consistency, failover"
REVIEW = "review the security of the token refresh flow in our auth service"


async def test_calls_without_a_session_id_do_not_share_one_pin(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    env = paid_env(fake_ollama, fake_anthropic)
    async with inproc_client(workspace, monkeypatch, env) as client:
        top = await client.call_tool(
            "ocp_model_route", {"request": DESIGN, "force": "top", "max_context_tokens": 0}
        )
        other = await client.call_tool(
            "ocp_model_route", {"request": REVIEW, "force": "paid", "max_context_tokens": 0}
        )
        unforced = await client.call_tool(
            "ocp_model_route",
            {"request": REVIEW + " and its error handling", "max_context_tokens": 0},
        )
        # The same conversation sent again (an agent loop) keeps its model while warm.
        conversation = [{"role": "user", "content": DESIGN}]
        again = await client.call_tool(
            "ocp_model_route",
            {
                "messages": [
                    *conversation,
                    {"role": "assistant", "content": "Shard by merchant."},
                    {"role": "user", "content": "and the failover part?"},
                ],
                "max_context_tokens": 0,
            },
        )
    assert top.structured_content and other.structured_content and again.structured_content
    assert top.structured_content["trace"]["model"] == "claude-opus-4-6"
    assert other.structured_content["trace"]["model"] == "claude-sonnet-4-6"
    assert unforced.structured_content is not None
    assert unforced.structured_content["trace"]["pin_state"] == "fresh"
    assert again.structured_content["trace"]["pin_state"] == "hard"
    assert again.structured_content["trace"]["model"] == "claude-opus-4-6"


async def test_a_local_route_with_the_local_model_down_and_no_paid_key_comes_back_to_the_agent(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    # The calling agent is the paid tier when OCP has no key: a local failure climbs to it as
    # it would to a paid model, with the workspace context, and says what to fix.
    async with inproc_client(workspace, monkeypatch, {"OCP_OLLAMA_URL": refused_url}) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": "explain what verify_token does"}
        )
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    assert out["answered_by"] == "agent" and out["answer"] is None
    assert "cannot reach ollama" in out["note"]
    assert "answer the enriched prompt that comes with this result yourself" in out["note"]
    assert "below" not in out["note"]  # Claude Code's model reads `prompt` before `note`
    # (sent once: to a client other than Claude Code as the text's last block)
    prompt = tool_text(routed, -1)
    assert out["prompt"] == "" and "## Workspace context" in prompt and "src/auth.py" in prompt
    assert prompt.endswith("## Request\nexplain what verify_token does")
    trace = out["trace"]
    assert trace["decision"] == "local" and trace["route_to"] == "agent"
    # handed over because the model could not be reached, not because it failed an answer
    assert trace["local_unavailable"] and not trace["escalated"]
    assert [a["outcome"] for a in trace["attempts"]] == ["error"]
    assert trace["model"] == "agent"  # the failed local model is in the attempts


async def test_a_paid_route_without_a_paid_key_is_traced_as_handed_to_the_agent_not_model_none(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    async with inproc_client(workspace, monkeypatch, {"OCP_OLLAMA_URL": refused_url}) as client:
        routed = await client.call_tool(
            "ocp_model_route", {"request": DESIGN, "force": "paid", "max_context_tokens": 0}
        )
    assert not routed.is_error, text_of(routed)
    out = routed.structured_content or {}
    trace = out["trace"]
    assert out["answered_by"] == trace["route_to"] == "agent" and trace["attempts"] == []
    assert trace["model"] == "agent" and trace["backend"] is None
    assert "answered by agent" in text_of(routed) and "(none)" not in text_of(routed)


async def test_a_route_nothing_could_answer_is_a_tool_error_with_its_attempts(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str
) -> None:
    # Forced local never leaves its tier, not even for the agent.
    async with inproc_client(workspace, monkeypatch, {"OCP_OLLAMA_URL": refused_url}) as client:
        failed = await client.call_tool(
            "ocp_model_route", {"request": "explain this function", "force": "local"}
        )
        assert failed.is_error
        text = text_of(failed)
        assert "no model could answer" in text and "cannot reach ollama" in text
        assert text.count("could answer") == 1  # not "no model could answer: no backend could…"
        trace = (failed.structured_content or {})["trace"]
        assert trace["attempts"][0]["outcome"] == "error" and trace["route_to"] == "none"
        # It is recorded: the short trace id (as printed) links an outcome to it.
        saved = await client.call_tool(
            "ocp_result_save",
            {"trace_id": trace["trace_id"][:8], "outcome": "the local model was down"},
        )
        assert not saved.is_error, text_of(saved)
        stats = await client.call_tool("ocp_session_restore", {})
    assert "the local model was down" in text_of(stats)


async def test_the_savings_report_counts_dry_runs_apart_and_dated_models_as_no_fallback(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.reply = lambda messages, body: {"text": "ok", "model": body["model"] + "-2025"}
    env = paid_env(fake_ollama, fake_anthropic)
    async with inproc_client(workspace, monkeypatch, env) as client:
        dry = await client.call_tool("ocp_model_route", {"request": DESIGN, "dry_run": True})
        paid = await client.call_tool(
            "ocp_model_route", {"request": REVIEW, "force": "paid", "max_context_tokens": 0}
        )
        local = await client.call_tool("ocp_model_route", {"request": "explain this function"})
        assert not dry.is_error and not paid.is_error and not local.is_error
        assert paid.structured_content is not None
        assert not paid.structured_content["trace"]["fell_back"]
    db = await connect(workspace.parent / "ocp.db")
    try:
        report = await savings_report(db, since=None)
    finally:
        await db.close()
    assert report["routes"] == 2 and report["errors"] == 0 and report["dry_runs"] == 1
    assert "none" not in report["by_tier"] and report["fallbacks"] == 0


async def test_a_short_trace_id_that_starts_two_traces_is_refused(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = await connect(workspace.parent / "ocp.db")
    memory = MemoryStore(db)
    session = await memory.start_session(str(workspace))
    for tail in ("a", "b"):
        await memory.record_trace(session, traces.trace("abcdef01" + tail * 24))
    await db.close()
    async with inproc_client(workspace, monkeypatch) as client:
        both = await client.call_tool("ocp_result_save", {"trace_id": "abcdef01", "outcome": "x"})
        one = await client.call_tool("ocp_result_save", {"trace_id": "abcdef01a", "outcome": "y"})
    assert both.is_error and "more than one trace" in text_of(both)
    assert not one.is_error


async def test_the_ledger_adds_this_processs_unrecorded_spend_to_the_stored_spend() -> None:
    class Stored:
        async def spent_today(self) -> float:
            return 0.05  # what other windows' traces say

    ledger = WorkspaceLedger()
    ledger.state = Stored()
    await ledger.add(0.05)  # paid here, its trace not stored yet
    assert await ledger.spent_today() == 0.10
    ledger.recorded(0.05)
    assert await ledger.spent_today() == 0.05
    days = iter([dt.date(2026, 1, 1), dt.date(2026, 1, 1), dt.date(2026, 1, 2)])
    rolling = WorkspaceLedger(today=lambda: next(days))
    await rolling.add(0.5)
    assert await rolling.spent_today() == 0.0  # a new day


class _StoreThatCommitsFirst:
    """A trace store whose write is visible to readers before its writer resumes, as a
    database write committed in a worker thread is (the writer's turn on the event loop
    comes later, much later on a loaded machine)."""

    def __init__(self) -> None:
        self.spent = 0.0
        self.committed = asyncio.Event()
        self.resume = asyncio.Event()

    async def start_session(self, workspace: str, session: str) -> None:
        pass

    async def record_trace(self, session: str, trace: TraceRecord) -> None:
        self.spent += trace.cost_usd or 0.0
        self.committed.set()
        await self.resume.wait()

    async def spent_today(self) -> float:
        return self.spent


async def test_a_cost_being_stored_is_counted_once_by_the_daily_budget() -> None:
    # The proxy's recorder told the ledger a cost was stored only once its write returned: a
    # budget check reading the store in between counted the cost twice, stored and unstored.
    store = _StoreThatCommitsFirst()
    ledger = WorkspaceLedger()
    ledger.state = store
    recorder = Recorder(store, "/ws", ledger=ledger)  # type: ignore[arg-type]
    recorder.start()
    await ledger.add(0.25)  # a paid call answered, its trace queued for the store
    recorder.add(ProxyRecord("0" * 32, 1.0, "anthropic", "t", "s", False, "m", cost_usd=0.25))
    await store.committed.wait()
    check = asyncio.create_task(ledger.spent_today())  # the next request's budget check
    await asyncio.sleep(0)
    store.resume.set()
    assert await check == 0.25
    await recorder.aclose()
    assert await ledger.spent_today() == 0.25
