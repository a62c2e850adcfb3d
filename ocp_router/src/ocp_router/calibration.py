"""Per-workspace calibration of the local/paid decision, learned from outcomes.

An agent saves an outcome for a routed request (`ocp_result_save` with a trace id). Some
outcomes say which side the user wanted:

    routed local, answer bad or wrong          -> wanted paid
    routed local, agent re-asked a higher tier -> wanted paid   ("escalated")
    routed local, answer good                  -> wanted local  (the route was right)
    routed paid, "overkill" (local would do)   -> wanted local
    routed paid, answer good                   -> wanted paid   (the route was right)
    routed paid, answer bad                    -> nothing about local/paid

"Good" counts on both sides on purpose: were it ignored on paid routes, the occasional
mistaken "overkill" would have nothing to weigh against, and the threshold would drift up.

Each such outcome is one point (score, wanted paid) for the request's task type; the score is
phase 1's, before clamping to [0, 1] (a request the classifier is sure of lies far from the
threshold and barely moves it). Per task
type, the threshold that best explains the points under a logistic model with a noise floor
(robust to outcomes on the wrong side far from the threshold) is found on a grid,
pulled toward the default by a Gaussian prior and capped, so a handful of outcomes moves it a
little and a few dozen consistent ones move it most of the way. Noisy outcomes (an agent that
says "wrong" about a fine answer) cancel out rather than drift it: the fitted boundary is where
wanted-paid crosses one half, wherever the noise falls.

The points are kept as counts per score bin, at most 151 bins per task type, halved when a
type passes 400 outcomes so recent ones weigh more, and all but the latest halved when the
latest say the user's threshold moved (`changed_mind`: a user whose needs change on the same
local model is otherwise followed only once new outcomes outnumber the old). A `Calibration`
is what one local model learned: calibration_file keeps one per local model in a small JSON
file a person can read (`ocp-server routing explain` prints it; `ocp-server routing reset`
deletes it).

It also says which route (trace id) taught each of its points, one line a route (about
50 KB for a busy task type at most: `bench/bench_calibration_size.py`): the latest outcome saved
on a route is the one in force, so a new one takes back the point its route taught before, and
only that one (never another route's point in the same bin, nor a point a reset already
deleted). A route is forgotten when its point is, as halving shrinks it below a quarter.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ocp_router.tiers import DEFAULT_ROUTE_THRESHOLD

BIN = 0.02
SLOPE = 12.0  # of the logistic model of wanted-paid against the score
PRIOR_SD = 0.15  # how far from the default a shift may go on weak evidence
CAP = 0.5  # the largest shift whatever the evidence
# Outcomes are noisy (an agent calls a fine answer wrong): the model says a point lands on the
# wrong side with this probability however far from the threshold it lies, so a few such
# points far away cannot drag the threshold toward them.
NOISE = 0.15
_GRID = tuple(round(-CAP + i * 0.01, 2) for i in range(int(round(2 * CAP / 0.01)) + 1))
_HALVE_AT = 400.0
# A point (and the route that taught it) is dropped when halving shrinks it below this. The
# routes the file remembers are so bounded by the halving (at most about 800 per task type:
# 401 points halved twice, 200 once and 200 new), not by their number: a cap of the latest
# 200 routes forgot a route whose point still counted, and one saved on again counted twice.
MIN_WEIGHT = 0.25
# A user whose needs change on the same local model (other work, a new build behind the same
# name) is followed when a type's latest 20, 40, 80 or 160 outcomes are explained better by a
# threshold of their own than by all its points, by CHANGE_EVIDENCE: the older points then
# weigh FORGET as much, again on each outcome while that holds. Several lengths: the outcomes
# since a change are what tells it, however many there are (docs/routing-rounds.md).
WINDOWS = (20, 40, 80, 160)
CHANGE_EVIDENCE = 6.0
FORGET = 0.5


class Outcome(StrEnum):
    GOOD = "good"
    BAD = "bad"  # the answer was wrong
    ESCALATED = "escalated"  # the agent re-asked on a higher tier
    OVERKILL = "overkill"  # a paid answer a local model would have given as well


# The first words of an outcome note, as agents write them.
_PATTERNS: tuple[tuple[Outcome, re.Pattern[str]], ...] = (
    (
        Outcome.ESCALATED,
        re.compile(r"^\s*(?:escalat\w*|re-?ask\w*|retried (?:on|with) (?:a )?(?:higher|paid|top))"),
    ),
    (
        Outcome.OVERKILL,
        re.compile(r"^\s*(?:overkill|too (?:strong|expensive)|local would (?:do|have done))"),
    ),
    (
        Outcome.BAD,
        re.compile(
            r"^\s*(?:bad|wrong|incorrect|failed|broken|not good|unhelpful|"
            r"(?:that|the) answer (?:was|is) (?:wrong|bad|incorrect))"
        ),
    ),
    (Outcome.GOOD, re.compile(r"^\s*(?:good|ok|okay|correct|accepted|worked|fine|great)\b")),
)


def parse_outcome(text: str) -> Outcome | None:
    """The kind of an outcome note, or None when it does not start with a known word."""
    lower = text.lower()
    for kind, pattern in _PATTERNS:
        if pattern.match(lower):
            return kind
    return None


def wanted_paid(outcome: Outcome, routed_paid: bool) -> bool | None:
    """What an outcome says about the side the user wanted; None: nothing."""
    if routed_paid:
        return {Outcome.OVERKILL: False, Outcome.GOOD: True}.get(outcome)
    if outcome in (Outcome.BAD, Outcome.ESCALATED):
        return True
    return False if outcome is Outcome.GOOD else None


def _bin(score: float) -> str:
    return f"{round(round(score / BIN) * BIN, 2) + 0.0:.2f}"  # + 0.0: no "-0.00" key


@dataclass(slots=True)
class TypeCalibration:
    """One task type: the points seen (count per score bin) and the fitted shift."""

    shift: float = 0.0
    outcomes: float = 0.0
    wanted_paid: dict[str, float] = field(default_factory=dict)
    wanted_local: dict[str, float] = field(default_factory=dict)

    def add(self, key: str, paid: bool) -> bool:
        """Add one point to bin `key`; True when the type's points were halved."""
        side = self.wanted_paid if paid else self.wanted_local
        side[key] = side.get(key, 0.0) + 1.0
        self.outcomes += 1.0
        if self.outcomes <= _HALVE_AT:
            return False
        for d in (self.wanted_paid, self.wanted_local):
            for k in list(d):
                d[k] /= 2
                if d[k] < MIN_WEIGHT:
                    del d[k]
        self.outcomes = sum(self.wanted_paid.values()) + sum(self.wanted_local.values())
        return True

    def remove(self, key: str, paid: bool, weight: float) -> None:
        """Take a point of `weight` back from bin `key` (at most what the bin holds)."""
        side = self.wanted_paid if paid else self.wanted_local
        taken = min(weight, side.get(key, 0.0))
        if side.get(key, 0.0) - taken <= 0.0:
            side.pop(key, None)
        else:
            side[key] -= taken
        self.outcomes = max(0.0, self.outcomes - taken)

    def fit(self, base: float) -> float:
        """The shift of `base` that best explains the points (MAP on a 0.01 grid), moving the
        threshold no further than the evidence lies: down to the lowest score that wanted
        paid, up to the highest that wanted local (the logistic model alone would take 200
        "wrong" outcomes at 0.45 to a threshold of 0.06, where no outcome says anything)."""
        points = [(float(k), n, True) for k, n in self.wanted_paid.items()]
        points += [(float(k), n, False) for k, n in self.wanted_local.items()]
        best, best_loss = 0.0, math.inf
        for shift in _within(points, base):
            loss = shift * shift / (2 * PRIOR_SD * PRIOR_SD) + _misfit(points, base + shift)
            if loss < best_loss - 1e-12:
                best, best_loss = shift, loss
        return best

    def forget_older(self, recent: list[Taught], factor: float) -> None:
        """Scale every point but the `recent` ones by `factor` (a point left under
        MIN_WEIGHT is dropped)."""
        kept: dict[tuple[bool, str], float] = {}
        for p in recent:
            kept[p.paid, p.key] = kept.get((p.paid, p.key), 0.0) + p.weight
        for paid, side in ((True, self.wanted_paid), (False, self.wanted_local)):
            for key in list(side):
                mine = min(kept.get((paid, key), 0.0), side[key])
                side[key] = mine + (side[key] - mine) * factor
                if side[key] < MIN_WEIGHT:
                    del side[key]
        self.outcomes = sum(self.wanted_paid.values()) + sum(self.wanted_local.values())


