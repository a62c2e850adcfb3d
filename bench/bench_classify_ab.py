"""Cold classify() A/B: two source trees of ocp_router, timed in alternating processes.

    uv run python bench/bench_classify_ab.py /work/main                # main against this tree
    uv run python bench/bench_classify_ab.py /work/main --rounds 8 --sizes short

On a shared machine one timing says little: each round runs one child process per tree (in
alternating order), each child times cold calls (cache off, a text never seen before) on the
texts of bench_routing.py, and the table shows the median over rounds of each child's p50,
with the load average before and after. Instruction counts, which load does not move, are
a separate matter (valgrind --tool=cachegrind on one child: `--child A_ROOT short 1000`).

First both trees classify the same check set (every labeled request and payload user turn in
tests/data, each also upper-cased, title-cased and broken into lines, and the timed texts)
and must give identical results: score, verdict, raw score, families, task type, signals
(exact floats) and the explanation; `--no-check` skips this, `--check-only` does only this.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

HERE = Path(__file__).resolve().parents[1]
CALLS = {"short": 2000, "medium": 600, "long": 200}


def texts(size: str, n: int, tag: str) -> list[str]:
    """bench_routing.py's texts of one size, each made new by a number and a tag."""
    if size == "short":
        return [f"{tag} why do {i} workers sometimes pick up the same job after we added retries?"
                for i in range(n)]  # fmt: skip
    if size == "medium":
        body = "\n".join(
            f"    total_{k} = compute(items[{k}], rate=self.rate_{k})  # step {k}"
            for k in range(40)
        )
        return [
            f"{tag} {i} what does this function return?\n```python\ndef run(self):\n{body}\n```"
            for i in range(n)
        ]
    log = "\n".join(
        f"2024-05-01T12:{k % 60:02d}:44.123Z INFO worker-{k % 7} processed job {k} in "
        f"12ms path=/srv/app/jobs/handler_{k % 13}.py lock=held"
        for k in range(900)
    )
    return [(f"{tag} {i} which line of this log shows the first error?\n" + log)[:100_000]
            for i in range(n)]  # fmt: skip


def child(root: str, size: str, n: int) -> None:
    """Runs in the child: import ocp_router from `root`, time `n` cold calls, print µs."""
    sys.path.insert(0, str(Path(root) / "ocp_router" / "src"))
    from ocp_router import TaskClassifier

    clf = TaskClassifier(cache_size=0)
    for t in texts(size, 50, "warmup"):
        clf.classify(t)
    todo = texts(size, n, "cold")
    clock = time.perf_counter_ns
    samples = []
    for t in todo:
        t0 = clock()
        clf.classify(t)
        samples.append((clock() - t0) / 1000)
    print(json.dumps({"p50": statistics.median(samples)}))


def check_texts() -> list[str]:
    """The texts both trees must judge identically (read from this tree's tests/data)."""
    sys.path.insert(0, str(HERE))
    from ocp_router import parse_payload
    from tests.data.payloads import load_payloads
    from tests.data.routing_sets import NEVER_TRAINED_ON, TRAINED_ON
    from tests.data.routing_sets import texts as labelled

    plain = labelled(TRAINED_ON + NEVER_TRAINED_ON)
    for name in ("routing_payloads_dev.jsonl", "routing_payloads_holdout.jsonl"):
        for item in load_payloads(name):
            body = {k: v for k, v in item.payload.items() if k != "format"}
            plain.append(parse_payload(body).user_turn)
    variants = [v for t in plain for v in (t.upper(), t.title(), t.replace(" ", "\n"))]
    timed = [t for size in CALLS for t in texts(size, 10, "check")]
    return plain + variants + timed


def dump(root: str, texts_file: str, out_file: str) -> None:
    """Runs in the child: every result of `root`'s classifier on the texts, as text."""
    sys.path.insert(0, str(Path(root) / "ocp_router" / "src"))
    from ocp_router import TaskClassifier

    clf = TaskClassifier(cache_size=0)
    rows = []
    for text in json.loads(Path(texts_file).read_text("utf-8")):
        result = clf.classify(text)
        rows.append(repr((result._asdict(), result.explain())))
    Path(out_file).write_text(json.dumps(rows), "utf-8")


def check(a: str, b: str) -> bool:
    """Whether trees `a` and `b` give identical results on the check set (says which not)."""
    todo = check_texts()
    with tempfile.TemporaryDirectory() as tmp:
        texts_file = Path(tmp) / "texts.json"
        texts_file.write_text(json.dumps(todo), "utf-8")
        results = []
        for n, root in enumerate((a, b)):
            out = Path(tmp) / f"{n}.json"
            subprocess.run(
                [sys.executable, __file__, "--dump", root, str(texts_file), str(out)],
                check=True,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
            results.append(json.loads(out.read_text("utf-8")))
    differ = [i for i, (x, y) in enumerate(zip(*results, strict=True)) if x != y]
    if differ:
        i = differ[0]
        print(f"results differ on {len(differ)} of {len(todo)} texts, first {todo[i][:200]!r}:")
        print(f"  A: {results[0][i]}\n  B: {results[1][i]}")
        return False
    print(f"results identical on all {len(todo)} texts")
    return True


def run_child(root: str, size: str) -> float:
    out = subprocess.run(
        [sys.executable, __file__, "--child", root, size, str(CALLS[size])],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    return float(json.loads(out.stdout)["p50"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", nargs="?", help="the tree to compare against (e.g. /work/main)")
    parser.add_argument("b", nargs="?", default=str(HERE), help="default: this tree")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--sizes", default="short,medium,long")
    parser.add_argument("--no-check", action="store_true", help="skip the identity check")
    parser.add_argument("--check-only", action="store_true", help="only the identity check")
    parser.add_argument("--child", nargs=3, metavar=("ROOT", "SIZE", "N"))
    parser.add_argument("--dump", nargs=3, metavar=("ROOT", "TEXTS", "OUT"))
    args = parser.parse_args()
    if args.child:
        root, size, n = args.child
        child(root, size, int(n))
        return
    if args.dump:
        dump(*args.dump)
        return
    if not args.a:
        parser.error("name the tree to compare against")
    if not args.no_check and not check(args.a, args.b):
        sys.exit(1)
    if args.check_only:
        return
    load_before = os.getloadavg()
    table = Table(title=f"cold classify() p50 µs, median of {args.rounds} alternating rounds")
    for col in ("size", "A " + args.a, "B " + args.b, "B / A"):
        table.add_column(col)
    for size in args.sizes.split(","):
        a_runs, b_runs = [], []
        for r in range(args.rounds):
            first, second = (args.a, args.b) if r % 2 == 0 else (args.b, args.a)
            got = {first: run_child(first, size), second: run_child(second, size)}
            a_runs.append(got[args.a])
            b_runs.append(got[args.b])
        a, b = statistics.median(a_runs), statistics.median(b_runs)
        table.add_row(size, f"{a:.1f}", f"{b:.1f}", f"{b / a:.2f}")
    Console().print(table)
    load = ", ".join(f"{x:.2f}" for x in load_before)
    print(f"load average before: {load}; after: " + ", ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
