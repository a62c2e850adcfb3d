"""How large the routing calibration file grows on a busy workspace (item: bounded file).

Records N outcomes (random scores, uuid4 trace ids as route_record makes them, mostly one task
type) through CalibrationFile.learn, as saves do, and prints the file's size, its routes
remembered and the time one learn takes at the end (read, fit, write: what a save pays).

    uv run python bench/bench_calibration_size.py [--outcomes 3000] [--types 1]
"""

from __future__ import annotations

import argparse
import random
import tempfile
import time
import uuid
from pathlib import Path

from ocp_router.calibration import Outcome
from ocp_router.calibration_file import CalibrationFile


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--outcomes", type=int, default=3000)
    parser.add_argument("--types", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(7)
    kinds = [Outcome.GOOD, Outcome.GOOD, Outcome.BAD, Outcome.OVERKILL, Outcome.ESCALATED]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "routing-calibration.json"
        cal = CalibrationFile(path)
        peak = 0
        for n in range(args.outcomes):
            task = f"type{n % args.types}"
            cal.learn(
                task, rng.random(), rng.random() < 0.4, rng.choice(kinds), trace_id=uuid.uuid4().hex
            )
            peak = max(peak, path.stat().st_size)
        began = time.perf_counter()
        for _ in range(20):
            cal.learn("type0", rng.random(), False, Outcome.GOOD, trace_id=uuid.uuid4().hex)
        each = (time.perf_counter() - began) / 20
        current = cal.current()
        assert current is not None
        print(
            f"outcomes {args.outcomes}, types {args.types}: file {path.stat().st_size:,} bytes "
            f"(peak {peak:,}), routes remembered {len(current.taught):,}, "
            f"one learn {each * 1000:.1f} ms"
        )


if __name__ == "__main__":
    main()
