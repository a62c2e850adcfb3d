"""Memory across sessions on a real repository that changes, over MCP stdio.

    uv run python bench/memory_sessions.py [--repo /work/.mirror/pallets+click/repo] [--back 60]

A scratch clone of a real repository (click by default) starts BACK first-parent commits
behind its head. Sessions, each a fresh `ocp-server` process driven by the mcp SDK client,
save decisions citing its functions (by `path:symbol`, by a definition's `path:start-end`,
and by a few lines inside one), then the code changes under them: real upstream commits
checked out a few at a time, then a branch of our own with a file renamed by `git mv`, a
file git does not track moved by a plain `mv` into another folder under another name,
functions moved between files, whole files deleted, bodies edited, committed and not. After
every change a restore is checked by an oracle written here, apart from OCP: every citation
served as a fact (valid or moved) must show exactly the lines saved; a stale one whose lines
are still in the tree unchanged, under the same name, is a missed move. Then budgets from 300
to 20,000 tokens, two server processes saving at once on one database, a restart, and a
second workspace whose memories must never show. Exit status 1 when the oracle found a
problem (each is listed at the end).

Over 600 lines: one scenario end to end, its oracle written beside it, apart from OCP.
"""

from __future__ import annotations

import argparse
import ast
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any

from cited_lines import lines_at, norm
from mcp import ClientSession, StdioServerParameters, stdio_client

from ocp_router.tokens import estimate_tokens

ROOT = Path(__file__).resolve().parents[1]
SERVER = ROOT / ".venv" / "bin" / "ocp-server"
MIRROR = Path("/work/.mirror/pallets+click/repo")
PROBLEMS: list[str] = []


# ---- the oracle (cited_lines.py) ----------------------------------------------------------
def defined_unchanged(root: Path, symbol: str | None, saved: list[str], whole: bool) -> str | None:
    """Where a definition named `symbol` (bare name) is the saved lines (`whole`), or holds
    them (lines inside one), if anywhere."""
    if not symbol:
        return None
    bare = symbol.rsplit(".", 1)[-1]
    want = norm(saved)
    for path in sorted(root.rglob("*.py")):
        if ".git" in path.parts or ".ocp" in path.parts:
            continue
        text = path.read_text("utf-8", errors="replace")
        if bare not in text:
            continue
        lines = text.splitlines()
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name != bare:
                    continue
                start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                end = node.end_lineno or node.lineno
                block = norm(lines[start - 1 : end])
                if block == want or (not whole and f"\n{want}\n" in f"\n{block}\n"):
                    return f"{path.relative_to(root)}:{start}-{end}"
    return None


def whole_definition(root: Path, citation: str) -> bool:
    """The lines cited are exactly one function (decorators included), as ast sees it."""
    path, span = citation.rsplit(":", 1)
    start, end = (int(x) for x in span.split("-"))
    try:
        return any((s, e) == (start, end) for _, s, e in functions(root, path))
    except (OSError, SyntaxError):
        return False


MOVED: dict[str, str] = {}  # files the scenario moved by a plain `mv` (git not told): old -> new


def block_in_renamed(root: Path, cited: str, saved: list[str]) -> str | None:
    """Where lines outside any definition are, unchanged, in a file of the same name or the
    same folder and extension (what `git mv` keeps), or in the file the scenario moved it to
    (MOVED), if their own file is gone."""
    old = Path(cited.rsplit(":", 1)[0])
    if (root / old).exists() or len(norm(saved)) < 40:
        return None
    size = len(saved)
    for path in sorted(root.rglob(f"*{old.suffix}")):
        rel = path.relative_to(root)
        moved_here = MOVED.get(old.as_posix()) == rel.as_posix()
        if ".git" in rel.parts or (
            rel.name != old.name and rel.parent != old.parent and not moved_here
        ):
            continue
        lines = path.read_text("utf-8", errors="replace").splitlines()
        for i in range(len(lines) - size + 1):
            if norm(lines[i : i + size]) == norm(saved):
                return f"{rel}:{i + 1}-{i + size}"
    return None


