"""Memory under refactoring: are stale memories ever served as valid? And max-size saves.

    uv run python bench/bench_memory.py [--memories 1000] [--edits 100] [--seed 16]
        [--max-saves 4] [--part all|refactoring|saves] [--sources pinned|current] [--file-moves]
        [--short-repeats] [--extracts]

A sample repository (a git copy of this repository's Python sources, as of commit SNAPSHOT:
pinned, so that figures stay comparable across rounds; `--sources current` takes the working
tree instead) gets MEMORIES memories,
each citing code the way agents do: a definition by name, `path:start-end` of a definition
or of a few lines inside one. Then EDITS random edits land, with a full restore every ten:
body changes, renames, deletions, functions moved to other files, lines inserted above,
trailing blanks added, files deleted, files reverted (with `--file-moves`, also files moved by
a plain `mv` into a new folder and edited before the index sees them, and files copied whose
original goes in a later batch, and a fifth of the memories cite a line or two outside any
definition; with `--short-repeats`, a fourth of the memories cite one short line alone in its
file, which edits then repeat nearer its old place, in one update or spread over three, or
repeat a few lines above it and then shift the copy onto its place: short_repeats.py; with
`--extracts`, also functions split in two: a stretch of a body goes to a new function at the
end of its file, called from where it was). After
each restore every memory served as a fact (valid or moved) is compared with the file on disk
at the place it names, by an oracle written here, independent of OCP's checks: the lines
there must be the lines saved.

Reported: memories served as valid whose code changed (the goal: 0), served as valid or
moved, (with `--short-repeats`) served at a copy of the cited line, not the line, listed
stale, stale ones whose lines still exist unchanged somewhere in the same file (possible
missed moves), and the time of the first restore after each batch of edits (it
re-reads the edited files) and of a 2,000-token restore (warm).

Max-size saves (memory_saves.py): MAX_SAVES saves in a row of as much as one
`ocp_result_save` takes (50 decisions, 100 notes, 100 open items, 100 state keys, each near its
size limit), in three shapes made from a fixed seed: `repeated` (items of one repeated word, which
difflib's junk rule makes costly to compare) and `prose` (items from a fixed vocabulary, some
near-duplicates of earlier ones, some the same sentences reordered), and `named` (the prose
items with identifiers of the sample in them). Reported: the time of each save, the items
merged, and a digest of the merge decisions (field, into, how alike), which must be the same on
any code that compares texts the same way; and the citations suggested for the identifiers the
texts name, and a digest of them (field, citation, symbol, kind).
"""

from __future__ import annotations

import argparse
import asyncio
import io
import random
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from collections import Counter
from pathlib import Path

import aiosqlite
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_server.db import connect  # noqa: E402
from ocp_server.index.workspace import WorkspaceIndex  # noqa: E402
from ocp_server.memory import MemoryStore, NoteIn  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from cited_lines import lines_at, same_lines  # noqa: E402
from extracts import split_function  # noqa: E402
from memory_saves import SHAPES, SaveRun, max_saves  # noqa: E402
from short_repeats import Repeats, a_copy, short_line  # noqa: E402

SOURCES = ("ocp_router/src", "ocp_server/src", "bench")
# The sample repository's sources are this repository's as of this commit (`git archive`):
# the workload stays the same while the code under test changes.
SNAPSHOT = "5e3ca3eae9ea1c1ba68d25622f6272d7de7b583a"
DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)", re.M)


# ---- the oracle (cited_lines.py), and what it finds ------------------------------------
def present_in(root: Path, path: str, saved: list[str]) -> bool:
    try:
        lines = (root / path).read_text("utf-8").splitlines()
    except OSError:
        return False
    size = len(saved)
    first = next((ln.strip() for ln in saved if ln.strip()), "")
    return any(
        lines[i].strip() == first and same_lines(lines[i : i + size], saved)
        for i in range(len(lines) - size + 1)
    )


