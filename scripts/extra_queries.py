"""Does more training data from the development repositories' own histories help the ranker?

    uv run python scripts/extra_queries.py agree      # the generator against the shipped sets
    uv run python scripts/extra_queries.py generate   # older commit queries -> OUT/<name>.*.jsonl
    uv run python scripts/extra_queries.py features   # their regime-0 feature rows -> OUT/*.npz
    uv run python scripts/extra_queries.py loro       # LORO with and without them
    (--timed on the last three: each extra query against a snapshot of its own time;
    OUT is ~/.cache/ocp-bench/extra-queries)

The retrieval benchmark's commit queries (../shared/bench/retrieval, README "How the queries
were made") are the 150 newest qualifying commits of each repository before its snapshot; older
commits qualify by the same rules. `generate` re-implements the rules (reverse-engineered from
the shipped sets: `agree` reproduces 900/900 of their commits, 896 with the query text exact;
the filter counts add up to the meta.json ones) and walks on past the oldest shipped query, at
most --cap queries a corpus (600: click 264, pytest 600, hono 451, cobra 231, ripgrep 97,
express 480). `features` computes their rows exactly as `train_ranker._corpus_features` does
without history (the shipped commit rows, recomputed alongside, match bit for bit) into
OUT/extra_features.npz; tests/data/ranker_features.npz is not touched. `loro` trains on the
shipped rows of five corpora plus, in variants, the extra rows of those five, and scores the
held-out corpus's own commit queries (never the extra ones).

Measured (2026-12-04; click pytest hono cobra ripgrep express; yardstick 0.0027): the extra
rows do NOT help. Shipped only 0.8178 (.833 .915 .811 .782 .793 .772; nested 0.8170); + all
extra 0.8066 (.826 .900 .786 .782 .773 .772), weighted 0.5 0.8127, only commits of <= 3
source files 0.8058, the newest 150 / 300 a corpus 0.8154 / 0.8104 (150: nested 0.8156). Cut
before snapshots of their own time (--timed, rounds of 150: 271 / 600 / 473 / 282 / 145 /
600), so the change is in the indexed code as in the benchmark: all 0.8087, weight 0.5 0.8115,
150 a corpus 0.8156. Doc comments 0.995-0.996 throughout. Older queries are another
population: LORO weights rank the held-out corpus's timed extra queries at MRR@10 0.712 (its
recent ones 0.818); training on the others' extra rows raises that to 0.720 and lowers the
recent ones, which are what the benchmark (and the unseen set, cut by the same rules) asks.
Nor does a repository's own older history at its snapshot (what a server could mine at index
time; variant d): the held-out corpus's own extra rows 0.8160, with the others' too 0.8107.
More capacity does not turn the extra rows into a gain (a throwaway script, not kept): without
the per-kind weights 0.8005 -> 0.8016 with all extra; linear + 4 ReLU units 0.7916 -> 0.7989.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import ranker_corpora as rc
import train_ranker as tr

from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.history import DEFAULT_HISTORY_COMMITS, read_history
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import QUERY_KINDS, query_kinds

OUT = Path.home() / ".cache" / "ocp-bench" / "extra-queries"  # beside the ranker's corpora
MAX_SOURCE_FILES = 5
MIN_WORDS, MIN_CHARS, BODY_WORDS, BODY_MIN_WORDS = 4, 20, 60, 5

# ---- cleaning -----------------------------------------------------------------------------
_PREFIX = re.compile(r"^[\w./-]+(?:\([^)]*\))?!?:\s+")
_REF_VERB = re.compile(r"(?i)\b(?:fix(?:es|ed)?|close[sd]?|resolve[sd]?|for)\s+#\d+\b")
_REF = re.compile(r"\s*\(#\d+\)|\s*#\d+\b|\s*https?://\S+")


def _clean(text: str) -> str:
    text = " ".join(_REF.sub("", _REF_VERB.sub("", text)).split())
    return re.sub(r"\s+([.,;:])", r"\1", text).replace("()", "")


def clean_subject(raw: str) -> str:
    s = _clean(raw).strip()
    s = _PREFIX.sub("", s, count=1)
    s = re.sub(r"^[\s:;,.\-]+", "", s).rstrip(":").strip()
    return s[:1].upper() + s[1:]


_SKIP = re.compile(
    "|".join(
        [
            r"^merge\b",
            r"^(?:revert|undo)\b",
            r"^release\b|\bchangelog\b|^(?:prepare|cut)\b.*\brelease\b|^v?\d+\.\d+(?:\.\d+)?\b",
            r"\bbump\b|^version\b|\bversion bump\b",
            r"\b(?:update|upgrade)\w*\s+(?:\w+\s+)?(?:deps|dependencies)\b|dependabot|renovate",
            r"\btypos?\b|\bspelling\b",
            r"\b(?:lint|linter|linting|formatting|reformat\w*|whitespace|black|ruff|mypy|pyright|"
            r"pre-commit|prettier|rustfmt|gofmt|clippy|eslint|flake8|isort)\b",
            r"\baddress\w*\s+(?:\w+\s+){0,2}(?:comments?|feedback)\b|\breview\b|"
            r"\bfixup\b|\bsquash\b|\bapply suggestions?\b|^wip\b",
            r"^(?:add|added|adds|update|updated|fix|fixed|more|improve)"
            r"(?:\s+(?:some|more|missing|new|unit|the|a))*\s+tests?(?:\s+cases?)?\.?$",
        ]
    ),
    re.IGNORECASE,
)
_DROP_LINE = re.compile(r"^[\w-]+:\s|^(?:fixes|closes|resolves|refs?)\b", re.IGNORECASE)
_LIST_LINE = re.compile(r"^\d+[.)]\s")
BODY_PARAGRAPHS = 2  # only the first few paragraphs of a body are looked at


def message_skipped(raw: str, subject: str) -> bool:
    return bool(_SKIP.search(subject) or _SKIP.search(raw))


def body_paragraph(body: str) -> str:
    """The first prose paragraph among the first BODY_PARAGRAPHS (split at blank lines):
    trailer and reference lines left out, cut at a numbered list; not a bullet, code or a
    bracket; passes the subject filter; at least BODY_MIN_WORDS words once cleaned; at most
    BODY_WORDS words."""
    for para in [p for p in re.split(r"\n\s*\n", body.strip()) if p.strip()][:BODY_PARAGRAPHS]:
        kept = []
        for line in (ln.strip() for ln in para.splitlines() if ln.strip()):
            if _LIST_LINE.match(line):
                break
            if not _DROP_LINE.match(line):
                kept.append(line)
        text = _clean(" ".join(kept)).rstrip(":").strip()
        if (
            not text
            or text[0] in "`[-*+>|#"
            or _SKIP.search(text)
            or len(text.split()) < BODY_MIN_WORDS
        ):
            continue
        return " ".join(text.split()[:BODY_WORDS])
    return ""


def make_query(subject: str, body: str) -> str:
    para = body_paragraph(body)
    if not para:
        return subject
    return f"{subject}{'' if subject.endswith('.') else '.'} {para}"


# ---- the walk -----------------------------------------------------------------------------
def scan(
    entry: dict[str, Any], mirrors: Path, rev: str = "", limit: int = 20000
) -> Iterator[dict[str, object]]:
    """Every non-merge commit before the snapshot (or `rev`), newest first, with why it is
    dropped ("" when kept)."""
    repo = rc.mirror_repo(entry, mirrors)
    rev = rev or entry["snapshot"]
    ext = tuple(entry["source_ext"])
    snap = set(
        subprocess.run(
            ["git", "-C", str(repo), "ls-tree", "-r", "--name-only", rev],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    )
    out = subprocess.run(
        [
            "git",
            "-C",
            str(repo),
            "log",
            rev,
            "--no-merges",
            f"-n{limit}",
            "--no-renames",
            "--name-status",
            "--date=short",
            "--format=%x1e%H%x00%ad%x00%B%x00",
        ],
        capture_output=True,
        text=True,
        errors="replace",
        check=True,
    ).stdout
    seen: set[str] = set()
    for record in out.split("\x1e")[1:]:
        sha, date, message, rest = record.split("\x00", 3)
        raw, _, body = message.partition("\n")
        files = [ln.split("\t") for ln in rest.strip("\n").splitlines() if ln.strip()]
        src = [(f[0], f[-1]) for f in files if f[-1].endswith(ext)]
        modified = sorted(p for s, p in src if s == "M")
        subject = clean_subject(raw)
        why = ""
        if not src:
            why = "no_src"
        elif len(src) > MAX_SOURCE_FILES:
            why = "too_many_src"
        elif not modified:
            why = "no_modified_src"
        elif any(p not in snap for p in modified):
            why = "modified_src_gone_at_snapshot"
        elif (
            len(subject.split()) < MIN_WORDS
            or len(subject) < MIN_CHARS
            or message_skipped(raw, subject)
        ):
            why = "message_filtered"
        elif subject.lower() in seen:
            why = "duplicate"
        if not why:
            seen.add(subject.lower())
        yield {
            "commit": sha,
            "date": date,
            "raw_subject": raw,
            "subject": subject,
            "query": make_query(subject, body),
            "relevant_files": modified,
            "n_source_files_touched": len(src),
            "why": why,
        }


def _shipped(name: str) -> list[dict[str, object]]:
    path = rc.BENCH / "queries" / f"{name}.commits.jsonl"
    return [json.loads(line) for line in path.read_text("utf-8").splitlines()]


def agree(mirrors: Path) -> None:
    """How many of each shipped set the generator reproduces from the same history."""
    print("| corpus | same commits | same query text and files |")
    print("|---|---|---|")
    for entry in rc.manifest_corpora():
        shipped = {str(q["commit"]): q for q in _shipped(entry["name"])}
        mine: dict[str, dict[str, object]] = {}
        for c in scan(entry, mirrors):
            if not c["why"]:
                mine[str(c["commit"])] = c
            if len(mine) == len(shipped):
                break
        both = set(mine) & set(shipped)
        exact = sum(
            mine[h]["query"] == shipped[h]["query"]
            and mine[h]["relevant_files"] == sorted(shipped[h]["relevant_files"])  # type: ignore[call-overload]
            for h in both
        )
        print(f"| {entry['name']} | {len(both)}/{len(shipped)} | {exact}/{len(shipped)} |")


def _parent(entry: dict[str, Any], mirrors: Path, sha: str) -> str:
    out = subprocess.run(
        [
            "git",
            "-C",
            str(rc.mirror_repo(entry, mirrors)),
            "rev-parse",
            "-q",
            "--verify",
            f"{sha}^",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def generate(mirrors: Path, cap: int, timed: bool) -> None:
    """Per corpus, the newest `cap` qualifying commits older than its oldest shipped query.
    Timed: in rounds of 150, each as the benchmark cuts them before a snapshot of its own,
    the parent of the previous round's oldest query (files must exist there, not at the
    benchmark's snapshot)."""
    OUT.mkdir(parents=True, exist_ok=True)
    for entry in rc.manifest_corpora():
        shipped = _shipped(entry["name"])
        used = {str(q["commit"]) for q in shipped}
        oldest = str(shipped[-1]["commit"])
        kept: list[dict[str, object]] = []
        dropped: Counter[str] = Counter()
        if not timed:
            past = False
            for c in scan(entry, mirrors):
                if past and c["commit"] not in used:
                    dropped[str(c["why"]) or "kept"] += 1
                    if not c["why"] and len(kept) < cap:
                        kept.append({k: v for k, v in c.items() if k != "why"} | {"snapshot": ""})
                past = past or c["commit"] == oldest
        rev = _parent(entry, mirrors, oldest) if timed else ""
        while rev and len(kept) < cap:
            round_ = [
                {k: v for k, v in c.items() if k != "why"} | {"snapshot": rev}
                for c in scan(entry, mirrors, rev)
                if not c["why"] and c["commit"] not in used
            ][: min(150, cap - len(kept))]
            if len(round_) < 20:  # a snapshot with too little history behind it
                break
            kept += round_
            used |= {str(c["commit"]) for c in round_}
            rev = _parent(entry, mirrors, str(round_[-1]["commit"]))
        stem = "timed" if timed else "extra"
        path = OUT / f"{entry['name']}.{stem}.jsonl"
        path.write_text("".join(json.dumps(c) + "\n" for c in kept), "utf-8")
        dates = f"{kept[-1]['date']} .. {kept[0]['date']}" if kept else "-"
        rounds = len({c["snapshot"] for c in kept})
        print(f"{entry['name']}: {len(kept)} {stem} queries ({dates}; {rounds} snapshots)")
        if dropped:
            print(f"    older commits: {dict(dropped)}")


