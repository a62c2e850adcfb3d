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

The state is a small JSON file a person can read (points are kept as counts per score bin, at
most 151 bins per task type, halved when a type passes 400 outcomes so recent ones weigh
more). `ocp-server routing explain` prints it; `ocp-server routing reset` deletes it.

The file also says which route (trace id) taught each of its points, one line a route (about
50 KB for a busy task type at most: `bench/bench_calibration_size.py`): the latest outcome saved
on a route is the one in force, so a new one takes back the point its route taught before, and
only that one (never another route's point in the same bin, nor a point a reset already
deleted). A route is forgotten when its point is, as halving shrinks it below a quarter.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from ocp_router.tiers import DEFAULT_ROUTE_THRESHOLD

FORMAT = "ocp-routing-calibration/1"
FILE_NAME = "routing-calibration.json"
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
        points = [(float(k), n, 1.0) for k, n in self.wanted_paid.items()]
        points += [(float(k), n, 0.0) for k, n in self.wanted_local.items()]
        # A bin holds the scores within BIN/2 of its key: the bound routes all of them over.
        lowest = min((s for s, _, y in points if y), default=base) - BIN / 2
        highest = max((s for s, _, y in points if not y), default=base) + BIN / 2
        lo, hi = min(base, lowest) - 1e-9, max(base, highest) + 1e-9
        best, best_loss = 0.0, math.inf
        for shift in _GRID:
            tau = base + shift
            if not lo <= tau <= hi:
                continue
            loss = shift * shift / (2 * PRIOR_SD * PRIOR_SD)
            for score, n, y in points:
                z = SLOPE * (score - tau)
                z = z if y else -z
                p = 1.0 / (1.0 + math.exp(-z)) if z > -30 else 0.0
                loss -= n * math.log(NOISE + (1 - 2 * NOISE) * p)
            if loss < best_loss - 1e-12:
                best, best_loss = shift, loss
        return best


@dataclass(slots=True)
class Taught:
    """The point one route's outcome added: its task type, score bin and side, and what it
    weighs now (halving a type's points halves it)."""

    task_type: str
    key: str
    paid: bool
    weight: float = 1.0


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
            for taught in self.taught.values():
                if taught.task_type == task_type:
                    taught.weight /= 2
            self.taught = {k: v for k, v in self.taught.items() if v.weight >= MIN_WEIGHT}
        t.shift = t.fit(self.base_threshold)
        self.updated = datetime.now(UTC).isoformat(timespec="seconds")
        return True

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

    # ---- the file -------------------------------------------------------------------------
    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "about": "Per task type: the local/paid threshold shift learned from outcomes "
            "(negative: more paid). Delete this file, or run `ocp-server routing reset`, "
            "to go back to the defaults.",
            "base_threshold": self.base_threshold,
            "prior": {"sd": PRIOR_SD, "cap": CAP, "slope": SLOPE, "bin": BIN},
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
    def from_json(cls, raw: dict[str, Any]) -> Calibration:
        if raw.get("format") != FORMAT:
            raise ValueError(f"format: expected {FORMAT!r}, got {raw.get('format')!r}")
        cal = cls(
            float(raw.get("base_threshold", DEFAULT_ROUTE_THRESHOLD)), updated=raw.get("updated")
        )
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

    @classmethod
    def load(cls, path: Path, base_threshold: float = DEFAULT_ROUTE_THRESHOLD) -> Calibration:
        """The calibration stored at `path`; a fresh one when there is no file. A file that
        cannot be read raises ValueError naming it (it is never silently replaced)."""
        try:
            text = path.read_text("utf-8")
        except FileNotFoundError:
            return cls(base_threshold)
        try:
            return cls.from_json(json.loads(text))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise ValueError(
                f"{path}: not a routing calibration ({exc}); fix it or run "
                "`ocp-server routing reset`"
            ) from exc

    def save(self, path: Path) -> None:
        """Write atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        text = _json_text(self.to_json()) + "\n"
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".calibration-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def explain(self) -> str:
        """What a person reads in `ocp-server routing explain`."""
        if not self.types:
            return (
                f"No outcomes learned yet: every task type uses the default threshold "
                f"{self.base_threshold:.2f}."
            )
        lines = [
            f"Default threshold {self.base_threshold:.2f}; shifts learned from outcomes "
            f"(prior sd {PRIOR_SD}, cap ±{CAP}), last changed {self.updated or 'never'}:"
        ]
        for name, t in sorted(self.types.items()):
            paid = sum(t.wanted_paid.values())
            local = sum(t.wanted_local.values())
            direction = "more paid" if t.shift < 0 else "more local" if t.shift > 0 else "no change"
            lines.append(
                f"  {name:<12} threshold {self.base_threshold + t.shift:.2f} "
                f"({t.shift:+.2f}, {direction}) from {t.outcomes:g} outcomes: "
                f"{paid:g} wanted paid, {local:g} wanted local"
            )
        return "\n".join(lines)


def _json_text(value: Any, depth: int = 0) -> str:
    """`value` as JSON indented by one space a level, as `json.dumps(indent=1)`, but each
    list on one line: a route's point is one line of the file, not five."""
    if isinstance(value, dict) and value:
        pad = " " * (depth + 1)
        items = [f"{pad}{json.dumps(k)}: {_json_text(v, depth + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + " " * depth + "}"
    return json.dumps(value)


