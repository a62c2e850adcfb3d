"""Redaction of text dense with secrets' names, on two versions of the rules: CPU per character.

    uv run python bench/redact_dense.py                       # this checkout against main
    uv run python bench/redact_dense.py --base REV --chars 50000

In `password=password=…` each name's value holds the names after it; judged one by one, every
value (up to 1,024 characters) is read again. Each text below, `--chars` long, is redacted
(`_redact`, uncached) and looked through for named values (`named_values`, what
`redact_name_head` reads the rest of a long text with) by both versions, loaded side by side
as bench/redact_ab.py loads them; best of 3, µs per character, each run from cold (a version
that remembers its judgements of values, _redact_memo.py, forgets them first). A .env file of
drawn values is dense with names the other way: each value is distinct. Ordinary code (this
checkout's ocp_server sources) is the reference: about 0.1 µs a character.
"""

from __future__ import annotations

import argparse
import random
import string
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
_CHOSEN = "Xk9v" + "2Lq7!mZ"
_AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"

#: Each text is one unit repeated to --chars; its label shows the unit.
SHAPES = [
    "password" + _EQ,
    "api_key" + _EQ,
    "client_secret" + _EQ,
    "--password" + _EQ,
    "token:",
    "password" + _EQ + "a" + _CHOSEN,
    "password" + _EQ + "x" + _AKIA,
    "password: ",
    "password" + _EQ + '"password' + _EQ,
    "pw" + _EQ + "a1b2c3d4e5 ",
]


def _label(unit: str) -> str:
    return repr(unit.replace(_CHOSEN, "<pw>").replace(_AKIA, "<AKIA>"))


def _best(fn: Callable[[str], object], text: str, cold: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(3):
        cold()
        t0 = time.process_time()
        fn(text)
        best = min(best, time.process_time() - t0)
    return best / len(text) * 1e6


def _cold(redact: ModuleType) -> Callable[[], None]:
    """What empties a version's remembered judgements (_redact_memo.py), if it has them:
    each timing starts from none, as a new text's values do."""
    memo = sys.modules.get(redact.__name__.rsplit(".", 1)[0] + "._redact_memo")
    return memo.forget if memo is not None else lambda: None


def _env_lines(chars: int) -> str:
    """A .env file of secrets, each value drawn (no two alike), to `chars`."""
    rng = random.Random(5)
    names = ["API_KEY", "DB_PASSWORD", "SECRET_TOKEN", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"]
    alphabet = string.ascii_letters + string.digits
    lines: list[str] = []
    while sum(map(len, lines)) < chars:
        value = "".join(rng.choice(alphabet) for _ in range(32))
        lines.append(f"{rng.choice(names)}_{len(lines)}{_EQ}{value}\n")
    return "".join(lines)[:chars]


def _code(chars: int) -> str:
    files = sorted((ROOT / "ocp_server" / "src").rglob("*.py"))
    return "".join(p.read_text(errors="replace") for p in files)[:chars]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--chars", type=int, default=30_000, help="length of each text")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="redact-dense-"))
    sys.path.insert(0, str(scratch))
    base: ModuleType = _install("dense_base", _sources_at(args.base), scratch)
    new: ModuleType = _install("dense_new", _sources_here(), scratch)
    texts = [(_label(u), (u * (args.chars // len(u) + 1))[: args.chars]) for u in SHAPES]
    texts.append(("`KEY=value` lines, random values", _env_lines(args.chars)))
    texts.append(("ordinary code", _code(args.chars)))
    print(f"µs per character, {args.chars:,}-character texts, best of 3 (base: {args.base})")
    print("| text | redact base | redact new | speedup | named_values base | new | speedup |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, text in texts:
        ra = _best(lambda t: base._redact(t, None), text, _cold(base))
        rb = _best(lambda t: new._redact(t, None), text, _cold(new))
        na = _best(base.named_values, text, _cold(base))
        nb = _best(new.named_values, text, _cold(new))
        print(
            f"| {name} | {ra:.2f} | {rb:.2f} | {ra / rb:.1f}x "
            f"| {na:.2f} | {nb:.2f} | {na / nb:.1f}x |"
        )


if __name__ == "__main__":
    main()