# ---- the sample repository -----------------------------------------------------------------
def git(root: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=b@example.com", "-c", "user.name=bench", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def make_repo(sources: str = "pinned") -> Path:
    root = Path(tempfile.mkdtemp(prefix="ocp-bench-memory-")) / "repo"
    if sources == "pinned":
        archive = subprocess.run(
            ["git", "archive", "--format=tar", SNAPSHOT, *SOURCES],
            cwd=ROOT,
            capture_output=True,
        )
        if archive.returncode != 0:
            raise SystemExit(
                f"bench_memory: commit {SNAPSHOT[:12]} (the pinned sources) is not in this "
                "clone's history (a shallow clone? `git fetch --unshallow`), or use "
                f"--sources current: {archive.stderr.decode(errors='replace').strip()}"
            )
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".py")]
            tar.extractall(root, members=members, filter="data")
    else:
        for source in SOURCES:
            for path in (ROOT / source).rglob("*.py"):
                if any(part.startswith(".") for part in path.relative_to(ROOT).parts):
                    continue  # bench/.cache holds other benchmarks' corpora (Django), not ours
                target = root / path.relative_to(ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(path, target)
    git(root, "init", "-q")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "sample")
    return root


def spans(text: str) -> list[tuple[str, int, int, int, int]]:
    """(name, start, end, indent, head) of each def/class: 0-based lines, end exclusive,
    decorators included from `start`, `head` the def/class line."""
    lines = text.splitlines()
    out = []
    for m in DEF.finditer(text):
        start = head = text.count("\n", 0, m.start())
        indent = len(m["indent"].expandtabs())
        end, depth = start, 0
        while end < len(lines):  # the header, however many lines its signature takes
            depth += lines[end].count("(") + lines[end].count("[") - lines[end].count(")")
            depth -= lines[end].count("]")
            end += 1
            if depth <= 0:
                break
        while end < len(lines):
            line = lines[end]
            if line.strip() and len(line) - len(line.lstrip()) <= indent:
                break
            end += 1
        while end > start + 1 and not lines[end - 1].strip():
            end -= 1
        while start > 0 and lines[start - 1].strip().startswith("@"):
            start -= 1  # its decorators go with it
        out.append((m["name"], start, end, indent, head))
    return out


