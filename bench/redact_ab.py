"""Redaction on two versions of the rules, side by side: what changed, and what it costs.

    uv run python bench/redact_ab.py                    # this checkout against main
    uv run python bench/redact_ab.py --base REV --site-packages --rounds 5

Both versions' redaction modules (ocp_router/redact.py, its _redact_*.py parts and
redact_names.py) are
copied into a scratch folder as two packages, the base from `git archive REV` and the new
one from this work tree, and loaded in one process. Then:

1. Identity: every text file of the six development corpora (and, with --site-packages,
   of this checkout's .venv site-packages) cut into 3,000-character pieces, the same pieces
   with a password planted, and the secret corpus's samples (tests/data/secret_corpus.py)
   are redacted by both. Every piece whose output differs is counted and the first few are
   printed: on text without secrets a new rule should change nothing. With --names, the
   same for `redact_name` (errors, log lines, names: tokens glued to a word too).
2. Speed: CPU time (process_time) per 100 KB over the six corpora's files, each file timed
   best of 5 with each version, the order alternating file by file, for several rounds.
   Uncached (`_redact`): the cache of recent texts would time a dictionary look-up.
"""

from __future__ import annotations

import argparse
import importlib
import random
import re
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from io import BytesIO
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.data.secret_corpus import FORMATS, samples  # noqa: E402

CORPORA = Path.home() / ".cache" / "ocp-bench" / "retrieval-dev" / "corpora"
PACKAGE = "ocp_router/src/ocp_router"
PIECE = 3000
_TEXT_SUFFIXES = frozenset(
    ".py .pyi .md .rst .txt .json .yaml .yml .toml .cfg .ini .js .ts .go .rs .sh .html".split()
)
_REDACT_FILE = re.compile(r"(?:redact|redact_names|_redact_\w+)\.py")

Redact = Callable[[str], tuple[str, tuple[tuple[str, int, int], ...]]]


def _install(name: str, files: dict[str, str], scratch: Path) -> ModuleType:
    """The redaction modules in `files` as package `name` under `scratch`, imported."""
    folder = scratch / name
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    for file, source in files.items():
        (folder / file).write_text(re.sub(r"\bocp_router\b", name, source))
    return importlib.import_module(f"{name}.redact")


def _sources_at(rev: str) -> dict[str, str]:
    tar = subprocess.run(
        ["git", "archive", rev, PACKAGE], cwd=ROOT, check=True, capture_output=True
    ).stdout
    out = {}
    with tarfile.open(fileobj=BytesIO(tar)) as archive:
        for member in archive.getmembers():
            file = Path(member.name).name
            handle = archive.extractfile(member)
            if _REDACT_FILE.fullmatch(file) and handle is not None:
                out[file] = handle.read().decode()
    return out


def _sources_here() -> dict[str, str]:
    return {
        p.name: p.read_text() for p in (ROOT / PACKAGE).iterdir() if _REDACT_FILE.fullmatch(p.name)
    }


