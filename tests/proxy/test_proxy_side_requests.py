"""A client's session id spans more than one conversation: Claude Code 2.1.197 sends the same
`metadata.user_id` and `x-claude-code-session-id` on its agent turns and on its tool-less side
requests (the session's title: another system prompt, another first message; seen through this
proxy, docs/routing-rounds.md round 58). Floors (OCP_STICKY=upward, a wrong local answer) are
kept per conversation, so a side request is routed on its own merits, not at the agent's tier."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, SIMPLE, TOOLS
from tests.proxy.outcomes import NEAR, Outcomes, phase1_only
from tests.proxy.recorded import all_written, last_row

SESSION = "0b6e3d4c-5a8f-4e21-9c7d-2f1a6b8e9d03"
# Claude Code 2.1.197's metadata: one JSON text per session, on every request it sends.
USER_ID = json.dumps({"device_id": "a4b8c0", "account_uuid": "", "session_id": SESSION})
AGENT_SYSTEM = "You are an interactive agent that helps users with software engineering tasks."
TITLE_SYSTEM = "Generate a concise, sentence-case title (3-7 words) for this session."
# The start of the last user message of Claude Code 2.1.197's compaction request (its bundled
# code): the rest asks for an <analysis> and a <summary> of sections, and repeats the first line.
COMPACT = (
    "CRITICAL: Respond with TEXT ONLY. Do NOT call any tools.\n"
    "- Do NOT use Read, Bash, Grep, Glob, Edit, Write, or ANY other tool.\n"
    "- You already have all the context you need in the conversation above.\n"
    "Your task is to create a detailed summary of the conversation so far, paying close "
    "attention to the user's explicit requests and your previous actions."
)


def _asked(
    proxy: RunningProxy, system: str, messages: list[dict[str, Any]], **extra: Any
) -> dict[str, Any]:
    """The trace of a request of Claude Code's session SESSION, once it is stored."""
    body = {
        "model": "claude-opus-5-5",
        "max_tokens": 100,
        "system": system,
        "messages": messages,
        "metadata": {"user_id": USER_ID},
    } | extra
    headers = ANTHROPIC_HEADERS | {"x-claude-code-session-id": SESSION}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/messages", json=body, headers=headers)
    assert answered.status_code == 200, answered.text
    proxy.call(all_written)
    row: dict[str, Any] = proxy.call(last_row)
    return row


def _raised(row: dict[str, Any]) -> bool:
    return "this conversation already needed it" in str(row["reason"])


def test_a_side_request_of_a_session_is_not_kept_at_the_tier_its_agent_turns_reached(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    proxy = start_proxy(phase1_only(proxy_env) | {"OCP_STICKY": "upward"})
    first = [{"role": "user", "content": HARD}]
    assert _asked(proxy, AGENT_SYSTEM, first)["tier"] == "top"
    title = _asked(proxy, TITLE_SYSTEM, [{"role": "user", "content": f"<session>{SIMPLE}"}])
    assert title["tier"] == "local" and not _raised(title), title
    # The agent's own conversation keeps its floor: its next turn, simple as it is, stays top.
    turn = first + [
        {"role": "assistant", "content": "Here is the plan."},
        {"role": "user", "content": SIMPLE},
    ]
    again = _asked(proxy, AGENT_SYSTEM, turn)
    assert again["tier"] == "top" and _raised(again), again
    assert again["session"] != title["session"]


async def test_a_wrong_local_answer_lifts_its_conversation_not_the_sessions_side_requests(
    outcomes: Outcomes,
) -> None:
    """Under the default OCP_STICKY=off the only floor is a wrong local answer's (to mid)."""
    proxy = outcomes.proxy()
    first = [{"role": "user", "content": NEAR}]
    answered = _asked(proxy, AGENT_SYSTEM, first)
    assert answered["tier"] == "local", answered
    saved = await outcomes.saved(str(answered["request_id"]), "bad: the fix it gave was wrong")
    assert not any("no trace" in w for w in saved["warnings"]), saved["warnings"]
    title = _asked(proxy, TITLE_SYSTEM, [{"role": "user", "content": f"<session>{NEAR}"}])
    assert title["tier"] == "local" and not _raised(title), title
    turn = first + [
        {"role": "assistant", "content": "Try this."},
        {"role": "user", "content": NEAR},
    ]
    again = _asked(proxy, AGENT_SYSTEM, turn)
    assert again["tier"] == "mid" and _raised(again), again


def test_a_compaction_request_is_its_conversations_and_kept_at_its_tier(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    """Claude Code 2.1.197 asks for a compaction's summary as a fork of the conversation (its
    bundled code: `querySource: "compact"`, the conversation's cache-safe parameters): the
    agent's system prompt, tools and history, and one more user message asking for the
    summary. It is the conversation's next request, not a side request: it keeps the floor, so
    its summary of a conversation that needed the top tier is written there (and the paid
    model's prompt cache of that history is read, not written again elsewhere). Passed on
    the code before too: it pins that the title request's fix left this one alone."""
    proxy = start_proxy(phase1_only(proxy_env) | {"OCP_STICKY": "upward"})
    first = [{"role": "user", "content": HARD}]
    agent = _asked(proxy, AGENT_SYSTEM, first, tools=TOOLS)
    assert agent["tier"] == "top", agent
    history = first + [
        {"role": "assistant", "content": "Here is the plan."},
        {"role": "user", "content": SIMPLE},
        {"role": "assistant", "content": "4"},
    ]
    compact = _asked(
        proxy, AGENT_SYSTEM, history + [{"role": "user", "content": COMPACT}], tools=TOOLS
    )
    assert compact["session"] == agent["session"]
    assert compact["tier"] == "top" and _raised(compact), compact


def _agent_system(model_line: str) -> str:
    """Claude Code 2.1.197's agent system prompt's environment section, naming its model."""
    return (
        f"{AGENT_SYSTEM}\n - Platform: linux\n - {model_line}\n"
        " - Assistant knowledge cutoff is January 2026.\n"
    )


def test_a_continued_session_whose_system_prompt_names_its_model_otherwise_is_one_conversation(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    """`claude -p`, then `claude -p --continue` (2.1.197, through this proxy: round 59): the
    same session id and first message, and a system prompt that named "Opus 4.8 (1M context)
    ... claude-opus-4-8[1m]" and then "Opus 4.8 ... claude-opus-4-8" (on resume Claude Code
    restores the model without its 1M variant). The line naming the model is not part of the
    conversation's key, so the continued turns keep its floor."""
    proxy = start_proxy(phase1_only(proxy_env) | {"OCP_STICKY": "upward"})
    first = [{"role": "user", "content": HARD}]
    named_1m = _agent_system(
        "You are powered by the model named Opus 4.8 (1M context). "
        "The exact model ID is claude-opus-4-8[1m]."
    )
    agent = _asked(proxy, named_1m, first)
    assert agent["tier"] == "top", agent
    named = _agent_system(
        "You are powered by the model named Opus 4.8. The exact model ID is claude-opus-4-8."
    )
    turn = first + [
        {"role": "assistant", "content": "Here is the plan."},
        {"role": "user", "content": SIMPLE},
    ]
    continued = _asked(proxy, named, turn)
    assert continued["session"] == agent["session"]
    assert continued["tier"] == "top" and _raised(continued), continued
    # The rest of the system prompt still tells conversations apart: a side request's stays its own.
    title = _asked(proxy, TITLE_SYSTEM, [{"role": "user", "content": f"<session>{SIMPLE}"}])
    assert title["session"] != agent["session"]