# ---- features -----------------------------------------------------------------------------
async def _extra_rows(
    root: Path, repo: Path, rev: str, queries: list[dict[str, object]]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(kinds, rows, labels) per query, as `train_ranker._corpus_features` makes them without
    history: the same index (history stored, as_of 0), candidates, negatives and float16."""
    commits = read_history(repo, DEFAULT_HISTORY_COMMITS, rev=rev)
    snap = await rc.indexed_snapshot(root, commits)
    out = []
    for q in queries:
        relevant = set(q["relevant_files"])  # type: ignore[call-overload]
        query = parse_query(str(q["query"]))
        cand, x, *_ = candidate_features(snap, query, as_of=0)
        labels = np.array([snap.paths[i] in relevant for i in cand], dtype=bool)
        first = x[:, FEATURES.index("file_bm25")] + x[:, FEATURES.index("chunk_best")]
        negatives = np.flatnonzero(~labels)
        keep = np.concatenate(
            [np.flatnonzero(labels), negatives[np.argsort(-first[negatives])[: tr.NEGATIVES]]]
        )
        out.append((query_kinds(query, x), x[keep].astype(np.float16), labels[keep]))
    return out


def _rows_at_snapshots(
    entry: dict[str, Any], cache: Path, mirrors: Path, queries: list[dict[str, object]]
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Rows for queries, each against its "snapshot" (empty: the benchmark's corpus)."""
    repo = rc.mirror_repo(entry, mirrors)
    rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for rev in dict.fromkeys(str(q.get("snapshot", "")) for q in queries):
        group = [q for q in queries if str(q.get("snapshot", "")) == rev]
        if not rev:
            root = rc.corpus_root(entry, cache)
            rows += asyncio.run(_extra_rows(root, repo, entry["snapshot"], group))
            continue
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(
                ["git", "-C", str(repo), "archive", "--format=tar", rev],
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            rows += asyncio.run(_extra_rows(Path(tmp), repo, rev, group))
    return rows


def build_features(cache: Path, mirrors: Path, timed: bool) -> None:
    """OUT/<stem>_features.npz: the extra queries' rows (set 3), and the shipped commit
    queries' rows recomputed (set 2) to check they match tests/data/ranker_features.npz."""
    stem = "timed" if timed else "extra"
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("x", "y", "query", "corpus", "qset")}
    kinds_rows, files_touched, n = [], [], 0
    for c, entry in enumerate(rc.manifest_corpora()):
        extra = [json.loads(ln) for ln in (OUT / f"{entry['name']}.{stem}.jsonl").open()]
        own = _shipped(entry["name"])
        rows = _rows_at_snapshots(entry, cache, mirrors, own + extra)
        for i, (k, x, y) in enumerate(rows):
            is_extra = i >= len(own)
            cols["x"].append(x)
            cols["y"].append(y)
            cols["query"].append(np.full(len(y), n, dtype=np.int32))
            cols["corpus"].append(np.full(len(y), c, dtype=np.int8))
            cols["qset"].append(np.full(len(y), 3 if is_extra else 2, dtype=np.int8))
            kinds_rows.append(np.repeat(k[None, :].astype(np.int8), len(y), axis=0))
            q = extra[i - len(own)] if is_extra else own[i]
            touched = q.get("n_source_files_touched", q.get("n_py_files_touched", 0))
            files_touched.append(np.full(len(y), touched, dtype=np.int8))
            n += 1
        print(f"{entry['name']}: {len(own)} own + {len(extra)} {stem} queries", file=sys.stderr)
    np.savez_compressed(
        OUT / f"{stem}_features.npz",
        x=np.concatenate(cols["x"]),
        y=np.concatenate(cols["y"]),
        query=np.concatenate(cols["query"]),
        corpus=np.concatenate(cols["corpus"]),
        qset=np.concatenate(cols["qset"]),
        kinds=np.concatenate(kinds_rows),
        touched=np.concatenate(files_touched),
        features=np.array(FEATURES),
    )


# ---- training -----------------------------------------------------------------------------
def fit_weighted(
    x: np.ndarray, y: np.ndarray, query: np.ndarray, weight: np.ndarray, l2: float = tr.L2
) -> np.ndarray:
    """`train_ranker.fit` with a weight per row's query in the loss (the weighted mean over
    queries); with every weight 1 it is `fit`."""
    _, starts, sizes = np.unique(query, return_index=True, return_counts=True)
    group = np.repeat(np.arange(len(starts)), sizes)
    positives = np.add.reduceat(y, starts)
    useful = positives[group] > 0
    x, y, group, weight = x[useful], y[useful], group[useful], weight[useful]
    _, starts = np.unique(group, return_index=True)
    group = np.searchsorted(starts, np.arange(len(group)), side="right") - 1
    target = y / np.add.reduceat(y, starts)[group]
    total = weight[starts].sum()
    w = np.zeros(x.shape[1])
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t in range(1, tr.EPOCHS + 1):
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[group])
        p = e / np.add.reduceat(e, starts)[group]
        mass = p * y
        own = mass / np.maximum(np.add.reduceat(mass, starts)[group], 1e-300)
        residual = (p - (tr.EVEN * target + (1 - tr.EVEN) * own)) * weight
        grad = x.T @ residual / total + l2 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad * grad
        w -= tr.LEARNING_RATE * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


