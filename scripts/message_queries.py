"""Error and log messages pasted as queries, on the six development corpora: does the search
find the code that prints them?

    uv run python scripts/message_queries.py [--bm25] [--show CORPUS]

An agent pastes what a program printed ("Error: No such option: --colour") and wants the line
that writes it. The set is built from the corpora's own source (no history, no other
repository, test files left out): every string literal handed to something that raises,
returns, logs or prints a message (`raise X(...)`, gettext's `_(...)`, `logger.warning`,
`click.echo`, `warnings.warn`, `errors.New`, `fmt.Errorf`, `log.Printf`, `panic`,
`throw new Error`, `console.error`, `{ message: ... }`, `panic!`, `bail!`, `err!`,
`eprintln!`, `.expect`), its placeholders (`{name!r}`, `{}`, `{:?}`, `%s`, `%q`, `%(x)d`,
`${x}`) filled with values a user would see (a flag for an option's name, a path for a file's,
a number for a count, a plain word otherwise; repr-style ones quoted), and one message in two
prefixed "Error: " as a CLI shows it. Messages of fewer than two literal words are left out.
The answer: the files holding the literal as written, and the literal's lines.

Per corpus: MRR@10 of files, and the "right chunk" (a result overlapping the literal's lines)
at rank 1 (Hit@1) and within the first 10 results (MRR), for all messages and for the short
ones (at most SHORT_WORDS words that are not stop words: "No such option: --colour" is one).
`--bm25` adds the benchmark's own BM25 (`short_queries.bm25_table`'s run: 50-line windows, so
its "chunk" is a window and hits the lines more easily than a chunk does).
"""

from __future__ import annotations

import asyncio
import importlib.util
import re
import tempfile
import zlib
from pathlib import Path
from typing import NamedTuple

import numpy as np
from ranker_corpora import BENCH, corpus_parser, corpus_root, manifest_corpora

from ocp_server.index.lexicon import STOPWORDS, words
from ocp_server.index.workspace import WorkspaceIndex

#: At most this many messages a corpus, taken evenly through its files in path order.
MAX_MESSAGES = 150
#: A message with at most this many words besides stop words is "short".
SHORT_WORDS = 2
_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|__tests__|testdata|benches|benchmarks?|docs?|[\w-]*-tests)/"
    r"|_test\.|\.test\.|test_|testutil"
)

#: A call (or key) whose first string argument is a message, per language family.
_PY_CALL = (
    r"(?:raise\s+[\w.]+|\b_|\b\w*(?:Error|Exception|Warning|Exit|Abort)|"
    r"\.(?:error|warning|warn|info|debug|critical|exception|fail|exit|secho|echo)|"
    r"\b(?:echo|secho|fail|warn|skip|xfail|exit))\("
)
_GO_CALL = (
    r"(?:errors\.New|fmt\.Errorf|fmt\.Fprint(?:f|ln)?\([^,()]*,|log\.(?:Print|Fatal|Panic)"
    r"(?:f|ln)?|panic|\.PrintErr(?:f|ln)?|\.Print(?:f|ln)?)\("
)
_JS_CALL = (
    r"(?:new\s+\w*(?:Error|Exception)\((?:\s*\d+\s*,\s*\{\s*message:)?|"
    r"console\.(?:error|warn|log)\(|deprecate\(|\bmessage:)"
)
_RS_CALL = (
    r"(?:\b(?:panic|unreachable|bail|anyhow|err|format_err|eprintln|message|"
    r"(?:log::)?(?:error|warn|info|debug)|\w*err\w*)!\(|\.(?:expect|context)\()"
)
_CALLS = {
    ".py": _PY_CALL,
    ".go": _GO_CALL,
    ".js": _JS_CALL,
    ".mjs": _JS_CALL,
    ".cjs": _JS_CALL,
    ".ts": _JS_CALL,
    ".tsx": _JS_CALL,
    ".rs": _RS_CALL,
}
#: A string literal (after the call: blank space, Python's string prefix): its quote, its text.
_LITERAL = r"\s*(?:[rRbBuU]?[fF]?[rR]?)([\"'`])((?:\\.|(?!\1)[^\\\n])*)\1"
_PATTERNS = {ext: re.compile(call + _LITERAL) for ext, call in _CALLS.items()}
#: A literal continuing the one before: Python's and C's adjacent literals, JS's `+`.
_MORE = re.compile(r"\s*\+?" + _LITERAL)
#: Placeholders: Python/Rust braces (`{}`, `{name!r}`, `{:?}`), printf (`%s`, `%q`, `%(x)d`),
#: JS templates (`${x}`).
_PLACEHOLDER = re.compile(
    r"\$\{([^}]*)\}|\{((?:[^{}:!]|!=)*)(![rsa])?(:[^{}]*)?\}|%(\([\w]+\))?[-+ #0-9.*]*([a-zA-Z])"
)
_ESCAPE = re.compile(r"\\[ntr]")