def calibration_path(state_dir: Path) -> Path:
    """Where a workspace's calibration lives: next to its database."""
    return state_dir / FILE_NAME


# How long a writer waits for another window's read-modify-write (a fit takes milliseconds).
LOCK_TIMEOUT_S = 10.0


def calibration_lock(path: Path, timeout: float = LOCK_TIMEOUT_S) -> FileLock:
    """The lock every writer of the calibration at `path` holds for its whole
    read-modify-write (an OS file lock on `<file>.lock`, so it holds across processes: every
    window of the IDE runs its own server on the same workspace)."""
    return FileLock(path.with_name(path.name + ".lock"), timeout=timeout)


@dataclass(frozen=True, slots=True)
class Learned:
    """What one outcome did to a task type's threshold."""

    task_type: str
    before: float
    after: float
    outcomes: int

    def __str__(self) -> str:
        return (
            f"{self.task_type} threshold {self.before:.2f} -> {self.after:.2f} "
            f"({self.outcomes} outcomes)"
        )


class CalibrationFile:
    """A workspace's calibration on disk. Re-read whenever the file changes, so
    `ocp-server routing reset` takes effect on the next route without a restart. A writer
    holds `calibration_lock` while it re-reads, updates and saves the file, so outcomes saved at
    the same instant by several windows (processes) all count.
    """

    def __init__(self, path: Path, base_threshold: float = DEFAULT_ROUTE_THRESHOLD) -> None:
        self.path = path
        self.base_threshold = base_threshold
        self._key: tuple[int, int] | None = None
        self._cal: Calibration | None = None
        self.error: str | None = None  # why the file could not be read, if it could not

    def current(self) -> Calibration | None:
        """The calibration in force; None when there is none (no file, or an unreadable one:
        routing then uses the defaults and `error` says why)."""
        try:
            st = self.path.stat()
        except FileNotFoundError:
            self._key, self._cal, self.error = None, None, None
            return None
        key = (st.st_mtime_ns, st.st_size)
        if key != self._key:
            self._key = key
            try:
                self._cal, self.error = Calibration.load(self.path, self.base_threshold), None
            except ValueError as exc:
                self._cal, self.error = None, str(exc)
        return self._cal

    def learn(
        self,
        task_type: str,
        score: float,
        routed_paid: bool,
        outcome: Outcome,
        *,
        trace_id: str | None = None,
    ) -> Learned | None:
        """Record one outcome saved on route `trace_id` (in place of the point that route
        taught before, as `Calibration.record`) and save; None when it says nothing about the
        tier, when the file on disk is unreadable (it is left for a person to look at), or
        when another writer held the lock past `LOCK_TIMEOUT_S` (`error` says so)."""
        if wanted_paid(outcome, routed_paid) is None:
            return None

        def record(cal: Calibration) -> bool:
            return cal.record(task_type, score, routed_paid, outcome, trace_id=trace_id)

        changed = self._changed(record, create=True)
        if changed is None:
            return None
        before, cal = changed
        after = cal.base_threshold + cal.shift(task_type)
        was = before.get(task_type, cal.base_threshold)  # a new type: the default
        return Learned(task_type, was, after, cal.outcomes(task_type))

    def take_back(self, trace_id: str) -> bool:
        """Take back the point route `trace_id` taught (its latest outcome says nothing about
        the tier) and save; True when there was one."""
        return self._changed(lambda cal: cal.take_back(trace_id), create=False) is not None

    def _changed(
        self, change: Callable[[Calibration], bool], *, create: bool
    ) -> tuple[dict[str, float], Calibration] | None:
        """Apply `change` to the file's calibration under its lock and save it when it
        changed: the thresholds before and the calibration after, or None (nothing changed,
        no file and `create` False, an unreadable file, or the lock held too long)."""
        try:
            with calibration_lock(self.path):
                # Re-read under the lock whatever the cached key says: another window may
                # have saved within the same mtime tick and size.
                self._key = None
                cal = self.current()
                if cal is None:
                    if self.error is not None or not create:
                        return None
                    cal = Calibration(self.base_threshold)
                before = {name: cal.base_threshold + t.shift for name, t in cal.types.items()}
                if not change(cal):
                    return None
                cal.save(self.path)
                st = self.path.stat()
        except Timeout:
            self.error = f"{self.path}: another writer held its lock over {LOCK_TIMEOUT_S:g} s"
            return None
        self._key, self._cal = (st.st_mtime_ns, st.st_size), cal
        return before, cal
