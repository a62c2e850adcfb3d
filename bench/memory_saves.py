"""Max-size saves for bench_memory.py: what one `ocp_result_save` may carry, from a fixed seed.

Each save has 50 decisions, 100 notes, 100 open items and 100 state keys near their size
limits (ocp_wire/save.py). Two shapes:

- `repeated`: each item a few distinct words and one word repeated to the size limit (the
  shape the 2026-12 profile of a slow save used). difflib's junk rule treats a word that is
  over 1% of a long text as junk, so such items share most words and are not alike.
- `prose`: items of about 5,000 characters drawn from a fixed vocabulary with Zipf weights.
  Of each kind, a fifth are near-duplicates of an earlier item (a few words changed: they
  merge), a fifth the sentences of an earlier item reordered (the same words: they do not),
  and the rest new. Later saves also bring near-duplicates of the items of earlier saves.

- `named`: the `prose` items with a few identifiers in them (NAMES: names defined in the
  sample repository, as notes name them), so that its digest covers the citations a save
  suggests for them as well as its merges.

Only the standard library: the texts are the same on any machine and Python 3.11+.
"""

from __future__ import annotations

import hashlib
import random
import time
from dataclasses import dataclass, replace

from ocp_server.memory import DecisionIn, MemoryStore, NoteIn, SaveOutcome

ITEM_CHARS = 4_900  # notes, open items and decisions take 5,000 (ocp_wire/save.py)
SHAPES = ("repeated", "prose", "named")
# Names of the sample repository (bench_memory.py's pinned sources), as a note names them:
# marked, called, shaped like code (snake_case, CamelCase, dotted) or bare. Some are defined
# once (suggested), some more than once (`run`, `main`, `words_of`, `suggest`: ambiguous),
# some not at all (`ratio_with`, `names_in` in those sources), some bare prose words.
NAMES = (
    "MemoryStore", "`Comparer`", "compare_all()", "identifier_shaped", "`_candidates`",
    "fts_query", "WorkspaceIndex", "CodeView", "body_terms()", "SaveOutcome", "NoteIn",
    "DecisionIn", "TraceStore", "`kept`", "cap()", "run()", "`main`", "words_of",
    "suggest()", "_Words.ratio_with", "names_in", "same_lines", "make_repo()", "Editor",
    "`_selective`", "checkpointed()", "zeroing_deletes", "_near_duplicate", "spans",
    "save", "index", "restore", "search",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class SaveRun:
    shape: str
    seconds: list[float]
    cpu: list[float]  # this process's CPU time (all threads): less at the mercy of a busy host
    merged: list[int]
    digest: str  # of every merge decision of the run: the same on code that compares alike
    suggested: list[int]
    suggestions: str  # of every citation suggested: the same on code that resolves alike


def _vocabulary(rnd: random.Random, size: int = 3_000) -> list[str]:
    syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "qu", "de", "fo"]
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rnd.choices(syllables, k=rnd.randint(1, 4)))] = None
    return list(words)


