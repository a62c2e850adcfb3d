"""A decision shown by its id (restore's `decision`): a brief's `replaces #12` named a decision
that no tool could show, as a replaced decision is no longer served."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.errors import InputError
from tests.server.app_fixture import opened


async def _replaced(app: AppState, workspace: Path) -> tuple[int, int]:
    ws = await opened(app, workspace)
    old = await app.save(
        ws, wire.SaveArgs.model_validate({"decisions": [{"title": "Retries", "decision": "3"}]})
    )
    (old_id,) = old.decision_ids
    args = {"title": "Retries", "decision": "retry 5 times", "supersedes": old_id}
    new = await app.save(ws, wire.SaveArgs.model_validate({"decisions": [args]}))
    (new_id,) = new.decision_ids
    return old_id, new_id


async def test_a_replaced_decision_is_shown_by_its_id_saying_what_replaced_it(
    app: AppState, workspace: Path
) -> None:
    old_id, new_id = await _replaced(app, workspace)
    ws = await opened(app, workspace)
    served = await app.restore(ws, wire.RestoreArgs())
    assert [(d.id, d.supersedes) for d in served.decisions] == [(new_id, old_id)]

    out = await app.restore(ws, wire.RestoreArgs(decision=old_id))

    (shown,) = out.decisions
    assert (shown.id, shown.decision, shown.superseded_by) == (old_id, "3", new_id)
    assert f"- #{old_id} **Retries**: 3" in out.brief
    assert f"replaced by #{new_id}" in out.brief
    assert out.notes == [] and out.state == {} and out.omitted == {}
    assert out.tokens <= 2000


async def test_an_active_decision_shown_by_its_id_says_no_replacement(
    app: AppState, workspace: Path
) -> None:
    old_id, new_id = await _replaced(app, workspace)
    ws = await opened(app, workspace)
    out = await app.restore(ws, wire.RestoreArgs(decision=new_id))
    (shown,) = out.decisions
    assert (shown.supersedes, shown.superseded_by) == (old_id, None)
    assert "superseded_by" not in shown.model_dump()


async def test_an_unknown_decision_id_is_refused_naming_the_argument(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    with pytest.raises(InputError, match=r"^`decision`: .* \(got 999\); no decision #999"):
        await app.restore(ws, wire.RestoreArgs(decision=999))


def test_a_decision_id_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="decision"):
        wire.RestoreArgs.model_validate({"decision": 0})


@pytest.mark.parametrize("stale", ["list", "count"])
async def test_a_stale_decision_asked_for_by_its_id_is_shown_marked_stale_whatever_the_policy(
    app: AppState, workspace: Path, stale: str
) -> None:
    # Was: with stale="count" the decision asked for was dropped (stale ones only counted),
    # and the brief said nothing of it.
    ws = await opened(app, workspace)
    args = {"title": "Tokens", "decision": "constant time", "citations": ["verify_token"]}
    saved = await app.save(ws, wire.SaveArgs.model_validate({"decisions": [args]}))
    (decision_id,) = saved.decision_ids
    auth = workspace / "src" / "auth.py"
    auth.write_text(auth.read_text().replace("hmac.compare_digest(token, secret)", "token == s"))

    out = await app.restore(
        ws,
        wire.RestoreArgs.model_validate(
            {"decision": decision_id, "stale": stale, "max_tokens": 300}
        ),
    )

    assert out.decisions == []
    (shown,) = out.stale
    assert (shown.kind, shown.id, shown.text) == ("decision", decision_id, "constant time")
    assert f"- decision #{decision_id} " in out.brief
    assert "not listed" not in out.brief, out.brief
    assert "token == s" in out.brief  # what changed, as a stale memory says it
    assert out.omitted == {}
