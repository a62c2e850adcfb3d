"""TaskClassifier benchmark: latency by input size and routing quality on the labeled sets.

    uv run python bench/bench_classifier.py

Quality is reported on the training set (what the learned layer was fitted on) and on the
holdout set (never used for training or tuning), with the rules-only layer and the
always-local policy as baselines.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from rich.console import Console
from rich.table import Table

from ocp_router import Route, TaskClassifier
from ocp_router._rules import BULK, family, match_families
from ocp_router._text import split_request

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"


def _inputs() -> dict[str, str]:
    short = "why do two workers sometimes pick up the same job after we added retries to queue?"
    medium_code = "\n".join(
        f"    total_{i} = compute(items[{i}], rate=self.rate_{i})  # step {i}" for i in range(40)
    )
    medium = f"what does this function return?\n```python\ndef run(self):\n{medium_code}\n```"
    log = "\n".join(
        f"2024-05-01T12:{i % 60:02d}:44.123Z INFO worker-{i % 7} processed job {i} in 12ms "
        f"path=/srv/app/jobs/handler_{i % 13}.py lock=held"
        for i in range(900)
    )
    long = "which line of this log shows the first error?\n" + log
    return {"short (~100 B)": short, "medium (~2 KB)": medium, "long (~100 KB)": long[:100_000]}


def latency(clf: TaskClassifier, text: str, rounds: int) -> tuple[float, float]:
    for _ in range(50):
        clf.classify(text)
    samples = []
    for _ in range(rounds):
        t0 = time.perf_counter_ns()
        clf.classify(text)
        samples.append((time.perf_counter_ns() - t0) / 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def load(name: str) -> list[tuple[str, bool]]:
    rows = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            rows.append((item["text"], item["route"] == "paid"))
    return rows


def rules_only(text: str) -> float:
    split = split_request(text)
    lower = split.plain.lower()
    fired = match_families(lower)
    raw = sum((BULK if n == BULK.name else family(n)).weight for n in fired)
    return min(1.0, max(0.0, raw))


def quality(rows: list[tuple[str, bool]], score: Callable[[str], float]) -> dict[str, float]:
    scores = [(score(t), y) for t, y in rows]
    tp = sum(1 for s, y in scores if s >= 0.5 and y)
    fp = sum(1 for s, y in scores if s >= 0.5 and not y)
    fn = sum(1 for s, y in scores if s < 0.5 and y)
    acc = sum(1 for s, y in scores if (s >= 0.5) == y) / len(scores)
    pos = [s for s, y in scores if y]
    neg = [s for s, y in scores if not y]
    auc = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg) / (len(pos) * len(neg))
    return {
        "n": len(rows),
        "accuracy": acc,
        "paid precision": tp / (tp + fp) if tp + fp else 0.0,
        "paid recall": tp / (tp + fn) if tp + fn else 0.0,
        "ROC AUC": auc,
    }


def main() -> None:
    console = Console()
    clf = TaskClassifier()

    # The same text again and again: with the result cache on every call after the first is
    # a hit, so the cache is off here (bench/bench_routing.py times never-seen texts, and
    # cache hits apart).
    cold = TaskClassifier(cache_size=0)
    lat = Table(title="classify() latency, result cache off (µs)")
    for col in ("input", "bytes", "p50", "p99"):
        lat.add_column(col, justify="right")
    for name, text in _inputs().items():
        rounds = 3000 if len(text) < 10_000 else 300
        p50, p99 = latency(cold, text, rounds)
        lat.add_row(name, f"{len(text.encode()):,}", f"{p50:,.1f}", f"{p99:,.1f}")
    console.print(lat)

    q = Table(title="routing quality (threshold 0.5)")
    for col in ("set", "policy", "n", "accuracy", "paid precision", "paid recall", "ROC AUC"):
        q.add_column(col, justify="right")
    policies: dict[str, Callable[[str], float]] = {
        "always local": lambda t: 0.0,
        "rules only": rules_only,
        "TaskClassifier": lambda t: clf.classify(t).complexity_score,
    }
    for set_name in ("routing_train.jsonl", "routing_holdout.jsonl"):
        rows = load(set_name)
        for policy, fn in policies.items():
            m = quality(rows, fn)
            q.add_row(
                set_name.removesuffix(".jsonl").removeprefix("routing_"),
                policy,
                str(m["n"]),
                *(f"{m[k]:.3f}" for k in ("accuracy", "paid precision", "paid recall", "ROC AUC")),
            )
    console.print(q)
    assert clf.classify("x").route_to is Route.LOCAL


if __name__ == "__main__":
    main()
