"""End to end over real stdio: ocp_client starts ocp-server on a temporary workspace, with the
fake Ollama (and, where said, the fake Anthropic) as the models."""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import ocp_wire as wire
from ocp_client import OCPClient, OCPToolError
from tests.fakes import FakeAnthropic, FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import server_env, wait_for_index

NAME_RE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


async def test_tools_are_listed_with_portable_names_and_dotted_titles(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        tools = {t.name: t for t in await client.list_tools()}
    assert set(tools) == {
        "ocp_context_search",
        "ocp_session_restore",
        "ocp_model_route",
        "ocp_result_save",
    }
    for name, tool in tools.items():
        assert NAME_RE.match(name) and len("ocp" + name) < 60
        assert tool.title == name.replace("_", ".")
        assert tool.description and len(tool.description) < 2000
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None


async def test_dotted_mode_advertises_dotted_names_and_both_forms_work(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    env = server_env(workspace, fake_ollama, OCP_TOOL_NAMES="dotted")
    async with OCPClient(env=env) as client:
        names = {t.name for t in await client.list_tools()}
        assert "ocp.context.search" in names
        dotted = await client.call("ocp.context.search", {"query": "verify_token"})
        plain = await client.call("ocp_context_search", {"query": "verify_token"})
    assert not dotted.is_error and not plain.is_error


async def test_search_cites_path_and_lines_from_a_fresh_index(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        result = await wait_for_index(client, "verify token")
        top = result.results[0]
        assert (top.citation, top.symbol) == ("src/auth.py:6-8", "verify_token")
        assert result.index.files == 5
        (workspace / "src" / "late.py").write_text("def saved_after_start():\n    pass\n")
        async with asyncio.timeout(20):
            while not (await client.search("saved_after_start")).results:
                await asyncio.sleep(0.2)


async def test_search_grouped_by_file_gives_files_with_their_best_chunks(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify token")
        grouped = await client.search("session token verify", k=2, group_by="file")
        assert grouped.results == [] and grouped.files is not None
        assert 1 <= len(grouped.files) <= 2
        top = grouped.files[0]
        assert top.path == "src/auth.py" and len(top.hits) >= 2
        assert all(hit.path == top.path for hit in top.hits)
        assert [f.score for f in grouped.files] == sorted(
            (f.score for f in grouped.files), reverse=True
        )


async def test_bad_arguments_name_the_field_and_the_server_keeps_serving(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        bad = await client.call("ocp_context_search", {"query": "x", "k": 0})
        assert bad.is_error and "`k`" in tool_text(bad)
        missing = await client.call("ocp_model_route", {})
        assert missing.is_error and "`request`" in tool_text(missing)
        extra = await client.call("ocp_session_restore", {"bogus": 1})
        assert extra.is_error and "`bogus`" in tool_text(extra)
        unknown = await client.call("ocp_nope", {})
        assert unknown.is_error and "ocp_context_search" in tool_text(unknown)
        with pytest.raises(OCPToolError, match="trace_id"):
            await client.save(trace_id="does-not-exist", outcome="worked")
        assert (await client.search("verify_token")).query == "verify_token"


async def test_simple_request_goes_raw_to_the_local_model(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        result = await client.route("explain the auth middleware")
    assert result.answered_by == "local"
    assert result.answer == "local answer: explain the auth middleware"
    assert result.trace.decision == "local" and result.trace.context_citations == []
    sent = fake_ollama.requests_to("/api/chat")[-1].body["messages"][-1]["content"]
    assert sent == "explain the auth middleware"


async def test_without_a_paid_key_a_complex_request_returns_the_enriched_prompt(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        result = await client.route(
            "review security vulnerabilities in verify_token and rotate_session across all files"
        )
    assert result.answered_by == "agent" and result.answer is None
    assert "answer the enriched prompt that comes with this result yourself" in result.note
    assert result.prompt and "## Workspace context" in result.prompt
    assert "src/auth.py:" in result.prompt and result.prompt.rstrip().endswith("all files")
    assert result.trace.context_citations
    assert fake_ollama.requests_to("/api/chat") == []


async def test_paid_route_sends_an_enriched_redacted_prompt(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    with FakeAnthropic(reply="Use constant-time comparison.") as anthropic:
        env = server_env(
            workspace,
            fake_ollama,
            ANTHROPIC_API_KEY="sk-ant-test",
            ANTHROPIC_BASE_URL=anthropic.url,
        )
        async with OCPClient(env=env) as client:
            await wait_for_index(client, "verify_token")
            key = "sk-ant-api03-" + "A1b2C3d4" * 10
            result = await client.route(
                f"design the token architecture; our key is ANTHROPIC_API_KEY={key}", force="paid"
            )
            sent = json.dumps(anthropic.message_requests()[-1])
    assert result.answered_by == "paid" and result.answer == "Use constant-time comparison."
    assert key not in sent and "[REDACTED" in sent
    assert sum(result.trace.redactions.values()) >= 1
    assert "## Request" in sent and "src/auth.py" in sent
    assert result.trace.estimated_cost_usd is not None


async def test_a_whole_agent_conversation_is_routed_with_tiers_and_a_full_trace(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    secret = "ghp_" + "A1b2C3d4E5f6" * 3
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": f"our CI token is {secret}; the deploy job uses it"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Let me look."},
                {"type": "tool_use", "id": "t1", "name": "read_file", "input": {"path": "ci.yml"}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "steps: [deploy]"},
                {"type": "text", "text": "<system-reminder>be brief</system-reminder>why 403?"},
            ],
        },
    ]
    with FakeAnthropic(reply="The token lacks the deploy scope.") as anthropic:
        env = server_env(
            workspace,
            fake_ollama,
            ANTHROPIC_API_KEY="sk-ant-test",
            ANTHROPIC_BASE_URL=anthropic.url,
            OCP_PAID_TOP_MODEL="claude-opus-4-6",
        )
        async with OCPClient(env=env) as client:
            result = await client.route(
                messages=messages, system="You deploy things.", max_context_tokens=0
            )
            sent = anthropic.message_requests()[-1]
            stats_source = await client.restore()
    t = result.trace
    assert result.answered_by == "paid" and result.answer == "The token lacks the deploy scope."
    assert (t.decision, t.tier, t.answered_tier, t.band) == ("paid", "mid", "mid", "PAID")
    assert t.phase == "heuristic" and not t.forced and t.turns == 3 and t.route_to == "paid"
    assert any("agent loop" in r for r in t.reasons)
    assert t.model == "claude-sonnet-4-6" and t.cost_usd and t.counterfactual_usd
    assert t.counterfactual_usd > t.cost_usd and t.estimated_cost_usd
    # The conversation reaches the paid model as a conversation, redacted, without reminders.
    assert [m["role"] for m in sent["messages"]] == ["user", "assistant", "user"]
    assert secret not in json.dumps(sent) and t.redactions
    assert sent["messages"][-1]["content"].endswith("why 403?")
    assert sent["system"] == "You deploy things."
    assert stats_source.traces[0].trace_id == t.trace_id


async def test_route_without_request_or_messages_names_the_field(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        with pytest.raises(OCPToolError, match="request"):
            await client.route()
        with pytest.raises(OCPToolError, match=r"messages\[0\]\.role"):
            await client.route(messages=[{"role": "robot", "content": "hi"}])
        assert (await client.route("explain the auth middleware")).answered_by == "local"


async def test_an_ambiguous_request_is_settled_by_the_local_classifier_and_then_cached(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    def reply(messages: list[dict[str, object]], body: dict[str, object]) -> str:
        if body.get("format"):
            return json.dumps({"tier": "local", "reason": "a focused debugging question"})
        return "look at the cron schedule"

    fake_ollama.reply = reply
    text = "debug the export job that fails on weekends"
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        first = await client.route(text)
        second = await client.route(text)
    assert first.trace.band == "AMBIGUOUS" and first.trace.phase == "llm_classifier"
    assert first.trace.phase2 and first.trace.phase2.reason == "a focused debugging question"
    assert first.answered_by == "local" and first.answer == "look at the cron schedule"
    assert second.trace.phase == "cache"
    classifier_calls = [r for r in fake_ollama.requests_to("/api/chat") if r.body.get("format")]
    assert len(classifier_calls) == 1


async def test_a_second_session_restores_what_the_first_saved(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    env = server_env(workspace, fake_ollama)
    async with OCPClient(env=env) as client:
        routed = await client.route("explain the auth middleware")
        saved = await client.save(
            trace_id=routed.trace.trace_id,
            outcome="good enough",
            summary="Reviewed the auth helpers.",
            decisions=[
                wire.DecisionArg(
                    title="token comparison",
                    decision="always use hmac.compare_digest",
                    rationale="timing attacks",
                )
            ],
            state={"auth.status": "reviewed"},
            open_items=["add tests for rotate_session"],
        )
        assert saved.decision_ids and not saved.warnings
    async with OCPClient(env=env) as client:
        brief = await client.restore("token")
    assert any(d.decision == "always use hmac.compare_digest" for d in brief.decisions)
    assert brief.state["auth.status"] == "reviewed"
    assert "add tests for rotate_session" in [o.text for o in brief.open_items]
    assert "hmac.compare_digest" in brief.brief
    assert brief.session_id != saved.session_id


def test_stdout_carries_only_json_rpc(workspace: Path, fake_ollama: FakeOllama) -> None:
    messages: list[dict[str, Any]] = [
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"},
            },
        },
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "ocp_context_search", "arguments": {"query": "verify_token"}},
        },
    ]
    lines = []
    with subprocess.Popen(
        [sys.executable, "-m", "ocp_server.cli"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(workspace.parent),
            **server_env(workspace, fake_ollama),
        },
    ) as proc:
        assert proc.stdin is not None and proc.stdout is not None
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            if "id" in message:
                lines.append(proc.stdout.readline())
        proc.stdin.close()
        lines += [ln for ln in proc.stdout.read().splitlines() if ln.strip()]
        proc.wait(timeout=30)
    parsed = [json.loads(line) for line in lines]
    assert all(p.get("jsonrpc") == "2.0" for p in parsed)
    assert [p.get("id") for p in parsed[:3]] == [1, 2, 3]
    assert parsed[0]["result"]["serverInfo"]["name"] == "ocp"


async def test_index_status_resource_reports_the_index_and_who_watches_it(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        listed = await client.session.list_resources()
        assert [str(r.uri) for r in listed.resources] == [wire.STATUS_URI]
        await wait_for_index(client, "verify token")
        report = await client.index_status()
        assert report.workspace == str(workspace) and report.files == 5 and report.chunks > 5
        assert report.skipped["secret"] == 3 and report.skipped["binary"] == 1
        assert report.last_update is not None and report.build.state == "idle"
        assert report.watcher.state == "this_process"
        with pytest.raises(Exception, match="no resource ocp://nope"):
            await client.session.read_resource("ocp://nope")
        # The server keeps serving after the bad read.
        assert (await client.search("verify token")).results
