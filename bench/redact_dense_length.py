"""Redaction of text dense with secrets, as names and heads are redacted: CPU against length.

    uv run python bench/redact_dense_length.py                  # this checkout against main
    uv run python bench/redact_dense_length.py --base REV --lengths 1000,8000,64000

`redact_name` (an error quoting a value, a log line, a path) and `redact_name_head` (a
trace's request, kept to 2,000 characters) also look for tokens glued to the word before
them (`xAKIA…`): each such prefix is read with the 512 characters after it, as `redact`
reads a text. In a text of secrets one after another there is a prefix every few
characters, and those stretches were read whole (up to 150 µs a character). Each text below
is one unit repeated to each length, redacted by both versions loaded side by side (as
bench/redact_ab.py loads them); CPU time (process_time) per character, best of --repeat.
A flat row is linear work; ordinary code (this checkout's ocp_server sources) is the
reference.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redact_ab import _install, _sources_at, _sources_here  # noqa: E402

# Assembled here, so that this file's own text holds no secret nor an assignment to a name.
_EQ = "="
_AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"

#: Each text is one unit repeated to each length; its label shows the unit.
SHAPES = [
    "password" + _EQ + "x" + _AKIA,  # tests/server/test_trace_request_head.py's
    "key: x" + "AIza ",  # names and glued prefixes, nothing hidden
    "pw: a" + "eyJ ",
    "token" + _EQ + "a" + "ghp_",
    "password" + _EQ,
]


def _label(unit: str) -> str:
    return repr(unit.replace(_AKIA, "<AKIA>"))


def _best(fn: Callable[[str], object], text: str, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn(text)
        best = min(best, time.process_time() - t0)
    return best / len(text) * 1e6


def _function(module: ModuleType, name: str) -> Callable[[str], object]:
    if name == "redact_name":
        return module.redact_name  # type: ignore[no-any-return]
    return lambda t: module.redact_name_head(t, 2000)


def _code(chars: int) -> str:
    files = sorted((ROOT / "ocp_server" / "src").rglob("*.py"))
    return "".join(p.read_text(errors="replace") for p in files)[:chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--lengths", default="1000,4000,16000,64000", help="text lengths")
    parser.add_argument("--repeat", type=int, default=2, help="timings per cell, best kept")
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    scratch = Path(tempfile.mkdtemp(prefix="redact-length-"))
    sys.path.insert(0, str(scratch))
    _install("length_base", _sources_at(args.base), scratch)
    _install("length_new", _sources_here(), scratch)
    versions: list[ModuleType] = [
        importlib.import_module(f"length_{v}.redact_names") for v in ("base", "new")
    ]
    units = [(_label(u), u) for u in SHAPES]
    print(f"µs per character, best of {args.repeat} (base: {args.base}; new: this work tree)")
    print("| text | function | " + " | ".join(f"{n:,} base / new" for n in lengths) + " |")
    print("|---|---|" + "---:|" * len(lengths))
    for label, unit in [*units, ("ordinary code", "")]:
        for fname in ("redact_name", "redact_name_head"):
            cells = []
            for n in lengths:
                text = (unit * (n // len(unit) + 1))[:n] if unit else _code(n)
                a, b = (_best(_function(m, fname), text, args.repeat) for m in versions)
                cells.append(f"{a:.1f} / {b:.1f}")
            print(f"| {label} | {fname} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
