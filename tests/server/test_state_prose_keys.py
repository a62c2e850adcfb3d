"""A state key that names its secret in prose words ("API key for staging") and the value
saved under it: the value is read after its key (at_rest.py), "API key for staging: <hex>",
which the router's prose rule takes (tests/router/test_redact_named_after.py)."""

from __future__ import annotations

import json
from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened

HEX = "9f8e7d6c5b4a3928" + "1706f5e4d3c2b1a0"
PASSWORD = "Xk9mQ2vL" + "p8rT"


async def test_a_state_value_under_a_prose_key_naming_a_secret_is_kept_redacted(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    await app.save(
        ws,
        wire.SaveArgs(
            state={"API key for staging": HEX, "retry budget for staging": "3"},
            notes=[f"{PASSWORD} is the password for the staging db"],
        ),
    )
    result = await app.restore(ws, wire.RestoreArgs())
    text = json.dumps(result.model_dump(mode="json"))
    assert HEX not in text and PASSWORD not in text
    assert result.state == {
        "API key for staging": "[REDACTED:generic_secret_assignment]",
        "retry budget for staging": "3",
    }
