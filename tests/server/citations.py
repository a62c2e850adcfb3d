"""The citation tests' set-up: a workspace indexed, with a memory store on its database and one
clock for both, and the source files they cite."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from ocp_server.brief import Brief, CitationState
from ocp_server.db import connect
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.memory import DecisionIn, MemoryStore, NoteIn, SaveOutcome

# Another module that happens to repeat the cited lines (and the import).
OTHER = (
    "import os\n\n\nTIMEOUT = 10\nRETRIES = 3\n\n\n"
    "def fetch(url):\n    for attempt in range(RETRIES):\n        pass\n\n\n"
    "def retry_later(task):\n    task.delay(TIMEOUT)\n"
)

# `x = 1` twice in a function, at lines 6 and 8.
IN_LOAD = (
    "import os\n\n\ndef load():\n    env = os.environ\n    x = 1\n    path = env['PATH']\n"
    "    x = 1\n    return path\n"
)

# What a decision says when a test does not mind what.
TITLE = "Token check"
DECISION = "compare tokens in constant time"

DAY = 86400.0


class Clock:
    """Moved by hand; each reading is a millisecond after the last, so order is kept."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        self.now += 0.001
        return self.now

    def days(self, n: float) -> None:
        self.now += n * DAY


class Repo:
    """The workspace fixture with its index, and a memory store that cites into it."""

    def __init__(self, root: Path, index: WorkspaceIndex, memory: MemoryStore, clock: Clock):
        self.root, self.index, self.memory, self.clock = root, index, memory, clock

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    def edit(self, rel: str, old: str, new: str) -> None:
        text = (self.root / rel).read_text()
        assert old in text, old
        self.write(rel, text.replace(old, new))

    async def reindex(self) -> None:
        await self.index.update()

    async def decide(
        self,
        *citations: str,
        title: str = TITLE,
        decision: str = DECISION,
    ) -> int:
        sid = await self.memory.start_session(str(self.root), "s1")
        result = await self.memory.save(
            sid, decisions=[DecisionIn(title, decision, citations=tuple(citations))]
        )
        return result.decision_ids[0]

    async def cite(
        self,
        rel: str,
        text: str,
        citation: str,
        *,
        title: str = TITLE,
        decision: str = DECISION,
    ) -> int:
        """`rel` written as `text` and indexed, then a decision citing `citation` saved."""
        self.write(rel, text)
        await self.reindex()
        return await self.decide(citation, title=title, decision=decision)

    async def note(self, text: str, *citations: str, session: str | None = None) -> SaveOutcome:
        """A note citing `citations` saved in `session` (a new one by default)."""
        sid = await self.memory.start_session(str(self.root), session)
        return await self.memory.save(sid, notes=[NoteIn(text, citations)])

    async def nested_followed(self) -> tuple[CitationState, ...]:
        """The citations of the one note into NESTED_PY (src/retry.py), once lines are inserted
        above its definitions."""
        self.edit("src/retry.py", '"""Retries."""\n', '"""Retries."""\n\nimport time\n')
        (note,) = (await self.memory.restore()).notes
        return note.citations

    async def cite_timeouts(self) -> int:
        """src/settings.py written as SETTINGS_PY and indexed, a decision citing its timeouts."""
        return await self.cite(
            "src/settings.py",
            SETTINGS_PY,
            "src/settings.py:3-6",
            title="Timeouts",
            decision="read waits 10 s",
        )

    async def reindexed(self) -> Brief:
        """What a restore serves once the index has caught up."""
        await self.reindex()
        return await self.memory.restore()

    async def rewritten(self, rel: str, text: str) -> Brief:
        """`rel` rewritten as `text` and indexed: what a restore then serves."""
        self.write(rel, text)
        return await self.reindexed()


def followed(brief: Brief, *, notes: bool = False) -> CitationState:
    """The one citation of the first decision (or note) served, no memory having gone stale."""
    assert brief.stale == (), brief.stale[0].citations
    (cited,) = (brief.notes if notes else brief.decisions)[0].citations
    return cited


@contextlib.asynccontextmanager
async def opened_repo(workspace: Path) -> AsyncIterator[Repo]:
    """`workspace` indexed, with a memory store on its database and one clock for both (the
    citation tests' set-up, shared by every file of them)."""
    db_path = workspace.parent / "ocp.db"
    index = await WorkspaceIndex.open(workspace, db_path)
    await index.update()
    clock = Clock()
    conn = await connect(db_path)
    memory = MemoryStore(conn, clock=clock, workspace=workspace)
    yield Repo(workspace, index, memory, clock)
    await conn.close()
    await index.close()


SETTINGS_PY = """import os

TIMEOUTS = {
    "connect": float(os.environ.get("CONNECT_TIMEOUT", "3")),
    "read": float(os.environ.get("READ_TIMEOUT", "10")),
}
"""


NESTED_PY = '''"""Retries."""


def with_retries(call, attempts=3):
    """Call `call` until it succeeds."""

    def backoff(n):
        return min(2**n, 30)

    class Budget:
        def spend(self, n):
            return attempts - n

    return call, backoff, Budget


class Client:
    def send(self, body):
        def encode(part):
            return part.encode("utf-8")

        return encode(body)
'''

# NESTED_PY's nested definitions as cited (lines and full names), then followed two lines down.
NESTED_CITED = [
    ("src/retry.py:7-8", "with_retries.backoff"),
    ("src/retry.py:11-12", "with_retries.Budget.spend"),
    ("src/retry.py:19-20", "Client.send.encode"),
]
NESTED_MOVED = [
    ("moved", "src/retry.py:9-10"),
    ("moved", "src/retry.py:13-14"),
    ("moved", "src/retry.py:21-22"),
]


OVERLOADED_PY = """import typing as t


@t.overload
def parse(raw: str) -> int: ...


@t.overload
def parse(raw: bytes) -> int: ...


def parse(raw: str | bytes) -> int:
    text = raw.decode() if isinstance(raw, bytes) else raw
    return int(text.strip())
"""
