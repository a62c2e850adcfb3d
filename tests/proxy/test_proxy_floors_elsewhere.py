"""OCP_STICKY=upward floors across proxies on one database: one another running proxy raised
reaches this one at its next request, and a restarted proxy brings back those it raised
before (outcomes.restore_floors, floors_elsewhere.py). Phase 1 alone routes; the paid and
local models are the fakes."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx
import pytest

from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, SIMPLE, messages_body
from tests.proxy.outcomes import phase1_only
from tests.proxy.recorded import all_written, last_row

Started = Callable[..., RunningProxy]


def _asked(proxy: RunningProxy, text: str, session: str) -> dict[str, object]:
    """The trace of `text` asked in conversation `session`, once it is stored."""
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post(
            "/v1/messages",
            json=messages_body(text=text),
            headers=ANTHROPIC_HEADERS | {"x-ocp-session": session},
        )
    assert answered.status_code == 200, answered.text
    proxy.call(all_written)
    return proxy.call(last_row)


def _raised(row: dict[str, object]) -> bool:
    return "this conversation already needed it" in str(row["reason"])


@pytest.mark.parametrize(("sticky", "lifted"), [("upward", True), ("off", False)])
def test_a_conversation_another_running_proxy_routed_paid_stays_paid_here(
    start_proxy: Started, proxy_env: dict[str, str], sticky: str, lifted: bool
) -> None:
    env = phase1_only(proxy_env) | {"OCP_STICKY": sticky}
    here, elsewhere = start_proxy(env), start_proxy(env)
    assert _asked(elsewhere, HARD, "c")["tier"] == "top"
    again, fresh = _asked(here, SIMPLE, "c"), _asked(here, SIMPLE, "d")
    assert again["tier"] == ("top" if lifted else "local"), again
    assert _raised(again) is lifted, again
    assert fresh["tier"] == "local", fresh


@pytest.mark.parametrize(("sticky", "lifted"), [("upward", True), ("off", False)])
def test_a_restarted_proxy_keeps_a_conversation_at_the_tier_it_reached_before(
    start_proxy: Started, proxy_env: dict[str, str], sticky: str, lifted: bool
) -> None:
    """Raised under OCP_STICKY=upward before the restart; the restarted proxy's setting
    decides whether the routes' tiers are floors."""
    env = phase1_only(proxy_env)
    before = start_proxy(env | {"OCP_STICKY": "upward"})
    assert _asked(before, HARD, "c")["tier"] == "top"
    before.stop()
    restarted = start_proxy(env | {"OCP_STICKY": sticky})
    again, fresh = _asked(restarted, SIMPLE, "c"), _asked(restarted, SIMPLE, "d")
    assert again["tier"] == ("top" if lifted else "local"), again
    assert _raised(again) is lifted, again
    assert fresh["tier"] == "local", fresh


@pytest.mark.parametrize("hours", ["24", "0"])
def test_the_dashboard_says_when_each_conversations_floor_lapses(
    start_proxy: Started, proxy_env: dict[str, str], hours: str
) -> None:
    """OCP_FLOOR_HOURS after its latest lift; none with no age limit (0)."""
    env = phase1_only(proxy_env) | {"OCP_STICKY": "upward", "OCP_FLOOR_HOURS": hours}
    proxy = start_proxy(env)
    before = time.time()
    _asked(proxy, HARD, "c")
    after = time.time()
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        (sticky,) = http.get("/api/stats").json()["sticky"]
        page = http.get("/ui").text
    assert sticky["tier"] == "top", sticky
    if hours == "0":
        assert sticky["lapses_at"] is None, sticky
    else:
        assert before + 24 * 3600 <= sticky["lapses_at"] <= after + 24 * 3600, sticky
    assert "s.lapses_at" in page  # the page shows it