class Pool:
    """The shipped rows and the extra ones in one design (per-kind copies as in `Data`)."""

    def __init__(self, stem: str) -> None:
        shipped = tr.Data()
        extra = np.load(OUT / f"{stem}_features.npz")
        if tuple(extra["features"].tolist()) != FEATURES:
            raise SystemExit("extra_features.npz holds other features: run `features` again")
        keep = extra["qset"] == 3
        x = extra["x"][keep].astype(np.float64)
        kinds = extra["kinds"][keep].astype(np.float64)
        ex = np.hstack([x] + [x * kinds[:, [j]] for j in range(len(QUERY_KINDS))])
        self.corpora = shipped.corpora
        self.x = np.vstack([shipped.x, ex])
        self.y = np.concatenate([shipped.y, extra["y"][keep].astype(np.float64)])
        self.query = np.concatenate([shipped.query, extra["query"][keep] + shipped.query.max() + 1])
        self.corpus = np.concatenate([shipped.corpus, extra["corpus"][keep]])
        self.extra = np.concatenate([np.zeros(len(shipped.y), bool), np.ones(keep.sum(), bool)])
        self.qset = np.concatenate([shipped.qset, np.full(keep.sum(), -1, np.int8)])
        self.regime = np.concatenate([shipped.regime, np.zeros(keep.sum(), np.int8)])
        self.touched = np.concatenate([np.zeros(len(shipped.y), np.int8), extra["touched"][keep]])
        # rank of each extra query among its corpus's extra queries, newest first
        order = np.zeros(len(self.y), np.int32)
        for c in range(len(self.corpora)):
            rows = np.flatnonzero(self.extra & (self.corpus == c))
            _, first = np.unique(self.query[rows], return_index=True)
            rank_of = {int(q): r for r, q in enumerate(self.query[rows][np.sort(first)])}
            order[rows] = [rank_of[int(q)] for q in self.query[rows]]
        self.order = order

    def held_mrr(self, c: int, qset: int, w: np.ndarray) -> float:
        """MRR@10 of corpus c's own queries of one set (no history); qset -1: its extra."""
        held = (self.corpus == c) & (self.qset == qset) & (self.regime == 0)
        return tr.mrr_at_10(self.x[held], self.y[held], self.query[held], w)