class Editor:
    """Random refactoring steps on the sample repository."""

    def __init__(
        self,
        root: Path,
        rnd: random.Random,
        file_moves: bool = False,
        repeats: bool = False,
        extracts: bool = False,
    ) -> None:
        self.root, self.rnd, self.extracts = root, rnd, extracts
        self.repeats = Repeats(root, rnd, self.write) if repeats else None
        self.edited: set[str] = set()
        self.moves = 0
        self.file_moves = file_moves  # also files moved and edited, copied then removed
        self.went: dict[str, str] = {}  # a file moved or copied (then removed) -> where to
        self.copied: list[Path] = []  # originals copied in this batch, removed in a later one
        self.ready: list[Path] = []  # ... copied in an earlier batch

    def new_batch(self) -> None:
        """The index saw this batch: a copy made in it may lose its original from now on."""
        self.ready, self.copied = self.ready + self.copied, []

    def _went(self, old: Path, new: Path) -> None:
        old_rel, new_rel = (str(p.relative_to(self.root)) for p in (old, new))
        self.went = {k: new_rel if v == old_rel else v for k, v in self.went.items()}
        self.went[old_rel] = new_rel

    def where_now(self, rel: str) -> str | None:
        return self.went.get(rel)

    def move_file(self, kind: str) -> str:
        """`mvedit`: a plain `mv` into a new folder under a new name, a header line added
        before the index sees it; `cprm`: a copy, its original removed in a later batch."""
        if kind == "cprm" and self.ready:
            original = self.ready.pop()
            if original.exists():
                original.unlink()
                self.edited.add(str(original.relative_to(self.root)))
            return kind
        path = self.rnd.choice([p for p in self.files() if p not in self.copied + self.ready])
        self.moves += 1
        target = self.root / ("renamed" if kind == "mvedit" else "copies") / f"f{self.moves}.py"
        target.parent.mkdir(exist_ok=True)
        if kind == "mvedit":
            path.rename(target)
            self.write(target, ["# moved by a refactor", *_lines(target)])
        else:
            shutil.copy(path, target)
            self.copied.append(path)
        self._went(path, target)
        return kind

    def files(self) -> list[Path]:
        return sorted(p for p in self.root.rglob("*.py") if ".git" not in p.parts)

    def pick(self) -> tuple[Path, list[str], tuple[str, int, int, int, int]] | None:
        for _ in range(50):
            path = self.rnd.choice(self.files())
            text = path.read_text("utf-8")
            found = [s for s in spans(text) if s[2] - s[4] >= 2]
            if found:
                return path, text.splitlines(), self.rnd.choice(found)
        return None

    def write(self, path: Path, lines: list[str]) -> None:
        path.write_text("\n".join(lines) + "\n", "utf-8")
        self.edited.add(str(path.relative_to(self.root)))

    def step(self) -> str:
        kinds = ["body", "shift", "move", "rename", "delete", "blanks", "unlink", "revert"]
        weights = [30, 20, 15, 10, 5, 10, 3, 7]
        if self.file_moves:
            kinds, weights = [*kinds, "mvedit", "cprm"], [*weights, 8, 8]
        if self.repeats is not None:
            kinds, weights = [*kinds, "repeat", "staged", "onto"], [*weights, 10, 10, 10]
        if self.extracts:
            kinds, weights = [*kinds, "extract"], [*weights, 20]
        kind = self.rnd.choices(kinds, weights=weights)[0]
        if kind in ("repeat", "staged", "onto") and self.repeats is not None:
            return self.repeats.step(kind)
        if kind in ("mvedit", "cprm"):
            return self.move_file(kind)
        if kind == "shift":
            path = self.rnd.choice(self.files())
            self.write(path, ["# a new header", "# added by a refactor", "", *_lines(path)])
            return kind
        if kind == "unlink":
            path = self.rnd.choice(self.files())
            path.unlink()
            self.edited.add(str(path.relative_to(self.root)))
            return kind
        if kind == "revert":
            if not self.edited:
                return self.step()
            rel = self.rnd.choice(sorted(self.edited))
            subprocess.run(["git", "checkout", "-q", "--", rel], cwd=self.root, capture_output=True)
            return kind
        picked = self.pick()
        if picked is None:
            return "none"
        path, lines, (name, start, end, _, head) = picked
        if kind == "body":
            n = self.rnd.randrange(head + 1, end)
            lines[n] = lines[n] + ("  # changed" if lines[n].strip() else "    pass  # new")
        elif kind == "rename":
            lines[head] = re.sub(rf"\b{name}\b", f"{name}_v2", lines[head], count=1)
        elif kind == "delete":
            del lines[start:end]
        elif kind == "blanks":
            lines[start:end] = [ln + "  " if ln.strip() else ln for ln in lines[start:end]]
        elif kind == "move":
            block = textwrap.dedent("\n".join(lines[start:end])).splitlines()
            del lines[start:end]
            self.moves += 1
            target = self.root / "moved" / f"moved_{self.moves % 7}.py"
            target.parent.mkdir(exist_ok=True)
            before = target.read_text("utf-8").splitlines() if target.exists() else []
            self.write(target, [*before, "", "", *block])
        elif kind == "extract" and not self.extract(lines, name, head, end):
            return "none"
        self.write(path, lines)
        return kind

    def extract(self, lines: list[str], name: str, head: int, end: int) -> bool:
        if not split_function(self.rnd, lines, name, head, end, self.moves + 1):
            return False
        self.moves += 1
        return True


def _lines(path: Path) -> list[str]:
    return path.read_text("utf-8").splitlines()


