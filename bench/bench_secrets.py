"""Secrets benchmark: does anything secret leave the machine?

    uv run python bench/bench_secrets.py            # the table
    uv run python bench/bench_secrets.py -v         # + every redaction on ordinary source
    uv run python bench/bench_secrets.py --recall   # the corpus's recall alone, misses by format
    uv run --with detect-secrets==1.5.0 python bench/bench_secrets.py --detect-secrets

1. A workspace with planted secrets (key files with ordinary names, dotenv files, symlinks to
   secrets, names in odd cases, the files tools keep logins in (wp-config.php, token.json,
   .yarnrc.yml, deploy/.kube/config, …), and secrets inline in code, config, scripts and
   docs), built twice: as a git work tree and as a plain folder. ocp-server runs over real
   stdio (debug logging on) with the fake Anthropic server as the paid provider, and is asked
   what an agent would ask: searches by identifier, file name, topic and by the secret values
   themselves, restores after saving notes that quote secrets, paid routes (forced, and one
   that escalates from a local model that is down) and dry runs. Counted per planted secret:
   indexed (in a chunk), returned by a tool, present in a paid request body, in the database
   files, in the server's log, in what the CLI prints an agent that runs it in a shell
   (search, status, restore, stats and its HTML report, doctor, a dry-run route); and the
   paid API key in logs or the database. A file indexed under an ordinary name and renamed to
   `.env…` while the server watches must leave the results (its value is none redaction knows).
2. Redaction on the corpus of tests/data/secret_corpus.py (1,000 passwords in each password
   context, 200 tokens of each shape) and on ordinary source: this repository and the six
   development corpora of ../shared/bench/retrieval (unpacked under
   ~/.cache/ocp-bench/retrieval-dev/corpora by its run.py). A file with any redaction counts
   against the false-positive rate, test fixtures with literal credentials included (-v lists
   them); the rate over non-test files is shown too. Speed is per 100 KB of ordinary code.
3. Workspace values refused: root, home, system and credential folders, a sibling folder,
   `..` and a symlink out, each tried on all four tools; files created outside the configured
   folders.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ocp_client import OCPClient  # noqa: E402
from ocp_router.redact import redact  # noqa: E402
from ocp_server.index.files import list_workspace  # noqa: E402
from ocp_server.index.lexicon import unpack_text  # noqa: E402
from tests.data.secret_corpus import (  # noqa: E402
    PASSWORD_CONTEXTS,
    TOKEN_FORMATS,
    passwords,
    recalled,
    samples,
)
from tests.fakes import FakeAnthropic, closed_port  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from secrets_planted import (  # noqa: E402
    ALNUM,
    RENAMED_MARK,
    RENAMED_VALUE,
    Planted,
    build,
    plant,
    rand,
)

CORPORA = Path.home() / ".cache" / "ocp-bench" / "retrieval-dev" / "corpora"
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|testing|__tests__|spec|fixtures|runtime-tests)/|(?:^|/)test_|_test\.|"
    r"\.test\.|\.spec\.|(?:^|/)conftest\.py$"
)


# ---- driving the server ----------------------------------------------------------------------


@dataclass
class Seen:
    returned: str = ""  # every tool result, JSON and text
    cli: str = ""  # what the CLI prints (stdout and stderr) and writes (stats --html)
    renamed: str = ""  # searches for a file's text after it was renamed to a secret name
    paid: str = ""
    log: str = ""
    db: bytes = b""
    chunks: str = ""
    refused: int = 0
    tried: int = 0
    outside_created: int = 0  # files the tools wrote outside the configured folders
    api_key: str = ""


def present(values: list[str], haystack: str | bytes) -> set[str]:
    if isinstance(haystack, bytes):
        return {v for v in values if v.encode() in haystack}
    return {v for v in values if v in haystack}


async def exercise(ws: Path, planted: Planted, tmp: Path) -> Seen:
    seen = Seen()
    api_key = "sk-ant-api03-" + rand(random.Random(7), 93, ALNUM + "-_") + "AA"
    log = tmp / f"server-{ws.name}.log"
    db = tmp / f"ocp-{ws.name}.db"
    with FakeAnthropic(reply="Noted.", api_key=api_key) as anthropic:
        env = {
            "OCP_WORKSPACE": str(ws),
            "OCP_DB_PATH": str(db),
            "OCP_OLLAMA_URL": f"http://127.0.0.1:{closed_port()}",  # the local model is down
            "ANTHROPIC_API_KEY": api_key,
            "ANTHROPIC_BASE_URL": anthropic.url,
            "HOME": str(tmp / "home"),
        }
        command = f"exec {sys.executable} -m ocp_server.cli -v 2>>{log}"
        async with OCPClient("/bin/sh", ["-c", command], env=env) as client:

            async def call(tool: str, args: dict[str, object]) -> None:
                result = await client.call(tool, args)
                out = json.dumps(result.structured_content or {})
                out += "".join(getattr(c, "text", "") for c in result.content)
                # What the caller sent and gets echoed back is no disclosure: left out.
                for sent in planted.secrets:
                    if sent in json.dumps(args):
                        out = out.replace(sent, "")
                seen.returned += out

            async with asyncio.timeout(60):
                while (await client.search("DATABASES")).index.building:
                    await asyncio.sleep(0.2)
            queries = ["password", "secret key", "token", "api key", "credentials", "private key"]
            queries += sorted(set(planted.names.values())) + sorted(planted.files)
            queries += list(planted.secrets)  # the values themselves
            for q in queries:
                await call("ocp_context_search", {"query": q[:200], "k": 20})
            some = list(planted.secrets)[:6]
            await call(
                "ocp_result_save",
                {
                    "notes": [f"DB_PASSWORD={v}" for v in some[:3]],
                    "state": {"db_password": some[3]},
                    "summary": f"the prod db password is {some[4]}",
                },
            )
            await call("ocp_session_restore", {})
            await call("ocp_session_restore", {"query": "password"})
            for topic in (
                "database settings and passwords",
                "deploy scripts and credentials",
                "kubernetes deployment env",
                "webhook configuration",
            ):
                await call("ocp_model_route", {"request": f"review the {topic}", "force": "paid"})
                await call(
                    "ocp_model_route",
                    {"request": f"review the {topic}", "force": "paid", "dry_run": True},
                )
            # a request the router sends local first; the local model is down: it escalates
            await call("ocp_model_route", {"request": f"explain DB_PASSWORD={some[5]} in .env"})
            await call(
                "ocp_model_route",
                {
                    "messages": [
                        {"role": "user", "content": f"my key is {some[1]}"},
                        {"role": "assistant", "content": "ok"},
                        {"role": "user", "content": "refactor auth across all files"},
                    ]
                },
            )
            # A file indexed under an ordinary name, then renamed to a secret one: its text
            # must leave the index (the value is no secret redaction knows: only its name says).
            (ws / "docs" / "handoff.txt").rename(ws / ".env.handoff")
            with contextlib.suppress(TimeoutError):  # still found: the row says so
                async with asyncio.timeout(30):
                    while await _still_found(client, RENAMED_MARK):
                        await asyncio.sleep(0.2)
            for q in (RENAMED_MARK, RENAMED_VALUE, "handoff"):
                result = await client.call("ocp_context_search", {"query": q, "k": 20})
                seen.renamed += json.dumps(result.structured_content or {}).replace(q, "")
            # workspace values that must be refused, on every tool
            outside = tmp / "outside"
            outside.mkdir(exist_ok=True)
            (outside / "notes.py").write_text("x = 1\n")
            os.symlink(outside, ws / "escape") if not (ws / "escape").exists() else None
            home = Path(env["HOME"])
            (home / ".ssh").mkdir(parents=True, exist_ok=True)
            hostile = [
                "/",
                "~",
                str(home),
                "/etc",
                "/proc",
                "/usr/lib",
                "/tmp",
                str(home / ".ssh"),
                str(outside),
                f"{ws}/../outside",
                str(ws / "escape"),
                str(home.parent),
            ]
            before = {p for d in (outside, home) for p in d.rglob("*")}
            for value in hostile:
                for tool, args in (
                    ("ocp_context_search", {"query": "x"}),
                    ("ocp_session_restore", {}),
                    ("ocp_result_save", {"notes": ["x"]}),
                    ("ocp_model_route", {"request": "x", "dry_run": True}),
                ):
                    result = await client.call(tool, {**args, "workspace": value})
                    seen.tried += 1
                    seen.refused += bool(result.is_error)
            after = {p for d in (outside, home) for p in d.rglob("*")}
            seen.outside_created = len(after - before)
        seen.paid = json.dumps([r.body for r in anthropic.requests])
        seen.cli = cli_output(env, planted, tmp / f"report-{ws.name}.html")
    seen.log = log.read_text("utf-8", "replace")
    seen.db = b"".join(
        Path(f"{db}{s}").read_bytes() for s in ("", "-wal") if Path(f"{db}{s}").exists()
    )
    import sqlite3

    with sqlite3.connect(db) as conn:
        seen.chunks = "\n".join(unpack_text(r[0]) for r in conn.execute("SELECT text FROM chunks"))
    seen.api_key = api_key
    return seen


async def _still_found(client: OCPClient, query: str) -> bool:
    return any(RENAMED_VALUE in h.text for h in (await client.search(query)).results)


def cli_output(env: dict[str, str], planted: Planted, html: Path) -> str:
    """What the CLI shows an agent that runs it in a shell: searches (by name, topic and the
    values themselves, whose echo is left out), status, restore, stats (and its HTML report),
    doctor, a dry-run route."""
    runs: list[list[str]] = [["search", q, "-k", "20"] for q in ("password", "token", "secret")]
    runs += [["search", "--json", q, "-k", "20"] for q in sorted(set(planted.names.values()))]
    runs += [["search", v[:200]] for v in planted.secrets]
    runs += [["status", "--json"], ["restore"], ["restore", "--json", "--query", "password"]]
    runs += [
        ["stats"],
        ["stats", "--json", "--html", str(html)],
        ["doctor"],
        ["routing", "explain"],
    ]
    runs += [["route", "--dry-run", "review the database settings and passwords"]]
    out = ""
    for args in runs:
        done = subprocess.run(
            [sys.executable, "-m", "ocp_server.cli", "-v", *args],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            timeout=120,
        )
        text = done.stdout + done.stderr
        for sent in planted.secrets:  # a value the command line names is no disclosure
            if sent[:200] in args:
                text = text.replace(sent[:200], "")
        out += text
    return out + (html.read_text("utf-8", "replace") if html.exists() else "")


# ---- redaction quality -----------------------------------------------------------------------


def corpus_recall(missed: dict[str, int] | None = None) -> tuple[float, int, int, float, float]:
    """Recall over the corpus; `missed`, if given, gets each format's count of misses."""
    found = total = 0
    pw = passwords(1000)
    for fmt in PASSWORD_CONTEXTS:
        for text, secret in map(fmt.with_secret, pw):
            hit = recalled(text, secret)
            found += hit
            total += 1
            if missed is not None and not hit:
                missed[fmt.name] = missed.get(fmt.name, 0) + 1
    tok_found = tok_total = 0
    for fmt in TOKEN_FORMATS:
        for text, secret in samples(fmt, 200, seed=3):
            hit = recalled(text, secret)
            tok_found += hit
            tok_total += 1
            if missed is not None and not hit:
                missed[fmt.name] = missed.get(fmt.name, 0) + 1
    return (
        (found + tok_found) / (total + tok_total),
        len(PASSWORD_CONTEXTS) + len(TOKEN_FORMATS),
        total + tok_total,
        found / total,
        tok_found / tok_total,
    )


