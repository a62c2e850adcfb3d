"""What an agent's model is told of each tool's arguments: tools/list's input schemas are all
it reads, so every argument, at the top and inside an item (a decision, a note), says what it
is for. ocp_result_save's `decisions`, `open_items`, `session_id` and a note's `text` said
nothing: a model saw `session_id` with no hint that it is the restore's `session_id`."""

from __future__ import annotations

from typing import Any

import pytest

from ocp_server.tool_table import TOOLS


def _undescribed(schema: dict[str, Any]) -> list[str]:
    fields = [("", name, prop) for name, prop in schema["properties"].items()]
    for model, spec in schema.get("$defs", {}).items():
        fields += [(f"{model}.", name, prop) for name, prop in spec.get("properties", {}).items()]
    return [f"{where}{name}" for where, name, prop in fields if not prop.get("description")]


@pytest.mark.parametrize("spec", TOOLS, ids=lambda spec: spec.underscore)
def test_every_argument_of_a_tool_is_described_in_its_input_schema(spec: Any) -> None:
    assert _undescribed(spec.args.model_json_schema()) == []


def test_the_save_tools_session_id_says_it_is_the_one_a_restore_returns() -> None:
    (save,) = [spec for spec in TOOLS if spec.underscore == "ocp_result_save"]
    described = save.args.model_json_schema()["properties"]["session_id"]["description"]
    assert "restore" in described


def test_a_citation_says_its_path_may_be_relative_to_the_sub_folder_a_save_names() -> None:
    # a scoped save takes auth.py:6-8 for src/auth.py (9a69e6e); the schema said only
    # "path:start-end", and an agent saving with workspace=<root>/src had no way to know
    (save,) = [spec for spec in TOOLS if spec.underscore == "ocp_result_save"]
    defs = save.args.model_json_schema()["$defs"]
    for model in ("DecisionArg", "NoteArg"):
        described = defs[model]["properties"]["citations"]["description"]
        assert "relative to the workspace root" in described and "sub-folder" in described


def test_restores_decision_argument_says_it_shows_a_replaced_decision_too() -> None:
    # a brief's `replaces #12` named a decision no tool could show
    (restore,) = [spec for spec in TOOLS if spec.underscore == "ocp_session_restore"]
    described = restore.args.model_json_schema()["properties"]["decision"]["description"]
    assert "replaced" in described and "replaces #12" in described


def test_the_save_tools_trace_id_says_it_takes_the_proxys_request_ids() -> None:
    # the validator takes `req_ocp_<id>` (what a proxied answer's request-id header and an
    # SDK's error show), but the schema said only "Link to a route trace"
    (save,) = [spec for spec in TOOLS if spec.underscore == "ocp_result_save"]
    described = save.args.model_json_schema()["properties"]["trace_id"]["description"]
    assert "req_ocp_" in described and "proxy" in described
    # a paid answer carries the provider's id in place of OCP's: it is taken too
    assert "paid answer" in described and "provider's own" in described
