"""Queries an agent types besides requests in prose, on the six development corpora: a file's
path or name, a method qualified by its class, an error message it saw.

    uv run python scripts/agent_queries.py

The benchmark's requests are commit messages and doc comments. These sets are built from the
same corpora's code and doc-comment queries (no history, no other repository), each query with
the files, and where there is one the lines, it should find:

- path: a source file's path as written (`src/click/termui.py`), every 7th file;
- file name: that file's name alone (`termui.py`), every file of that name relevant;
- qualified: a doc-comment query's method qualified by its class as the index scopes it,
  `Context.invoke` (Rust: `Searcher::search_slice`);
- name's end: the last two words of a longer name the code defines, in its own spelling
  (`VersionFlag` of `InitDefaultVersionFlag`, `help_str` of `get_short_help_str`), where
  nothing defines that name itself; every file defining a name it ends relevant, and the first
  result should show one of those definitions;
- message: an error message the code raises or returns (`raise UsageError("...")`,
  `errors.New`, `fmt.Errorf`, `new Error`, `err!`/`anyhow!`/`panic!`), its placeholders
  (`{}`, `%q`, `${x}`) dropped, at least three words; the files holding it relevant, and its line;
- question: a doc comment's first sentence, or a commit subject, put as a question an agent
  asks about code ("how does the code ...", "where do we ...", "what part ...", "which code
  ...?"): the function's file (and its lines), the source files the commit changed, or every
  file it changed, tests included ("its tests too": what lifting the code costs).

Per set and corpus: MRR@10 of files, and Hit@1 of lines (the first result's lines hold the
method or the message, or it is one of the definitions wanted) where the set has them.
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from ranker_corpora import BENCH, corpus_parser, corpus_root, manifest_corpora

from ocp_server.index.lexicon import first_sentence, identifier_key
from ocp_server.index.workspace import WorkspaceIndex

PATH_EVERY = 7
MAX_MESSAGES = 60
_MESSAGE = re.compile(
    r"(?:raise \w+\(|errors\.New\(|fmt\.Errorf\(|new \w*Error\(|(?:anyhow|err|panic|format_err)!\()"
    r"\s*f?([\"'`])((?:(?!\1).){12,120})\1"
)
_PLACEHOLDER = re.compile(r"\{[^}]*\}|%[-+ #0-9.]*[a-zA-Z]|\$\{[^}]*\}")
_SEPARATOR = {".rs": "::"}


class Case(NamedTuple):
    text: str
    relevant: set[str]
    lines: tuple[str, int, int] | None  # what the first result should show: (path, first, last)
    symbols: frozenset[str] = frozenset()  # ...or one of these definitions


def _source_files(root: Path, extensions: list[str]) -> list[str]:
    wanted = {e.lower() for e in extensions}
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in wanted and ".git" not in p.parts
    )


_TEST_PATH = re.compile(r"(^|/)(tests?|testing|__tests__|testdata)/|_test\.|\.test\.|test_")


def _is_test(path: str) -> bool:
    return _TEST_PATH.search(path) is not None


def path_cases(files: list[str]) -> dict[str, list[Case]]:
    by_name: dict[str, set[str]] = {}
    for f in files:
        by_name.setdefault(f.rsplit("/", 1)[-1], set()).add(f)
    picked = files[::PATH_EVERY]
    return {
        "path": [Case(f, {f}, None) for f in picked],
        "file name": [Case(n, by_name[n], None) for n in {f.rsplit("/", 1)[-1] for f in picked}],
    }


def message_cases(root: Path, files: list[str]) -> dict[str, list[Case]]:
    """The messages with their placeholders dropped ("message"), and as an agent sees them,
    each placeholder filled with a value ("message seen")."""
    texts = {f: (root / f).read_text("utf-8", errors="replace") for f in files}
    found: dict[str, tuple[str, int, str]] = {}
    for f in files:
        if _is_test(f):
            continue
        for m in _MESSAGE.finditer(texts[f]):
            words = _PLACEHOLDER.sub(" ", m.group(2))
            message = " ".join(words.replace("\\n", " ").split()).strip(" :.,'\"")
            if len(message.split()) >= 3 and message not in found:
                line = texts[f].count("\n", 0, m.start()) + 1
                found[message] = (f, line, _seen(m.group(2)))
    cases: dict[str, list[Case]] = {"message": [], "message seen": []}
    for message, (f, line, seen) in sorted(found.items(), key=lambda item: item[1][:2]):
        relevant = {g for g in files if message in texts[g]} or {f}
        cases["message"].append(Case(message, relevant, (f, line, line)))
        cases["message seen"].append(Case(seen, relevant, (f, line, line)))
    step = max(1, len(cases["message"]) // MAX_MESSAGES)
    return {name: found_cases[::step][:MAX_MESSAGES] for name, found_cases in cases.items()}


#: How an agent asks about code in prose: each question starts at its own place in the cycle.
_ASKED = ("how does the code {}", "where do we {}", "what part {}", "which code {}?")


def _asked(text: str) -> str:
    sentence = first_sentence(text).strip().rstrip(".")
    form = _ASKED[zlib.crc32(sentence.encode()) % len(_ASKED)]
    return form.format(sentence[:1].lower() + sentence[1:])


def question_cases(corpus: str) -> dict[str, list[Case]]:
    """Questions an agent asks about code: a doc comment's first sentence ("question, doc
    comment": the function's file, and its lines), and a commit subject ("question, commit":
    the source files it changed, not its tests; and "its tests too": every file it changed,
    tests included, for what a question gives up), each put as a question (`_ASKED`)."""
    queries = BENCH / "queries"
    doc, commit, any_file = [], [], []
    for line in (queries / f"{corpus}.docstrings.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        at = q["relevant_span"]
        doc.append(
            Case(
                _asked(q["query"]),
                set(q["relevant_files"]),
                (at["path"], at["start_line"], at["end_line"]),
            )
        )
    for line in (queries / f"{corpus}.commits.jsonl").read_text("utf-8").splitlines():
        q = json.loads(line)
        if q["relevant_nontest_files"]:
            commit.append(Case(_asked(q["subject"]), set(q["relevant_nontest_files"]), None))
        any_file.append(Case(_asked(q["subject"]), set(q["relevant_files"]), None))
    return {
        "question, doc comment": doc,
        "question, commit": commit,
        "question, commit, its tests too": any_file,
    }


#: What fills a message's placeholders as an agent sees it: a path, a number, a name, a flag,
#: a word; each message starts at its own place in the cycle.
_VALUES = ("/home/dev/app/settings.yaml", "42", "user_id", "--output", "main", "C:\\work\\a.txt")


def _seen(template: str) -> str:
    start = zlib.crc32(template.encode()) % len(_VALUES)
    filled = iter((_VALUES[start:] + _VALUES[:start]) * 8)
    # Go's %q quotes what it prints
    text = _PLACEHOLDER.sub(
        lambda m: f'"{next(filled)}"' if m.group().endswith("q") else next(filled), template
    )
    return " ".join(text.replace("\\n", " ").split()).strip(" :.,'\"")


async def qualified_cases(index: WorkspaceIndex, corpus: str) -> list[Case]:
    cases = []
    lines = (BENCH / "queries" / f"{corpus}.docstrings.jsonl").read_text("utf-8").splitlines()
    for line in lines:
        q = json.loads(line)
        at = q["relevant_span"]
        async with index.db.execute(
            "SELECT c.scope FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ? "
            "AND c.symbol = ? AND c.start_line <= ? AND c.end_line >= ? AND c.scope != ''",
            (at["path"], q["function"], at["end_line"], at["start_line"]),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            continue
        separator = _SEPARATOR.get(Path(at["path"]).suffix, ".")
        scope = str(row[0]).split(".")[-1].split("::")[-1]
        text = f"{scope}{separator}{q['function']}"
        where = (at["path"], at["start_line"], at["end_line"])
        cases.append(Case(text, set(q["relevant_files"]), where))
    return cases


MAX_NAME_ENDS = 60
_CODE_KINDS = ("function", "method", "class", "struct", "interface", "type", "enum", "trait")
_CAMEL_PART = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def _name_end(name: str) -> str | None:
    """The last two words of `name` as it spells them, when it has more and they are words."""
    snake = "_" in name.strip("_")
    parts = [p for p in name.split("_") if p] if snake else _CAMEL_PART.findall(name)
    if len(parts) < 3 or not all(len(p) > 1 and p.isalpha() for p in parts[-2:]):
        return None
    if snake:
        return "_".join(parts[-2:])
    return "".join(p[0].upper() + p[1:] for p in parts[-2:])


async def name_end_cases(index: WorkspaceIndex) -> list[Case]:
    marks = ",".join("?" * len(_CODE_KINDS))
    async with index.db.execute(
        "SELECT f.path, c.symbol FROM chunks c JOIN files f ON f.id = c.file_id"
        f" WHERE c.kind IN ({marks}) AND c.symbol IS NOT NULL",
        _CODE_KINDS,
    ) as cursor:
        defined = [
            (str(path), str(symbol).split(".")[-1]) for path, symbol in await cursor.fetchall()
        ]
    keys = {identifier_key(name) for _, name in defined}
    ends: dict[str, set[tuple[str, str]]] = {}
    for path, name in defined:
        end = _name_end(name)
        if end is not None and not _is_test(path) and identifier_key(end) not in keys:
            ends.setdefault(end, set())
    for path, name in defined:
        for end in ends.keys() & {_name_end(name) or ""}:
            ends[end].add((path, name))
    picked = sorted(ends)[:: max(1, len(ends) // MAX_NAME_ENDS)][:MAX_NAME_ENDS]
    return [
        Case(end, {p for p, _ in ends[end]}, None, frozenset(n for _, n in ends[end]))
        for end in picked
    ]


async def corpus_table(
    entry: dict[str, object], cache: Path, show: str | None = None
) -> dict[tuple[str, str], float]:
    """(set, metric) -> value on one corpus."""
    root = corpus_root(entry, cache)
    files = _source_files(root, list(entry["source_ext"]))  # type: ignore[call-overload]
    out: dict[tuple[str, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        index = await WorkspaceIndex.open(root, Path(tmp) / "ocp.db")
        try:
            await index.update()
            sets = path_cases(files)
            sets["qualified"] = await qualified_cases(index, str(entry["name"]))
            sets["name's end"] = await name_end_cases(index)
            sets.update(message_cases(root, files))
            sets.update(question_cases(str(entry["name"])))
            for set_name, cases in sets.items():
                rr, shown = [], []
                for case in cases:
                    results = (await index.search(case.text, k=20, refresh=False)).results
                    paths = list(dict.fromkeys(r.path for r in results))[:10]
                    found = (1 / (i + 1) for i, p in enumerate(paths) if p in case.relevant)
                    rr.append(next(found, 0.0))
                    if case.symbols:
                        top_symbol = (results[0].symbol or "") if results else ""
                        shown.append(top_symbol.split(".")[-1].split("::")[-1] in case.symbols)
                    elif case.lines is not None:
                        path, first, last = case.lines
                        top = results[0] if results else None
                        shown.append(
                            top is not None
                            and top.path == path
                            and top.start_line <= last
                            and top.end_line >= first
                        )
                    if set_name == show and (rr[-1] < 1 or (shown and not shown[-1])):
                        top_hits = [f"{r.path}:{r.start_line} {r.symbol}" for r in results[:3]]
                        print(f"{entry['name']}: {case.text!r} wants {case.lines or case.relevant}")
                        print(f"    got {top_hits}")
                out[set_name, "n"] = len(cases)
                out[set_name, "MRR@10"] = float(np.mean(rr)) if rr else float("nan")
                if shown:
                    out[set_name, "lines Hit@1"] = float(np.mean(shown))
        finally:
            await index.close()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, mirrors=False)
    parser.add_argument("--show", metavar="SET", help="print each miss of one set")
    args = parser.parse_args(argv)
    entries = manifest_corpora()
    names = [str(e["name"]) for e in entries]
    tables = [asyncio.run(corpus_table(e, args.cache, args.show)) for e in entries]
    print(f"| set | metric | {' | '.join(names)} | mean |")
    print("|---|---|" + "---|" * (len(names) + 1))
    for key in tables[0]:
        values = [t.get(key, float("nan")) for t in tables]
        if key[1] == "n":
            print(f"| {key[0]} | queries | {' | '.join(str(int(v)) for v in values)} | |")
            continue
        cells = " | ".join(f"{v:.3f}" for v in values)
        print(f"| {key[0]} | {key[1]} | {cells} | {np.nanmean(values):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