class _Prose:
    """Deterministic texts: sentences of Zipf-weighted words, and their near-duplicates."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)
        self.words = _vocabulary(self.rnd)
        self.weights = [1 / (rank + 1) for rank in range(len(self.words))]

    def sentences(self, chars: int) -> list[str]:
        out: list[str] = []
        while sum(len(s) + 1 for s in out) < chars - 120:
            n = self.rnd.randint(6, 18)
            out.append(" ".join(self.rnd.choices(self.words, self.weights, k=n)) + ".")
        return out

    def text(self, chars: int = ITEM_CHARS) -> str:
        return " ".join(self.sentences(chars))[:chars]

    def edited(self, text: str) -> str:
        """A near-duplicate: about 2% of the words replaced."""
        words = text.split(" ")
        for _ in range(max(1, len(words) // 50)):
            words[self.rnd.randrange(len(words))] = self.rnd.choice(self.words)
        return " ".join(words)[:ITEM_CHARS]

    def reordered(self, text: str) -> str:
        """The same sentences in another order: the same words, not near-identical."""
        parts = text.split(". ")
        self.rnd.shuffle(parts)
        return ". ".join(parts)[:ITEM_CHARS]

    def items(self, count: int, earlier: list[str]) -> list[str]:
        out: list[str] = []
        for _ in range(count):
            pool = out + earlier
            roll = self.rnd.random()
            if pool and roll < 0.2:
                out.append(self.edited(self.rnd.choice(pool)))
            elif pool and roll < 0.4:
                out.append(self.reordered(self.rnd.choice(pool)))
            else:
                out.append(self.text())
        return out


@dataclass(frozen=True, slots=True)
class _Save:
    summary: str
    decisions: list[DecisionIn]
    notes: list[NoteIn]
    open_items: list[str]
    state: dict[str, str]


def _repeated(tag: str, cite: str) -> _Save:
    return _Save(
        summary=f"{tag} " + "S" * 19_000,
        decisions=[
            DecisionIn(
                f"{tag} huge {i}", f"{tag} {i} " + "x " * 2_400, "r " * 2_400, citations=(cite,)
            )
            for i in range(50)
        ],
        notes=[NoteIn(f"{tag} note {i} " + "n " * 2_400) for i in range(100)],
        open_items=[f"{tag} open {i} " + "o" * 4_900 for i in range(100)],
        state={f"{tag}-k{i}": "v" * 2_000 for i in range(100)},
    )


def _prose(prose: _Prose, tag: str, cite: str, earlier: dict[str, list[str]]) -> _Save:
    decisions = prose.items(50, earlier["decisions"])
    notes = prose.items(100, earlier["notes"])
    open_items = prose.items(100, earlier["open_items"])
    earlier["decisions"] += decisions
    earlier["notes"] += notes
    earlier["open_items"] += open_items
    return _Save(
        summary=f"{tag} " + prose.text(19_000),
        decisions=[
            DecisionIn(f"{tag} decision {i}", text, prose.text(2_000), citations=(cite,))
            for i, text in enumerate(decisions)
        ],
        notes=[NoteIn(text) for text in notes],
        open_items=open_items,
        state={f"{tag}-k{i}": prose.text(2_000) for i in range(100)},
    )


def _named(prose: _Prose, tag: str, cite: str, earlier: dict[str, list[str]]) -> _Save:
    s = _prose(prose, tag, cite, earlier)
    return _Save(
        summary=s.summary,
        decisions=[replace(d, decision=_with_names(prose.rnd, d.decision)) for d in s.decisions],
        notes=[NoteIn(_with_names(prose.rnd, n.text)) for n in s.notes],
        open_items=s.open_items,
        state=s.state,
    )


def _with_names(rnd: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(rnd.randint(1, 4)):
        words[rnd.randrange(len(words))] = rnd.choice(NAMES)
    return " ".join(words)[:ITEM_CHARS]


def _suggestions(result: SaveOutcome) -> list[str]:
    return [f"{s.field}>{s.citation}:{s.symbol}:{s.kind}" for s in result.suggested]


def _merges(result: SaveOutcome) -> list[str]:
    # alike to 12 places: a float printed in full could differ in its last bit between two
    # equal computations done in another order
    return [f"{m.field}>{m.into}:{m.alike:.12f}" for m in result.merged]


async def max_saves(memory: MemoryStore, root: str, shape: str, saves: int, cite: str) -> SaveRun:
    """`saves` max-size saves of one shape in a new session; each one timed."""
    session = await memory.start_session(root, f"max-size saves, {shape}")
    prose = _Prose(seed=43)
    earlier: dict[str, list[str]] = {"decisions": [], "notes": [], "open_items": []}
    seconds: list[float] = []
    cpu: list[float] = []
    merged: list[int] = []
    digest, suggestions = hashlib.sha256(), hashlib.sha256()
    suggested: list[int] = []
    make = {"prose": _prose, "named": _named}
    for n in range(saves):
        tag = f"{shape[0].upper()}{n}"
        if shape == "repeated":
            s = _repeated(tag, cite)
        else:
            s = make[shape](prose, tag, cite, earlier)
        t0, c0 = time.perf_counter(), time.process_time()
        result = await memory.save(
            session,
            summary=s.summary,
            decisions=s.decisions,
            notes=s.notes,
            open_items=s.open_items,
            state=s.state,
        )
        seconds.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
        merged.append(len(result.merged))
        digest.update("\n".join(_merges(result)).encode())
        suggested.append(len(result.suggested))
        suggestions.update("\n".join(_suggestions(result)).encode())
    return SaveRun(
        shape,
        seconds,
        cpu,
        merged,
        digest.hexdigest()[:16],
        suggested,
        suggestions.hexdigest()[:16],
    )
