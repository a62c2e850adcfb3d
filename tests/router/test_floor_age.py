"""A conversation's floor (the tier a wrong local answer or OCP_STICKY=upward lifted it to)
lasts `OCP_FLOOR_HOURS` after its latest lift: a conversation lifted weeks ago, or a new one
whose first message hashes the same, is routed on its own merits again. Its age runs on the
monotonic clock: a jump of the wall clock neither keeps it for ever nor drops it at once."""

from __future__ import annotations

import time

import pytest

from ocp_router import Tier
from ocp_router.config import RouterSettings
from ocp_router.errors import ConfigError
from ocp_router.sticky import TierFloors

HOUR = 3600.0


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def _floors(wall: Clock, ticks: Clock) -> TierFloors:
    return TierFloors(max_age=24 * HOUR, clock=wall, ticks=ticks)


def test_a_jump_of_the_wall_clock_forward_does_not_drop_a_floor() -> None:
    wall, ticks = Clock(), Clock(50.0)
    floors = _floors(wall, ticks)
    floors.lift("a", Tier.MID)
    wall.now += 30 * 24 * HOUR  # the clock set right after a month behind
    ticks.now += HOUR
    assert floors.floor("a") is Tier.MID
    assert floors.lapsing() == [("a", Tier.MID, wall.now + 23 * HOUR)]
    ticks.now += 24 * HOUR
    assert floors.floor("a") is None


def test_a_jump_of_the_wall_clock_back_does_not_keep_a_floor_longer() -> None:
    wall, ticks = Clock(), Clock(50.0)
    floors = _floors(wall, ticks)
    floors.lift("a", Tier.MID)
    wall.now -= 365 * 24 * HOUR
    ticks.now += 25 * HOUR
    assert floors.floor("a") is None


def test_a_lift_dated_after_now_lapses_its_age_limit_from_now() -> None:
    """A stored lift dated in the future (stored before the wall clock went back a year):
    it lasts as one made now, not for a year more."""
    wall, ticks = Clock(), Clock(50.0)
    floors = _floors(wall, ticks)
    floors.lift("a", Tier.MID, at=wall.now + 365 * 24 * HOUR)
    assert floors.lapsing() == [("a", Tier.MID, wall.now + 24 * HOUR)]
    wall.now += 25 * HOUR
    ticks.now += 25 * HOUR
    assert floors.floor("a") is None


def test_when_a_floor_lapses_is_its_latest_lift_and_the_age_limit() -> None:
    wall, ticks = Clock(), Clock(50.0)
    floors = _floors(wall, ticks)
    floors.lift("a", Tier.MID, at=wall.now - 20 * HOUR)
    floors.lift("b", Tier.TOP)
    assert floors.lapsing() == [
        ("a", Tier.MID, wall.now + 4 * HOUR),
        ("b", Tier.TOP, wall.now + 24 * HOUR),
    ]
    unlimited = TierFloors(max_age=None)
    unlimited.lift("c", Tier.MID)
    assert unlimited.lapsing() == [("c", Tier.MID, None)]


def test_a_floor_lapses_once_older_than_its_age_limit() -> None:
    clock = Clock()
    floors = TierFloors(max_age=24 * HOUR, clock=clock, ticks=clock)
    floors.lift("a", Tier.MID)
    clock.now += 23 * HOUR
    assert floors.floor("a") is Tier.MID
    clock.now += 2 * HOUR
    assert floors.floor("a") is None and len(floors) == 0


def test_a_lift_again_restarts_the_floors_age_and_never_lowers_it() -> None:
    clock = Clock()
    floors = TierFloors(max_age=24 * HOUR, clock=clock, ticks=clock)
    floors.lift("a", Tier.TOP)
    clock.now += 20 * HOUR
    assert floors.lift("a", Tier.MID) is Tier.TOP  # the conversation still at work
    clock.now += 20 * HOUR
    assert floors.floor("a") is Tier.TOP


def test_a_lift_dated_in_the_past_ages_from_then_and_a_lapsed_one_lifts_nothing() -> None:
    """Floors rebuilt at start carry their outcome's time, not the restart's."""
    clock = Clock()
    floors = TierFloors(max_age=24 * HOUR, clock=clock, ticks=clock)
    floors.lift("old", Tier.MID, at=clock.now - 30 * HOUR)
    floors.lift("recent", Tier.MID, at=clock.now - 20 * HOUR)
    assert floors.floor("old") is None and floors.floor("recent") is Tier.MID
    clock.now += 5 * HOUR
    assert floors.floor("recent") is None


def test_no_age_limit_keeps_floors_until_pushed_out() -> None:
    clock = Clock()
    floors = TierFloors(max_age=None, clock=clock, ticks=clock)
    floors.lift("a", Tier.MID, at=0.0)
    clock.now += 1000 * HOUR
    assert floors.floor("a") is Tier.MID


def test_the_age_limit_is_a_setting_in_hours_zero_meaning_none() -> None:
    assert RouterSettings.from_env({}).floor_hours == 24
    assert RouterSettings.from_env({"OCP_FLOOR_HOURS": "0"}).floor_hours == 0
    with pytest.raises(ConfigError, match="OCP_FLOOR_HOURS"):
        RouterSettings.from_env({"OCP_FLOOR_HOURS": "-1"})


@pytest.mark.skipif(not hasattr(time, "clock_gettime"), reason="no clock_gettime (Windows)")
def test_a_floor_lapses_across_a_sleep_of_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A laptop closed overnight: time.monotonic stands still in sleep on Linux and macOS, the
    wall clock and the clocks that count sleep (what a floor ages on) do not. A floor lifted
    before 25 hours of sleep lapsed, as a restart's rebuild from the wall clock drops it."""
    slept = [0.0]
    awake = time.clock_gettime
    monkeypatch.setattr(time, "clock_gettime", lambda clock: awake(clock) + slept[0])
    floors = TierFloors(max_age=24 * HOUR)
    floors.lift("a", Tier.MID)
    assert floors.floor("a") is Tier.MID
    slept[0] = 25 * HOUR
    assert floors.floor("a") is None