Variant = tuple[int, float, int, str]
VARIANTS: dict[str, Variant] = {
    # name: (extra per corpus, their weight, most source files touched, whose extra rows:
    # the training corpora's, the held-out corpus's own older ones, or both)
    "a: shipped only": (0, 1.0, 99, "others"),
    "b: + all extra": (600, 1.0, 99, "others"),
    "c: + extra, weight 0.5": (600, 0.5, 99, "others"),
    "c: + extra of <= 3 files": (600, 1.0, 3, "others"),
    "c: + 150 extra a corpus": (150, 1.0, 99, "others"),
    "c: + 300 extra a corpus": (300, 1.0, 99, "others"),
    "d: + held-out's own older extra": (600, 1.0, 99, "own"),
    "d: + all extra, own included": (600, 1.0, 99, "all"),
}


def _train_mask(pool: Pool, out: list[int], variant: Variant) -> np.ndarray:
    """Training rows with the corpora `out` held out: their shipped rows never; the extra
    rows as the variant says (scope "own": those of out[0], older than all it is scored on)."""
    cap, _, files, scope = variant
    outside = ~np.isin(pool.corpus, out)
    whose: np.ndarray = {"others": outside, "own": pool.corpus == out[0]}.get(scope, pool.extra)
    chosen: np.ndarray = pool.extra & whose & (pool.order < cap) & (pool.touched <= files)
    mask: np.ndarray = (~pool.extra & outside) | chosen
    return mask


