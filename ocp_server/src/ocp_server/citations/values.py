"""The values of citations: what is cited, as found, as saved, and as checked."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import islice
from typing import Literal

__all__ = ["Check", "Definition", "FileLines", "Located", "Stored", "Suggestion"]

MAX_CONTENT = 16_000  # characters of the cited text kept for what-changed summaries
Status = Literal["valid", "moved", "stale"]


class FileLines(list[str]):
    """A file's lines as CodeView reads them, with the values the whole file names as secrets
    (index/file_secrets.known_in_file): a line that only repeats one (`connect("...")`) has
    nothing of its own to tell it by."""

    def __init__(self, lines: Iterable[str], known: Mapping[str, str]) -> None:
        super().__init__(lines)
        self.known = known
        self._reading: dict[str, list[int]] | None = None
        self._texts: list[str] = []  # the lines' texts, stripped, sorted (each once)

    def reading(self, text: str, how: str) -> list[int]:
        """The numbers (1-based, in order) of the lines whose text, stripped, is `text`
        (`how` "equal") or starts with it ("start"): a block's places are looked up by its
        anchor line (blocks.py), not each line compared with it for each citation of the
        file a restore checks."""
        if self._reading is None:
            self._reading = {}
            for n, line in enumerate(self, 1):
                self._reading.setdefault(line.strip(), []).append(n)
            self._texts = sorted(self._reading)
        if how == "equal":
            return self._reading.get(text, [])
        found: list[int] = []
        for line in islice(self._texts, bisect_left(self._texts, text), None):
            if not line.startswith(text):
                break
            found += self._reading[line]
        return sorted(found)


@dataclass(frozen=True, slots=True)
class Located:
    """Cited lines found in the workspace."""

    path: str
    start_line: int
    end_line: int
    symbol: str | None  # the smallest definition holding the lines, qualified (Class.method)
    whole: bool  # the lines are that whole definition
    content_hash: str
    content: str  # the lines, capped at MAX_CONTENT characters
    namesakes: int | None = None  # definitions of the file bearing `symbol` (namesakes.py)
    context: str | None = None  # the lines around, hashed (context.py)

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True, slots=True)
class Stored:
    """A citation as saved, to be checked."""

    id: int
    path: str
    start_line: int
    end_line: int
    symbol: str | None
    whole: bool
    content_hash: str  # of the lines as they were, secrets included
    content: str  # the lines as memory keeps them: redacted, capped at MAX_CONTENT characters
    # definitions of the file bearing `symbol` when last confirmed; None: not known (older)
    namesakes: int | None = None
    # the lines around when last confirmed (context.py); None: not known (saved before m048)
    context: str | None = None

    @property
    def citation(self) -> str:
        return f"{self.path}:{self.start_line}-{self.end_line}"


@dataclass(frozen=True, slots=True)
class Check:
    """What a check found. `where`: the lines' place now (valid, moved); for stale, the place
    of what replaced them when known. `change`: for stale, what happened, in short."""

    status: Status
    where: Located | None = None
    change: str | None = None


@dataclass(frozen=True, slots=True)
class Definition:
    """A named definition in a file: its whole span, members included."""

    name: str  # qualified: Class.method; markdown sections: Parent > Section
    symbol: str  # the bare name
    kind: str
    start_line: int
    end_line: int


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A citation the text of a memory seems to be about (returned, never added)."""

    citation: str
    symbol: str
    kind: str
