"""Every input is bounded: beyond a limit the call is a tool error that names the field, fast,
and error texts never echo more than a short piece of what was sent."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import ocp_wire as wire
from tests.server.inproc import inproc_client, text_of


async def test_a_save_with_too_many_state_keys_is_refused_at_once(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        # The first save opens the session and its database: seconds on a loaded machine,
        # which the refusal's bound is not about.
        first = await client.call_tool("ocp_result_save", {"state": {"k": "v"}})
        assert not first.is_error
        state = {f"key{i}": "v" for i in range(2_000)}  # 20,000 hung the server
        started = time.perf_counter()
        result = await client.call_tool("ocp_result_save", {"state": state})
        assert time.perf_counter() - started < 5  # milliseconds, loaded or not
        assert result.is_error and "`state`" in text_of(result)
        assert str(wire.MAX_STATE_KEYS) in text_of(result)
        ok = await client.call_tool("ocp_result_save", {"state": {"k": "v"}})
        assert not ok.is_error


async def test_oversized_fields_name_the_field(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    too_long: dict[str, list[dict[str, Any]]] = {
        "ocp_result_save": [
            {"state": {"k" * (wire.MAX_STATE_KEY_CHARS + 1): "v"}},
            {"state": {"k": "v" * (wire.MAX_STATE_VALUE_CHARS + 1)}},
            {"notes": ["n" * (wire.MAX_ITEM_CHARS + 1)]},
            {"open_items": ["o" * (wire.MAX_ITEM_CHARS + 1)]},
            {"decisions": [{"title": "t", "decision": "d", "supersedes": 2**70}]},
            {"workspace": "/" + "w" * wire.MAX_WORKSPACE_CHARS},
        ],
        "ocp_model_route": [
            {"messages": [{"role": "user", "content": "x" * (wire.MAX_PAYLOAD_CHARS + 1)}]},
            {
                "request": "hi",
                "tools": [{"name": f"t{i}", "description": "d" * 3000} for i in range(700)],
            },
        ],
    }
    async with inproc_client(workspace, monkeypatch) as client:
        for tool, cases in too_long.items():
            for args in cases:
                result = await client.call_tool(tool, args)
                text = text_of(result)
                field = next(iter(args)) if tool == "ocp_result_save" else "messages"
                assert result.is_error, (tool, field)
                assert f"`{field}" in text, text
                assert len(text) < 2_500, (field, len(text))


async def test_error_texts_echo_at_most_a_short_piece_of_the_input(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        unknown = await client.call_tool("x" * 1_000_000, {})
        assert unknown.is_error and len(text_of(unknown)) < 1_000
        assert "1,000,000 characters" in text_of(unknown)
        role = await client.call_tool(
            "ocp_model_route", {"messages": [{"role": "r" * 100_000, "content": "hi"}]}
        )
        assert role.is_error and "messages[0].role" in text_of(role)
        assert len(text_of(role)) < 1_000
        many = await client.call_tool(
            "ocp_context_search", {"query": "", "k": 0, **{f"bogus{i}": i for i in range(500)}}
        )
        assert many.is_error and len(text_of(many)) < 2_500 and "more" in text_of(many)


def _limits(schema: object, defs: dict[str, object]) -> set[int]:
    """Every upper bound in a JSON schema (references followed), and every lower one above 1
    (0 and 1 go without saying), as README prints them."""
    found: set[int] = set()
    if isinstance(schema, dict):
        ref = schema.get("$ref")
        if isinstance(ref, str):
            return _limits(defs[ref.rsplit("/", 1)[-1]], defs)
        for key, value in schema.items():
            if key in ("maxLength", "maxItems", "maxProperties", "maximum") and value < 10**9:
                found.add(int(value))
            elif key in ("minLength", "minItems", "minimum") and value > 1:
                found.add(int(value))
            else:
                found |= _limits(value, defs)
    elif isinstance(schema, list):
        for item in schema:
            found |= _limits(item, defs)
    return found


def test_the_readme_lists_every_inputs_limit() -> None:
    from pathlib import Path

    from ocp_server.tool_table import TOOLS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme.split("**Input limits.**", 1)[1].split("\n\n", 2)[1]
    rows: dict[str, list[str]] = {}
    tool = ""
    for line in table.splitlines()[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        tool = cells[0].strip("`") or tool
        rows.setdefault(tool, []).append(" | ".join(cells[1:]))
    for spec in TOOLS:
        schema = spec.args.model_json_schema()
        defs = schema.get("$defs", {})
        for field, prop in schema["properties"].items():
            if not _limits(prop, defs):
                continue  # a flag or a choice of names: nothing to bound
            where = "every tool" if field == "workspace" else spec.underscore
            row = next((r for r in rows[where] if f"`{field}`" in r), None)
            assert row is not None, f"README: no limit for {spec.underscore}.{field}"
            for limit in _limits(prop, defs):
                assert f"{limit:,}" in row, f"README: {spec.underscore}.{field} {limit:,}"


def _keys(schema: Any) -> set[str]:
    """Every key of every object in a JSON schema, property names left out."""
    if isinstance(schema, list):
        return set().union(*(_keys(item) for item in schema))
    if not isinstance(schema, dict):
        return set()
    found = set(schema)
    for key, value in schema.items():
        if key in ("properties", "$defs"):
            found |= set().union(*(_keys(v) for v in value.values()))
        else:
            found |= _keys(value)
    return found


def test_integer_bounds_are_advertised_in_json_schema_words() -> None:
    # An optional integer with bounds (`max_tokens`, `max_context_tokens`, `supersedes`, the
    # ids of `resolve`) was advertised as {"ge": 100, "le": 50000}: pydantic's names, which
    # no JSON Schema reader knows, so a client's model was never told the range.
    from ocp_server.tool_table import TOOLS

    for spec in TOOLS:
        schema = spec.args.model_json_schema()
        assert not _keys(schema) & {"ge", "le", "gt", "lt"}, spec.underscore
    search = TOOLS[0].args.model_json_schema()["properties"]["max_tokens"]["anyOf"][0]
    assert (search["minimum"], search["maximum"]) == (100, 50_000)


async def test_a_bad_state_key_is_named_as_a_key_of_state(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        empty = await client.call_tool("ocp_result_save", {"state": {"": "v"}})
        long = await client.call_tool(
            "ocp_result_save", {"state": {"k" * (wire.MAX_STATE_KEY_CHARS + 1): "v"}}
        )
    assert empty.is_error and long.is_error
    assert text_of(empty) == ("`state`: a key: expected text that is not blank (got '')")
    assert "`state`: a key: expected at most 200 characters" in text_of(long), text_of(long)
    assert "[key]" not in text_of(empty) + text_of(long)
