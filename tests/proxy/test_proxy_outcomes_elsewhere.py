"""An outcome saved by another process on the proxy's database (the MCP server's
`ocp_result_save`, on a connection of its own) reaches the running proxy: "that answer was
wrong" on a request answered locally lifts that conversation to a paid tier in the proxy, as
in the process that saved it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from ocp_server.proxy import saved_outcomes
from tests.fakes import FakeAnthropic, FakeOllama
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, messages_body
from tests.proxy.outcomes import NEAR, phase1_only, saved_outcome
from tests.proxy.recorded import all_written, last_row


def _asked(http: httpx.Client, proxy: RunningProxy, session: str) -> dict[str, object]:
    """The trace of NEAR asked in conversation `session`, once it is stored."""
    headers = ANTHROPIC_HEADERS | {"x-ocp-session": session}
    answered = http.post("/v1/messages", json=messages_body(text=NEAR), headers=headers)
    assert answered.status_code == 200, answered.text
    proxy.call(all_written)
    return proxy.call(last_row)


@pytest.mark.parametrize(
    ("outcome", "lifted"),
    [("bad: the fix it gave was wrong", True), ("good: it worked", False)],
    ids=["bad", "good"],
)
async def test_a_bad_outcome_saved_by_another_process_lifts_the_running_proxys_conversation(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    outcome: str,
    lifted: bool,
) -> None:
    proxy = start_proxy(phase1_only(proxy_env))
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        first = _asked(http, proxy, "conversation-a")
        assert first["answered_tier"] == "local", first
        saved = await saved_outcome(
            str(first["request_id"]), outcome, workspace, monkeypatch, fake_ollama, fake_anthropic
        )
        assert not any("no trace" in w for w in saved["warnings"]), saved["warnings"]
        again = _asked(http, proxy, "conversation-a")
        other = _asked(http, proxy, "conversation-b")
    assert other["tier"] == "local", other  # another conversation is not lifted
    if lifted:
        assert again["tier"] == "mid", again
        assert "this conversation already needed it" in str(again["reason"]), again
    else:
        assert again["tier"] == "local", again


def test_a_database_the_proxy_cannot_look_at_leaves_outcomes_unread_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a database (here a folder where it should be): the proxy serves on, told."""
    caplog.set_level(logging.WARNING, logger=saved_outcomes.__name__)
    assert saved_outcomes.SavedOutcomes.opened(tmp_path) is None
    assert "will not be read" in caplog.text, caplog.text
