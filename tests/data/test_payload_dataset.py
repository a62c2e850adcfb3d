"""Integrity of the labelled whole-payload routing dataset (routing_payloads_*.jsonl).

These tests pin down the data, not any router: labels are well-formed, every payload is a
request its provider would accept, and the labels respect the hard rules of the routing policy
(tool use, agent harness, context size, conversation length force a paid route).
"""

from __future__ import annotations

import json
from collections import Counter
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import pytest

from tests.data.payloads import (
    DATA_DIR,
    FORMATS,
    KINDS,
    PROMPTS_DIR,
    ROUTES,
    TIERS,
    TOOLS_DIR,
    LabeledPayload,
    PayloadFormatError,
    PayloadRefError,
    load_payloads,
)

DEV = "routing_payloads_dev.jsonl"
HOLDOUT = "routing_payloads_holdout.jsonl"
FILES = (DEV, HOLDOUT)
ID_PREFIX = {DEV: "pdev-", HOLDOUT: "phold-"}
LOCAL_MAX_CHARS = 30_000
LOCAL_MAX_TURNS = 15
AGENT_PROMPTS = ("cli_agent_long", "ide_agent", "autonomous_xml_agent")

ITEMS: dict[str, list[LabeledPayload]] = {name: load_payloads(name) for name in FILES}
ALL = [item for name in FILES for item in ITEMS[name]]


def _by_id(items: list[LabeledPayload]) -> list[Any]:
    return [pytest.param(item, id=item.id) for item in items]


# ---------------------------------------------------------------- measuring payloads