class Message(NamedTuple):
    text: str  # as a user sees it
    relevant: set[str]
    lines: tuple[str, int, int]  # the literal: (path, first line, last line)
    short: bool


def _value(name: str, quoted: bool, kind: str, seed: int) -> str:
    """What a program prints where its template says `name` (`kind`: a printf conversion)."""
    low = name.lower()
    if kind in ("d", "i", "f") or any(k in low for k in ("count", "num", "len", "size", "code")):
        value = str(3 + seed % 400)
    elif any(k in low for k in ("path", "file", "dir", "root")):
        value = ("/home/dev/app/settings.toml", "src/app/config.json", "C:\\work\\a.txt")[seed % 3]
    elif any(k in low for k in ("opt", "param", "flag", "arg")):
        value = ("--colour", "-x", "--out-dir")[seed % 3]
    elif "type" in low:
        value = ("int", "string", "Foo")[seed % 3]
    else:
        value = ("colour", "deploy", "42", "user_id", "main", "/tmp/out.txt")[seed % 6]
    return f"'{value}'" if quoted else value


def seen(template: str, prefixed: bool) -> str:
    """`template` as printed: placeholders filled, escapes as spaces, "Error: " first when
    `prefixed`."""
    seed = zlib.crc32(template.encode())
    count = iter(range(100))

    def fill(m: re.Match[str]) -> str:
        js, brace, conversion, spec, named, kind = m.groups()
        name = js or brace or (named or "").strip("()") or ""
        quoted = conversion == "!r" or kind in ("r", "q") or (spec or "").endswith("?")
        return _value(name, quoted, kind or "", seed + next(count))

    text = _ESCAPE.sub(" ", _PLACEHOLDER.sub(fill, template))
    text = " ".join(text.split()).rstrip(" :")
    return f"Error: {text}" if prefixed else text


def _literal_words(template: str) -> list[str]:
    return words(_ESCAPE.sub(" ", _PLACEHOLDER.sub(" ", template)))


def _test_regions(path: str, text: str) -> int:
    """Where a Rust file's inline tests begin (`mod tests`), else the text's end."""
    if path.endswith(".rs"):
        at = re.search(r"^\s*#\[cfg\(test\)\]", text, re.MULTILINE)
        if at:
            return at.start()
    return len(text)


def messages(root: Path, files: list[str]) -> list[Message]:
    texts = {f: (root / f).read_text("utf-8", errors="replace") for f in files}
    found: dict[str, tuple[str, int, int, str]] = {}
    for f in files:
        pattern = _PATTERNS.get(Path(f).suffix.lower())
        if pattern is None or _TEST_PATH.search(f):
            continue
        text = texts[f]
        end = _test_regions(f, text)
        for m in pattern.finditer(text, 0, end):
            template, at = m.group(2), m.end()
            while (more := _MORE.match(text, at)) is not None:
                template, at = template + more.group(2), more.end()
            literal = _literal_words(template)
            if len(literal) < 2 or not any(len(w) > 2 and w.isalpha() for w in literal):
                continue
            if template not in found:
                first = text.count("\n", 0, m.start(2)) + 1
                found[template] = (f, first, text.count("\n", 0, at) + 1, m.group(2))
    out = []
    for template, (f, first, last, piece) in sorted(found.items(), key=lambda item: item[1]):
        # the files holding its (first) literal as written: a message may be raised in two
        relevant = {f} | {g for g in files if piece in texts[g] and not _TEST_PATH.search(g)}
        prefixed = zlib.crc32(template.encode()) % 2 == 1
        content = [w for w in _literal_words(template) if w.lower() not in STOPWORDS]
        short = len(content) <= SHORT_WORDS
        out.append(Message(seen(template, prefixed), relevant, (f, first, last), short))
    step = max(1, len(out) // MAX_MESSAGES)
    return out[::step][:MAX_MESSAGES]


def _source_files(root: Path, extensions: list[str]) -> list[str]:
    wanted = {e.lower() for e in extensions}
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in wanted and ".git" not in p.parts
    )


def corpus_messages(entry: dict[str, object], cache: Path) -> list[Message]:
    root = corpus_root(entry, cache)
    return messages(root, _source_files(root, list(entry["source_ext"])))  # type: ignore[call-overload]


