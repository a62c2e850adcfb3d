"""`collector.importing`: imports run with the cyclic collector off, and what a block that
imported anything made is frozen out of the collector's walks; the collector is back on
after it, unless it was off before."""

from __future__ import annotations

import gc
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocp_server import collector
from ocp_server.collector import collector_paused, importing


def test_a_block_that_imports_runs_with_the_collector_off_and_freezes_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ocp_probe_module.py").write_text(
        textwrap.dedent(
            """
            import gc
            # a first threshold of 0: no collection starts (collector_paused)
            COLLECTING_WHILE_IMPORTED = gc.isenabled() and gc.get_threshold()[0] > 0
            MADE = [{"n": i} for i in range(100)]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    frozen = gc.get_freeze_count()
    try:
        with importing():
            import ocp_probe_module  # type: ignore[import-not-found]
        assert gc.isenabled()
        assert not ocp_probe_module.COLLECTING_WHILE_IMPORTED
        assert gc.get_freeze_count() >= frozen + len(ocp_probe_module.MADE)
    finally:
        gc.unfreeze()  # this test process's objects back in the collector's sight
        sys.modules.pop("ocp_probe_module", None)


def test_a_block_that_imports_nothing_freezes_nothing() -> None:
    frozen = gc.get_freeze_count()
    with importing():
        import json  # noqa: F401 - loaded long before
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_the_collector_left_off_before_stays_off() -> None:
    gc.disable()
    try:
        with importing():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_collector_turned_off_during_a_pause_stays_off() -> None:
    """The application's gc.disable() while a body was parsed is its choice: kept."""
    try:
        with collector_paused():
            gc.disable()
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_a_pause_runs_no_collection_and_leaves_the_thresholds_as_they_were() -> None:
    before = gc.get_threshold()
    started: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started.append(info["generation"])

    gc.callbacks.append(seen)
    try:
        with collector_paused():
            made = [{"n": i} for i in range(20 * before[0])]  # 20 times what starts one
            started_while_paused = list(started)
    finally:
        gc.callbacks.remove(seen)
    assert len(made) == 20 * before[0] and started_while_paused == []
    assert gc.isenabled() and gc.get_threshold() == before


def test_thresholds_the_application_sets_during_a_pause_are_kept() -> None:
    before = gc.get_threshold()
    try:
        with collector_paused():
            gc.set_threshold(5000, 20, 20)
        assert gc.get_threshold() == (5000, 20, 20)
    finally:
        gc.set_threshold(*before)


@pytest.fixture
def nothing_frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    gc.unfreeze()  # this test process's objects: frozen by nothing else here
    monkeypatch.setattr(collector, "_imports_frozen", False, raising=False)  # nor `importing`
    monkeypatch.setattr(collector, "UNFREEZE_AFTER", 600.0)  # the tests run the thaw
    yield
    timer = collector._unfreeze
    if timer is not None:
        timer.cancel()
        timer.function()
    gc.unfreeze()


def test_what_a_pause_built_is_frozen_a_while_then_thawed(nothing_frozen: None) -> None:
    """The first collection after a pause walked all the body it let build (0.13-0.24 s of
    60,000 messages) and found nothing: frozen, it is out of the young generations."""
    with collector_paused():
        body = [{"n": i} for i in range(5000)]
    assert gc.get_freeze_count() >= len(body)
    timer = collector._unfreeze
    assert timer is not None and timer.interval == 600.0 and timer.daemon
    timer.cancel()
    timer.function()  # what the timer runs when it is up
    assert gc.get_freeze_count() == 0 and collector._unfreeze is None


def test_a_pause_leaves_anothers_freeze_alone(nothing_frozen: None) -> None:
    kept = [{"n": i} for i in range(100)]
    gc.freeze()  # an application's, or `importing`'s
    frozen = gc.get_freeze_count()
    with collector_paused():
        made = [{"n": i} for i in range(1000)]
    # none of `made` frozen (the count may fall: frozen objects other threads let go)
    assert gc.get_freeze_count() < frozen + len(made) and collector._unfreeze is None
    assert len(kept) == 100


def test_importing_keeps_its_freeze_for_good(
    nothing_frozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ocp_probe_frozen.py").write_text("MADE = [{'n': i} for i in range(100)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with collector_paused():  # a body's pause still pending its thaw
            pass
        assert collector._unfreeze is not None
        with importing():
            import ocp_probe_frozen  # type: ignore[import-not-found]
        assert collector._unfreeze is None  # the thaw called off
        assert gc.get_freeze_count() >= len(ocp_probe_frozen.MADE)
    finally:
        sys.modules.pop("ocp_probe_frozen", None)


def test_a_pause_after_importing_froze_does_not_walk_the_frozen_objects(
    nothing_frozen: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`gc.get_freeze_count` walks every frozen object: asked at each body's pause end once
    `importing` had frozen a process's objects, it made a test session's thousands of parses
    take minutes (two million objects, 20 ms a walk)."""
    (tmp_path / "ocp_probe_walk.py").write_text("MADE = [{'n': i} for i in range(100)]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    walks: list[int] = []
    count = gc.get_freeze_count

    def counted() -> int:
        walks.append(1)
        return count()

    try:
        with importing():
            import ocp_probe_walk  # type: ignore[import-not-found]  # noqa: F401
        monkeypatch.setattr(gc, "get_freeze_count", counted)
        for _ in range(3):
            with collector_paused():
                pass
        assert walks == [] and collector._unfreeze is None  # importing's freeze kept as it is
    finally:
        sys.modules.pop("ocp_probe_walk", None)
