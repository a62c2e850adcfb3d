"""Rebuild ocp_router/classifier_weights.json from the labeled training requests.

    uv run python scripts/train_classifier.py [--check]

The model is a linear residual on top of the keyword families: for each request,
raw = sum(family weights) + sum(w[f] for f in features), and P(paid) = sigmoid(K * (raw - 0.5)).
It is fitted by full-batch Adam on the logistic loss with L2, plus a penalty that keeps the
nine requests of the product spec (seed 000) at their published scores.

Training data: tests/data/routing_train.jsonl (the project's first set, one source) and
tests/data/routing_sources{,_2,_3,_4}.jsonl (requests from 23 sources that differ in kind:
pasted errors, terse tickets, tool-internals questions, scary-worded how-tos, other languages,
harness-wrapped turns, chatty authors, conversation follow-ups, chat, issue trackers, agent
subtasks, dictation, review comments, students, user stories, CI bots, mailing lists,
non-native English, TODO comments, commit subjects, Q&A titles, pager alerts).
routing_holdout.jsonl and routing_fresh.jsonl are never read here.

The headline is leave-one-source-out, nested: each source is scored by a model that never saw
a request from it, with L2 chosen on the other sources alone (grouped cross-validation that
holds out whole sources). The shipped model's L2 is chosen the same way on all sources; the
random 5-fold split is reported next to it. Deterministic (numpy, fixed seeds); about 20 s.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ocp_router._features import extract, stem
from ocp_router._rules import family
from ocp_router.classifier import rule_layer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data"
TRAIN = DATA / "routing_train.jsonl"
SOURCES = DATA / "routing_sources.jsonl"
# Six more sources of other kinds (chat messages, issue-tracker tickets, orchestrator subtasks,
# dictated requests, review comments, students), written later by another hand.
SOURCES_2 = DATA / "routing_sources_2.jsonl"
# Eight more, by a third hand: product user stories, CI-bot failure reports, mailing-list
# questions, non-native English, TODO/FIXME comments lifted from code (routing_sources_3);
# conventional-commit subjects, Stack Overflow-style titles, pager alerts (routing_sources_4).
SOURCES_3 = DATA / "routing_sources_3.jsonl"
SOURCES_4 = DATA / "routing_sources_4.jsonl"
TRAINED_ON = (TRAIN, SOURCES, SOURCES_2, SOURCES_3, SOURCES_4)


def sources_of(path: Path) -> frozenset[str]:
    return frozenset(
        json.loads(line)["source"] for line in path.read_text("utf-8").splitlines() if line.strip()
    )


# The sources before routing_sources_3.jsonl: pooled apart, so that a gain from adding sources
# shows on the old ones too and cannot come from the new ones being easier.
OLD_SOURCES = sources_of(SOURCES) | sources_of(SOURCES_2)
OUT = ROOT / "ocp_router" / "src" / "ocp_router" / "classifier_weights.json"
K = 8.0
THRESHOLD = 0.5
MIN_DF = 2
# Strong enough that the spec's scores hold within 0.02 whatever the data weighs (at 40, with
# 504 requests and paid ones weighed twice, "debug this production deadlock" drifted to 0.72).
SEED_PENALTY = 300.0
EPOCHS = 400
L2_GRID = (0.01, 0.03, 0.1)
# L2 is chosen by holding out whole sources, in this many groups of sources.
L2_FOLDS = 4
PAID_WEIGHT = 2.0

# The product spec's table (seed 000): request, score.
SEED_SCORES: tuple[tuple[str, float], ...] = (
    ("explain this function", 0.00),
    ("find all usages of db.connect", 0.00),
    ("summarise the last session", 0.00),
    ("refactor the login function", 0.25),
    ("review security vulnerabilities", 0.55),
    ("design the payment architecture", 0.55),
    ("debug this production deadlock", 0.60),
    ("refactor auth across all files", 0.80),
    ("explain the auth middleware", 0.00),
)


# Word classes: a word of a class carries its own weight plus one weight shared by the class,
# so a word no training request used still counts as its class does (what a held-out source
# brings most: other words for the same things). Training fits one "c:<class>" feature per class,
# counted once per distinct stem of the class in a request; the weights file holds each stem's
# word weight with its class weight folded in (fold_classes), so serving reads plain word
# weights and costs nothing more. Written from general knowledge, not from the held-out sets.
WORD_CLASSES: dict[str, str] = {
    # what a user sees on a screen: asks about these are cosmetic, one-place edits
    "ui": """button buttons tooltip tooltips label labels spinner banner dropdown footer header
        navbar sidebar icon icons colour color colors font fonts margin padding placeholder modal
        popup dialog link links tab tabs title logo image images border borders css style styles
        stylesheet layout width height align alignment checkbox toggle badge avatar emoji wording
        text caption heading cursor hover animation theme background favicon scrollbar breadcrumb
        textarea""",
    # capabilities of a product that reach through every layer when added
    "product": """billing invoice invoices payment payments subscription subscriptions currency
        currencies pricing permission permissions role roles tenant tenants organization
        organizations orgs workspace workspaces timezone timezones locale locales localization
        translation translations offline sync synchronization collaborative collaboration realtime
        notification notifications recurring audit history versioning undo redo backup backups
        restore retention encryption quota quotas sharing invitation invitations guest guests
        moderation spam approval approvals analytics reporting webhooks integration integrations
        onboarding checkout refund refunds entitlement entitlements compliance tenancy federation
        replication archiving""",
    # how a tool works inside: asked why, these need the internals
    "mechanism": """compiler linker kernel scheduler allocator planner optimizer interpreter
        bytecode runtime garbage collector jit borrow lifetime inference generic generics template
        templates protocol handshake packet packets congestion retransmission resolver rebase merge
        merges semantics undefined ordering reordering alignment precision rounding overflow
        underflow heuristic heuristics internals""",
    # how beginners and polite askers frame small questions
    "novice": """beginner beginners newbie noob student homework tutorial course learning learn
        confused dumb silly simple basic basics eli analogy analogies understand please thanks""",
}
# stem -> the classes it belongs to
CLASS_OF: dict[str, tuple[str, ...]] = {}
for _name, _words in WORD_CLASSES.items():
    for _stem in dict.fromkeys(stem(w) for w in _words.split()):
        CLASS_OF[_stem] = (*CLASS_OF.get(_stem, ()), _name)


def with_classes(feats: list[str]) -> list[str]:
    """The features and, for each distinct word stem of a class, the class's feature."""
    return feats + ["c:" + c for f in feats if f.startswith("w:") for c in CLASS_OF.get(f[2:], ())]


