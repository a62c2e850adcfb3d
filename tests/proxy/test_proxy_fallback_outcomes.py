"""An outcome on a request routing sent to the paid tier that the local model answered in
its place (the paid tier blocked: no credentials, the day's budget spent, and
OCP_PAID_FALLBACK=local) judges the local model's answer: it teaches routing as an outcome
on a local answer does (docs/routing-rounds.md), not as one on a paid answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.proxy.dialects import messages_body
from tests.proxy.outcomes import Outcomes
from tests.proxy.recorded import all_written, last_row


def _answered_locally_in_place_of_paid(outcomes: Outcomes) -> dict[str, Any]:
    """A hard request (routed paid) sent with no credentials: answered by the local model."""
    proxy = outcomes.proxy(OCP_PAID_FALLBACK="local")
    headers = {"anthropic-version": "2023-06-01", "x-ocp-session": "conversation-a"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/messages", json=messages_body(), headers=headers)
    assert answered.status_code == 200, answered.text
    proxy.call(all_written)
    row = proxy.call(last_row)
    assert row["tier"] != "local" and row["answered_tier"] == "local", row
    return row


@pytest.mark.parametrize(
    ("outcome", "side"),
    [("good: it worked", "wanted_local"), ("bad: the fix was wrong", "wanted_paid")],
    ids=["good", "bad"],
)
async def test_an_outcome_on_a_local_answer_in_place_of_a_blocked_paid_tier_judges_local(
    outcomes: Outcomes, outcome: str, side: str
) -> None:
    """ "good": the local model did the job routing thought needed the paid one (a point
    for local at that score); "bad": routing was right to want paid."""
    row = _answered_locally_in_place_of_paid(outcomes)
    saved = await outcomes.saved(row["request_id"], outcome)
    assert saved["saved"]["calibration"] == 1, saved["warnings"]
    learned = outcomes.learned()[row["task_type"]]
    other = "wanted_paid" if side == "wanted_local" else "wanted_local"
    assert learned[side] and not learned[other], learned


async def test_overkill_on_a_local_answer_in_place_of_a_blocked_paid_tier_teaches_nothing(
    outcomes: Outcomes,
) -> None:
    """No paid model answered: "overkill" judges nothing that happened."""
    row = _answered_locally_in_place_of_paid(outcomes)
    saved = await outcomes.saved(row["request_id"], "overkill: local would do")
    assert saved["saved"]["calibration"] == 0, saved
    assert not outcomes.calibration.exists()