def _fit(pool: Pool, mask: np.ndarray, variant: Variant, l2: float) -> np.ndarray:
    weight = np.where(pool.extra[mask], variant[1], 1.0)
    return fit_weighted(pool.x[mask], pool.y[mask], pool.query[mask], weight, l2)


def loro_report(timed: bool, variants: list[str], nest: list[str]) -> None:
    pool = Pool("timed" if timed else "extra")
    names = pool.corpora
    print("LORO MRR@10 on each held-out corpus's own commit queries (no history); doc = its")
    print("doc-comment queries, extra = its own extra queries (never trained on).")
    print("| variant | " + " | ".join(names) + " | mean | doc mean | extra mean |")
    print("|---|" + "---|" * (len(names) + 3))
    for label, variant in VARIANTS.items():
        if variants and label[0] not in variants and label not in variants:
            continue
        commits, docs, extra = [], [], []
        for c in range(len(names)):
            w = _fit(pool, _train_mask(pool, [c], variant), variant, tr.L2)
            commits.append(pool.held_mrr(c, 0, w))
            docs.append(pool.held_mrr(c, 1, w))
            extra.append(pool.held_mrr(c, -1, w))
        cells = " | ".join(f"{v:.3f}" for v in commits)
        print(
            f"| {label} | {cells} | {np.mean(commits):.4f} | {np.mean(docs):.3f} "
            f"| {np.mean(extra):.3f} |",
            flush=True,
        )
    for label in nest:
        nested(pool, label, VARIANTS[label])


