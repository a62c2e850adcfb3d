"""Memory that stays true, end to end over real MCP stdio: a decision cites a function, the
code changes under it, and every restore says whether it still holds."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import ocp_wire as wire
from ocp_client import OCPClient, OCPToolError
from ocp_router.tokens import estimate_tokens
from ocp_wire.restore import MIN_RESTORE_TOKENS
from tests.fakes import FakeOllama
from tests.results import tool_text
from tests.server.stdio_env import server_env, wait_for_index
from tests.workspace_fixture import AUTH_PY

CLOCK_SERVER = Path(__file__).with_name("clock_server.py")
DAY = 86400


def token_decision(*citations: str) -> wire.DecisionArg:
    return wire.DecisionArg(
        title="token comparison",
        decision="verify_token compares in constant time with hmac.compare_digest",
        rationale="timing attacks",
        citations=list(citations),
    )


async def test_a_cited_function_edited_is_stale_with_what_changed(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        saved = await client.save(decisions=[token_decision("verify_token")])
        assert [(c.citation, c.symbol) for c in saved.citations] == [
            ("src/auth.py:6-8", "verify_token")
        ]
        fresh = await client.restore("token")
        assert [(d.id, d.verified) for d in fresh.decisions] == [(saved.decision_ids[0], "valid")]
        assert "[valid: src/auth.py:6-8]" in fresh.brief

        auth = workspace / "src" / "auth.py"
        auth.write_text(AUTH_PY.replace("hmac.compare_digest(token, secret)", "token == secret"))
        edited = await client.restore("token")
    assert edited.decisions == [] and edited.stale_count == 1
    (stale,) = edited.stale
    assert (stale.kind, stale.id) == ("decision", saved.decision_ids[0])
    assert stale.citations[0].status == "stale"
    assert stale.citations[0].change == (
        "`verify_token` changed: -`return hmac.compare_digest(token, secret)` "
        "+`return token == secret`"
    )
    assert "## Stale" in edited.brief and "+`return token == secret`" in edited.brief


async def test_a_cited_function_moved_to_another_file_is_reported_moved(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    start, end = AUTH_PY.index("def verify_token"), AUTH_PY.index("class SessionStore")
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        await client.save(decisions=[token_decision("src/auth.py:6-8")])
        (workspace / "src" / "auth.py").write_text(AUTH_PY[:start] + AUTH_PY[end:])
        (workspace / "src" / "tokens.py").write_text("import hmac\n\n\n" + AUTH_PY[start:end])
        async with asyncio.timeout(30):  # the watcher re-indexes both files
            while not any(
                r.path == "src/tokens.py" for r in (await client.search("verify_token")).results
            ):
                await asyncio.sleep(0.2)
        brief = await client.restore()
    (decision,) = brief.decisions
    assert decision.verified == "moved"
    (citation,) = decision.citations
    assert (citation.citation, citation.moved_from, citation.status) == (
        "src/tokens.py:4-6",
        "src/auth.py:6-8",
        "moved",
    )
    assert "[moved to src/tokens.py:4-6 (was src/auth.py:6-8)]" in brief.brief


async def test_a_cited_function_renamed_is_stale(workspace: Path, fake_ollama: FakeOllama) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        await client.save(decisions=[token_decision("verify_token")])
        (workspace / "src" / "auth.py").write_text(AUTH_PY.replace("verify_token", "check_token"))
        await wait_for_index(client, "check_token")
        brief = await client.restore(stale="count")
    assert brief.decisions == [] and brief.stale == [] and brief.stale_count == 1
    assert "1 stale memory" in brief.brief


async def test_bad_citations_and_unknown_ids_are_errors_naming_the_field(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        result = await client.call(
            "ocp_result_save",
            {"decisions": [{"title": "t", "decision": "d", "citations": ["src/auth.py:90-99"]}]},
        )
        assert result.is_error
        assert "`decisions[0].citations[0]`: expected code in the workspace index" in (
            tool_text(result)
        )
        assert "(got 'src/auth.py:90-99'); src/auth.py:90-99: the file has 21 lines" in (
            tool_text(result)
        )
        try:
            await client.save(forget_decisions=[42])
        except OCPToolError as exc:
            said = "`forget_decisions[0]`: expected the id of a decision (got 42); no decision #42"
            assert said in str(exc)
        else:
            raise AssertionError("forgetting an unknown id must fail")
        saved = await client.save(
            notes=[wire.NoteArg(text="SessionStore keeps sessions in memory only")]
        )
        assert [(s.item, s.symbol) for s in saved.suggested] == [("notes[0]", "SessionStore")]
        gone = await client.save(forget_notes=saved.note_ids)
        assert gone.forgotten == [f"note #{saved.note_ids[0]}"]
        assert (await client.restore()).notes == []


async def test_a_memory_served_and_valid_lives_on_and_an_unused_one_expires(
    workspace: Path, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    clock = tmp_path / "clock"
    clock.write_text("0")
    env = server_env(workspace, fake_ollama, OCP_TEST_CLOCK_FILE=str(clock))
    async with OCPClient(sys.executable, [str(CLOCK_SERVER)], env=env) as client:
        await wait_for_index(client, "verify_token")
        used = (await client.save(decisions=[token_decision("verify_token")])).decision_ids[0]
        unused = (
            await client.save(
                decisions=[
                    wire.DecisionArg(
                        title="invoice totals",
                        decision="totalCents sums integer cents, never floats; " * 12,
                        citations=["totalCents"],
                    )
                ]
            )
        ).decision_ids[0]
        clock.write_text(str(27 * DAY))
        served = await client.restore("hmac compare_digest", max_tokens=420)
        assert [d.id for d in served.decisions] == [used]  # the other did not fit
        assert served.omitted == {"decisions": 1}
        clock.write_text(str(29 * DAY))
        later = await client.restore()
    assert [d.id for d in later.decisions] == [used]
    assert later.expired == 1 and unused not in [d.id for d in later.decisions]


async def test_a_restore_too_small_for_any_memory_says_it_left_them_out_not_that_none_exist(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    long = " ".join(f"word{i}" for i in range(120))
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        # Notes: a first decision too long is served cut (test_restore_budget.py).
        other = " ".join(f"term{i}" for i in range(120))  # not merged as a near-duplicate
        await client.save(notes=[f"a long note {long}", f"another long note {other}"])
        raw = await client.call("ocp_session_restore", {"max_tokens": MIN_RESTORE_TOKENS})
    result = wire.RestoreResult.model_validate(raw.structured_content)
    assert (result.decisions, result.notes) == ([], [])
    assert result.omitted == {"notes": 2}
    text = tool_text(raw)
    assert "No earlier sessions" not in text
    assert f"Left out to fit max_tokens={MIN_RESTORE_TOKENS}: 2 notes" in text
    assert estimate_tokens(text) <= MIN_RESTORE_TOKENS


async def test_the_smallest_restore_budget_holds_a_short_memory_and_a_smaller_one_is_refused(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    minimum = wire.RestoreArgs.model_json_schema()["properties"]["max_tokens"]["minimum"]
    note = {"notes": ["the job queue uses SQLite, not Redis"]}
    decision = {
        "decisions": [{"title": "Job queue", "decision": "use SQLite", "rationale": "one file"}]
    }
    served: list[list[str]] = []
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        for n in range(150):  # longer ids and counts of what was left out cost more
            await client.save(
                notes=[f"older note {n}: " + " ".join(f"w{n}x{i}" for i in range(40))]
            )
        for short in (note, decision):  # the newest first in its section; decisions come first
            assert not (await client.call("ocp_result_save", short)).is_error
            raw = await client.call("ocp_session_restore", {"max_tokens": minimum})
            result = wire.RestoreResult.model_validate(raw.structured_content)
            assert result.tokens <= minimum
            served.append([d.title for d in result.decisions] + [n.text for n in result.notes])
        refused = await client.call("ocp_session_restore", {"max_tokens": minimum - 1})
    assert [items[:1] for items in served] == [
        ["the job queue uses SQLite, not Redis"],
        ["Job queue"],
    ]
    assert refused.is_error and "`max_tokens`" in tool_text(refused)
    assert f"expected at least {minimum}" in tool_text(refused)


async def test_restore_never_returns_more_than_max_tokens(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify_token")
        for n in range(6):
            await client.save(
                decisions=[
                    wire.DecisionArg(
                        title=f"decision {n}",
                        decision=f"we chose option {n}: "
                        + " ".join(f"r{n}w{i}" for i in range(30)),
                        citations=["verify_token"] if n % 2 else [],
                    )
                    for _ in range(1)
                ],
                notes=[f"note {n} " + " ".join(f"n{n}w{i}" for i in range(20))],
                open_items=[f"open item {n}"],
                state={f"key{n}": "value " * 5},
            )
        for budget in (MIN_RESTORE_TOKENS, 700, 1500):
            raw = await client.call("ocp_session_restore", {"max_tokens": budget})
            text = tool_text(raw)
            structured = json.dumps(raw.structured_content, separators=(",", ":"))
            # the whole answer: its text block and its structured content together
            sent = estimate_tokens(text) + estimate_tokens(structured)
            assert sent <= budget, (budget, sent)
            result = wire.RestoreResult.model_validate(raw.structured_content)
            assert result.tokens == sent
            if budget < 1500:
                assert sum(result.omitted.values()) > 0, budget
            if budget < 1500:
                assert "Left out" in text