# ---- the repository ----------------------------------------------------------------------
def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.email=s@example.com", "-c", "user.name=sessions", *args],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


def functions(root: Path, rel: str) -> list[tuple[str, int, int]]:
    """(qualified name, start, end) of each function of a file, decorators included."""
    tree = ast.parse((root / rel).read_text("utf-8"))
    out: list[tuple[str, int, int]] = []

    def walk(node: ast.AST, scope: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                name = f"{scope}.{child.name}" if scope else child.name
                start = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                if not isinstance(child, ast.ClassDef):
                    out.append((name, start, child.end_lineno or child.lineno))
                else:  # a function's own inner functions are not definitions OCP names
                    walk(child, name)

    walk(tree, "")
    return out


# ---- the server --------------------------------------------------------------------------
class Session:
    def __init__(self, session: ClientSession) -> None:
        self.session = session

    async def call(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        result = await self.session.call_tool(tool, args)
        text = "".join(getattr(c, "text", "") for c in result.content)
        if result.is_error:
            raise RuntimeError(f"{tool} failed: {text[:500]}")
        out = dict(result.structured_content or {})
        out["_text"] = text
        return out

    async def restore(self, **args: Any) -> dict[str, Any]:
        return await self.call("ocp_session_restore", args)

    async def save(self, **args: Any) -> dict[str, Any]:
        return await self.call("ocp_result_save", args)

    async def search(self, query: str) -> dict[str, Any]:
        return await self.call("ocp_context_search", {"query": query})


@asynccontextmanager
async def server(workspace: Path, db: Path | None = None):  # type: ignore[no-untyped-def]
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "OCP_WORKSPACE": str(workspace),
        "OCP_OLLAMA_URL": "http://127.0.0.1:9",
    }
    if db is not None:
        env["OCP_DB_PATH"] = str(db)
    params = StdioServerParameters(command=str(SERVER), args=[], env=env)
    async with AsyncExitStack() as stack:
        read, write = await stack.enter_async_context(stdio_client(params))
        session = await stack.enter_async_context(ClientSession(read, write))
        await session.initialize()
        yield Session(session)


async def settled(s: Session, root: Path, probe: str) -> None:
    """Wait until the index has caught up: not building, and `probe` found."""
    async with asyncio.timeout(120):
        while True:
            found = await s.search(probe)
            if not found["index"].get("building") and found["results"]:
                return
            await asyncio.sleep(0.3)


async def indexed(s: Session, rel: str, probe: str) -> None:
    """Wait until a search for `probe` finds it in file `rel` (the index has the file)."""
    async with asyncio.timeout(120):
        while not any(
            str(r.get("citation", "")).startswith(f"{rel}:")
            for r in (await s.search(probe))["results"]
        ):
            await asyncio.sleep(0.3)


# ---- the scenario ------------------------------------------------------------------------
class Memory:
    """What was saved, as the oracle knows it: decision id -> [(citation, symbol, lines)]."""

    def __init__(self) -> None:
        self.cited: dict[int, list[tuple[str, str | None, list[str]]]] = {}
        self.whole: dict[int, bool] = {}  # the citation is a whole definition
        self.forgotten: set[int] = set()

    def record(self, root: Path, saved: dict[str, Any], forms: list[str]) -> None:
        ids = saved["decision_ids"]
        for n, form in enumerate(forms):
            self.whole[ids[n]] = form != "inside"
        for c in saved["citations"]:
            m = re.fullmatch(r"decisions\[(\d+)\]", c["item"])
            if not m:
                continue
            lines = lines_at(root, c["citation"])
            assert lines is not None
            self.cited.setdefault(ids[int(m[1])], []).append((c["citation"], c["symbol"], lines))


def check(root: Path, memory: Memory, brief: dict[str, Any], label: str) -> dict[str, int]:
    """The oracle over one restore: served citations show the saved lines, stale ones are
    really changed, and every memory is somewhere (served, stale, or counted as left out)."""
    counts = {"valid": 0, "moved": 0, "stale": 0, "wrong": 0, "missed_move": 0, "lost": 0}
    seen: set[int] = set()
    for d in brief["decisions"]:
        seen.add(d["id"])
        saved = memory.cited.get(d["id"])
        if saved is None:
            continue
        for (first, symbol, lines), c in zip(saved, d["citations"], strict=True):
            counts[c["status"]] += 1
            now = lines_at(root, c["citation"])
            if (
                memory.whole.get(d["id"])
                and now is not None
                and not whole_definition(root, c["citation"])
            ):
                counts["wrong"] += 1
                PROBLEMS.append(
                    f"{label}: decision {d['id']} cited a whole definition ({first}) and is "
                    f"served {c['status']} at {c['citation']}, which is not one"
                )
            elif now is None or norm(now) != norm(lines):
                counts["wrong"] += 1
                PROBLEMS.append(
                    f"{label}: decision {d['id']} served {c['status']} at {c['citation']} "
                    f"(saved {first}, {symbol}) but the lines differ"
                )
    for s in brief["stale"]:
        seen.add(s["id"])
        saved = memory.cited.get(s["id"], [])
        for (first, symbol, lines), c in zip(saved, s["citations"], strict=True):
            if c["status"] != "stale":
                counts[c["status"]] += 1
                continue
            counts["stale"] += 1
            whole = memory.whole.get(s["id"], True)
            where = defined_unchanged(root, symbol, lines, whole) or (
                None if symbol else block_in_renamed(root, first, lines)
            )
            if where is not None:
                counts["missed_move"] += 1
                PROBLEMS.append(
                    f"{label}: decision {s['id']} stale ({c['change']}) but its lines are "
                    f"unchanged in `{symbol}` at {where} (saved {first})"
                )
    if not any(brief["omitted"].values()):
        lost = set(memory.cited) - memory.forgotten - seen
        counts["lost"] = len(lost)
        if lost:
            PROBLEMS.append(f"{label}: decisions {sorted(lost)[:10]} neither served nor stale")
    return counts


def budget_ok(brief: dict[str, Any], max_tokens: int, label: str) -> None:  # noqa: D103
    structured = {k: v for k, v in brief.items() if k != "_text"}
    # The structured result (with the brief in it) and the text each within the budget.
    whole = estimate_tokens(json.dumps(structured, separators=(",", ":"), ensure_ascii=False))
    if brief["tokens"] > max_tokens or whole > max_tokens:
        PROBLEMS.append(f"{label}: tokens {brief['tokens']} / {whole} > max_tokens {max_tokens}")
    if estimate_tokens(brief["_text"]) > max_tokens:
        PROBLEMS.append(f"{label}: the text alone is over max_tokens {max_tokens}")


def pick_citations(root: Path, rnd: random.Random, n: int) -> list[tuple[str, str]]:
    """n citations (form, text) over src/click/*.py: path:symbol, a definition's lines, or
    three lines inside one."""
    files = sorted(str(p.relative_to(root)) for p in (root / "src" / "click").glob("*.py"))
    picked: list[tuple[str, str]] = []
    used: set[tuple[str, str]] = set()
    while len(picked) < n:
        rel = rnd.choice(files)
        every = functions(root, rel)
        names = [f[0] for f in every]
        # Overloads share a name: a symbol citation of one is ambiguous (an error).
        fns = [f for f in every if f[2] - f[1] >= 6 and names.count(f[0]) == 1]
        if not fns:
            continue
        name, start, end = rnd.choice(fns)
        if (rel, name) in used:
            continue
        used.add((rel, name))
        form = ["symbol", "lines", "inside"][len(picked) % 3]
        if form == "symbol":
            picked.append((form, f"{rel}:{name}"))
        elif form == "lines":
            picked.append((form, f"{rel}:{start}-{end}"))
        else:
            mid = rnd.randrange(start + 2, end - 2)
            picked.append((form, f"{rel}:{mid}-{mid + 2}"))
    return picked


PAGER_DEFAULTS = '''"""Pager defaults read at import."""

import os
import sys

if sys.platform.startswith("win"):
    CLICK_PAGER_FALLBACK = os.environ.get("PAGER", "more")
else:
    CLICK_PAGER_FALLBACK = os.environ.get("PAGER", "less -R")
'''

WORDS = "queue cache retry parser option flag pager prompt shell color tty bytes".split()


def decision(rnd: random.Random, n: int, citation: str) -> dict[str, Any]:
    words = " ".join(rnd.sample(WORDS, 5))
    return {
        "title": f"decision {n}: {words}",
        "decision": f"We keep {citation} as it is because of {words} ({n}, {rnd.random():.6f})",
        "rationale": f"reason {n}: " + " ".join(rnd.sample(WORDS, 4)),
        "citations": [citation],
    }


async def restore_checked(
    s: Session, root: Path, memory: Memory, label: str, **args: Any
) -> dict[str, Any]:
    started = time.perf_counter()
    brief = await s.restore(max_tokens=args.pop("max_tokens", 20_000), **args)
    ms = (time.perf_counter() - started) * 1000
    counts = check(root, memory, brief, label)
    print(f"  {label:<48} {ms:7.1f} ms  " + " ".join(f"{k}={v}" for k, v in counts.items()))
    return brief


def show(brief: dict[str, Any], memory: Memory, saved_in: str) -> None:
    """Each memory saved citing `saved_in`: where its citation is now, and its status."""
    served = [*brief["decisions"], *brief["stale"]]
    for d in served:
        saved = memory.cited.get(d["id"])
        if saved and saved[0][0].startswith(saved_in):
            c = d["citations"][0]
            said = c.get("change") or c.get("moved_from") or ""
            print(f"     #{d['id']} {saved[0][0]} -> {c['status']} {c['citation']} {said[:90]}")


def first_parent(repo: Path, back: int) -> list[str]:
    return git(repo, "rev-list", "--first-parent", f"HEAD~{back}..HEAD").split()[::-1]


def move_function(root: Path, src: str, dst: str, name: str) -> str:
    """Cut top-level function `name` out of src and append it to dst; its qualified name."""
    for qual, start, end in functions(root, src):
        if qual == name:
            lines = (root / src).read_text("utf-8").splitlines()
            block = lines[start - 1 : end]
            del lines[start - 1 : end]
            (root / src).write_text("\n".join(lines) + "\n", "utf-8")
            with (root / dst).open("a", encoding="utf-8") as f:
                f.write("\n\n" + "\n".join(block) + "\n")
            return qual
    raise LookupError(name)


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repo", type=Path, default=MIRROR)
    parser.add_argument("--back", type=int, default=60)
    parser.add_argument("--step", type=int, default=10)
    parser.add_argument("--memories", type=int, default=45)
    parser.add_argument("--seed", type=int, default=40)
    args = parser.parse_args()
    probe = ["git", "--git-dir", str(args.repo), "cat-file", "-e", "HEAD:src/click/termui.py"]
    if not args.repo.is_dir() or subprocess.run(probe, capture_output=True).returncode != 0:
        raise SystemExit(
            f"{args.repo} is not a clone of click: pass --repo (git clone "
            "https://github.com/pallets/click; the scenario edits click's own files)"
        )
    rnd = random.Random(args.seed)
    scratch = Path(tempfile.mkdtemp(prefix="ocp-sessions-"))
    root = scratch / "click"
    subprocess.run(["git", "clone", "-q", str(args.repo), str(root)], check=True)
    commits = first_parent(root, args.back)
    git(root, "checkout", "-q", "--detach", commits[0])
    memory = Memory()
    print(f"workspace {root} at {commits[0][:8]}, {len(commits)} commits to replay")

    # Session 1: save decisions citing code.
    async with server(root) as s:
        await settled(s, root, "Context invoke")
        cites = pick_citations(root, rnd, args.memories)
        cites += [
            ("symbol", "src/click/core.py:Context.invoke"),  # shares its name with overloads
            ("symbol", "get_current_context"),
            ("inside", "src/click/_compat.py:13-14"),  # module level: no definition holds it
            ("inside", "src/click/shell_completion.py:105-112"),
            ("inside", "docs/quickstart.md:1-6"),
        ]
        for start in range(0, len(cites), 15):
            batch = cites[start : start + 15]
            saved = await s.save(
                summary=f"session 1, batch {start // 15}",
                decisions=[decision(rnd, start + i, c) for i, (_, c) in enumerate(batch)],
                state={"phase": "one"},
                open_items=[f"look again at {c}" for _, c in batch[:2]],
            )
            memory.record(root, saved, [f for f, _ in batch])
            if saved["merged"]:
                PROBLEMS.append(f"save merged unexpectedly: {saved['merged']}")
        print(f"  saved {len(memory.cited)} decisions")
        await restore_checked(s, root, memory, "session 1, right after saving")

    # Sessions 2..: real upstream commits, a few at a time; a new server each time.
    for i in range(args.step, len(commits), args.step):
        git(root, "checkout", "-q", "--detach", commits[i])
        async with server(root) as s:
            await settled(s, root, "Context invoke")
            await restore_checked(s, root, memory, f"upstream +{i} ({commits[i][:8]})")
    git(root, "checkout", "-q", "-b", "work")

    # Our own branch: a file renamed with git mv (committed), functions moved between
    # files (uncommitted), a file deleted, bodies edited and edits undone; one long session.
    async with server(root) as s:
        await settled(s, root, "Context invoke")
        targets = [c for f, c in cites if c.startswith("src/click/termui.py")]
        print(f"  {len(targets)} citations in termui.py")
        git(root, "mv", "src/click/termui.py", "src/click/term_ui.py")
        git(root, "mv", "src/click/_compat.py", "src/click/compat.py")
        (root / "docs/guide").mkdir()
        git(root, "mv", "docs/quickstart.md", "docs/guide/quickstart.md")
        git(root, "commit", "-qm", "rename termui, _compat, quickstart")
        await settled(s, root, "term_ui")
        await asyncio.sleep(1.5)
        brief = await restore_checked(s, root, memory, "git mv termui.py -> term_ui.py, committed")
        for path in ("src/click/termui.py", "src/click/_compat.py", "docs/quickstart.md"):
            show(brief, memory, path)

        # A plain `mv` git is not told of: a file never added (no rename to stage or commit),
        # cited by lines no definition holds, moved into a new folder under a new name.
        loose = "src/click/_pager_defaults.py"
        (root / loose).write_text(PAGER_DEFAULTS, "utf-8")
        await indexed(s, loose, "CLICK_PAGER_FALLBACK pager defaults")
        saved = await s.save(decisions=[decision(rnd, 800, f"{loose}:6-9")])
        memory.record(root, saved, ["inside"])
        (root / "src/click/paging").mkdir()
        MOVED[loose] = "src/click/paging/fallbacks.py"
        os.rename(root / loose, root / MOVED[loose])
        await indexed(s, MOVED[loose], "CLICK_PAGER_FALLBACK pager defaults")
        brief = await restore_checked(s, root, memory, "plain mv of a file git does not track")
        show(brief, memory, loose)

        # Move every top-level function cited in utils.py to a new file, uncommitted.
        moved = []
        for qual, _, _ in functions(root, "src/click/utils.py"):
            if "." not in qual and any(qual in c or "utils.py" in c for _, c in cites):
                moved.append(qual)
        (root / "src/click/moved_utils.py").write_text("import os\nimport sys\n", "utf-8")
        for name in moved[:6]:
            move_function(root, "src/click/utils.py", "src/click/moved_utils.py", name)
        await asyncio.sleep(2.5)
        brief = await restore_checked(s, root, memory, f"{len(moved[:6])} utils.py functions moved")
        show(brief, memory, "src/click/utils.py")

        # A file deleted whole, committed.
        victim = "src/click/_termui_impl.py"
        git(root, "rm", "-q", victim)
        git(root, "commit", "-qm", "drop impl")
        await asyncio.sleep(2.5)
        await restore_checked(s, root, memory, f"{victim} deleted")

        # Lines inserted at the top of core.py (every citation there shifts), uncommitted.
        core = root / "src/click/core.py"
        original = core.read_text("utf-8")
        core.write_text("# header\n# another\n\n" + original, "utf-8")
        await restore_checked(s, root, memory, "core.py: 3 lines inserted at the top")

        # A body edited in each cited core.py function: those citations go stale.
        lines = core.read_text("utf-8").splitlines()
        for qual, start, end in functions(root, "src/click/core.py"):
            if any(qual.split(".")[-1] in c for _, c in cites):
                mid = (start + end) // 2
                lines[mid] = lines[mid] + "  # edited"
        core.write_text("\n".join(lines) + "\n", "utf-8")
        await restore_checked(s, root, memory, "core.py: cited bodies edited")

        # Undone (git checkout): valid again.
        git(root, "checkout", "-q", "--", "src/click/core.py")
        await asyncio.sleep(2.5)
        brief = await restore_checked(s, root, memory, "core.py: edits undone")

        # A function renamed in parser.py / decorators.py.
        for rel in ("src/click/parser.py", "src/click/decorators.py"):
            text = (root / rel).read_text("utf-8")
            for qual, _, _ in functions(root, rel):
                bare = qual.split(".")[-1]
                if any(f":{qual}" in c for _, c in cites) and not bare.startswith("__"):
                    text = re.sub(rf"def {bare}\(", f"def {bare}_renamed(", text, count=1)
            (root / rel).write_text(text, "utf-8")
        await asyncio.sleep(2.5)
        brief = await restore_checked(s, root, memory, "functions renamed")
        for st in brief["stale"][:4]:
            print("     stale:", st["citations"][0]["change"][:140])
        git(root, "add", "-A")
        git(root, "commit", "-qm", "all our changes")
        await restore_checked(s, root, memory, "all of it committed")

        # A feature branch changes a cited function and saves a decision about the new code;
        # switching branches back and forth swaps which of the two holds.
        brief = await s.restore(max_tokens=20_000)
        mine = next(
            d
            for d in brief["decisions"]
            if memory.whole.get(d["id"])
            and d["citations"][0]["citation"].startswith("src/click/core.py")
        )
        cited = mine["citations"][0]
        git(root, "checkout", "-q", "-b", "feature")
        path, span = cited["citation"].rsplit(":", 1)
        lines = (root / path).read_text("utf-8").splitlines()
        at = int(span.split("-")[0]) + 1
        lines[at] = lines[at] + "  # feature"
        (root / path).write_text("\n".join(lines) + "\n", "utf-8")
        git(root, "commit", "-qam", "feature")
        await asyncio.sleep(2.5)
        saved = await s.save(decisions=[decision(rnd, 900, f"{path}:{cited['symbol']}")])
        memory.record(root, saved, ["symbol"])
        feature_id = saved["decision_ids"][0]
        for branch in ("work", "feature", "work"):
            git(root, "checkout", "-q", branch)
            await asyncio.sleep(2.5)
            brief = await restore_checked(s, root, memory, f"checkout {branch}")
            where = {d["id"]: "served" for d in brief["decisions"]}
            where.update({x["id"]: "stale" for x in brief["stale"]})
            want = {
                mine["id"]: "served" if branch == "work" else "stale",
                feature_id: "stale" if branch == "work" else "served",
            }
            got = {k: where.get(k) for k in want}
            print(f"     on {branch}: {got}")
            if got != want:
                PROBLEMS.append(f"checkout {branch}: {got}, expected {want}")

    # Budgets: every max_tokens is honoured; the most useful first (a query's match).
    async with server(root) as s:
        await settled(s, root, "Context invoke")
        for max_tokens in (300, 400, 600, 1000, 2000, 5000, 20_000):
            brief = await s.restore(max_tokens=max_tokens)
            budget_ok(brief, max_tokens, f"max_tokens={max_tokens}")
            print(
                f"  max_tokens={max_tokens:<6} tokens={brief['tokens']:<6} "
                f"decisions={len(brief['decisions'])} stale={len(brief['stale'])} "
                f"open={len(brief['open_items'])} omitted={brief['omitted']}"
            )
        # An agent asks about a function by its name: the decision citing it comes first.
        served = await s.restore(max_tokens=20_000)
        asked = 0
        for d in served["decisions"]:
            symbol = d["citations"][0]["symbol"]
            if not symbol or asked >= 8:
                continue
            name = symbol.rsplit(".", 1)[-1]
            if sum(name in (x["citations"][0]["symbol"] or "") for x in served["decisions"]) > 1:
                continue
            asked += 1
            for max_tokens in (600, 2000):
                hit = await s.restore(query=name, max_tokens=max_tokens)
                first = hit["decisions"][0]["id"] if hit["decisions"] else None
                if first != d["id"]:
                    PROBLEMS.append(
                        f"query {name!r} at {max_tokens}: first decision {first}, not {d['id']}"
                    )
        print(f"  {asked} queries by a cited function's name, at 600 and 2,000 tokens")

    # Two server processes on one database, saving at once; then a restart sees everything.
    async with server(root) as a, server(root) as b:
        await settled(a, root, "Context invoke")
        await settled(b, root, "Context invoke")

        async def saves(s: Session, tag: str) -> list[int]:
            ids = []
            for n in range(15):
                saved = await s.save(
                    decisions=[
                        {
                            "title": f"{tag} concurrent {n}",
                            "decision": f"{tag} {n} {rnd.random():.9f} " + " ".join(WORDS[n:]),
                            "citations": ["src/click/core.py:Context.forward"],
                        }
                    ],
                    notes=[f"{tag} note {n} {rnd.random():.9f}"],
                    state={f"{tag}-{n}": str(n)},
                )
                ids += saved["decision_ids"]
            return ids

        ids_a, ids_b = await asyncio.gather(saves(a, "window-a"), saves(b, "window-b"))
        both = set(ids_a) | set(ids_b)
        print(f"  two windows saved {len(both)} decisions ({len(ids_a)} + {len(ids_b)})")
        for who, s in (("a", a), ("b", b)):
            got = await s.restore(max_tokens=20_000)
            have = {d["id"] for d in got["decisions"]}
            if not both <= have:
                PROBLEMS.append(f"window {who} misses {sorted(both - have)[:5]}")
            state = {k for k in got["state"] if "window-" in k}
            if len(state) != 30:
                PROBLEMS.append(f"window {who} sees {len(state)} of 30 state keys")
    async with server(root) as s:
        got = await s.restore(max_tokens=20_000)
        have = {d["id"] for d in got["decisions"]} | {x["id"] for x in got["stale"]}
        missing = (set(memory.cited) | both) - have
        print(f"  after a restart: {len(have)} served or stale, missing {len(missing)}")
        if missing and not any(got["omitted"].values()):
            PROBLEMS.append(f"after restart missing {sorted(missing)[:5]}")
        check(root, memory, got, "after restart")

    # Another workspace: its memories never show here, and a shared database is refused.
    other = scratch / "other"
    other.mkdir()
    (other / "mod.py").write_text("def secret_other_thing():\n    return 42\n", "utf-8")
    git(other, "init", "-q")
    git(other, "add", "-A")
    git(other, "commit", "-qm", "other")
    async with server(other) as s:
        await settled(s, other, "secret_other_thing")
        await s.save(
            decisions=[
                {
                    "title": "OTHER-WORKSPACE",
                    "decision": "other-only",
                    "citations": ["secret_other_thing"],
                }
            ],
            notes=["OTHER-NOTE"],
            state={"other-key": "x"},
            summary="OTHER-SUMMARY",
        )
    async with server(root) as s:
        got = await s.restore(max_tokens=20_000, query="OTHER-WORKSPACE other-only")
        if "OTHER" in json.dumps(got) or "other-key" in got["state"]:
            PROBLEMS.append("another workspace's memory shows")
    try:
        async with server(other, db=root / ".ocp" / "ocp.db") as s:
            await s.restore()
            PROBLEMS.append("a database of another workspace was opened")
    except Exception as exc:  # noqa: BLE001 - any refusal will do; say which
        inner: BaseException = exc
        while isinstance(inner, BaseExceptionGroup) and inner.exceptions:
            inner = inner.exceptions[0]
        print(f"  shared database refused: {str(inner)[:300]}")

    print(f"\n{len(PROBLEMS)} problem(s)")
    for p in PROBLEMS:
        print(" -", p)
    return 1 if PROBLEMS else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