# ---- the run -------------------------------------------------------------------------------
async def save_memories(
    memory: MemoryStore,
    conn: aiosqlite.Connection,
    root: Path,
    count: int,
    rnd: random.Random,
    module_lines: bool = False,
    short: list[tuple[str, str]] | None = None,
) -> dict[int, list[str]]:
    """Notes citing code three ways (with `module_lines`, a fifth of them a line or two outside
    any definition instead: an import, a constant; with `short`, a fourth of them one short line
    alone in its file, added to it); returns note id -> the lines saved."""
    outside = list(
        await conn.execute_fetchall(
            "SELECT f.path, c.start_line, c.end_line FROM chunks c "
            "JOIN files f ON f.id = c.file_id WHERE c.symbol IS NULL AND f.path LIKE '%.py'"
        )
    )
    rows = list(
        await conn.execute_fetchall(
            "SELECT f.path, c.start_line, c.end_line, c.symbol, c.scope FROM chunks c "
            "JOIN files f ON f.id = c.file_id WHERE c.symbol IS NOT NULL "
            "AND c.kind IN ('function', 'method', 'class')"
        )
    )
    session = await memory.start_session(str(root), "bench")
    saved: dict[int, list[str]] = {}
    while len(saved) < count:
        path, start, end, symbol, scope = rnd.choice(rows)
        way = rnd.random()
        if short is not None and rnd.random() < 0.25:
            if (cite := _short_cite(root, rnd, *rnd.choice([*rows, *outside])[:3])) is None:
                continue
            symbol = "short"
        elif module_lines and rnd.random() < 0.2:
            path, start, end = rnd.choice(outside)
            a = rnd.randrange(start, end + 1)
            cite, symbol = f"{path}:{a}-{min(end, a + rnd.randrange(0, 2))}", "lines"
        elif way < 0.4:
            cite = f"{path}:{scope + '.' if scope else ''}{symbol}"
        elif way < 0.7 or end - start < 4:
            cite = f"{path}:{start}-{end}"
        else:
            a = rnd.randrange(start + 1, end - 1)
            cite = f"{path}:{a}-{min(end, a + rnd.randrange(1, 5))}"
        text = f"memory {len(saved)}: {symbol} {rnd.random():.10f}"
        try:
            result = await memory.save(session, notes=[NoteIn(text, (cite,))])
        except ValueError:
            continue  # e.g. a name defined twice in one file: cite another
        here = lines_at(root, result.citations[0].citation)
        assert here is not None
        saved[result.note_ids[0]] = here
        if symbol == "short" and short is not None:
            short.append((cite.rsplit(":", 1)[0], here[0].strip()))
    return saved


def _short_cite(root: Path, rnd: random.Random, path: str, start: int, end: int) -> str | None:
    """`path:a-a` of a short line within start..end that is alone in its file, if one is."""
    lines = (root / path).read_text("utf-8").splitlines()
    texts = Counter(ln.strip() for ln in lines)
    fit = [a for a in range(start, end + 1) if short_line(lines[a - 1])]
    fit = [a for a in fit if texts[lines[a - 1].strip()] == 1]
    return f"{path}:{(a := rnd.choice(fit))}-{a}" if fit else None


async def run(
    memories: int,
    edits: int,
    seed: int,
    keep: bool = False,
    *,
    saves: int = 4,
    part: str = "all",
    sources: str = "pinned",
    file_moves: bool = False,
    short_repeats: bool = False,
    extracts: bool = False,
) -> None:
    root = make_repo(sources)
    try:
        if part in ("all", "saves"):
            await run_saves(root, saves)
        if part in ("all", "refactoring"):
            await run_refactoring(root, memories, edits, seed, file_moves, short_repeats, extracts)
    finally:
        if keep:
            print(f"the sample repository and its database are kept in {root.parent}")
        else:
            shutil.rmtree(root.parent, ignore_errors=True)