def ordinary_sources() -> list[tuple[str, Path]]:
    roots = [("this repository", ROOT)]
    if CORPORA.is_dir():
        roots += [(p.name, p) for p in sorted(CORPORA.iterdir()) if p.is_dir()]
    return roots


def false_positives(verbose: bool) -> tuple[list[tuple[str, int, int, int, int]], float, int]:
    rows = []
    seconds = 0.0
    size = 0
    for name, root in ordinary_sources():
        files = touched = plain = plain_touched = 0
        for c in list_workspace(root).candidates:
            data = (root / c.path).read_bytes()
            if b"\0" in data[:8192]:
                continue
            text = data.decode("utf-8", "replace")
            t0 = time.perf_counter()
            result = redact(text)
            seconds += time.perf_counter() - t0
            size += len(text)
            files += 1
            is_test = bool(_TEST_PATH.search(c.path))
            plain += not is_test
            if result.redactions:
                touched += 1
                plain_touched += not is_test
                if verbose:
                    for r in result.redactions[:3]:
                        shown = text[r.start : r.end][:60]
                        print(f"  {name}/{c.path}: {r.kind}: {shown!r}")
        rows.append((name, files, touched, plain, plain_touched))
    return rows, seconds / size * 1e5 * 1000 if size else 0.0, size


