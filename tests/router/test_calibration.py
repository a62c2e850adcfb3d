"""Routing calibration: outcome notes are read, a simulated user's hidden preferences are
learned within 200 outcomes, noise does not make it drift, the shift is capped, the file is
versioned and a bad one is never silently replaced, and phase 1 says when it changed a
decision."""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from pathlib import Path

import pytest

from ocp_router import TaskClassifier, parse_payload
from ocp_router.calibration import (
    CAP,
    MIN_WEIGHT,
    Calibration,
    Outcome,
    Taught,
    TypeCalibration,
    parse_outcome,
)
from ocp_router.calibration_file import FILE_NAME, NO_MODEL, CalibrationFile, Calibrations
from ocp_router.phase1 import assess
from ocp_router.sticky import TierFloors
from ocp_router.tiers import Tier
from tests.data.simulated_user import PREFERENCES, learning_curve, outcome, requests


def _load(path: Path) -> Calibration:
    """What the file at `path` holds for outcomes saved without a model."""
    return Calibrations.load(path).models[NO_MODEL]


def _save(cal: Calibration, path: Path) -> None:
    Calibrations(models={NO_MODEL: cal}).save(path)


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("good, merged it", Outcome.GOOD),
        ("OK", Outcome.GOOD),
        ("that answer was wrong: the lock is per process", Outcome.BAD),
        ("wrong", Outcome.BAD),
        ("escalated to the paid model", Outcome.ESCALATED),
        ("re-asked on the top tier", Outcome.ESCALATED),
        ("overkill: local would have done", Outcome.OVERKILL),
        ("shipped in v2.3", None),
        ("a good start but needs tests", None),
    ],
)
def test_outcome_notes_are_read_by_their_first_words(note: str, kind: Outcome | None) -> None:
    assert parse_outcome(note) == kind


def test_a_simulated_user_is_learned_within_200_outcomes() -> None:
    reqs = requests()
    curve, cal = learning_curve(reqs, PREFERENCES, noise=0.0, steps=200, seed=3, marks=(0, 200))
    assert curve[0] < 0.9  # the defaults disagree with this user
    assert curve[200] >= 0.95
    # more local for the everyday kind, more paid for at least one of the hard kinds
    assert cal.shift("unknown") > 0 > min(t.shift for t in cal.types.values())


def test_flipped_outcomes_do_not_make_it_drift() -> None:
    reqs = requests()
    defaults = {t: 0.5 for t in PREFERENCES}
    curve, _ = learning_curve(
        reqs, defaults, noise=0.2, steps=400, seed=5, marks=(0, 100, 200, 300, 400)
    )
    # A user who agrees with the defaults and mislabels one outcome in five: the routing
    # stays where it was (shifts of types with no request near the threshold may wander,
    # which changes no decision).
    assert curve[0] == 1.0 and min(curve.values()) >= 0.95


def test_flipped_outcomes_saved_on_routes_do_not_make_it_drift() -> None:
    # as above, each outcome on a route of its own: what tells a change of mind (the latest
    # outcomes) must not take one flipped outcome in five for one
    reqs = requests()
    defaults = {t: 0.5 for t in PREFERENCES}
    for seed in (5, 6):
        curve, _ = learning_curve(
            reqs, defaults, noise=0.2, steps=600, seed=seed, marks=(100, 300, 600), traced=True
        )
        assert min(curve.values()) >= 0.95


def test_a_user_whose_needs_change_on_the_same_model_is_followed_within_150_outcomes() -> None:
    # debugging paid from 0.25 for 300 outcomes, then (a stronger build behind the same
    # name) paid only from 0.6: the old outcomes must not hold the threshold down for as
    # many new ones again (on the old code it was 0.37 after 150, 0.53 after 400)
    rng = random.Random(2)
    cal = Calibration()
    scores = [i / 50 for i in range(-5, 51)]
    route = 0
    for paid_from, outcomes in ((0.25, 300), (0.6, 150)):
        for _ in range(outcomes):
            route += 1
            score = rng.choice(scores)
            routed = score >= cal.base_threshold + cal.shift("debug")
            wants = score >= paid_from
            cal.record("debug", score, routed, outcome(routed, wants, rng), trace_id=f"r{route}")
        if paid_from == 0.25:
            assert abs(cal.base_threshold + cal.shift("debug") - 0.25) <= 0.03
    assert cal.base_threshold + cal.shift("debug") >= 0.5


