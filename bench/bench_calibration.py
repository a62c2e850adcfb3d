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

A second table: the user switches local model after `CHANGE` routes (to a stronger one, with
the needs above) and back after `SWITCH_BACK` more, with the calibration kept per local model
(as shipped) or one for every model (as before); `--new-model-from-others F` measures a model
not seen yet starting from the last model's points scaled by F rather than from the defaults.

Printed per scenario (mean over seeds, worst in brackets): routes until routing agrees with
the user on `TARGET` of the requests, agreement at the end of each phase, and the most one
noisy (flipped) outcome moved a threshold once 100 routes had been learned:

    uv run python bench/bench_calibration.py [--seeds N] [--only change|switch]
        [--change-evidence RATIO] [--forget FACTOR]

docs/routing-rounds.md keeps what ways of forgetting old outcomes this measured, which one was
kept (forgetting when the latest outcomes disagree) and what its settings measured.
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

from ocp_router import (  # noqa: E402
    AgentPayload,
    TaskClassifier,
    Tier,
    assess,
    calibration,
    parse_payload,
)
from ocp_router.calibration import (  # noqa: E402
    Calibration,
    Outcome,
    TypeCalibration,
    parse_outcome,
)
from ocp_router.calibration_file import NO_MODEL, CalibrationFile, Calibrations  # noqa: E402
from tests.data.simulated_user import PREFERENCES  # noqa: E402

DATA = ROOT / "tests" / "data"
TARGET = 0.95
CHANGE = 600  # routes before the user's needs change (or they switch local model)
SWITCH_BACK = 400  # routes on the stronger model, and then on the weaker one again
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


def routed_paid(r: Request, classifier: TaskClassifier, file: CalibrationFile, model: str) -> bool:
    return assess(r.payload, classifier, calibration=file.current(model)).tier is not Tier.LOCAL


def agreement(
    reqs: list[Request],
    classifier: TaskClassifier,
    file: CalibrationFile,
    prefs: dict[str, float],
    model: str = NO_MODEL,
) -> float:
    ok = sum(
        routed_paid(r, classifier, file, model) == (r.raw_score >= prefs.get(r.task_type, 0.5))
        for r in reqs
    )
    return ok / len(reqs)


@dataclass
class Phase:
    routes: int
    prefs: dict[str, float]
    model: str  # the local model the user runs (model_key)


@dataclass
class Run:
    reached: list[int | None]  # per phase: routes into it until agreement reached TARGET
    ends: list[float]  # per phase: agreement at its end
    swing: float = 0.0  # the most one flipped outcome moved a threshold, routes 100-600


def simulate(
    reqs: list[Request],
    classifier: TaskClassifier,
    phases: list[Phase],
    *,
    noise: float,
    seed: int,
    root: Path,
    keyed: bool = True,
) -> Run:
    """`keyed` False: every outcome teaches one calibration whatever the model (as before
    calibrations were kept per local model)."""
    rng = random.Random(seed)
    file = CalibrationFile(root / f"cal-{seed}-{noise}-{keyed}-{len(phases)}.json")
    file.path.unlink(missing_ok=True)
    run = Run([], [])
    i = 0
    for phase in phases:
        model = phase.model if keyed else NO_MODEL
        reached: int | None = None
        a = 0.0
        for j in range(1, phase.routes + 1):
            i += 1
            r = rng.choice(reqs)
            paid = routed_paid(r, classifier, file, model)
            wants = r.raw_score >= phase.prefs.get(r.task_type, 0.5)
            flipped = rng.random() < noise
            wants = wants != flipped
            if paid:
                kind = Outcome.GOOD if wants else Outcome.OVERKILL
            else:
                kind = rng.choice((Outcome.BAD, Outcome.ESCALATED)) if wants else Outcome.GOOD
            note = NOTES[kind]
            assert parse_outcome(note) is kind
            learned = file.learn(
                r.task_type, r.raw_score, paid, kind, trace_id=f"{seed}-{i}", model=model
            )
            if learned is not None and flipped and 100 < i <= CHANGE:
                run.swing = max(run.swing, abs(learned.after - learned.before))
            if j % CHECK == 0:
                a = agreement(reqs, classifier, file, phase.prefs, model)
                if reached is None and a >= TARGET:
                    reached = j
        run.reached.append(reached)
        run.ends.append(a)
    return run


def _routes(values: list[int | None]) -> str:
    if any(v is None for v in values):
        reached = [v for v in values if v is not None]
        return f"not reached in {len(values) - len(reached)} of {len(values)}"
    ints = [v for v in values if v is not None]
    return f"{statistics.mean(ints):.0f} ({max(ints)})"


WEAK, STRONG = "llama3.2:1b @ http://localhost:11434", "qwen2.5-coder:32b @ http://localhost:11434"