def nested(pool: Pool, label: str, variant: Variant) -> None:
    """L2 chosen from L2_GRID by LORO over the other five alone, as `train_ranker nested`."""
    scores, chosen = [], []
    for c in range(len(pool.corpora)):
        others = [o for o in range(len(pool.corpora)) if o != c]
        inner = {
            l2: np.mean(
                [
                    pool.held_mrr(o, 0, _fit(pool, _train_mask(pool, [c, o], variant), variant, l2))
                    for o in others
                ]
            )
            for l2 in tr.L2_GRID
        }
        pick = max(inner, key=lambda k: float(inner[k]))
        chosen.append(f"{pick:g}")
        scores.append(
            pool.held_mrr(c, 0, _fit(pool, _train_mask(pool, [c], variant), variant, pick))
        )
    cells = " | ".join(f"{v:.3f}" for v in scores)
    print(f"| nested, {label} (L2 {', '.join(chosen)}) | {cells} | {np.mean(scores):.4f} | |")


def main(argv: list[str] | None = None) -> int:
    parser = rc.corpus_parser(__doc__)
    parser.add_argument("step", choices=("agree", "generate", "features", "loro"))
    parser.add_argument("--cap", type=int, default=600, help="extra queries per corpus")
    parser.add_argument("--variants", nargs="*", default=[], help="letters or labels of VARIANTS")
    parser.add_argument("--nested", nargs="*", default=[], help="labels of VARIANTS")
    parser.add_argument(
        "--timed", action="store_true", help="extra queries cut before older snapshots"
    )
    args = parser.parse_args(argv)
    if args.step == "agree":
        agree(args.mirrors)
    elif args.step == "generate":
        generate(args.mirrors, args.cap, args.timed)
    elif args.step == "features":
        build_features(args.cache, args.mirrors, args.timed)
    else:
        loro_report(args.timed, args.variants, args.nested)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