def detect_secrets_figures() -> tuple[float, float]:
    """detect-secrets 1.5 (scan_line, every plugin, no filters) on the same corpus."""
    from detect_secrets.core.scan import scan_line
    from detect_secrets.settings import default_settings

    def found(text: str, secret: str) -> bool:
        values = [s.secret_value or "" for line in text.splitlines() for s in scan_line(line)]
        return any(secret in v for v in values)

    with default_settings():
        pw = passwords(200)
        rec = [found(*f.with_secret(p)) for f in PASSWORD_CONTEXTS for p in pw]
        rec += [found(t, s) for f in TOKEN_FORMATS for t, s in samples(f, 200, seed=3)]
        touched = files = 0
        for _, root in ordinary_sources():
            for c in list_workspace(root).candidates:
                text = (root / c.path).read_text("utf-8", "replace")
                files += 1
                touched += any(True for line in text.splitlines() for _ in scan_line(line))
    return sum(rec) / len(rec), touched / max(files, 1)


# ---- the table -------------------------------------------------------------------------------


def print_recall(console: Console) -> None:
    missed: dict[str, int] = {}
    recall, n_formats, n_samples, pw_recall, tok_recall = corpus_recall(missed)
    console.print(
        f"recall, {n_formats} formats ({len(PASSWORD_CONTEXTS)} password contexts x 1,000,"
        f" {len(TOKEN_FORMATS)} token and note formats x 200), {n_samples:,} samples:"
        f" {recall:.4%} ({sum(missed.values())} missed); passwords {pw_recall:.4%},"
        f" tokens {tok_recall:.4%}"
    )
    for name, n in sorted(missed.items(), key=lambda kv: (-kv[1], kv[0])):
        console.print(f"  {name}: {n} missed")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-v", "--verbose", action="store_true")
    parser.add_argument("--detect-secrets", action="store_true", help="compare detect-secrets")
    parser.add_argument(
        "--recall", action="store_true", help="only the corpus's recall, with each format's misses"
    )
    args = parser.parse_args()
    console = Console()
    if args.recall:
        print_recall(console)
        return
    tmp = Path(tempfile.mkdtemp(prefix="ocp-bench-secrets-"))
    planted = plant(random.Random(42))
    values = list(planted.secrets)
    n_files = len({p for p in planted.secrets.values()})
    title = f"Planted secrets: {len(values)} in {n_files} files (+2 symlinks, 1 hard link to them)"
    table = Table(title=title)
    table.add_column("measure")
    for kind in ("git", "plain"):
        table.add_column(kind, justify="right")
    table.add_column("goal")
    results = {}
    for git in (True, False):
        ws = build(tmp, planted, git)
        results["git" if git else "plain"] = await exercise(ws, planted, tmp)
    g, p = results["git"], results["plain"]

    def row(label: str, fn: Callable[[Seen], object], goal: str) -> None:
        table.add_row(label, str(fn(g)), str(fn(p)), goal)

    row("indexed (in a chunk)", lambda s: len(present(values, s.chunks)), "inline code only")
    row("returned by a tool", lambda s: len(present(values, s.returned)), "0")
    row("in paid request bodies", lambda s: len(present(values, s.paid)), "0")
    row("in the database files", lambda s: len(present(values, s.db)), "indexed ones, 0600")
    row("in the server log (-v)", lambda s: len(present(values, s.log)), "0")
    row(
        "in CLI output (search, restore, stats --html, …)",
        lambda s: len(present(values, s.cli)),
        "0",
    )
    row(
        "renamed to .env after indexing, still found",
        lambda s: int(RENAMED_VALUE in s.renamed),
        "0",
    )
    row(
        "paid API key in log or database",
        lambda s: int(s.api_key in s.log) + int(s.api_key.encode() in s.db),
        "0",
    )
    row("paid requests made", lambda s: s.paid.count('"messages"'), "")
    row("workspace values refused", lambda s: f"{s.refused}/{s.tried}", "all")
    row("files created outside configured folders", lambda s: s.outside_created, "0")
    console.print(table)

    recall, n_formats, n_samples, pw_recall, tok_recall = corpus_recall()
    rows, ms, size = false_positives(args.verbose)
    quality = Table(title="Redaction (ocp_router/redact.py)")
    quality.add_column("measure")
    quality.add_column("value", justify="right")
    quality.add_column("goal")
    quality.add_row(
        f"recall, {n_formats} formats, {n_samples:,} samples", f"{recall:.2%}", ">= 99%"
    )
    quality.add_row("  passwords: 1,000 in each of the contexts", f"{pw_recall:.2%}", "")
    quality.add_row("  tokens: 200 of each shape", f"{tok_recall:.2%}", "")
    files = sum(r[1] for r in rows)
    touched = sum(r[2] for r in rows)
    plain = sum(r[3] for r in rows)
    plain_touched = sum(r[4] for r in rows)
    for name, f, t, _, _ in rows:
        quality.add_row(f"  files with a redaction: {name}", f"{t}/{f}", "")
    quality.add_row(
        "false positives: ordinary files with any redaction", f"{touched / files:.2%}", "<= 1%"
    )
    quality.add_row("  the same, test files left out", f"{plain_touched / max(plain, 1):.2%}", "")
    quality.add_row(f"speed ({size / 1e6:.1f} MB of ordinary source)", f"{ms:.1f} ms/100 KB", "")
    if not CORPORA.is_dir():
        quality.add_row(
            "(the six corpora are missing: run ../shared/bench/retrieval/run.py)", "", ""
        )
    if args.detect_secrets:
        ds_recall, ds_fp = detect_secrets_figures()
        quality.add_row("detect-secrets 1.5 scan_line: recall", f"{ds_recall:.2%}", "")
        quality.add_row("detect-secrets 1.5 scan_line: files flagged", f"{ds_fp:.2%}", "")
    console.print(quality)
    console.print(f"(timings are noisy on a shared machine; work folder {tmp})")


if __name__ == "__main__":
    asyncio.run(main())
