"""A conversation's floor (the tier a wrong local answer or OCP_STICKY=upward lifted it to)
lasts `OCP_FLOOR_HOURS` after its latest lift: a conversation lifted weeks ago, or a new one
whose first message hashes the same, is routed on its own merits again."""

from __future__ import annotations

import pytest

from ocp_router import Tier
from ocp_router.config import RouterSettings
from ocp_router.errors import ConfigError
from ocp_router.sticky import TierFloors

HOUR = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_floor_lapses_once_older_than_its_age_limit() -> None:
    clock = Clock()
    floors = TierFloors(max_age=24 * HOUR, clock=clock)
    floors.lift("a", Tier.MID)
    clock.now += 23 * HOUR
    assert floors.floor("a") is Tier.MID
    clock.now += 2 * HOUR
    assert floors.floor("a") is None and len(floors) == 0


def test_a_lift_again_restarts_the_floors_age_and_never_lowers_it() -> None:
    clock = Clock()
    floors = TierFloors(max_age=24 * HOUR, clock=clock)
    floors.lift("a", Tier.TOP)
    clock.now += 20 * HOUR
    assert floors.lift("a", Tier.MID) is Tier.TOP  # the conversation still at work
    clock.now += 20 * HOUR
    assert floors.floor("a") is Tier.TOP


def test_a_lift_dated_in_the_past_ages_from_then_and_a_lapsed_one_lifts_nothing() -> None:
    """Floors rebuilt at start carry their outcome's time, not the restart's."""
    clock = Clock()
    floors = TierFloors(max_age=24 * HOUR, clock=clock)
    floors.lift("old", Tier.MID, at=clock.now - 30 * HOUR)
    floors.lift("recent", Tier.MID, at=clock.now - 20 * HOUR)
    assert floors.floor("old") is None and floors.floor("recent") is Tier.MID
    clock.now += 5 * HOUR
    assert floors.floor("recent") is None


def test_no_age_limit_keeps_floors_until_pushed_out() -> None:
    clock = Clock()
    floors = TierFloors(max_age=None, clock=clock)
    floors.lift("a", Tier.MID, at=0.0)
    clock.now += 1000 * HOUR
    assert floors.floor("a") is Tier.MID


def test_the_age_limit_is_a_setting_in_hours_zero_meaning_none() -> None:
    assert RouterSettings.from_env({}).floor_hours == 24
    assert RouterSettings.from_env({"OCP_FLOOR_HOURS": "0"}).floor_hours == 0
    with pytest.raises(ConfigError, match="OCP_FLOOR_HOURS"):
        RouterSettings.from_env({"OCP_FLOOR_HOURS": "-1"})
