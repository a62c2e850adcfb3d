"""A simulated user for routing calibration: hidden per-task-type thresholds that differ from
the defaults, answering each routed request with an outcome (good, bad, escalated, overkill),
a share of them flipped at random. Used by tests/router/test_calibration.py and
bench/bench_routing.py."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from ocp_router import TaskClassifier
from ocp_router.calibration import Calibration, Outcome

DATA = Path(__file__).resolve().parent

# A user whose local model is strong for everyday work but who wants debugging, performance,
# security and design help from the paid model early: thresholds on phase 1's raw score.
PREFERENCES = {
    "debug": 0.05,
    "performance": 0.1,
    "security": 0.1,
    "architect": 0.15,
    "test": 0.1,
    "unknown": 0.95,
    "explain": 0.95,
    "retrieval": 0.95,
    "edit": 0.95,
    "generate": 0.9,
    "summarise": 0.95,
}


@dataclass(frozen=True)
class Request:
    raw_score: float
    task_type: str


def requests(name: str = "routing_holdout.jsonl") -> list[Request]:
    """The labeled holdout (never trained on, so scored like new requests), as the user's
    stream of requests."""
    clf = TaskClassifier(cache_size=0)
    out = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip():
            r = clf.classify(json.loads(line)["text"])
            out.append(Request(r.raw_score, r.task_type.value))
    return out


def agreement(cal: Calibration, reqs: list[Request], prefs: dict[str, float]) -> float:
    """The share of requests routed the way the user wants."""
    ok = 0
    for r in reqs:
        routed = r.raw_score >= cal.base_threshold + cal.shift(r.task_type)
        ok += routed == (r.raw_score >= prefs.get(r.task_type, cal.base_threshold))
    return ok / len(reqs)


def outcome(routed_paid: bool, wants_paid: bool, rng: random.Random) -> Outcome:
    if routed_paid:
        return Outcome.GOOD if wants_paid else Outcome.OVERKILL
    return rng.choice((Outcome.BAD, Outcome.ESCALATED)) if wants_paid else Outcome.GOOD


def learning_curve(
    reqs: list[Request],
    prefs: dict[str, float],
    *,
    noise: float,
    steps: int,
    seed: int,
    marks: tuple[int, ...],
    traced: bool = False,
) -> tuple[dict[int, float], Calibration]:
    """Agreement after each number of outcomes in `marks`, and the final calibration.
    `traced`: each outcome saved on a route of its own (a trace id), as the server saves
    them, which lets the calibration tell its latest outcomes."""
    rng = random.Random(seed)
    cal = Calibration()
    curve = {0: agreement(cal, reqs, prefs)} if 0 in marks else {}
    for i in range(1, steps + 1):
        r = rng.choice(reqs)
        routed = r.raw_score >= cal.base_threshold + cal.shift(r.task_type)
        wants = r.raw_score >= prefs.get(r.task_type, cal.base_threshold)
        if rng.random() < noise:
            wants = not wants
        trace_id = f"route-{i}" if traced else None
        cal.record(r.task_type, r.raw_score, routed, outcome(routed, wants, rng), trace_id=trace_id)
        if i in marks:
            curve[i] = agreement(cal, reqs, prefs)
    return curve, cal