def fold_classes(w: dict[str, float]) -> dict[str, float]:
    """The same model without class features: each class weight added to its stems' words."""
    out = {f: x for f, x in w.items() if not f.startswith("c:")}
    for s, classes in CLASS_OF.items():
        if extra := sum(w.get("c:" + c, 0.0) for c in classes):
            out["w:" + s] = out.get("w:" + s, 0.0) + extra
    return out


@dataclass(frozen=True)
class Item:
    source: str
    offset: float
    feats: list[str]
    y: float  # 1 paid, 0 local; for seeds, the target score


def rule_offset(text: str) -> tuple[float, list[str]]:
    split, lower, words, fired = rule_layer(text)
    offset = sum(family(n).weight for n in fired)
    if len(split.paths) > 5 and "multi_file" not in fired:
        offset += 0.35
    return offset, with_classes(extract(split, lower, words, fired.keys()))


def load(path: Path, default_source: str) -> list[Item]:
    items = []
    for line in path.read_text("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            offset, feats = rule_offset(row["text"])
            y = 1.0 if row["route"] == "paid" else 0.0
            items.append(Item(row.get("source", default_source), offset, feats, y))
    return items


def load_all() -> list[Item]:
    """Every labeled request training reads, each marked with its source."""
    return [it for path in TRAINED_ON for it in load(path, "original-train")]


def build_vocab(items: list[Item]) -> list[str]:
    df = Counter(f for it in items for f in set(it.feats))
    return sorted(
        f for f, c in df.items() if c >= MIN_DF or not f.startswith(("w:", "b:", "s:first:"))
    )


class _Sparse:
    """A matrix of requests by feature counts, kept as (row, column) pairs, one per count:
    products with it are bincounts, which sum in a fixed order whatever BLAS's thread count
    (a dense matmul on two shared cores took 5 s a fit and changed the last bits with it)."""

    def __init__(self, items: list[Item], index: dict[str, int]) -> None:
        rows, cols = [], []
        for i, it in enumerate(items):
            for f in it.feats:  # a feature named twice counts twice (word classes)
                if (j := index.get(f)) is not None:
                    rows.append(i)
                    cols.append(j)
        self.rows = np.array(rows, dtype=np.intp)
        self.cols = np.array(cols, dtype=np.intp)
        self.shape = (len(items), len(index))

    def dot(self, w: np.ndarray) -> np.ndarray:
        """x @ w"""
        return np.bincount(self.rows, weights=w[self.cols], minlength=self.shape[0])

    def tdot(self, g: np.ndarray) -> np.ndarray:
        """x.T @ g"""
        return np.bincount(self.cols, weights=g[self.rows], minlength=self.shape[1])


def fit(items: list[Item], seeds: list[Item], l2: float) -> dict[str, float]:
    vocab = build_vocab(items)
    index = {f: i for i, f in enumerate(vocab)}
    x, xs = _Sparse(items, index), _Sparse(seeds, index)
    off = np.array([it.offset for it in items])
    y = np.array([it.y for it in items])
    soff = np.array([s.offset for s in seeds])
    target = np.array([s.y for s in seeds])
    # Paid requests weigh PAID_WEIGHT times a local one: a hard request sent local costs a
    # bad answer, an easy one sent paid only money.
    sample_w = np.where(y > 0.5, PAID_WEIGHT, 1.0)
    w = np.zeros(len(vocab))
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    lr, b1, b2, eps = 0.02, 0.9, 0.999, 1e-8
    n = len(items)
    for t in range(1, EPOCHS + 1):
        raw = off + x.dot(w)
        p = 1.0 / (1.0 + np.exp(-K * (raw - THRESHOLD)))
        grad = x.tdot(K * (p - y) * sample_w / n)
        sraw = soff + xs.dot(w)
        active = ~((target == 0.0) & (sraw <= 0.0))
        grad += xs.tdot(2 * SEED_PENALTY * (sraw - target) * active / n)
        grad += 2 * l2 * w
        m = b1 * m + (1 - b1) * grad
        v = b2 * v + (1 - b2) * grad * grad
        w -= lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    return {f: float(x_) for f, x_ in zip(vocab, w, strict=True)}


def predict(w: dict[str, float], it: Item) -> bool:
    raw = it.offset + sum(w.get(f, 0.0) for f in it.feats)
    return min(1.0, max(0.0, raw)) >= THRESHOLD


@dataclass(frozen=True)
class Score:
    n: int
    correct: int
    paid: int
    paid_found: int

    @property
    def accuracy(self) -> float:
        return self.correct / self.n if self.n else 0.0

    @property
    def paid_recall(self) -> float:
        return self.paid_found / self.paid if self.paid else 0.0

    def __add__(self, other: Score) -> Score:
        return Score(
            self.n + other.n,
            self.correct + other.correct,
            self.paid + other.paid,
            self.paid_found + other.paid_found,
        )


def score(w: dict[str, float], items: list[Item]) -> Score:
    preds = [predict(w, it) for it in items]
    return Score(
        len(items),
        sum(p == bool(it.y) for p, it in zip(preds, items, strict=True)),
        sum(1 for it in items if it.y),
        sum(1 for p, it in zip(preds, items, strict=True) if p and it.y),
    )


def random_cv(items: list[Item], seeds: list[Item], l2: float, folds: int = 5) -> Score:
    order = list(range(len(items)))
    random.Random(7).shuffle(order)
    total = Score(0, 0, 0, 0)
    for k in range(folds):
        held = set(order[k::folds])
        w = fit([items[i] for i in order if i not in held], seeds, l2)
        total += score(w, [items[i] for i in sorted(held)])
    return total


def leave_one_source_out(
    items: list[Item], seeds: list[Item], l2: float, groups: list[str]
) -> dict[str, Score]:
    out = {}
    for g in groups:
        w = fit([it for it in items if it.source != g], seeds, l2)
        out[g] = score(w, [it for it in items if it.source == g])
    return out


def grouped_cv(
    items: list[Item], seeds: list[Item], l2: float, groups: list[str], folds: int = L2_FOLDS
) -> Score:
    """Each of `folds` groups of sources scored by a model trained on the rest."""
    fold_of = {g: k % folds for k, g in enumerate(groups)}
    total = Score(0, 0, 0, 0)
    for k in range(folds):
        w = fit([it for it in items if fold_of.get(it.source) != k], seeds, l2)
        total += score(w, [it for it in items if fold_of.get(it.source) == k])
    return total


def choose_l2(items: list[Item], seeds: list[Item], groups: list[str]) -> float:
    """The L2 of L2_GRID that scores best on sources held out of training (grouped_cv):
    accuracy first, then paid recall."""
    scores = {l2: grouped_cv(items, seeds, l2, groups) for l2 in L2_GRID}
    return max(L2_GRID, key=lambda l2: (scores[l2].accuracy, scores[l2].paid_recall, -l2))


def nested_loso(
    items: list[Item], seeds: list[Item], groups: list[str]
) -> dict[str, tuple[float, Score]]:
    """Leave-one-source-out with nothing chosen by looking at the held-out source: for each
    source, L2 is chosen on the other sources alone (choose_l2), then the model is trained on
    them and scored on it. Each source's chosen L2, and its score."""
    out = {}
    for g in groups:
        rest = [it for it in items if it.source != g]
        l2 = choose_l2(rest, seeds, [h for h in groups if h != g])
        out[g] = (l2, score(fit(rest, seeds, l2), [it for it in items if it.source == g]))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the weights file differs")
    args = parser.parse_args()

    items = load_all()
    seeds = [Item("seed", *rule_offset(text), target) for text, target in SEED_SCORES]
    groups = sorted({it.source for it in items} - {"original-train"})

    best_l2 = choose_l2(items, seeds, groups)
    best = random_cv(items, seeds, best_l2)
    loso = nested_loso(items, seeds, groups)
    pooled = sum((sc for _, sc in loso.values()), Score(0, 0, 0, 0))
    old = sum((sc for g, (_, sc) in loso.items() if g in OLD_SOURCES), Score(0, 0, 0, 0))
    for g, (l2, sc) in loso.items():
        print(
            f"  held out {g:<14} n={sc.n:<3} accuracy {sc.accuracy:.3f} "
            f"paid recall {sc.paid_recall:.3f} (l2={l2} chosen without it)",
            file=sys.stderr,
        )

    w = fit(items, seeds, best_l2)
    kept = {f: round(x, 4) for f, x in sorted(fold_classes(w).items()) if abs(x) >= 0.005}
    payload = {
        "version": f"linear-2/{len(items)}items/l2={best_l2}",
        "trained_on": [str(path.relative_to(ROOT)) for path in TRAINED_ON],
        "random_cv": {
            "accuracy": round(best.accuracy, 4),
            "paid_recall": round(best.paid_recall, 4),
        },
        "leave_one_source_out": {
            "accuracy": round(pooled.accuracy, 4),
            "paid_recall": round(pooled.paid_recall, 4),
            "n": pooled.n,
            "nested": "L2 chosen on the other sources alone",
            "old_sources": {
                "accuracy": round(old.accuracy, 4),
                "paid_recall": round(old.paid_recall, 4),
                "n": old.n,
            },
        },
        "train_accuracy": round(score(w, items).accuracy, 4),
        "features": kept,
    }
    text = json.dumps(payload, indent=0, ensure_ascii=False) + "\n"
    print(
        f"chose l2={best_l2}: random 5-fold accuracy {best.accuracy:.3f} paid recall "
        f"{best.paid_recall:.3f}; leave-one-source-out accuracy {pooled.accuracy:.3f} paid "
        f"recall {pooled.paid_recall:.3f} (n={pooled.n}; the older sources {old.accuracy:.3f} / "
        f"{old.paid_recall:.3f}, n={old.n}); {len(kept)} weights, {len(text)} bytes",
        file=sys.stderr,
    )
    if args.check:
        if OUT.read_text("utf-8") != text:
            print("classifier_weights.json is stale: rerun scripts/train_classifier.py")
            return 1
        return 0
    OUT.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
