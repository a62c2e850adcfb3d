"""A definition spelt with the request's case, as ranker evidence (docs/search-rounds.md,
2026-12-06, night). (Measured held out: not kept.)

    uv run python scripts/case_features.py                    # every variant, LORO table

`defines_named` matches what a request writes as code case-blind (`lexicon.defined_hash`,
`identifier_key`): "Use named fields in `Ignore`" finds every file defining `ignore` (ripgrep's
crate, its functions) as it finds dir.rs, which defines the struct `Ignore`. The column: per
candidate, log(1 + sum of 1 / df) over the identifiers the request writes as code
(`query.code_words`, the last part of a qualified one) that the file defines spelt exactly so,
case included, df the files defining it so (read from the chunks' symbols); or only where the
case-blind match takes more files than the exact one. Added to `train_ranker.py`'s 28 features
on the rows `train_ranker.py features` keeps (through `window_features.collect`), commits
MRR@10 per held-out corpus and ripgrep's fitted on its own rows, as `miss_features.py` prints.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
from collections import defaultdict
from pathlib import Path

import numpy as np
import window_features as wf
from miss_features import print_held_out
from ranker_corpora import corpus_parser

from ocp_server.index.arrays import Floats, Ints
from ocp_server.index.lexicon import code_words
from ocp_server.index.query import Query
from ocp_server.index.workspace import WorkspaceIndex

_QUALIFIER = re.compile(r"[.:]+")
#: per corpus root: symbol as spelt -> files, symbol lower-cased -> files
_DEFINED: dict[Path, tuple[dict[str, set[str]], dict[str, set[str]]]] = {}


async def _symbols(root: Path) -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        index = await WorkspaceIndex.open(root, Path(tmp) / "ocp.db", history_commits=0)
        try:
            await index.update()
            cursor = await index.db.execute(
                "SELECT f.path, c.symbol FROM chunks c JOIN files f ON f.id = c.file_id"
                " WHERE c.symbol IS NOT NULL AND f.skip_reason IS NULL"
            )
            return [(str(p), str(s)) for p, s in await cursor.fetchall()]
        finally:
            await index.close()


def _defined(root: Path) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    got = _DEFINED.get(root)
    if got is None:
        exact: dict[str, set[str]] = defaultdict(set)
        blind: dict[str, set[str]] = defaultdict(set)
        for path, symbol in asyncio.run(_symbols(root)):
            last = _QUALIFIER.split(symbol)[-1]
            exact[last].add(path)
            blind[last.lower()].add(path)
        got = _DEFINED[root] = (exact, blind)
    return got


def _case_column(only_narrower: bool) -> wf.Column:
    def column(c: wf.Corpus, q: Query, cand: Ints, x: Floats) -> Floats:
        exact, blind = _defined(c.root)
        identifiers, _ = code_words(q.text)
        score: dict[str, float] = defaultdict(float)
        for ident in dict.fromkeys(identifiers):
            last = _QUALIFIER.split(ident)[-1]
            files = exact.get(last, set())
            if not files or (only_narrower and files == blind.get(last.lower(), set())):
                continue
            for path in files:
                score[path] += 1.0 / len(files)
        paths = c.snap.paths
        held = np.array([score.get(paths[i], 0.0) for i in cand.tolist()], dtype=np.float64)
        out: Floats = np.log1p(held)
        return out

    return column


VARIANTS: dict[str, tuple[list[wf.Column], tuple[str, ...]]] = {
    "base": ([], ()),
    "defines as spelt, case included": ([_case_column(False)], ()),
    "... only where case-blind takes more files": ([_case_column(True)], ()),
}


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, VARIANTS)
    args = parser.parse_args(argv)
    print_held_out(args.variants or list(VARIANTS), VARIANTS, args.cache, args.mirrors)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