def _strings(value: Any) -> int:
    """Total length of all string leaves."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(_strings(v) for v in value.values())
    if isinstance(value, list):
        return sum(_strings(v) for v in value)
    return 0


def text_chars(payload: dict[str, Any]) -> int:
    """Characters of conversation text: system prompt plus every message (not the tool list)."""
    return _strings(payload.get("system")) + _strings(payload["messages"])


def total_chars(payload: dict[str, Any]) -> int:
    """Everything the model would be sent, tool definitions included."""
    return text_chars(payload) + _strings(payload.get("tools"))


def turns(payload: dict[str, Any]) -> int:
    return sum(1 for m in payload["messages"] if m["role"] != "system")


def system_text(payload: dict[str, Any]) -> str:
    if payload["format"] == "anthropic":
        system = payload.get("system")
        if system is None:
            return ""
        if isinstance(system, str):
            return system
        return "\n".join(block["text"] for block in system)
    parts = []
    for m in payload["messages"]:
        if m["role"] == "system":
            content = m["content"]
            parts.append(content if isinstance(content, str) else _text_of(content))
    return "\n".join(parts)


def _text_of(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"] for b in blocks if b.get("type") == "text")


def has_tool_traffic(payload: dict[str, Any]) -> bool:
    """A tool list, or tool calls/results in the messages."""
    if payload.get("tools"):
        return True
    for m in payload["messages"]:
        if m.get("tool_calls") or m["role"] == "tool":
            return True
        content = m.get("content")
        if isinstance(content, list) and any(
            b.get("type") in ("tool_use", "tool_result") for b in content
        ):
            return True
    return False


def uses_agent_prompt(payload: dict[str, Any]) -> bool:
    text = system_text(payload)
    return any(
        (PROMPTS_DIR / f"{name}.md").read_text(encoding="utf-8") in text for name in AGENT_PROMPTS
    )


def last_user_text(payload: dict[str, Any]) -> str:
    for m in reversed(payload["messages"]):
        if m["role"] != "user":
            continue
        content = m["content"]
        if isinstance(content, str):
            return content
        text = _text_of(content)
        if text:
            return text
    return ""


# ---------------------------------------------------------------- raw lines and labels


@pytest.mark.parametrize("name", FILES)
def test_every_line_is_a_json_record(name: str) -> None:
    lines = (DATA_DIR / name).read_text(encoding="utf-8").splitlines()
    assert lines, name
    for lineno, line in enumerate(lines, 1):
        record = json.loads(line)
        assert set(record) == {"id", "route", "tier", "kind", "why", "tags", "payload"}, lineno
        assert record["payload"]["format"] in FORMATS, lineno


def test_ids_are_unique_across_files_and_prefixed() -> None:
    ids = [item.id for item in ALL]
    assert [i for i, n in Counter(ids).items() if n > 1] == []
    for name in FILES:
        for item in ITEMS[name]:
            prefix = ID_PREFIX[name]
            assert item.id.startswith(prefix) and item.id[len(prefix) :].isdigit(), item.id


@pytest.mark.parametrize("item", _by_id(ALL))
def test_labels_are_valid(item: LabeledPayload) -> None:
    assert item.route in ROUTES
    assert item.tier in TIERS
    assert (item.tier == "local") == (item.route == "local")
    assert item.kind in KINDS
    assert item.why.strip() and item.why.rstrip().endswith(".")
    assert all(tag and tag == tag.strip() for tag in item.tags)
    assert len(set(item.tags)) == len(item.tags)


@pytest.mark.parametrize("name", FILES)
def test_every_kind_has_at_least_three_items(name: str) -> None:
    counts = Counter(item.kind for item in ITEMS[name])
    assert {kind: counts[kind] for kind in KINDS if counts[kind] < 3} == {}


@pytest.mark.parametrize("name", FILES)
def test_both_routes_and_provider_shapes_appear(name: str) -> None:
    items = ITEMS[name]
    assert {item.payload["format"] for item in items} == set(FORMATS)
    assert {item.route for item in items} == set(ROUTES)
    assert {item.tier for item in items} == set(TIERS)
    local_share = sum(item.route == "local" for item in items) / len(items)
    assert 0.3 <= local_share <= 0.6, local_share


def test_sizes() -> None:
    assert len(ITEMS[HOLDOUT]) >= 70
    assert 40 <= len(ITEMS[DEV]) <= 60
    size = sum((DATA_DIR / name).stat().st_size for name in FILES)
    assert size < 2_500_000


def test_no_near_duplicate_requests_across_files() -> None:
    def norm(item: LabeledPayload) -> str:
        return " ".join(last_user_text(item.payload).lower().split())[:400]

    dupes = []
    for a in ITEMS[DEV]:
        for b in ITEMS[HOLDOUT]:
            matcher = SequenceMatcher(None, norm(a), norm(b))
            if matcher.real_quick_ratio() > 0.85 and matcher.ratio() > 0.85:
                dupes.append((a.id, b.id))
    assert dupes == []


# ---------------------------------------------------------------- refs and shared assets


def _contains_ref(value: Any) -> bool:
    if isinstance(value, dict):
        return set(value) == {"ref"} or any(_contains_ref(v) for v in value.values())
    if isinstance(value, list):
        return any(_contains_ref(v) for v in value)
    return False


def test_refs_are_expanded_and_every_asset_is_used() -> None:
    assert not any(_contains_ref(item.payload) for item in ALL)
    raw = "".join((DATA_DIR / name).read_text(encoding="utf-8") for name in FILES)
    for path in [*PROMPTS_DIR.glob("*.md"), *TOOLS_DIR.glob("*.json")]:
        assert json.dumps({"ref": path.stem}) in raw, f"{path.name} is never referenced"


def test_tool_files_have_their_provider_shape() -> None:
    for path in TOOLS_DIR.glob("*.json"):
        tools = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(tools, list) and len(tools) >= 3, path.name
        if path.stem.startswith("anthropic_"):
            for tool in tools:
                assert set(tool) == {"name", "description", "input_schema"}, path.name
                assert tool["input_schema"]["type"] == "object"
        else:
            assert path.stem.startswith("openai_"), path.name
            for tool in tools:
                assert tool["type"] == "function"
                assert {"name", "description", "parameters"} <= set(tool["function"])


def test_system_prompt_files_cover_short_and_long_harnesses() -> None:
    sizes = {p.stem: len(p.read_text(encoding="utf-8")) for p in PROMPTS_DIR.glob("*.md")}
    assert 6 <= len(sizes) <= 8
    assert 6_000 <= sizes["cli_agent_long"] <= 10_500
    assert min(sizes.values()) < 200


def test_missing_ref_is_a_clear_error(tmp_path: Path) -> None:
    record = {
        "id": "pdev-999",
        "route": "paid",
        "tier": "mid",
        "kind": "tools",
        "why": "Test.",
        "tags": [],
        "payload": {
            "format": "openai",
            "messages": [{"role": "user", "content": "hi"}],
            "tools": {"ref": "no_such_tools"},
        },
    }
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(PayloadRefError, match=r"bad\.jsonl:1 \(pdev-999\).*'no_such_tools'"):
        load_payloads(str(bad))
    record["payload"] = {"format": "anthropic", "system": {"ref": "nope"}, "messages": []}
    bad.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(PayloadRefError, match="system prompt ref 'nope'"):
        load_payloads(str(bad))
    bad.write_text("{not json\n", encoding="utf-8")
    with pytest.raises(PayloadFormatError, match=r"bad\.jsonl:1"):
        load_payloads(str(bad))


# ---------------------------------------------------------------- provider structure


def _check_anthropic(payload: dict[str, Any]) -> None:
    assert set(payload) <= {
        "format", "model", "max_tokens", "system", "messages", "tools", "tool_choice",
        "temperature", "stream", "metadata",
    }  # fmt: skip
    system = payload.get("system")
    if system is not None and not isinstance(system, str):
        assert all(b["type"] == "text" and isinstance(b["text"], str) for b in system)
    for tool in payload.get("tools") or []:
        assert {"name", "description", "input_schema"} <= set(tool)
    messages = payload["messages"]
    assert messages and messages[0]["role"] == "user"
    assert messages[-1]["role"] == "user"
    seen_tool_ids: set[str] = set()
    pending: set[str] = set()
    for i, m in enumerate(messages):
        assert m["role"] == ("user" if i % 2 == 0 else "assistant"), f"roles alternate at {i}"
        content = m["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        assert blocks, f"empty content at {i}"
        types = [b["type"] for b in blocks]
        if m["role"] == "user":
            answered = {b["tool_use_id"] for b in blocks if b["type"] == "tool_result"}
            assert answered == pending, f"tool_use ids {pending} answered by {answered} at {i}"
            n = len(answered)
            assert all(t == "tool_result" for t in types[:n]), f"tool_result blocks first at {i}"
            assert set(types[n:]) <= {"text"}, i
            for b in blocks[:n]:
                result = b["content"]
                assert isinstance(result, str) or all(x["type"] == "text" for x in result)
            pending = set()
        else:
            assert set(types) <= {"text", "tool_use"}, i
            for b in blocks:
                if b["type"] == "tool_use":
                    assert b["id"].startswith("toolu_") and b["id"] not in seen_tool_ids
                    assert isinstance(b["input"], dict) and b["name"]
                    seen_tool_ids.add(b["id"])
                    pending.add(b["id"])
        for b in blocks:
            if b["type"] == "text":
                assert isinstance(b["text"], str) and b["text"], f"empty text block at {i}"
    assert not pending


def _check_openai(payload: dict[str, Any]) -> None:
    assert set(payload) <= {
        "format", "model", "messages", "tools", "tool_choice", "parallel_tool_calls",
        "temperature", "stream", "max_tokens", "max_completion_tokens",
    }  # fmt: skip
    for tool in payload.get("tools") or []:
        assert tool["type"] == "function" and "name" in tool["function"]
    messages = payload["messages"]
    roles = [m["role"] for m in messages]
    n_system = 0
    while n_system < len(roles) and roles[n_system] == "system":
        n_system += 1
    assert "system" not in roles[n_system:], "system messages only at the start"
    assert roles[n_system] == "user", "conversation starts with the user"
    assert roles[-1] in ("user", "tool"), "the request ends on the user or a tool result"
    seen_calls: set[str] = set()
    pending: set[str] = set()
    previous = "system"
    for i, m in enumerate(messages):
        role = m["role"]
        assert role in ("system", "user", "assistant", "tool"), i
        if role != "tool":
            assert not pending, f"tool calls {pending} unanswered before message {i}"
        if role in ("user", "assistant") and previous == role:
            pytest.fail(f"two consecutive {role} messages at {i}")
        if role == "tool":
            assert m["tool_call_id"] in pending, f"tool message {i} answers no open call"
            pending.discard(m["tool_call_id"])
            assert isinstance(m["content"], str) and m["content"]
        elif role == "assistant":
            calls = m.get("tool_calls") or []
            assert m["content"] or calls, f"empty assistant message {i}"
            for call in calls:
                assert call["type"] == "function" and call["id"] not in seen_calls
                assert isinstance(json.loads(call["function"]["arguments"]), dict)
                seen_calls.add(call["id"])
                pending.add(call["id"])
        else:
            content = m["content"]
            if isinstance(content, list):
                assert content and all(b["type"] == "text" and b["text"] for b in content)
            else:
                assert isinstance(content, str) and content, f"empty {role} message {i}"
        previous = role
    assert not pending


@pytest.mark.parametrize("item", _by_id(ALL))
def test_payload_is_valid_for_its_provider(item: LabeledPayload) -> None:
    if item.payload["format"] == "anthropic":
        _check_anthropic(item.payload)
    else:
        _check_openai(item.payload)


# ---------------------------------------------------------------- kinds match their shape


@pytest.mark.parametrize("item", _by_id(ALL))
def test_kind_matches_payload_shape(item: LabeledPayload) -> None:
    p = item.payload
    if item.kind == "huge_context":
        assert text_chars(p) > LOCAL_MAX_CHARS
    elif item.kind == "long_conversation":
        assert turns(p) > LOCAL_MAX_TURNS
    elif item.kind == "single_short":
        assert turns(p) == 1 and len(last_user_text(p)) < 1_000
        assert not has_tool_traffic(p)
    elif item.kind == "multi_turn":
        assert 3 <= turns(p) <= LOCAL_MAX_TURNS and not has_tool_traffic(p)
    elif item.kind == "tools":
        assert has_tool_traffic(p)
    elif item.kind == "agent_system":
        assert len(system_text(p)) >= 2_000
    if item.kind != "huge_context":
        assert text_chars(p) <= LOCAL_MAX_CHARS or has_tool_traffic(p), "big: use huge_context"


# ---------------------------------------------------------------- hard routing rules


@pytest.mark.parametrize("item", _by_id(ALL))
def test_hard_rules_force_paid(item: LabeledPayload) -> None:
    p = item.payload
    reasons = {
        "tools or tool results": has_tool_traffic(p),
        "agentic harness prompt": uses_agent_prompt(p),
        "context over 30,000 characters": total_chars(p) > LOCAL_MAX_CHARS,
        "more than 15 turns": turns(p) > LOCAL_MAX_TURNS,
    }
    forced = [reason for reason, hit in reasons.items() if hit]
    if forced:
        assert item.route == "paid", f"{item.id} must be paid: {forced}"


def test_local_items_come_from_every_light_kind() -> None:
    local_kinds = {item.kind for item in ALL if item.route == "local"}
    assert {"single_short", "multi_turn", "pasted_log", "multi_file"} <= local_kinds
    tops = [item for item in ALL if item.tier == "top"]
    assert 0.05 <= len(tops) / len(ALL) <= 0.25