def test_the_shift_is_capped_however_one_sided_the_outcomes() -> None:
    cal = Calibration()
    for _ in range(300):
        cal.record("debug", -0.1, False, Outcome.ESCALATED)
    assert cal.shift("debug") == -CAP


def test_an_outcome_saved_again_on_a_route_takes_back_the_point_that_route_taught() -> None:
    cal = Calibration()
    cal.record("debug", 0.3, False, Outcome.GOOD, trace_id="a")
    cal.record("debug", 0.3, False, Outcome.BAD, trace_id="a")
    assert (cal.outcomes("debug"), cal.types["debug"].wanted_local) == (1, {})
    assert cal.types["debug"].wanted_paid == {"0.30": 1.0}
    # Another route's point in the same bin is its own: nothing of it is taken back.
    cal.record("debug", 0.3, False, Outcome.BAD, trace_id="b")
    assert cal.take_back("a") and not cal.take_back("a")
    assert cal.types["debug"].wanted_paid == {"0.30": 1.0}


def test_a_point_taught_before_the_file_was_reset_is_not_taken_back(tmp_path: Path) -> None:
    store = CalibrationFile(tmp_path / FILE_NAME)
    assert store.learn("debug", 0.3, False, Outcome.GOOD, trace_id="a") is not None
    (tmp_path / FILE_NAME).unlink()  # `ocp-server routing reset`
    assert not store.take_back("a") and not (tmp_path / FILE_NAME).exists()
    store.learn("debug", 0.3, False, Outcome.GOOD, trace_id="b")
    store.learn("debug", 0.3, False, Outcome.BAD, trace_id="a")
    cal = _load(tmp_path / FILE_NAME)
    assert cal.types["debug"].wanted_local == {"0.30": 1.0}
    assert cal.types["debug"].wanted_paid == {"0.30": 1.0}
    assert set(cal.taught) == {"a", "b"}  # the file remembers both routes across a re-read


def test_halving_a_types_points_halves_what_each_route_may_take_back() -> None:
    cal = Calibration()
    cal.record("debug", 0.3, False, Outcome.GOOD, trace_id="a")
    for _ in range(400):
        cal.record("debug", 0.7, False, Outcome.BAD)
    assert cal.taught["a"].weight == 0.5 and cal.types["debug"].wanted_local == {"0.30": 0.5}
    cal.record("debug", 0.3, False, Outcome.GOOD, trace_id="other")
    assert cal.take_back("a")
    assert cal.types["debug"].wanted_local == {"0.30": 1.0}  # "other"'s whole point stays
    # The point that tips a type over 400 is halved with the rest, and so is its weight.
    tipped = Calibration()
    for i in range(401):
        tipped.record("debug", 0.7, False, Outcome.BAD, trace_id=f"r{i}" if i == 400 else None)
    assert tipped.taught["r400"].weight == 0.5 and tipped.types["debug"].outcomes == 200.5


def test_an_outcome_saved_again_on_a_route_older_than_the_latest_200_takes_its_point_back(
    tmp_path: Path,
) -> None:
    # The file remembered the latest 200 routes: r0's point still counted in full (no type
    # had halved), yet its second outcome was added beside it, counted twice.
    store = CalibrationFile(tmp_path / FILE_NAME)
    for i in range(260):  # over four types: none passes 400 points and halves
        store.learn(f"type{i % 4}", 0.3, False, Outcome.GOOD, trace_id=f"r{i}")
    store.learn("type0", 0.3, False, Outcome.BAD, trace_id="r0")
    cal = _load(tmp_path / FILE_NAME)
    assert cal.types["type0"].wanted_local == {"0.30": 64.0}  # 65 good, r0's taken back
    assert cal.types["type0"].wanted_paid == {"0.30": 1.0} and cal.outcomes("type0") == 65


def test_a_route_is_forgotten_when_halving_shrinks_its_point_below_a_quarter() -> None:
    cal = Calibration()
    cal.record("debug", 0.3, False, Outcome.GOOD, trace_id="old")
    for i in range(1_200):  # halved three times: "old" weighed 1, 0.5, 0.25, then 0.125
        cal.record("debug", 0.7, False, Outcome.BAD, trace_id=f"r{i}")
    assert "old" not in cal.taught and not cal.take_back("old")
    assert all(t.weight >= MIN_WEIGHT for t in cal.taught.values())
    assert len(cal.taught) <= 800  # bounded by the halving, not by a count of routes


