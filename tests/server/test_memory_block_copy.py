"""A decision cites lines of a config file whose block another part of the file repeats (two
environments' settings alike: staging and production). The cited block was then edited where
it is (production's `verify_tls: true` became `false`), and the restore served the decision
as valid, "moved to config.yaml:2-5 (was 8-11)": the other environment's copy, there all
along. Most of the cited lines still at their very places means an edit in place: stale, with
what changed. A block shifted by lines added above it keeps none at its places: still moved."""

from __future__ import annotations

from pathlib import Path

import ocp_wire as wire
from ocp_server.app import AppState
from tests.server.app_fixture import opened

BLOCK = "  timeout_seconds: 30\n  retries: 3\n  backoff: exponential\n  verify_tls: true\n"
CONFIG = f"staging:\n{BLOCK}\nproduction:\n{BLOCK}"
PRODUCTION = "config.yaml:8-11"
DECISION = {"title": "prod tls", "decision": "production verifies TLS", "citations": [PRODUCTION]}


async def _restored_after(app: AppState, workspace: Path, config: str) -> wire.RestoreResult:
    (workspace / "config.yaml").write_text(CONFIG)
    ws = await opened(app, workspace)
    await app.save(ws, wire.SaveArgs(decisions=[wire.DecisionArg.model_validate(DECISION)]))
    (workspace / "config.yaml").write_text(config)
    await ws.index.update()
    return await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))


async def test_a_block_edited_in_place_is_stale_though_a_copy_of_it_is_elsewhere_in_the_file(
    app: AppState, workspace: Path
) -> None:
    insecure = BLOCK.replace("verify_tls: true", "verify_tls: false")
    out = await _restored_after(app, workspace, f"staging:\n{BLOCK}\nproduction:\n{insecure}")
    assert not out.decisions, out.brief
    (stale,) = out.stale
    assert "verify_tls: false" in out.brief and "lines 8-11 changed" in out.brief


async def test_a_block_shifted_by_lines_added_above_it_is_still_moved(
    app: AppState, workspace: Path
) -> None:
    out = await _restored_after(app, workspace, f"# settings\n# by environment\n{CONFIG}")
    (served,) = out.decisions
    assert served.verified == "moved", out.brief
    assert served.citations[0].citation == "config.yaml:10-13", out.brief