async def run_saves(root: Path, saves: int) -> None:
    """Max-size saves of each shape, each shape in a database of its own."""
    runs: list[SaveRun] = []
    for shape in SHAPES:
        db_path = root.parent / f"saves-{shape}.db"
        index = await WorkspaceIndex.open(root, db_path)
        await index.update()
        conn = await connect(db_path)
        memory = MemoryStore(conn, workspace=root, ttl_days=0)
        cite = "ocp_server/src/ocp_server/memory/alike.py:words_of"
        runs.append(await max_saves(memory, str(root), shape, saves, cite))
        await conn.close()
        await index.close()
    table = Table(title=f"max-size saves ({saves} in a row, each shape in a new database)")
    table.add_column("shape")
    table.add_column("each save, s", justify="right")
    table.add_column("its CPU, s", justify="right")
    table.add_column("items merged", justify="right")
    table.add_column("merge decisions' digest")
    table.add_column("citations suggested", justify="right")
    table.add_column("their digest")
    for r in runs:
        table.add_row(
            r.shape,
            ", ".join(f"{t:.2f}" for t in r.seconds),
            ", ".join(f"{t:.2f}" for t in r.cpu),
            ", ".join(str(m) for m in r.merged),
            r.digest,
            ", ".join(str(n) for n in r.suggested),
            r.suggestions,
        )
    Console(width=170).print(table)