def test_the_file_is_versioned_and_round_trips(tmp_path: Path) -> None:
    cal = Calibration()
    cal.record("debug", 0.3, False, Outcome.BAD)
    _save(cal, tmp_path / "c.json")
    raw = json.loads((tmp_path / "c.json").read_text("utf-8"))
    assert raw["format"] == "ocp-routing-calibration/2"
    assert raw["models"][NO_MODEL]["task_types"]["debug"]["wanted_paid"] == {"0.30": 1.0}
    assert _load(tmp_path / "c.json") == cal


def test_an_unreadable_file_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "routing-calibration.json"
    path.write_text("{not json", "utf-8")
    store = CalibrationFile(path)
    assert store.current() is None and store.error is not None and str(path) in store.error
    assert store.learn("debug", 0.3, False, Outcome.BAD) is None
    assert path.read_text("utf-8") == "{not json"


def test_phase_one_says_when_calibration_changed_the_decision() -> None:
    clf = TaskClassifier(cache_size=0)
    payload = parse_payload("debug the export job that fails on weekends")
    plain = assess(payload, clf)
    cal = Calibration()
    kind = plain.classify.task_type.value
    for _ in range(6):
        cal.record(kind, plain.raw_score, False, Outcome.ESCALATED)
    moved = assess(payload, clf, calibration=cal)
    assert plain.tier is Tier.LOCAL and moved.tier is not Tier.LOCAL
    signal = next(s for s in moved.signals if s.name == "calibration")
    assert "turned local into paid" in signal.detail and signal.weight == -cal.shift(kind)
    # an empty calibration changes nothing
    assert assess(payload, clf, calibration=Calibration()) == plain


def test_tier_floors_only_rise() -> None:
    floors = TierFloors(max_sessions=2)
    assert floors.lift("a", Tier.TOP) is Tier.TOP
    assert floors.lift("a", Tier.LOCAL) is Tier.TOP
    floors.lift("b", Tier.MID)
    floors.lift("c", Tier.MID)
    assert floors.floor("a") is None and len(floors) == 2  # the oldest conversation is dropped


def _save_outcomes(path: str, start_at: float, count: int) -> None:
    """One IDE window's server saving `count` outcomes, starting with the others."""
    store = CalibrationFile(Path(path))
    while time.time() < start_at:
        time.sleep(0.001)
    for i in range(count):
        store.learn("debug", 0.2 + (i % 10) / 50, False, Outcome.ESCALATED)