def _within(points: list[tuple[float, float, bool]], base: float) -> list[float]:
    """The shifts of `base` on the grid that move the threshold no further than `points`
    (score, weight, wanted paid) lie: down to the lowest that wanted paid, up to the highest
    that wanted local."""
    # A bin holds the scores within BIN/2 of its key: the bound routes all of them over.
    lowest = min((s for s, _, y in points if y), default=base) - BIN / 2
    highest = max((s for s, _, y in points if not y), default=base) + BIN / 2
    lo, hi = min(base, lowest) - 1e-9, max(base, highest) + 1e-9
    return [shift for shift in _GRID if lo <= base + shift <= hi]


def _misfit(points: list[tuple[float, float, bool]], tau: float) -> float:
    """How badly threshold `tau` explains `points` (score, weight, wanted paid): their
    negative log-likelihood under the logistic model with its noise floor."""
    loss = 0.0
    for score, n, paid in points:
        z = SLOPE * (score - tau)
        z = z if paid else -z
        p = 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0
        loss -= n * math.log(NOISE + (1 - 2 * NOISE) * p)
    return loss


def changed_mind(points: list[tuple[float, float, bool]], tau: float, base: float) -> bool:
    """Whether a type's latest outcomes (`points`) say the user's threshold is no longer
    `tau`, the one all its points give: a threshold of their own (as far as they lie, as
    `fit` bounds it) explains them better by CHANGE_EVIDENCE, a log-likelihood ratio (the
    noise floor bounds what one flipped outcome adds to it: about 1.7)."""
    at_tau = _misfit(points, tau)
    within = _within(points, base)
    return any(at_tau - _misfit(points, base + s) > CHANGE_EVIDENCE for s in within)


