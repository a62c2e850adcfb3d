"""Routing benchmark: the classifier's latency cold and warm, phase 1 latency on whole agent
payloads, accuracy on request sources held out of training (leave-one-source-out) next to a
random split, routing quality with phase 1 alone and with phase 2 settling the ambiguous
band, and the learning curve of the per-workspace calibration.

    uv run python bench/bench_routing.py                      # phase 1 only
    uv run --group llama python bench/bench_routing.py --gemma
        # + phase 2 on Gemma 3 270M, served by llama.cpp (the CI's real model)
    uv run python bench/bench_routing.py --phase2-url http://127.0.0.1:11434 --phase2-ollama \\
        --phase2-model qwen2.5-coder:7b   # + phase 2 on any local model you run

Cold means the classifier's result cache is off (cache_size=0) and every timed call is
a text it has not been given before in that loop, so no cache anywhere answers it; warm is
the same text again with the cache on (an agent loop resending its user turn).

Labeled sets: the plain-request holdout (tests/data/routing_holdout.jsonl, never trained on),
29 fresh requests written after the last training and never trained or tuned on
(tests/data/routing_fresh.jsonl), and the agent-payload sets
(tests/data/routing_payloads_{dev,holdout}.jsonl: tool lists, long conversations, pasted
logs, agent system prompts). Phase-1 settings were looked at on the train and dev sets only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_router import (  # noqa: E402
    AgentPayload,
    Band,
    LLMClassifier,
    ModelBackend,
    OllamaBackend,
    OpenAIBackend,
    TaskClassifier,
    Tier,
    assess,
    parse_payload,
)
from ocp_router.calibration import Calibration  # noqa: E402
from ocp_router.classifier import _CACHED_CHARS  # noqa: E402
from tests.data.payloads import load_payloads  # noqa: E402
from tests.data.simulated_user import PREFERENCES, learning_curve, requests  # noqa: E402

sys.path.insert(0, str(ROOT / "scripts"))
import train_classifier as training  # noqa: E402

DATA = ROOT / "tests" / "data"
MARGIN = 0.25
TOP_THRESHOLD = 0.8


@dataclass(frozen=True)
class Item:
    id: str
    payload: AgentPayload
    route: str  # local | paid
    tier: str | None  # local | mid | top, when labeled


def plain_items(name: str) -> list[Item]:
    out = []
    for line in (DATA / name).read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            out.append(Item(row["id"], parse_payload(row["text"]), row["route"], None))
    return out


def payload_items(name: str) -> list[Item]:
    return [
        Item(
            p.id,
            parse_payload({k: v for k, v in p.payload.items() if k != "format"}),
            p.route,
            p.tier,
        )
        for p in load_payloads(name)
    ]


# ---- latency ---------------------------------------------------------------------------------
def conversation(last: str, system: str) -> list[dict[str, Any]]:
    msgs: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for i in range(19):
        role = "user" if i % 2 == 0 else "assistant"
        msgs.append(
            {"role": role, "content": f"turn {i}: we looked at the parser and the lexer. " * 6}
        )
    msgs.append({"role": "user", "content": last})
    return msgs


def percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)]


def latency_rows() -> list[tuple[str, float, float]]:
    texts = [
        json.loads(line)["text"]
        for name in ("routing_train.jsonl", "routing_holdout.jsonl")
        for line in (DATA / name).read_text("utf-8").splitlines()
        if line.strip()
    ]
    texts = [t for t in texts if len(t) < 400]
    system = "You are a helpful coding assistant. Answer concisely. " * 12
    payloads = [conversation(t, system) for t in texts]
    rows = []

    clf = TaskClassifier(cache_size=0)  # cold: every user turn is new
    for p in payloads[:50]:
        assess(parse_payload(p), clf, margin=MARGIN)
    cold = []
    for _ in range(5):
        for p in payloads:
            t0 = time.perf_counter_ns()
            assess(parse_payload(p), clf, margin=MARGIN)
            cold.append((time.perf_counter_ns() - t0) / 1000)
    rows.append(("20 messages, new user turn (cold)", *percentiles(cold)))

    warm_clf = TaskClassifier()
    p = payloads[0]
    for _ in range(100):
        assess(parse_payload(p), warm_clf, margin=MARGIN)
    warm = []
    for _ in range(5000):
        t0 = time.perf_counter_ns()
        assess(parse_payload(p), warm_clf, margin=MARGIN)
        warm.append((time.perf_counter_ns() - t0) / 1000)
    rows.append(("20 messages, same user turn (agent loop)", *percentiles(warm)))

    parse = []
    for _ in range(5):
        for p in payloads:
            t0 = time.perf_counter_ns()
            parse_payload(p)
            parse.append((time.perf_counter_ns() - t0) / 1000)
    rows.append(("  of which parsing the payload", *percentiles(parse)))

    agent = [it for it in load_payloads("routing_payloads_holdout.jsonl") if it.kind == "tools"]
    bodies = [{k: v for k, v in it.payload.items() if k != "format"} for it in agent]
    clf = TaskClassifier(cache_size=0)
    samples = []
    for _ in range(200):
        for body in bodies:
            t0 = time.perf_counter_ns()
            assess(parse_payload(body), clf, margin=MARGIN)
            samples.append((time.perf_counter_ns() - t0) / 1000)
    rows.append((f"agent payloads with tools ({len(bodies)} of them, cold)", *percentiles(samples)))
    return rows


def _sized_inputs() -> dict[str, list[str]]:
    """Texts of three sizes, each in 200 variants (a number changes in each), so that a cold
    loop never sees the same text twice."""

    def short(i: int) -> str:
        return f"why do {i} workers sometimes pick up the same job after we added retries?"

    def medium(i: int) -> str:
        body = "\n".join(
            f"    total_{k} = compute(items[{k}], rate=self.rate_{k})  # step {k + i}"
            for k in range(40)
        )
        return f"what does this function return?\n```python\ndef run(self):\n{body}\n```"

    def long(i: int) -> str:
        log = "\n".join(
            f"2024-05-01T12:{k % 60:02d}:44.123Z INFO worker-{k % 7} processed job {k + i} in "
            f"12ms path=/srv/app/jobs/handler_{k % 13}.py lock=held"
            for k in range(900)
        )
        return ("which line of this log shows the first error?\n" + log)[:100_000]

    return {
        "short (~80 B)": [short(i) for i in range(200)],
        "medium (~2 KB)": [medium(i) for i in range(200)],
        "long (~100 KB)": [long(i) for i in range(200)],
    }


def p50_p95_p99(samples: list[float]) -> tuple[float, float, float]:
    samples = sorted(samples)
    at = [samples[max(0, int(len(samples) * q) - 1)] for q in (0.95, 0.99)]
    return statistics.median(samples), at[0], at[1]


def classifier_latency_rows() -> list[tuple[str, str, float, float, float]]:
    rows = []
    for name, texts in _sized_inputs().items():
        rounds = 10 if "short" in name else 3 if "medium" in name else 1
        cold_clf = TaskClassifier(cache_size=0)
        for t in texts[:20]:
            cold_clf.classify(t + " warmup")  # imports, weights, compiled regexes
        cold = []
        for r in range(rounds):
            for t in texts:
                t = t if r == 0 else f"{r} {t}"
                t0 = time.perf_counter_ns()
                cold_clf.classify(t)
                cold.append((time.perf_counter_ns() - t0) / 1000)
        rows.append((name, "cold (cache off, new text)", *p50_p95_p99(cold)))
        # A result works out its signals, token estimate, task type and confidence when first
        # read (routing reads none of them; traces do): the same loop reading all four says
        # what a traced call costs.
        cold = []
        for r in range(rounds):
            for t in texts:
                t = f"read {r} {t}"
                t0 = time.perf_counter_ns()
                result = cold_clf.classify(t)
                _ = result.signals, result.estimated_tokens, result.task_type, result.confidence
                cold.append((time.perf_counter_ns() - t0) / 1000)
        rows.append((name, "cold, every field read (a trace)", *p50_p95_p99(cold)))
        warm_clf = TaskClassifier()
        warm_clf.classify(texts[0])
        warm = []
        for _ in range(2000):
            t0 = time.perf_counter_ns()
            warm_clf.classify(texts[0])
            warm.append((time.perf_counter_ns() - t0) / 1000)
        cached = len(texts[0]) <= _CACHED_CHARS
        kind = "warm (same text, cache hit)" if cached else "same text again (too long to cache)"
        rows.append((name, kind, *p50_p95_p99(warm)))
    return rows


# ---- generalisation --------------------------------------------------------------------------
# The sources of routing_sources.jsonl (the round before routing_sources_2.jsonl), pooled
# apart so the figure compares with the one reported then.
FIRST_SOURCES = frozenset(
    "chatty followup harness languages pasted-error scary-howto terse-ticket tool-why".split()
)


def group_split(console: Console) -> None:
    """Leave-one-source-out, nested: each source scored by a model trained on everything else
    (rules fixed, learned layer refitted) with L2 chosen on the other sources alone; the random
    5-fold split next to it; the shipped model on the original holdout."""
    items = training.load_all()
    seeds = [
        training.Item("seed", *training.rule_offset(text), target)
        for text, target in training.SEED_SCORES
    ]
    l2 = float(json.loads(training.OUT.read_text("utf-8"))["version"].rsplit("=", 1)[1])
    groups = sorted({it.source for it in items} - {"original-train"})
    loso = training.nested_loso(items, seeds, groups)
    table = Table(
        title="generalisation: accuracy and paid recall on requests from held-out sources"
    )
    for col in ("split", "n", "accuracy", "paid recall", "l2"):
        table.add_column(col, justify="right")
    zero = training.Score(0, 0, 0, 0)
    for g, (l2_g, sc) in loso.items():
        table.add_row(
            f"held out: {g}", str(sc.n), f"{sc.accuracy:.3f}", f"{sc.paid_recall:.3f}", str(l2_g)
        )
    for label, pooled, style in (
        ("leave-one-source-out (pooled)", sum((sc for _, sc in loso.values()), zero), "bold"),
        (
            "  of which the 15 older sources",
            sum((sc for g, (_, sc) in loso.items() if g in training.OLD_SOURCES), zero),
            "bold",
        ),
        (
            "  of which the first eight sources",
            sum((sc for g, (_, sc) in loso.items() if g in FIRST_SOURCES), zero),
            "",
        ),
    ):
        table.add_row(
            label,
            str(pooled.n),
            f"{pooled.accuracy:.3f}",
            f"{pooled.paid_recall:.3f}",
            "",
            style=style,
        )
    cv = training.random_cv(items, seeds, l2)
    table.add_row(
        "random 5-fold", str(cv.n), f"{cv.accuracy:.3f}", f"{cv.paid_recall:.3f}", str(l2)
    )
    clf = TaskClassifier(cache_size=0)
    hold = [
        json.loads(line)
        for line in (DATA / "routing_holdout.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    preds = [clf.classify(r["text"]).route_to.value for r in hold]
    paid = [p for p, r in zip(preds, hold, strict=True) if r["route"] == "paid"]
    table.add_row(
        "shipped model on routing_holdout",
        str(len(hold)),
        f"{sum(p == r['route'] for p, r in zip(preds, hold, strict=True)) / len(hold):.3f}",
        f"{paid.count('paid') / len(paid):.3f}",
        str(l2),
    )
    console.print(table)


# ---- learning from outcomes ------------------------------------------------------------------
MARKS = (0, 25, 50, 100, 150, 200, 300, 500)


def learning(console: Console, seeds: int = 5) -> None:
    reqs = requests()
    defaults = {t: Calibration().base_threshold for t in PREFERENCES}
    table = Table(
        title=f"calibration learning curve: agreement with a simulated user over "
        f"{len(reqs)} holdout requests (mean of {seeds} seeds; min in brackets)"
    )
    table.add_column("user / outcome noise")
    for m in MARKS:
        table.add_column(f"{m}", justify="right")
    for label, prefs, noise in (
        ("hidden preferences, exact outcomes", PREFERENCES, 0.0),
        ("hidden preferences, 20% flipped", PREFERENCES, 0.2),
        ("agrees with defaults, 20% flipped", defaults, 0.2),
    ):
        curves = [
            learning_curve(reqs, prefs, noise=noise, steps=MARKS[-1], seed=s, marks=MARKS)[0]
            for s in range(seeds)
        ]
        table.add_row(
            label,
            *(
                f"{statistics.mean(c[m] for c in curves):.3f} ({min(c[m] for c in curves):.2f})"
                for m in MARKS
            ),
        )
    console.print(table)


# ---- quality ---------------------------------------------------------------------------------
@dataclass
class Score:
    n: int = 0
    right: int = 0
    paid: int = 0
    paid_found: int = 0
    said_paid: int = 0
    tier_n: int = 0
    tier_right: int = 0

    def add(self, item: Item, tier: Tier) -> None:
        guess = "local" if tier is Tier.LOCAL else "paid"
        self.n += 1
        self.right += guess == item.route
        self.paid += item.route == "paid"
        self.paid_found += item.route == "paid" and guess == "paid"
        self.said_paid += guess == "paid"
        if item.tier is not None:
            self.tier_n += 1
            self.tier_right += tier.value == item.tier

    def row(self) -> list[str]:
        def pct(a: int, b: int) -> str:
            return f"{a / b:.3f}" if b else "–"

        return [
            str(self.n),
            pct(self.right, self.n),
            pct(self.paid_found, self.paid),
            pct(self.paid_found, self.said_paid),
            pct(self.tier_right, self.tier_n),
        ]


async def quality(
    sets: dict[str, list[Item]], phase2: LLMClassifier | None, console: Console
) -> None:
    clf = TaskClassifier()
    table = Table(title="routing quality (accuracy = local/paid right; tier = local/mid/top)")
    for col in ("set", "policy", "n", "accuracy", "paid recall", "paid precision", "tier acc"):
        table.add_column(col, justify="right")
    bands = Table(title="phase 1 bands")
    for col in (
        "set",
        "LOCAL",
        "PAID",
        "AMBIGUOUS",
        "ambiguous: p1 right",
        "p2 right",
        "p2 fell back",
    ):
        bands.add_column(col, justify="right")
    all_p1, all_p2 = Score(), Score()
    p2_ms: list[float] = []
    for name, items in sets.items():
        p1, p2 = Score(), Score()
        count: Counter[Band] = Counter()
        amb_p1 = amb_p2 = fallbacks = 0
        for item in items:
            a = assess(item.payload, clf, margin=MARGIN, top_threshold=TOP_THRESHOLD)
            count[a.band] += 1
            p1.add(item, a.tier)
            all_p1.add(item, a.tier)
            tier = a.tier
            if a.band is Band.AMBIGUOUS:
                amb_p1 += (a.tier is Tier.LOCAL) == (item.route == "local")
                if phase2 is not None:
                    verdict = await phase2.classify(item.payload, a)
                    tier = verdict.tier
                    fallbacks += verdict.fallback
                    p2_ms.append(verdict.duration_ms)
                    amb_p2 += (tier is Tier.LOCAL) == (item.route == "local")
            p2.add(item, tier)
            all_p2.add(item, tier)
        table.add_row(name, "phase 1", *p1.row())
        if phase2 is not None:
            table.add_row(name, "phase 1 + 2", *p2.row())
        bands.add_row(
            name,
            str(count[Band.LOCAL]),
            str(count[Band.PAID]),
            str(count[Band.AMBIGUOUS]),
            f"{amb_p1}/{count[Band.AMBIGUOUS]}",
            f"{amb_p2}/{count[Band.AMBIGUOUS]}" if phase2 else "–",
            str(fallbacks) if phase2 else "–",
        )
    table.add_row("all", "phase 1", *all_p1.row(), style="bold")
    if phase2 is not None:
        table.add_row("all", "phase 1 + 2", *all_p2.row(), style="bold")
    console.print(table)
    console.print(bands)
    if p2_ms:
        console.print(
            f"phase 2: {len(p2_ms)} calls, p50 {statistics.median(p2_ms):.0f} ms, "
            f"max {max(p2_ms):.0f} ms"
        )


def start_gemma() -> tuple[subprocess.Popen[bytes], str, str]:
    """Gemma 3 270M behind llama-cpp-python's server, as the llama tests run it."""
    from tests import llama_fixture as lf

    model = lf._assemble_model()
    port = lf._free_port()
    log = open(Path("/tmp") / "bench-llama.log", "wb")  # noqa: SIM115 - lives as long as the server
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--model_alias",
            lf.MODEL_ALIAS,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(lf.N_CTX),
            "--chat_format",
            "gemma",
            "--seed",
            str(lf.SEED),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=lf._server_env(),
    )
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + lf.STARTUP_TIMEOUT_S
    import httpx

    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/models", timeout=2).status_code == 200:
                return proc, base, lf.MODEL_ALIAS
        except httpx.HTTPError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit("llama.cpp server did not start; see /tmp/bench-llama.log")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--gemma", action="store_true", help="phase 2 on Gemma 3 270M")
    parser.add_argument("--phase2-url", help="an OpenAI-compatible /v1 URL (or Ollama root)")
    parser.add_argument("--phase2-ollama", action="store_true", help="the URL is Ollama's")
    parser.add_argument("--phase2-model", default="local")
    parser.add_argument("--phase2-timeout", type=float, default=5.0)
    parser.add_argument("--no-latency", action="store_true")
    parser.add_argument("--no-groups", action="store_true", help="skip the group-split training")
    parser.add_argument("--no-learning", action="store_true", help="skip the learning curve")
    args = parser.parse_args()
    console = Console()

    if not args.no_latency:
        table = Table(title="TaskClassifier.classify() latency, µs")
        for col in ("input", "calls", "p50", "p95", "p99"):
            table.add_column(col, justify="right")
        for name, kind, p50, p95, p99 in classifier_latency_rows():
            table.add_row(name, kind, f"{p50:.1f}", f"{p95:.1f}", f"{p99:.1f}")
        console.print(table)
    if not args.no_groups:
        group_split(console)
    if not args.no_learning:
        learning(console)
    if not args.no_latency:
        table = Table(title="phase 1 latency (parse + assess), µs")
        for col in ("payload", "p50", "p99"):
            table.add_column(col, justify="right")
        for name, p50, p99 in latency_rows():
            table.add_row(name, f"{p50:.1f}", f"{p99:.1f}")
        console.print(table)

    sets = {
        "plain holdout": plain_items("routing_holdout.jsonl"),
        "fresh (after training)": plain_items("routing_fresh.jsonl"),
        "payloads dev": payload_items("routing_payloads_dev.jsonl"),
        "payloads holdout": payload_items("routing_payloads_holdout.jsonl"),
    }
    server = None
    backend: ModelBackend | None = None
    if args.gemma:
        server, url, model = start_gemma()
        backend = OpenAIBackend(model, base_url=url, timeout=args.phase2_timeout + 5)
    elif args.phase2_url:
        backend = (
            OllamaBackend(args.phase2_model, base_url=args.phase2_url)
            if args.phase2_ollama
            else OpenAIBackend(args.phase2_model, base_url=args.phase2_url)
        )
    phase2 = LLMClassifier(backend, timeout=args.phase2_timeout, cache_size=0) if backend else None
    try:
        await quality(sets, phase2, console)
    finally:
        if backend is not None:
            close = getattr(backend, "aclose", None)
            if close is not None:
                await close()
        if server is not None:
            server.terminate()
            server.wait(timeout=10)


if __name__ == "__main__":
    asyncio.run(main())
