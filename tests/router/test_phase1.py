"""Phase 1 on whole agent payloads: what forces paid, what favours local, and the bands."""

from __future__ import annotations

from typing import Any

from ocp_router import Band, LocalProfile, TaskClassifier, Tier, assess, parse_payload
from ocp_router.phase1 import agentic_markers
from ocp_router.tokens import CHARS_PER_TOKEN

CLF = TaskClassifier()

AGENT_SYSTEM = (
    "You are an interactive CLI tool that helps users with software engineering tasks. Use the "
    "tools available to you to read and edit files. Be careful with security: never introduce "
    "vulnerabilities. Think about architecture, performance, migrations and concurrency. "
) * 10
TOOLS = [{"name": "read_file", "description": "Read a file", "input_schema": {"type": "object"}}]


def judge(payload: Any, **kw: Any) -> Any:
    return assess(parse_payload(payload), CLF, **kw)


def test_one_short_simple_message_is_local_with_its_favouring_signals() -> None:
    a = judge("explain what a python list comprehension is")
    assert a.band is Band.LOCAL and a.tier is Tier.LOCAL and not a.forced
    names = {s.name for s in a.signals}
    assert {"one short message", "simple task pattern", "short or no system prompt"} <= names


def test_tools_offered_force_paid_when_the_local_model_has_no_tool_support() -> None:
    body = {"messages": [{"role": "user", "content": "what does main.py do?"}], "tools": TOOLS}
    a = judge(body)
    assert a.band is Band.PAID and a.confidence >= 0.9
    assert any("tool offered" in f for f in a.forced)
    # the same payload with a tool-capable local model is judged on the request
    assert judge(body, local=LocalProfile(tools=True)).band is Band.LOCAL


def test_the_forced_reasons_count_one_tool_in_the_singular() -> None:
    # The route's reason read "1 tools offered".
    one = judge({"messages": [{"role": "user", "content": "hi"}], "tools": TOOLS})
    two = judge({"messages": [{"role": "user", "content": "hi"}], "tools": TOOLS * 2})
    assert "1 tool offered and the local model has no tool support" in one.forced
    assert "2 tools offered and the local model has no tool support" in two.forced
    call = [
        {"role": "user", "content": "fix the failing test"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": {"cmd": "ls"}}],
        },
    ]
    assert (
        "agent loop: 1 tool call or result in the conversation" in judge({"messages": call}).forced
    )


def test_tool_results_in_the_conversation_force_paid() -> None:
    messages = [
        {"role": "user", "content": "fix the failing test"},
        {
            "role": "assistant",
            "content": [{"type": "tool_use", "id": "t1", "name": "bash", "input": {"cmd": "ls"}}],
        },
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": "a"}]},
    ]
    a = judge(messages)
    assert a.band is Band.PAID and any("agent loop" in f for f in a.forced)


def test_context_over_the_char_limit_forces_paid() -> None:
    big = "please summarise this log\n" + "INFO all good\n" * 3000
    assert len(big) > 30_000
    a = judge(big)
    assert a.band is Band.PAID and any("LocalProfile.context_chars" in f for f in a.forced)
    assert judge(big, local=LocalProfile(context_chars=100_000)).band is not Band.PAID


def test_context_over_the_local_window_forces_paid() -> None:
    text = "what does this say?\n" + "word " * 4000
    a = judge(text, local=LocalProfile(context_tokens=2048))
    assert any("local model's 2,048" in f for f in a.forced)


def test_a_local_window_is_judged_in_chars_per_token_the_one_ratio_doctor_also_uses() -> None:
    # `ocp-server doctor` tells the local model's window from the same ratio (doctor.py).
    text = "what does this say?\n" + "word " * 4000
    fits = judge(text).total_chars // CHARS_PER_TOKEN
    assert not any(
        "tokens >" in f for f in judge(text, local=LocalProfile(context_tokens=fits)).forced
    )
    over = judge(text, local=LocalProfile(context_tokens=fits - 1)).forced
    assert any(f"about {fits:,} tokens > the local model's {fits - 1:,}" in f for f in over)


def test_more_than_fifteen_turns_force_paid() -> None:
    turns = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"step {i}"} for i in range(17)
    ]
    a = judge(turns)
    assert a.band is Band.PAID and any("17 turns > 15" in f for f in a.forced)


def test_an_agentic_system_prompt_forces_paid_but_its_words_are_not_read() -> None:
    body = {"system": AGENT_SYSTEM, "messages": [{"role": "user", "content": "what is a tuple?"}]}
    a = judge(body)
    assert a.band is Band.PAID and any("agentic system prompt" in f for f in a.forced)
    # The boilerplate's "security", "architecture", "concurrency" never reach the classifier.
    assert a.classify.families == ("what_is",) or "security" not in a.classify.families
    assert a.tier is Tier.MID
    capable = judge(body, local=LocalProfile(tools=True))
    assert capable.band is Band.LOCAL and capable.classify.complexity_score < 0.2


def test_a_short_plain_system_prompt_is_not_agentic() -> None:
    assert agentic_markers("You are a helpful coding assistant. Answer briefly.") == ()
    assert agentic_markers(AGENT_SYSTEM) != ()


def test_two_deep_reasoning_signals_force_paid() -> None:
    a = judge("is our session handling secure under concurrent logins across regions?")
    assert a.band is Band.PAID
    assert any(f.startswith("deep reasoning") for f in a.forced)


def test_more_than_five_files_named_force_paid() -> None:
    files = " ".join(f"src/mod{i}.py" for i in range(7))
    a = judge(f"look at {files}")
    assert any("7 files named" in f for f in a.forced)


def test_an_edit_across_three_named_files_is_a_multi_file_change() -> None:
    a = judge("rename User to Account in models.py, views.py and serializers.py")
    assert a.band is Band.PAID
    assert any("multi-file change" in f for f in a.forced)
    one = judge("rename User to Account in models.py")
    assert one.band is Band.LOCAL
    assert "single-file small edit" in {s.name for s in one.signals}


def test_the_task_is_judged_from_the_latest_user_turn_not_the_reminders() -> None:
    reminder = "<system-reminder>security audit architecture migration</system-reminder>"
    a = judge([{"role": "user", "content": f"{reminder}\nwhat does len() return?"}])
    assert a.band is Band.LOCAL and "security" not in a.classify.families


def test_a_score_near_the_threshold_is_ambiguous_with_phase_ones_best_guess() -> None:
    text = "debug the export job that fails on weekends"
    near = judge(text, margin=0.25)
    assert 0.3 < near.classify.complexity_score < 0.5  # below the 0.5 threshold
    assert near.band is Band.AMBIGUOUS and near.tier is Tier.LOCAL
    assert judge(text, margin=0.0).band is Band.LOCAL
    # each local-favouring signal narrows the band's local side
    assert judge(text, margin=0.14).band is Band.LOCAL
    assert judge("refactor auth across all files", margin=0.25).band is Band.PAID


def test_a_long_conversation_leans_paid_without_forcing() -> None:
    turns: list[dict[str, Any]] = [
        {"role": "user" if i % 2 == 0 else "assistant", "content": f"point {i}"} for i in range(9)
    ]
    a = judge(turns)
    assert not a.forced and any(s.name == "long conversation" and s.weight > 0 for s in a.signals)
    assert a.score > a.classify.complexity_score
