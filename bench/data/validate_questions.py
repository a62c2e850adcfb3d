"""Validate `django_questions.jsonl` against the extracted Django 5.1.4 sdist.

    uv run python bench/data/validate_questions.py [--root PATH]

Checks every record: required keys and types, unique ids and questions, a known `kind`, the path
exists under the sdist root, 1 <= start_line <= end_line <= the file's line count, the range is at
most 150 lines, and a set `symbol` occurs in the first 5 lines of the range. Prints counts by
top-level package, by second-level package and by kind; exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
QUESTIONS = HERE / "django_questions.jsonl"
KINDS = {"definition", "behaviour", "config", "location"}
MAX_RANGE = 150
SYMBOL_WINDOW = 5
FIELDS = {
    "id": str,
    "question": str,
    "path": str,
    "start_line": int,
    "end_line": int,
    "kind": str,
}


def _default_root() -> Path:
    sys.path.insert(0, str(HERE.parent))
    corpus = importlib.import_module("corpus")
    return Path(corpus.django_source())


def validate(records: list[dict[str, object]], root: Path) -> list[str]:
    problems: list[str] = []
    seen_ids: set[str] = set()
    seen_questions: set[str] = set()
    line_cache: dict[str, list[str]] = {}
    for n, rec in enumerate(records, 1):
        where = f"record {n} ({rec.get('id', '?')})"
        bad = [k for k, t in FIELDS.items() if not isinstance(rec.get(k), t)]
        if bad:
            problems.append(f"{where}: missing or mistyped {bad}")
            continue
        symbol = rec.get("symbol")
        if symbol is not None and not isinstance(symbol, str):
            problems.append(f"{where}: symbol must be a string or null")
            continue
        rid, question, path = str(rec["id"]), str(rec["question"]), str(rec["path"])
        start, end = int(str(rec["start_line"])), int(str(rec["end_line"]))
        if rid in seen_ids:
            problems.append(f"{where}: duplicate id")
        seen_ids.add(rid)
        if question.strip().lower() in seen_questions:
            problems.append(f"{where}: duplicate question")
        seen_questions.add(question.strip().lower())
        if rec["kind"] not in KINDS:
            problems.append(f"{where}: unknown kind {rec['kind']!r}")
        if not path.startswith("django/"):
            problems.append(f"{where}: path must start with 'django/'")
        file = root / path
        if not file.is_file():
            problems.append(f"{where}: {path} does not exist")
            continue
        if path not in line_cache:
            line_cache[path] = file.read_text(encoding="utf-8").splitlines()
        lines = line_cache[path]
        if not 1 <= start <= end <= len(lines):
            problems.append(f"{where}: range {start}-{end} outside 1-{len(lines)} or inverted")
            continue
        if end - start + 1 > MAX_RANGE:
            problems.append(f"{where}: range {start}-{end} longer than {MAX_RANGE} lines")
        if symbol:
            head = "\n".join(lines[start - 1 : min(end, start + SYMBOL_WINDOW - 1)])
            if symbol not in head:
                problems.append(
                    f"{where}: symbol {symbol!r} not in the first {SYMBOL_WINDOW} lines "
                    f"of {path}:{start}-{end}"
                )
    return problems


def _table(title: str, counts: Counter[str]) -> None:
    print(f"\n{title}")
    width = max(len(k) for k in counts)
    for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"  {key:<{width}}  {count:>4}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--root", type=Path, help="extracted sdist root (default: fetch it)")
    parser.add_argument("--file", type=Path, default=QUESTIONS)
    args = parser.parse_args(argv)
    root: Path = args.root or _default_root()
    records = [
        json.loads(line) for line in args.file.read_text(encoding="utf-8").splitlines() if line
    ]
    problems = validate(records, root)
    for problem in problems:
        print("ERROR", problem)

    paths = [str(r.get("path", "")) for r in records]
    _table("by top-level package", Counter("/".join(p.split("/")[:2]) for p in paths))
    _table(
        "by second-level package",
        Counter("/".join(p.split("/")[:3]) for p in paths if p.count("/") >= 3),
    )
    _table("by kind", Counter(str(r.get("kind")) for r in records))
    print(f"\n{len(records)} questions, {len(set(paths))} files, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