def _scores(hits: list[tuple[str, int, int]], m: Message) -> tuple[float, float, float]:
    """(file reciprocal rank @10, right chunk at 1, right chunk reciprocal rank @10)."""
    paths = list(dict.fromkeys(h[0] for h in hits))[:10]
    file_rr = next((1 / (i + 1) for i, p in enumerate(paths) if p in m.relevant), 0.0)
    path, first, last = m.lines
    right = [h[0] == path and h[1] <= last and h[2] >= first for h in hits[:10]]
    chunk_rr = next((1 / (i + 1) for i, r in enumerate(right) if r), 0.0)
    return file_rr, float(bool(right) and right[0]), chunk_rr


async def ocp_hits(
    entry: dict[str, object], cache: Path, cases: list[Message]
) -> list[list[tuple[str, int, int]]]:
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        index = await WorkspaceIndex.open(corpus_root(entry, cache), Path(tmp) / "ocp.db")
        try:
            await index.update()
            for m in cases:
                results = (await index.search(m.text, k=20, refresh=False)).results
                out.append([(r.path, r.start_line, r.end_line) for r in results])
        finally:
            await index.close()
    return out


def bm25_hits(entry: dict[str, object], cases: list[Message]) -> list[list[tuple[str, int, int]]]:
    """The benchmark's BM25 run (as `short_queries.bm25_table` makes it) on `cases`."""
    spec = importlib.util.spec_from_file_location("retrieval_run", BENCH / "run.py")
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    cache = Path.home() / ".cache" / "ocp-bench" / "retrieval-dev"
    jobs = {"messages": [{"qid": str(i), "query": m.text} for i, m in enumerate(cases)]}
    root = bench.ensure_corpus(entry, cache)
    hits = bench.run_bm25(bench.bm25_python(cache), entry, root, jobs, cache, 60)["hits"]
    return [[tuple(h) for h in hits["messages"][str(i)]] for i in range(len(cases))]


def table_rows(
    cases: list[Message], hits: list[list[tuple[str, int, int]]], system: str
) -> dict[tuple[str, str], float]:
    scored = np.array([_scores(h, m) for h, m in zip(hits, cases, strict=True)])
    short = np.array([m.short for m in cases])
    out = {}
    for subset, keep in (("all", np.ones(len(cases), bool)), ("short", short)):
        for j, metric in enumerate(("file MRR@10", "chunk Hit@1", "chunk MRR@10")):
            values = scored[keep, j]
            out[f"{subset} ({system})", metric] = float(values.mean()) if len(values) else np.nan
    return out


def main(argv: list[str] | None = None) -> int:
    parser = corpus_parser(__doc__, mirrors=False)
    parser.add_argument("--bm25", action="store_true", help="add the benchmark's BM25")
    parser.add_argument("--show", metavar="CORPUS", help="print each miss of one corpus")
    parser.add_argument("--list", action="store_true", help="print the messages, no search")
    args = parser.parse_args(argv)
    entries = manifest_corpora()
    names = [str(e["name"]) for e in entries]
    tables, counts = [], []
    for entry in entries:
        cases = corpus_messages(entry, args.cache)
        if args.list:
            for m in cases:
                short = "S" if m.short else ""
                print(f"{entry['name']}\t{m.lines[0]}:{m.lines[1]}\t{short}\t{m.text}")
            continue
        hits = asyncio.run(ocp_hits(entry, args.cache, cases))
        table = table_rows(cases, hits, "ocp")
        if args.bm25:
            table.update(table_rows(cases, bm25_hits(entry, cases), "bm25"))
        if args.show == entry["name"]:
            for m, h in zip(cases, hits, strict=True):
                file_rr, at_one, _ = _scores(h, m)
                if file_rr < 1 or not at_one:
                    got = [f"{p}:{a}-{b}" for p, a, b in h[:3]]
                    print(f"{m.text!r} wants {m.lines}\n    got {got}")
        tables.append(table)
        counts.append((len(cases), sum(m.short for m in cases)))
    if args.list:
        return 0
    print(f"| set | metric | {' | '.join(names)} | mean |")
    print("|---|---|" + "---|" * (len(names) + 1))
    print(f"| all | queries | {' | '.join(str(n) for n, _ in counts)} | |")
    print(f"| short | queries | {' | '.join(str(s) for _, s in counts)} | |")
    for key in sorted(tables[0], key=lambda k: (k[0].split()[0], k[1], k[0])):
        values = [t[key] for t in tables]
        cells = " | ".join(f"{v:.3f}" for v in values)
        print(f"| {key[0]} | {key[1]} | {cells} | {np.nanmean(values):.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