@dataclass(slots=True)
class Taught:
    """The point one route's outcome added: its task type, score bin and side, and what it
    weighs now (halving a type's points halves it)."""

    task_type: str
    key: str
    paid: bool
    weight: float = 1.0


def _binned(taught: list[Taught]) -> list[tuple[float, float, bool]]:
    """The points `taught`, as (score, weight, wanted paid) summed per bin and side."""
    sums: dict[tuple[str, bool], float] = {}
    for p in taught:
        sums[p.key, p.paid] = sums.get((p.key, p.paid), 0.0) + p.weight
    return [(float(key), n, paid) for (key, paid), n in sums.items()]


@dataclass(slots=True)
class Calibration:
    """Threshold shifts per task type for one workspace. `shift(t)` is added to the
    threshold: negative sends more of that type to paid."""

    base_threshold: float = DEFAULT_ROUTE_THRESHOLD
    types: dict[str, TypeCalibration] = field(default_factory=dict)
    updated: str | None = None
    # trace id -> the point its latest outcome added, oldest first, while it weighs MIN_WEIGHT
    taught: dict[str, Taught] = field(default_factory=dict)

    def shift(self, task_type: str) -> float:
        t = self.types.get(task_type)
        return t.shift if t is not None else 0.0

    def outcomes(self, task_type: str) -> int:
        t = self.types.get(task_type)
        return int(t.outcomes) if t is not None else 0

    def record(
        self,
        task_type: str,
        score: float,
        routed_paid: bool,
        outcome: Outcome,
        *,
        trace_id: str | None = None,
    ) -> bool:
        """Learn from one outcome saved on the route `trace_id`: the latest outcome of a route
        is the one in force, so the point this route taught before is taken back first. True
        when the state changed."""
        paid = wanted_paid(outcome, routed_paid)
        if paid is None:
            return self.take_back(trace_id) if trace_id else False
        if trace_id:
            self.take_back(trace_id)
        t = self.types.setdefault(task_type, TypeCalibration())
        key = _bin(min(2.0, max(-1.0, score)))
        if trace_id:
            self.taught[trace_id] = Taught(task_type, key, paid)
        if t.add(key, paid):  # this point too
            self._scale_routes(task_type, 0.5)
        t.shift = t.fit(self.base_threshold)
        latest = self._latest(task_type, WINDOWS[-1])
        tau = self.base_threshold + t.shift
        for n in WINDOWS:
            recent = latest[:n]
            if len(recent) == n and changed_mind(_binned(recent), tau, self.base_threshold):
                t.forget_older(recent, FORGET)
                self._scale_routes(task_type, FORGET, keep=recent)
                t.shift = t.fit(self.base_threshold)
                break
        self.updated = datetime.now(UTC).isoformat(timespec="seconds")
        return True

    def _latest(self, task_type: str, n: int) -> list[Taught]:
        """The points the latest `n` routes of `task_type` taught (routes with a trace id)."""
        out: list[Taught] = []
        for p in reversed(self.taught.values()):
            if p.task_type == task_type:
                out.append(p)
                if len(out) == n:
                    break
        return out

    def _scale_routes(self, task_type: str, factor: float, keep: Sequence[Taught] = ()) -> None:
        """What each route of `task_type` (but those in `keep`) may take back, times
        `factor`; a route left under MIN_WEIGHT is forgotten."""
        kept = {id(p) for p in keep}
        for p in self.taught.values():
            if p.task_type == task_type and id(p) not in kept:
                p.weight *= factor
        self.taught = {k: v for k, v in self.taught.items() if v.weight >= MIN_WEIGHT}

    def take_back(self, trace_id: str) -> bool:
        """Take back the point route `trace_id` taught since the file was made (a reset
        deletes it), if it taught one; True when it did."""
        taught = self.taught.pop(trace_id, None)
        t = self.types.get(taught.task_type) if taught is not None else None
        if taught is None or t is None:
            return False
        t.remove(taught.key, taught.paid, taught.weight)
        t.shift = t.fit(self.base_threshold)
        self.updated = datetime.now(UTC).isoformat(timespec="seconds")
        return True

    def merged(self, other: Calibration) -> Calibration:
        """This and `other` as one (two keys found to name the same model): the points of
        both, each type refitted; `other`'s point wins where both hold one of the same route
        (a route teaches one model at a time, so only a hand-edited file has both)."""
        for trace_id in self.taught.keys() & other.taught.keys():
            point = self.taught.pop(trace_id)
            if (t := self.types.get(point.task_type)) is not None:
                t.remove(point.key, point.paid, point.weight)
        for name, theirs in other.types.items():
            t = self.types.setdefault(name, TypeCalibration())
            for mine, more in (
                (t.wanted_paid, theirs.wanted_paid),
                (t.wanted_local, theirs.wanted_local),
            ):
                for key, n in more.items():
                    mine[key] = mine.get(key, 0.0) + n
            t.outcomes += theirs.outcomes
            t.shift = t.fit(self.base_threshold)
        self.taught |= other.taught
        self.updated = max(filter(None, (self.updated, other.updated)), default=None)
        return self

    # ---- one model's part of the file (calibration_file.Calibrations writes the file) -----
    def to_json(self) -> dict[str, Any]:
        return {
            "updated": self.updated,
            "task_types": {
                name: {
                    "shift": t.shift,
                    "threshold": round(self.base_threshold + t.shift, 2),
                    "outcomes": round(t.outcomes, 2),
                    "wanted_paid": dict(sorted(t.wanted_paid.items())),
                    "wanted_local": dict(sorted(t.wanted_local.items())),
                }
                for name, t in sorted(self.types.items())
            },
            # Per task type, route -> [bin, wanted, weight if not 1], one line each: up to
            # about 800 routes a busy type, so about 50 KB (a dict of four named fields each,
            # `taught_by_route` before, took 125 bytes a route: 100 KB).
            "routes": {
                name: {
                    trace_id: [t.key, "paid" if t.paid else "local"]
                    + ([t.weight] if t.weight != 1.0 else [])
                    for trace_id, t in self.taught.items()
                    if t.task_type == name
                }
                for name in sorted({t.task_type for t in self.taught.values()})
            },
        }

    @classmethod
    def from_json(
        cls, raw: dict[str, Any], base_threshold: float = DEFAULT_ROUTE_THRESHOLD
    ) -> Calibration:
        """One model's part of the file, or the whole of a file of format 1 (one for all)."""
        cal = cls(base_threshold, updated=raw.get("updated"))
        for name, t in dict(raw.get("task_types") or {}).items():
            cal.types[str(name)] = TypeCalibration(
                shift=max(-CAP, min(CAP, float(t.get("shift", 0.0)))),
                outcomes=float(t.get("outcomes", 0.0)),
                wanted_paid={str(k): float(v) for k, v in dict(t.get("wanted_paid", {})).items()},
                wanted_local={str(k): float(v) for k, v in dict(t.get("wanted_local", {})).items()},
            )
        # A file from before routes were remembered: its points stay, none is taken back.
        for trace_id, t in dict(raw.get("taught_by_route") or {}).items():  # before "routes"
            key, paid = _bin(float(t["bin"])), t["wanted"] == "paid"
            cal.taught[str(trace_id)] = Taught(str(t["task_type"]), key, paid, float(t["weight"]))
        for name, routes in dict(raw.get("routes") or {}).items():
            for trace_id, (key, wanted, *weight) in dict(routes).items():
                weighs = float(weight[0]) if weight else 1.0
                point = Taught(str(name), _bin(float(key)), wanted == "paid", weighs)
                cal.taught[str(trace_id)] = point
        return cal

    def explain(self) -> list[str]:
        """A line per task type, as `ocp-server routing explain` prints them."""
        lines = []
        for name, t in sorted(self.types.items()):
            paid = sum(t.wanted_paid.values())
            local = sum(t.wanted_local.values())
            direction = "more paid" if t.shift < 0 else "more local" if t.shift > 0 else "no change"
            lines.append(
                f"  {name:<12} threshold {self.base_threshold + t.shift:.2f} "
                f"({t.shift:+.2f}, {direction}) from {t.outcomes:g} outcomes: "
                f"{paid:g} wanted paid, {local:g} wanted local"
            )
        return lines