def stronger(file_base: float = 0.5) -> dict[str, float]:
    """The user's needs with a stronger local model: the hard kinds paid from 0.6, the
    everyday ones from 0.7."""
    return {t: 0.6 if v < file_base else 0.7 for t, v in PREFERENCES.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--only", choices=("change", "switch"), help="one of the two tables")
    parser.add_argument(
        "--new-model-from-others",
        type=float,
        metavar="FACTOR",
        help="measured, not kept: a model not seen yet starts from the points of the model "
        "taught last, scaled by FACTOR, rather than from the defaults",
    )
    parser.add_argument(
        "--change-evidence",
        type=float,
        metavar="RATIO",
        help="measured: the log-likelihood ratio by which the latest outcomes must disagree "
        f"before older ones are forgotten (shipped: {calibration.CHANGE_EVIDENCE:g}; 1e9: never, "
        "as before)",
    )
    parser.add_argument(
        "--forget",
        type=float,
        metavar="FACTOR",
        help=f"measured: what older outcomes then weigh (shipped: {calibration.FORGET:g})",
    )
    args = parser.parse_args()
    if args.change_evidence is not None:
        calibration.CHANGE_EVIDENCE = args.change_evidence
    if args.forget is not None:
        calibration.FORGET = args.forget
    if args.new_model_from_others is not None:
        _start_new_models_from_others(args.new_model_from_others)
    classifier = TaskClassifier()
    reqs = dev_requests(classifier)
    seeds = range(args.seeds)
    print(
        f"{len(reqs)} dev requests (not forced); routes until {TARGET:.0%} agreement, mean "
        f"(worst) of {args.seeds} seeds"
    )
    print(f"at the start (defaults): {_start(reqs, classifier):.3f} agreement")
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "switch":
            print(f"\nthe user's needs change after {CHANGE} routes (the same local model)")
            header = ("noise", "routes to match", f"at {CHANGE}", "after change", "at end", "swing")
            print(" | ".join(header))
            change = [
                Phase(CHANGE, PREFERENCES, WEAK),
                Phase(STEPS - CHANGE, stronger(), WEAK),
            ]
            for noise in (0.0, 0.1, 0.2):
                runs = [
                    simulate(reqs, classifier, change, noise=noise, seed=s, root=Path(tmp))
                    for s in seeds
                ]
                print(
                    " | ".join(
                        (
                            f"{noise:.0%}",
                            _routes([r.reached[0] for r in runs]),
                            f"{statistics.mean(r.ends[0] for r in runs):.3f}",
                            _routes([r.reached[1] for r in runs]),
                            f"{statistics.mean(r.ends[1] for r in runs):.3f}",
                            f"{max(r.swing for r in runs):.2f}",
                        )
                    ),
                    flush=True,
                )
        if args.only != "change":
            print(
                f"\nthe user switches local model after {CHANGE} routes (to a stronger one: "
                f"needs as above), and back after {SWITCH_BACK} more; routes into each model's "
                "run until it matches, and agreement at its end"
            )
            print("calibration | noise | weak | strong | weak again")
            switch = [
                Phase(CHANGE, PREFERENCES, WEAK),
                Phase(SWITCH_BACK, stronger(), STRONG),
                Phase(SWITCH_BACK, PREFERENCES, WEAK),
            ]
            # A new model's start changes nothing for one calibration shared by every model.
            shared = () if args.new_model_from_others is not None else (False,)
            for keyed in (*shared, True):
                for noise in (0.0, 0.1, 0.2):
                    runs = [
                        simulate(
                            reqs,
                            classifier,
                            switch,
                            noise=noise,
                            seed=s,
                            root=Path(tmp),
                            keyed=keyed,
                        )
                        for s in seeds
                    ]
                    cells = [
                        f"{_routes([r.reached[k] for r in runs])}, "
                        f"{statistics.mean(r.ends[k] for r in runs):.3f}"
                        for k in range(3)
                    ]
                    label = "per local model" if keyed else "one for every model"
                    print(" | ".join((label, f"{noise:.0%}", *cells)), flush=True)


def _start_new_models_from_others(factor: float) -> None:
    def new_model(self: Calibrations) -> Calibration:
        cal = Calibration(self.base_threshold)
        last = list(self.models.values())[-1] if self.models else None
        for name, t in (last.types if last is not None else {}).items():
            paid = {k: v * factor for k, v in t.wanted_paid.items()}
            local = {k: v * factor for k, v in t.wanted_local.items()}
            mine = TypeCalibration(0.0, sum(paid.values()) + sum(local.values()), paid, local)
            mine.shift = mine.fit(cal.base_threshold)
            cal.types[name] = mine
        return cal

    Calibrations.new_model = new_model  # type: ignore[method-assign]


def _start(reqs: list[Request], classifier: TaskClassifier) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        return agreement(reqs, classifier, CalibrationFile(Path(tmp) / "none.json"), PREFERENCES)


if __name__ == "__main__":
    main()