def test_windows_saving_outcomes_at_once_lose_none(tmp_path: Path) -> None:
    # Four processes (windows) learning on one workspace at the same time: each does
    # read-modify-write of the file, which without a lock keeps only the last writer's view.
    path = tmp_path / "routing-calibration.json"
    windows, each = 4, 25
    ctx = multiprocessing.get_context("spawn")
    start_at = time.time() + 3.0  # after every child has imported the router
    procs = [
        ctx.Process(target=_save_outcomes, args=(str(path), start_at, each)) for _ in range(windows)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    assert _load(path).outcomes("debug") == windows * each


def _busy(routes: int) -> Calibration:
    """A task type at its most: every score bin on both sides, `routes` routes remembered
    under uuid4-long trace ids (as routes are named), a share of them halved."""
    cal = Calibration()
    t = cal.types.setdefault("coding", TypeCalibration(shift=-0.12, outcomes=399.0))
    for n in range(-50, 101):
        t.wanted_paid[f"{n * 0.02:.2f}"] = 1.5
        t.wanted_local[f"{n * 0.02:.2f}"] = 0.75
    for i in range(routes):
        cal.taught[f"{i:032x}"] = Taught("coding", f"{(i % 151 - 50) * 0.02:.2f}", i % 3 == 0)
        cal.taught[f"{i:032x}"].weight = (1.0, 0.5, 0.25)[i % 3]
    return cal


def test_a_busy_task_types_file_stays_near_50_kb(tmp_path: Path) -> None:
    # About 800 routes a busy type remembers (halving bounds them): the file took 125 bytes a
    # route, 104 KB at its peak (bench/bench_calibration_size.py).
    _save(_busy(800), tmp_path / FILE_NAME)
    assert (tmp_path / FILE_NAME).stat().st_size < 64_000


def test_the_routes_round_trip_and_a_file_of_the_older_layout_is_read(tmp_path: Path) -> None:
    cal = _busy(30)
    _save(cal, tmp_path / FILE_NAME)
    again = _load(tmp_path / FILE_NAME)
    assert again.taught == cal.taught and again.types == cal.types
    older = json.loads((tmp_path / FILE_NAME).read_text())["models"][NO_MODEL]
    older["format"] = "ocp-routing-calibration/1"
    del older["routes"]
    older["taught_by_route"] = {
        "r1": {"task_type": "coding", "bin": "0.30", "wanted": "paid", "weight": 0.5}
    }
    (tmp_path / FILE_NAME).write_text(json.dumps(older))
    assert _load(tmp_path / FILE_NAME).taught == {"r1": Taught("coding", "0.30", True, 0.5)}


def test_outcomes_for_one_local_model_do_not_move_anothers_threshold(tmp_path: Path) -> None:
    weak, strong = "llama3.2:1b @ http://127.0.0.1:11434", "qwen2.5-coder:32b @ http://gpu:11434"
    store = CalibrationFile(tmp_path / FILE_NAME)
    for i in range(30):
        learned = store.learn("debug", 0.3, False, Outcome.ESCALATED, trace_id=f"w{i}", model=weak)
        assert learned is not None and learned.model == weak
    weak_cal = store.current(weak)
    assert weak_cal is not None and weak_cal.shift("debug") < -0.15
    assert store.current(strong) is None  # the defaults
    learned = store.learn("debug", 0.7, True, Outcome.OVERKILL, trace_id="s0", model=strong)
    assert learned is not None and learned.before == 0.5 and learned.after >= 0.5
    # Each model's lessons stay its own, across a re-read of the file.
    again = CalibrationFile(tmp_path / FILE_NAME)
    weak_again, strong_again = again.current(weak), again.current(strong)
    assert weak_again is not None and weak_again.shift("debug") == weak_cal.shift("debug")
    assert strong_again is not None and strong_again.outcomes("debug") == 1


def test_a_file_of_format_1_is_used_by_any_model_until_one_learns_and_takes_it_over(
    tmp_path: Path,
) -> None:
    cal = Calibration()
    for _ in range(20):
        cal.record("debug", 0.3, False, Outcome.ESCALATED)
    old = cal.to_json() | {"format": "ocp-routing-calibration/1", "base_threshold": 0.5}
    (tmp_path / FILE_NAME).write_text(json.dumps(old), "utf-8")
    store = CalibrationFile(tmp_path / FILE_NAME)
    for model in ("a", "b"):  # its outcomes carry no model: the one in use is the likeliest
        seen = store.current(model)
        assert seen is not None and seen.shift("debug") == cal.shift("debug")
    learned = store.learn("debug", 0.3, False, Outcome.GOOD, trace_id="t", model="a")
    assert learned is not None and learned.before == 0.5 + cal.shift("debug")
    taken = store.current("a")
    assert taken is not None and taken.outcomes("debug") == 21
    assert store.current("b") is None  # "a" took them over: "b" starts from the defaults
    assert list(Calibrations.load(tmp_path / FILE_NAME).models) == ["a"]


def test_the_file_keeps_the_models_taught_most_recently(tmp_path: Path) -> None:
    store = CalibrationFile(tmp_path / FILE_NAME)
    for model in ("m0", "m1", "m2", "m3", "m4", "m1", "m5"):
        store.learn("debug", 0.3, False, Outcome.GOOD, trace_id=model, model=model)
    assert list(Calibrations.load(tmp_path / FILE_NAME).models) == ["m3", "m4", "m1", "m5"]


def test_an_outcome_saved_again_takes_back_its_point_from_the_model_it_taught() -> None:
    cals = Calibrations()
    cals.record("a", "debug", 0.3, False, Outcome.GOOD, trace_id="t")
    cals.record("b", "debug", 0.3, False, Outcome.BAD, trace_id="t")
    assert cals.models["a"].outcomes("debug") == 0 and cals.models["b"].outcomes("debug") == 1


@pytest.mark.parametrize(
    ("score", "routed_paid", "outcome"),
    [(0.45, False, Outcome.BAD), (0.3, False, Outcome.ESCALATED), (0.55, True, Outcome.OVERKILL)],
)
def test_a_threshold_moves_no_further_than_the_outcomes_lie(
    score: float, routed_paid: bool, outcome: Outcome
) -> None:
    # 200 "wrong" at 0.45 took the threshold to 0.06: everything from 0.06 up went paid,
    # though no outcome said anything of a request under 0.43.
    cal = Calibration()
    for _ in range(200):
        cal.record("debug", score, routed_paid, outcome)
    threshold = cal.base_threshold + cal.shift("debug")
    wants_paid = not routed_paid
    assert abs(threshold - score) <= 0.02 + 1e-9
    assert (score >= threshold) == wants_paid  # the request they judged goes where they said