async def run_refactoring(
    root: Path,
    memories: int,
    edits: int,
    seed: int,
    file_moves: bool = False,
    short_repeats: bool = False,
    extracts: bool = False,
) -> None:
    rnd = random.Random(seed)
    db_path = root.parent / "ocp.db"
    index = await WorkspaceIndex.open(root, db_path)
    await index.update()
    conn = await connect(db_path)
    # TTL off: this measures checking, not expiry.
    memory = MemoryStore(conn, workspace=root, ttl_days=0)
    t0 = time.perf_counter()
    short: list[tuple[str, str]] | None = [] if short_repeats else None
    saved = await save_memories(memory, conn, root, memories, rnd, file_moves, short)
    save_ms = (time.perf_counter() - t0) * 1000 / memories
    editor = Editor(root, rnd, file_moves, short_repeats, extracts)
    if editor.repeats is not None and short is not None:
        editor.repeats.targets = short
    copies: list[str] = []  # served at a copy of the cited line, not the line (short_repeats)
    kinds: Counter[str] = Counter()
    wrong: list[str] = []
    served = stale = moved = 0
    missed: list[str] = []
    lost: list[str] = []  # stale, yet the lines are unchanged where their file went
    checks: list[float] = []
    checks_cpu: list[float] = []  # this process's CPU: less at the mercy of a shared machine
    for batch in range(0, edits, 10):
        if editor.repeats is not None:
            kinds.update(editor.repeats.advance())  # staged moves: one update each batch
        for _ in range(min(10, edits - batch)):
            kinds[editor.step()] += 1
        await index.update()
        editor.new_batch()
        t0, c0 = time.perf_counter(), time.process_time()
        brief = await memory.restore(max_tokens=10**8)
        checks.append((time.perf_counter() - t0) * 1000)
        checks_cpu.append((time.process_time() - c0) * 1000)
        assert len(brief.notes) + len(brief.stale) == memories, "every memory is accounted"
        served, stale, moved, missed, lost = len(brief.notes), len(brief.stale), 0, [], []
        for note in brief.notes:
            (citation,) = note.citations
            moved += citation.status == "moved"
            here = lines_at(root, citation.citation)
            if here is None or not same_lines(here, saved[note.id]):
                wrong.append(f"batch {batch // 10}: note #{note.id} {citation}")
            elif any(a_copy(line) for line in here):
                copies.append(f"batch {batch // 10}: note #{note.id} {citation}")
        for item in brief.stale:
            (citation,) = item.citations
            path = citation.citation.rsplit(":", 1)[0]
            if present_in(root, path, saved[item.id]):
                missed.append(f"note #{item.id} {citation}")
            went = editor.where_now(path)
            if went is not None and present_in(root, went, saved[item.id]):
                lost.append(f"note #{item.id} {citation} (its file went to {went})")
    warm, warm_cpu, checking = [], [], []
    for i in range(20):
        t0, c0 = time.perf_counter(), time.process_time()
        await memory.verify()
        checking.append((time.perf_counter() - t0) * 1000)
        c1 = time.process_time()
        await memory.restore(query=f"memory {i}" if i % 2 else None, max_tokens=2000)
        warm.append((time.perf_counter() - t0) * 1000 - checking[-1])
        warm_cpu.append((time.process_time() - c1) * 1000)
    await conn.close()
    await index.close()

    table = Table(title=f"memory under refactoring ({memories:,} memories, {edits} edits)")
    table.add_column("measure")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = []
    if short_repeats:
        rows = [("served at a copy of the cited line, all batches (goal: 0)", f"{len(copies)}")]
    for name, value in (
        ("stale memories served as valid (goal: 0)", f"{len(wrong)}"),
        *rows,
        ("served as facts after the last edit", f"{served:,}"),
        ("  of which moved (citation followed the code)", f"{moved:,}"),
        ("listed stale after the last edit", f"{stale:,}"),
        ("  stale, yet the lines are unchanged in the same file", f"{len(missed):,}"),
        ("  stale, yet unchanged in the file it became (mv, cp)", f"{len(lost):,}"),
        ("edits by kind", ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))),
        ("save with one citation, mean", f"{save_ms:.1f} ms"),
        ("restore checking each batch of 10 edits, median", f"{statistics.median(checks):.0f} ms"),
        ("  its CPU time, median", f"{statistics.median(checks_cpu):.0f} ms"),
        ("restore, 2,000 tokens, warm, p50", f"{statistics.median(warm):.1f} ms"),
        ("  its CPU time, p50", f"{statistics.median(warm_cpu):.1f} ms"),
        (
            "  of which checking unchanged files (stat only), p50",
            f"{statistics.median(checking):.1f} ms",
        ),
    ):
        table.add_row(name, value)
    Console().print(table)
    for line in wrong[:20]:
        print("WRONG:", line)
    for line in copies[:5]:
        print("served at a copy:", line)
    for line in missed[:5]:
        print("stale, lines still in the file:", line)
    for line in lost[:5]:
        print("stale, lines unchanged where the file went:", line)
    if wrong:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--memories", type=int, default=1000)
    parser.add_argument("--edits", type=int, default=100)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--keep", action="store_true", help="keep the sample repository")
    parser.add_argument("--max-saves", type=int, default=4, help="max-size saves of each shape")
    parser.add_argument("--part", choices=("all", "refactoring", "saves"), default="all")
    parser.add_argument(
        "--sources",
        choices=("pinned", "current"),
        default="pinned",
        help=f"the sample repository: this repository's sources at {SNAPSHOT[:12]}, or now",
    )
    parser.add_argument(
        "--file-moves",
        action="store_true",
        help="also files moved by a plain mv and edited, copied then their original removed; "
        "a fifth of the memories cite lines outside any definition",
    )
    parser.add_argument(
        "--short-repeats",
        action="store_true",
        help="also short cited lines repeated in their file, in one update or over three, "
        "or repeated above and then shifted onto their place",
    )
    parser.add_argument(
        "--extracts",
        action="store_true",
        help="also functions split in two: a stretch of a body moved to a new function",
    )
    args = parser.parse_args()
    asyncio.run(
        run(
            args.memories,
            args.edits,
            args.seed,
            args.keep,
            saves=args.max_saves,
            part=args.part,
            sources=args.sources,
            file_moves=args.file_moves,
            short_repeats=args.short_repeats,
            extracts=args.extracts,
        )
    )


if __name__ == "__main__":
    main()
