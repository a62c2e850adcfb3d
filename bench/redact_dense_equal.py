"""Redaction of text dense with secrets, two versions of the rules: the same output, input by input.

    uv run python bench/redact_dense_equal.py                 # this checkout against main
    uv run python bench/redact_dense_equal.py --base REV --count 3000

A change made for speed must leave what is redacted alone. Texts are generated from a seed:
units of secrets' names, values and glued prefixes (bench/redact_dense.py's and
bench/redact_dense_length.py's, and more) repeated and mixed at random lengths, `KEY=value`
lines of random, chosen and placeholder values, and the samples of tests/data/secret_corpus.py
joined several to a text. Each is run through both versions, loaded side by side as
bench/redact_ab.py loads them: `_redact` (text and redactions), `named_values`, `redact_name`
and `redact_name_head`. Prints how many texts differed (it should be 0) and the first few.
"""

from __future__ import annotations

import argparse
import importlib
import random
import string
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from redact_ab import _install, _sources_at, _sources_here  # noqa: E402

from tests.data.secret_corpus import FORMATS, samples  # noqa: E402

# Assembled here, so that this file's own text holds no secret nor an assignment to a name.
_EQ = "="
_AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"
_NAMES = ["password", "api_key", "client_secret", "--password", "token", "DB_PASSWORD", "pw"]
_NAMES += ["AUTH_KEY", "secret", "GITHUB_TOKEN", "aws_secret_access_key", "key", "passwd"]
_OPS = [_EQ, ": ", ":", " = ", "=>", " ", _EQ + '"', ": '", "=x"]
_GLUED = ["AIza", "eyJ", "ghp_", "xAKIA", "sk-ant-", "hf_", "AKIA", "glpat-", "xoxb-"]
_FILLERS = ["", " ", "\n", ", ", "; ", "&", "\t", "x", "1"]


def _value(rng: random.Random) -> str:
    kind = rng.randrange(7)
    n = rng.choice([3, 8, 12, 16, 24, 32, 40, 64])
    if kind == 0:
        return "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))
    if kind == 1:
        return "".join(rng.choice(string.printable[:94]) for _ in range(n))
    if kind == 2:
        return rng.choice(["changeme", "xxxx", "${DB_PASSWORD}", "<token>", "hunter2", "..."])
    if kind == 3:
        return rng.choice(string.ascii_lowercase) * n
    if kind == 4:
        return _AKIA
    if kind == 5:
        return "abcdefgh12345678"[: max(n, 8)]
    return rng.choice(["Ocean6389!", "apple89.dragon7053", "kettle82#falcon2494", "password1"])


def _unit(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 4)):
        what = rng.randrange(4)
        if what == 0:
            parts.append(rng.choice(_NAMES) + rng.choice(_OPS) + _value(rng))
        elif what == 1:
            parts.append(rng.choice(_NAMES) + rng.choice(_OPS))
        elif what == 2:
            parts.append(rng.choice(["x", "a", "key: x", "pw: a"]) + rng.choice(_GLUED))
        else:
            parts.append(_value(rng))
        parts.append(rng.choice(_FILLERS))
    return "".join(parts)


def texts(count: int, seed: int) -> Iterator[str]:
    """`count` texts: dense units repeated, .env blocks, corpus samples joined."""
    rng = random.Random(seed)
    corpus = [t for fmt in FORMATS for t, _ in samples(fmt, 3, seed=seed)]
    for i in range(count):
        shape = i % 3
        if shape == 0:
            unit = _unit(rng)
            n = rng.choice([50, 300, 1200, 5000, 20000])
            yield (unit * (n // max(1, len(unit)) + 1))[:n]
        elif shape == 1:
            lines = [
                rng.choice(_NAMES).upper().lstrip("-") + f"_{j}" + _EQ + _value(rng)
                for j in range(rng.randint(1, 200))
            ]
            yield "\n".join(lines) + "\n"
        else:
            yield "".join(
                rng.choice(corpus) + rng.choice(_FILLERS) for _ in range(rng.randint(1, 8))
            )


def _outputs(package: str) -> Callable[[str], tuple[object, ...]]:
    redact = importlib.import_module(f"{package}.redact")
    names = importlib.import_module(f"{package}.redact_names")

    def run(text: str) -> tuple[object, ...]:
        result = redact._redact(text, None)
        name = names.redact_name(text)
        head = names.redact_name_head(text, 2000)
        return (
            result.text,
            tuple((r.kind, r.start, r.end) for r in result.redactions),
            redact.named_values(text),
            name.text,
            head,
        )

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="main", help="git revision to compare against")
    parser.add_argument("--count", type=int, default=1500, help="texts generated")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="redact-equal-"))
    sys.path.insert(0, str(scratch))
    _install("equal_base", _sources_at(args.base), scratch)
    _install("equal_new", _sources_here(), scratch)
    base = _outputs("equal_base")
    new = _outputs("equal_new")
    differ = chars = 0
    for i, text in enumerate(texts(args.count, args.seed)):
        chars += len(text)
        a, b = base(text), new(text)
        if a != b:
            differ += 1
            if differ <= 5:
                print(f"text {i} differs: {text[:120]!r}")
    print(f"{differ} of {args.count:,} texts ({chars:,} characters) differ (base: {args.base})")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