def _runner(module: ModuleType) -> Redact:
    def run(text: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
        result = module._redact(text, None)
        return result.text, tuple((r.kind, r.start, r.end) for r in result.redactions)

    return run


def _name_runner(package: str) -> Redact:
    redact_name = importlib.import_module(f"{package}.redact_names").redact_name

    def run(text: str) -> tuple[str, tuple[tuple[str, int, int], ...]]:
        result = redact_name(text)
        return result.text, tuple((r.kind, r.start, r.end) for r in result.redactions)

    return run


def text_files(root: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*")):
        if path.suffix not in _TEXT_SUFFIXES or not path.is_file() or ".git" in path.parts:
            continue
        data = path.read_bytes()
        if b"\0" not in data[:8192]:
            yield str(path.relative_to(root)), data.decode("utf-8", "replace")


def pieces(roots: list[Path], plant: bool) -> Iterator[tuple[str, str]]:
    rng = random.Random(37)
    for root in roots:
        for rel, text in text_files(root):
            for i in range(0, len(text), PIECE):
                piece = text[i : i + PIECE]
                yield f"{root.name}/{rel}@{i}", piece
                if plant:
                    cut = piece.rfind("\n", 0, len(piece) // 2) + 1
                    pw = "".join(rng.choice("abcdefXYZ0123456789#!%") for _ in range(14))
                    yield (
                        f"{root.name}/{rel}@{i}+pw",
                        piece[:cut] + f'DB_PASSWORD = "{pw}"\n' + piece[cut:],
                    )


def identity(
    base: Redact, new: Redact, named: Iterator[tuple[str, str]], show: int
) -> tuple[int, list[str]]:
    """How many texts there were, and the names of those the two versions redact apart."""
    n = 0
    differ: list[str] = []
    for name, text in named:
        n += 1
        a, b = base(text), new(text)
        if a != b:
            differ.append(name)
            if len(differ) <= show:
                print(f"  differs: {name}")
                for kind, s, e in sorted(set(a[1]) ^ set(b[1])):
                    side = "new" if (kind, s, e) in b[1] else "base"
                    line_start = text.rfind("\n", 0, s) + 1
                    print(f"    {side} {kind}: {text[line_start : e + 20].splitlines()[0][:160]!r}")
    return n, differ


def speed(base: Redact, new: Redact, texts: list[str], rounds: int) -> None:
    size = sum(len(t) for t in texts)
    for r in range(rounds):
        totals = [0.0, 0.0]
        for i, text in enumerate(texts):
            order = (0, 1) if (i + r) % 2 == 0 else (1, 0)
            for which in order:
                fn = (base, new)[which]
                best = float("inf")
                for _ in range(5):
                    t0 = time.process_time()
                    fn(text)
                    best = min(best, time.process_time() - t0)
                totals[which] += best
        a, b = (t / size * 1e5 * 1000 for t in totals)
        print(f"  round {r + 1}: base {a:.3f}  new {b:.3f} ms/100KB  ({(b / a - 1):+.2%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--site-packages", action="store_true", help="identity on them too")
    parser.add_argument("--rounds", type=int, default=3, help="speed rounds (0: none)")
    parser.add_argument("--show", type=int, default=20, help="differing pieces to print")
    parser.add_argument("--names", action="store_true", help="identity of redact_name too")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="redact-ab-"))
    sys.path.insert(0, str(scratch))
    base = _runner(_install("redact_base", _sources_at(args.base), scratch))
    new = _runner(_install("redact_new", _sources_here(), scratch))
    corpora = sorted(p for p in CORPORA.iterdir() if p.is_dir()) if CORPORA.is_dir() else []
    print(f"identity against {args.base}:")
    n, d = identity(base, new, pieces(corpora, plant=True), args.show)
    print(f"six corpora, pieces and pieces with a password: {len(d)} of {n} differ")
    site = [Path(p) for p in sys.path if p.endswith("site-packages")][:1]
    if args.site_packages:
        n, d = identity(base, new, pieces(site, plant=False), args.show)
        print(f"site-packages pieces: {len(d)} of {n} differ")
    corpus = ((f"{f.name}#{i}", t) for f in FORMATS for i, (t, _) in enumerate(samples(f, 40)))
    n, d = identity(base, new, corpus, 0)
    by_format = Counter(name.split("#")[0] for name in d)
    print(f"secret corpus samples: {len(d)} of {n} differ (new rules add here), by format:")
    for name, count in sorted(by_format.items()):
        print(f"  {name}: {count} of 40")
    if args.names:
        base_n, new_n = _name_runner("redact_base"), _name_runner("redact_new")
        n, d = identity(base_n, new_n, pieces(corpora, plant=True), args.show)
        print(f"redact_name, six corpora's pieces and pieces with a password: {len(d)} of {n}")
        if args.site_packages:
            n, d = identity(base_n, new_n, pieces(site, plant=False), args.show)
            print(f"redact_name, site-packages pieces: {len(d)} of {n} differ")
        corpus = ((f"{f.name}#{i}", t) for f in FORMATS for i, (t, _) in enumerate(samples(f, 40)))
        n, d = identity(base_n, new_n, corpus, args.show)
        print(f"redact_name, secret corpus samples: {len(d)} of {n} differ")
    if args.rounds:
        texts = [t for root in corpora for _, t in text_files(root)]
        print(f"speed over {sum(map(len, texts)) / 1e6:.1f} MB, per-file best of 5:")
        speed(base, new, texts, args.rounds)


if __name__ == "__main__":
    main()
