"""An outcome on a request routing sent to the paid tier that the local model answered in
its place (the paid tier blocked: no credentials, the day's budget spent, and
OCP_PAID_FALLBACK=local) judges the local model's answer: it teaches routing as an outcome
on a local answer does (docs/routing-rounds.md), not as one on a paid answer."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocp_router.calibration_file import calibration_path
from tests.fakes import FakeAnthropic, FakeOllama
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import messages_body
from tests.proxy.outcomes import phase1_only, saved_outcome
from tests.proxy.recorded import all_written, last_row


def _answered_locally_in_place_of_paid(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> tuple[RunningProxy, dict[str, Any]]:
    """A hard request (routed paid) sent with no credentials: answered by the local model."""
    proxy = start_proxy(phase1_only(proxy_env) | {"OCP_PAID_FALLBACK": "local"})
    headers = {"anthropic-version": "2023-06-01", "x-ocp-session": "conversation-a"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post("/v1/messages", json=messages_body(), headers=headers)
    assert answered.status_code == 200, answered.text
    proxy.call(all_written)
    row = proxy.call(last_row)
    assert row["tier"] != "local" and row["answered_tier"] == "local", row
    return proxy, row


@pytest.mark.parametrize(
    ("outcome", "side"),
    [("good: it worked", "wanted_local"), ("bad: the fix was wrong", "wanted_paid")],
    ids=["good", "bad"],
)
async def test_an_outcome_on_a_local_answer_in_place_of_a_blocked_paid_tier_judges_local(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    outcome: str,
    side: str,
) -> None:
    """ "good": the local model did the job routing thought needed the paid one (a point
    for local at that score); "bad": routing was right to want paid."""
    proxy, row = _answered_locally_in_place_of_paid(start_proxy, proxy_env)
    saved = await saved_outcome(
        row["request_id"], outcome, workspace, monkeypatch, fake_ollama, fake_anthropic
    )
    assert saved["saved"]["calibration"] == 1, saved["warnings"]
    stored = json.loads(calibration_path(workspace.parent).read_text("utf-8"))
    learned = stored["models"][f"llama3.2 @ {fake_ollama.url}"]["task_types"][row["task_type"]]
    other = "wanted_paid" if side == "wanted_local" else "wanted_local"
    assert learned[side] and not learned[other], learned


async def test_overkill_on_a_local_answer_in_place_of_a_blocked_paid_tier_teaches_nothing(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No paid model answered: "overkill" judges nothing that happened."""
    proxy, row = _answered_locally_in_place_of_paid(start_proxy, proxy_env)
    saved = await saved_outcome(
        row["request_id"],
        "overkill: local would do",
        workspace,
        monkeypatch,
        fake_ollama,
        fake_anthropic,
    )
    assert saved["saved"]["calibration"] == 0, saved
    assert not calibration_path(workspace.parent).exists()
