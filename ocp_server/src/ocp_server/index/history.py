"""A git workspace's own history as free ranking evidence: which files past changes touched.

A commit message says what was changed and the commit says where, so a question that reads like
a past commit points at the files that commit changed, and files that change often are where
work tends to happen. At each index update the newest commits (at most `OCP_HISTORY_COMMITS`,
default 5,000; 0 turns this off) are read with one bounded `git log`: their messages as search
terms (the text itself is not kept) and the paths they changed, but for the files that are
secret by name (`backup/ghp_<token>.json` names its secret: never stored). Only the past is
read, and only commits reachable from HEAD. A workspace below its work tree's top (a monorepo's
folder) reads the commits that changed it, with paths relative to it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import aiosqlite

from ocp_server.git_commands import run_git
from ocp_server.index.lexicon import body_blobs
from ocp_server.index.limits import DEFAULT_HISTORY_COMMITS
from ocp_server.index.secret_files import secret_name

logger = logging.getLogger(__name__)

__all__ = [
    "Commit",
    "DEFAULT_HISTORY_COMMITS",
    "clean_message",
    "read_history",
    "store_history",
]

GIT_TIMEOUT_S = 30.0
MAX_FILES_PER_COMMIT = 50  # a bigger commit (a reformat, a vendored update) says little
_PREFIX = re.compile(r"^\s*(?:\[[^\]]{1,40}\]\s*|[\w./-]{1,40}(?:\([^)]{0,40}\))?!?:\s+)")
_ISSUE = re.compile(r"\(?(?:[\w.-]+/[\w.-]+)?#\d+\)?|https?://\S+")


@dataclass(frozen=True, slots=True)
class Commit:
    hash: str
    time: int  # committer time, seconds since the epoch
    message: str  # subject and first paragraph, cleaned
    paths: tuple[str, ...]


def clean_message(subject: str, body: str) -> str:
    """The subject without `area:`/`type(scope):`/`[tag]` prefixes, issue references or URLs,
    and the body's first paragraph (at most 60 words)."""
    subject = _ISSUE.sub(" ", _PREFIX.sub("", subject, count=1)).strip()
    first = body.strip().split("\n\n", 1)[0] if body.strip() else ""
    words = _ISSUE.sub(" ", first).split()[:60]
    return " ".join([subject, *words]).strip()


def read_history(workspace: Path, limit: int, rev: str = "HEAD") -> list[Commit]:
    """The newest `limit` non-merge commits reachable from `rev`, newest first; [] when the
    workspace is not a git work tree or git fails."""
    if limit <= 0:
        return []
    try:
        out = run_git(
            workspace,
            "log",
            rev,
            "--no-merges",
            f"-n{limit}",
            "--name-only",
            "--no-renames",
            # NUL-separated and unquoted (-z): a path or a message may hold any other
            # character, U+2028 or \x1e included. Each commit is "\0hash\0time\0subject\0body\0",
            # then "\n" and its paths, each ended by \0; no path is empty, so an empty field
            # after the paths starts the next commit.
            "-z",
            "--format=%x00%H%x00%ct%x00%s%x00%b",
            # In a folder below the work tree's top, the commits that changed it, their paths
            # as the index has them (relative to the folder), not the whole repository's;
            # every one of them (a path turns on history simplification, which drops a side
            # branch merged with a tree equal to one parent's)
            "--full-history",
            "--relative",
            "--",
            ".",
            timeout=GIT_TIMEOUT_S,
        )
    except (OSError, subprocess.TimeoutExpired):
        logger.info("git log failed or took too long; no history evidence this time")
        return []
    if out.returncode != 0:
        return []
    return _commits(out.stdout.split(b"\0"))


def _commits(fields: list[bytes]) -> list[Commit]:
    """The commits of `git log -z` output split at its NULs (see read_history's format)."""
    commits = []
    at = 0
    while at + 5 <= len(fields) and fields[at] == b"":
        digest, when, subject, body = (
            f.decode("utf-8", "replace") for f in fields[at + 1 : at + 5]
        )
        end = at + 5
        while end < len(fields) and fields[end]:
            end += 1
        names = fields[at + 5 : end]
        if names:
            names[0] = names[0].removeprefix(b"\n")  # git's line between message and paths
        # A name not UTF-8 is left out, as the index leaves its file out (SQLite text cannot
        # hold the surrogate escapes `files.git_files` decodes it to)
        paths = [p for p in (_utf8(n) for n in names) if p is not None]
        at = end
        if not paths or len(paths) > MAX_FILES_PER_COMMIT or not when.isdigit():
            continue
        commits.append(Commit(digest, int(when), clean_message(subject, body), tuple(paths)))
    return commits


def _utf8(name: bytes) -> str | None:
    try:
        return name.decode("utf-8")
    except UnicodeDecodeError:
        return None


async def store_history(db: aiosqlite.Connection, commits: list[Commit]) -> bool:
    """Make the stored history exactly `commits` (new ones added, older ones dropped). Runs
    inside the caller's transaction; True when anything changed."""
    stored = {row[0] for row in await db.execute_fetchall("SELECT hash FROM commits")}
    wanted = {c.hash for c in commits}
    gone = stored - wanted
    new = [c for c in commits if c.hash not in stored]
    if gone:
        await db.executemany("DELETE FROM commits WHERE hash = ?", [(h,) for h in gone])
    if new:
        blobs = body_blobs([(c.message, 1) for c in new])  # packed together: one pass
        rows = [(c.hash, c.time, b.terms, b.length) for c, b in zip(new, blobs, strict=True)]
        await db.executemany(
            "INSERT INTO commits (hash, time, terms, length) VALUES (?, ?, ?, ?)", rows
        )
        # Judged once a distinct path, and only for new commits: history repeats its paths
        # (5,000 commits of pytest name 1,732), and a path costs ~40 µs to judge (off the
        # event loop: a first index judges them all).
        distinct = {p for c in new for p in c.paths}
        secret = await asyncio.to_thread(lambda: {p: secret_name(p) for p in distinct})
        await db.executemany(
            "INSERT OR IGNORE INTO commit_files (hash, path) VALUES (?, ?)",
            [(c.hash, p) for c in new for p in c.paths if not secret[p]],
        )
    return bool(gone or new)
