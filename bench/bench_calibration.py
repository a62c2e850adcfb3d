"""How fast routing learns a user's outcomes, and follows a change of mind.

A simulated user with a hidden rule (per task type, the phase 1 raw score from which they want
the paid model: `tests/data/simulated_user.PREFERENCES`) sends requests drawn from the routing
dev set (the 468 labeled requests of the held-out-source figures, less those forced paid).
Each is routed by phase 1 (`ocp_router.assess`) with the workspace's calibration in force, and
the user's outcome ("good", "wrong: …", "escalated: …", "overkill: …"; a share flipped at
random) is saved through `CalibrationFile.learn` on the route's trace id: the calls
`ocp_model_route` and `ocp_result_save` make, the file and its lock included. After `CHANGE`
routes the user's needs change: a stronger local model takes the hard kinds (debugging,
security…) up to a score of 0.6, and the everyday kinds, which it wanted local up to
0.9-0.95, now go paid from 0.7.

Printed per scenario (mean over seeds, worst in brackets): routes until routing agrees with
the user on `TARGET` of the requests, agreement at the end of each phase, and the most one
noisy (flipped) outcome moved a threshold once 100 routes had been learned:

    uv run python bench/bench_calibration.py [--seeds N]

docs/routing-rounds.md keeps what ways of forgetting old outcomes this measured, and why none
was kept.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_router import AgentPayload, TaskClassifier, Tier, assess, parse_payload  # noqa: E402
from ocp_router.calibration import CalibrationFile, Outcome, parse_outcome  # noqa: E402
from tests.data.simulated_user import PREFERENCES  # noqa: E402

DATA = ROOT / "tests" / "data"
TARGET = 0.95
CHANGE = 600  # routes before the user's needs change
STEPS = 1200
CHECK = 10  # agreement is measured every this many routes
NOTES = {
    Outcome.GOOD: "good",
    Outcome.BAD: "wrong: should have gone paid",
    Outcome.ESCALATED: "escalated: re-asked on the paid model",
    Outcome.OVERKILL: "overkill: local would do",
}


@dataclass(frozen=True)
class Request:
    payload: AgentPayload
    raw_score: float
    task_type: str


def dev_requests(classifier: TaskClassifier) -> list[Request]:
    out = []
    for name in sorted(p.name for p in DATA.glob("routing_sources*.jsonl")):
        for line in (DATA / name).read_text("utf-8").splitlines():
            if line.strip():
                payload = parse_payload(json.loads(line)["text"])
                a = assess(payload, classifier)
                if not a.forced:  # a forced route teaches nothing and no outcome moves it
                    out.append(Request(payload, a.raw_score, a.classify.task_type.value))
    return out


def routed_paid(r: Request, classifier: TaskClassifier, file: CalibrationFile) -> bool:
    return assess(r.payload, classifier, calibration=file.current()).tier is not Tier.LOCAL


def agreement(
    reqs: list[Request], classifier: TaskClassifier, file: CalibrationFile, prefs: dict[str, float]
) -> float:
    ok = sum(
        routed_paid(r, classifier, file) == (r.raw_score >= prefs.get(r.task_type, 0.5))
        for r in reqs
    )
    return ok / len(reqs)


@dataclass
class Run:
    first: int | None = None  # routes until agreement reached TARGET
    after_change: int | None = None  # routes after the change until it did again
    end_first: float = 0.0
    end: float = 0.0
    swing: float = 0.0  # the most one flipped outcome moved a threshold, after 100 routes


def simulate(
    reqs: list[Request], classifier: TaskClassifier, *, noise: float, seed: int, root: Path
) -> Run:
    rng = random.Random(seed)
    file = CalibrationFile(root / f"cal-{seed}-{noise}.json")
    changed = {t: 0.6 if v < file.base_threshold else 0.7 for t, v in PREFERENCES.items()}
    run = Run()
    for i in range(1, STEPS + 1):
        prefs = PREFERENCES if i <= CHANGE else changed
        r = rng.choice(reqs)
        paid = routed_paid(r, classifier, file)
        wants = r.raw_score >= prefs.get(r.task_type, 0.5)
        flipped = rng.random() < noise
        wants = wants != flipped
        if paid:
            kind = Outcome.GOOD if wants else Outcome.OVERKILL
        else:
            kind = rng.choice((Outcome.BAD, Outcome.ESCALATED)) if wants else Outcome.GOOD
        note = NOTES[kind]
        assert parse_outcome(note) is kind
        learned = file.learn(r.task_type, r.raw_score, paid, kind, trace_id=f"{seed}-{i}")
        if learned is not None and flipped and 100 < i <= CHANGE:
            run.swing = max(run.swing, abs(learned.after - learned.before))
        if i % CHECK == 0:
            a = agreement(reqs, classifier, file, prefs)
            if i <= CHANGE and run.first is None and a >= TARGET:
                run.first = i
            if i > CHANGE and run.after_change is None and a >= TARGET:
                run.after_change = i - CHANGE
            if i == CHANGE:
                run.end_first = a
            run.end = a
    return run


def _routes(values: list[int | None]) -> str:
    if any(v is None for v in values):
        reached = [v for v in values if v is not None]
        return f"not reached in {len(values) - len(reached)} of {len(values)}"
    ints = [v for v in values if v is not None]
    return f"{statistics.mean(ints):.0f} ({max(ints)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    args = parser.parse_args()
    classifier = TaskClassifier()
    reqs = dev_requests(classifier)
    print(
        f"{len(reqs)} dev requests (not forced); the user's needs change "
        f"after {CHANGE} routes; routes until {TARGET:.0%} agreement, mean (worst) of "
        f"{args.seeds} seeds"
    )
    print(f"at the start (defaults): {_start(reqs, classifier):.3f} agreement")
    header = ("outcome noise", "routes to match", f"at {CHANGE}", "after change", "at end", "swing")
    print(" | ".join(header))
    with tempfile.TemporaryDirectory() as tmp:
        for noise in (0.0, 0.1, 0.2):
            runs = [
                simulate(reqs, classifier, noise=noise, seed=s, root=Path(tmp))
                for s in range(args.seeds)
            ]
            print(
                " | ".join(
                    (
                        f"{noise:.0%}",
                        _routes([r.first for r in runs]),
                        f"{statistics.mean(r.end_first for r in runs):.3f}",
                        _routes([r.after_change for r in runs]),
                        f"{statistics.mean(r.end for r in runs):.3f}",
                        f"{max(r.swing for r in runs):.2f}",
                    )
                ),
                flush=True,
            )


def _start(reqs: list[Request], classifier: TaskClassifier) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return agreement(reqs, classifier, CalibrationFile(Path(tmp) / "none.json"), PREFERENCES)


if __name__ == "__main__":
    main()
