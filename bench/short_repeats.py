"""bench_memory.py's `--short-repeats`: a short cited line (under 40 characters: an import, a
constant, `x = 1` in a function) repeated in its file, nearer its old place than it is then.

Its memories cite such a line, one alone in its file when saved. Its edit kinds:
- `repeat`: a copy of the line goes a few lines above it, with lines added between them, in
  one update: the copy is then nearer the old place than the line itself;
- `staged`: the same spread over three updates (one each batch): the copy goes in (the line
  one down), then lines are added between them (the copy nearer), then the line itself is
  removed: it has moved to where the copy is;
- `onto`: over two updates, the copy goes in (as `staged`'s first), then as many lines as lie
  between the copy and the line are added above the copy (right above it, or at the top of
  the file): the copy is then at the line's place as last confirmed, the line further down.
The lines around the cited line (the nearest not blank above and below) are kept in every
step, so they can tell the copy from the line. A copy's line ends with MARK, trailing blanks
that OCP and the oracle both ignore in comparing lines, until the line itself is removed:
a memory served at a line with the mark was followed to the copy, not to the code it cites.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

__all__ = ["MARK", "Repeats", "a_copy", "short_line"]

MARK = (
    " \t"  # `blanks` adds two spaces after it: a copy is any line whose trailing blanks hold a tab
)
SHORT = 40  # as MIN_LOOSE_BLOCK: shorter blocks are not looked for just anywhere
FILLER = "# added by a refactor"


def short_line(line: str) -> bool:
    """A statement of its own, short: not a header, a decorator, a comment, part of a string."""
    s = line.strip()
    return (
        0 < len(s) < SHORT
        and any(ch.isalnum() for ch in s)
        and not s.startswith(("#", "@", ")", "]", "}", "def ", "class ", "async ", "else", "el"))
        and not s.endswith((":", "(", "[", "{", ",", "\\"))
        and '"' not in s
        and "'" not in s
    )


def a_copy(line: str) -> bool:
    return "\t" in line[len(line.rstrip()) :]


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


class Repeats:
    """The cited short lines (file, text) and the staged moves under way."""

    def __init__(self, root: Path, rnd: random.Random, write: Callable[[Path, list[str]], None]):
        self.root, self.rnd, self.write = root, rnd, write
        self.targets: list[tuple[str, str]] = []
        # (file, text, the stage done, `staged` or `onto`)
        self.staged: list[tuple[str, str, int, str]] = []

    def _find(self, rel: str, text: str) -> tuple[list[str], int, int | None] | None:
        """The file's lines, the one line `text` (not a copy), and its copy if there is one."""
        try:
            lines = (self.root / rel).read_text("utf-8").splitlines()
        except OSError:
            return None
        own = [i for i, ln in enumerate(lines) if ln.strip() == text and not a_copy(ln)]
        copies = [i for i, ln in enumerate(lines) if ln.strip() == text and a_copy(ln)]
        if len(own) != 1 or len(copies) > 1:
            return None
        return lines, own[0], copies[0] if copies else None

    def step(self, kind: str) -> str:
        """`repeat`, `staged` or `onto` (their first update), on a cited line not yet
        repeated."""
        for _ in range(20):
            rel, text = self.rnd.choice(self.targets)
            found = self._find(rel, text)
            if found is None or found[2] is not None:
                continue
            lines, n, _ = found
            d = self.rnd.randrange(2, 5)
            j, indent = n - d, _indent(lines[n])
            if j < 1 or not lines[n - 1].strip():
                continue
            if any(ln.strip() and _indent(ln) != indent for ln in lines[j:n]):
                continue  # the copy stays in the line's own block
            pad = " " * indent
            lines.insert(j, pad + text + MARK)
            if kind == "repeat":
                lines[j + 1 : j + 1] = [f"{pad}{FILLER} {i}" for i in range(d + 2)]
            else:
                self.staged.append((rel, text, 1, kind))
            self.write(self.root / rel, lines)
            return kind
        return "none"

    def advance(self) -> list[str]:
        """The next update of each staged move: lines between, then the line itself removed;
        of each `onto`: lines above the copy, as many as lie between it and the line."""
        done, going = [], []
        for rel, text, stage, kind in self.staged:
            found = self._find(rel, text)
            if found is None or (copy := found[2]) is None:
                continue  # reverted, deleted, or edited meanwhile: dropped
            lines, own, _ = found
            if kind == "onto":
                # the file is as the last restore saw it: `own` is the line's confirmed place
                at, pad = (copy, " " * _indent(lines[copy])) if self.rnd.random() < 0.5 else (0, "")
                lines[at:at] = [f"{pad}{FILLER} {i}" for i in range(own - copy)]
                self.write(self.root / rel, lines)
                done.append("onto 2/2")
                continue
            if stage == 1:
                pad = " " * _indent(lines[copy])
                k = abs(own - copy) + 1  # the copy nearer the line's place than the line then
                lines[copy + 1 : copy + 1] = [f"{pad}{FILLER} {i}" for i in range(k)]
                going.append((rel, text, 2, kind))
            else:
                lines[copy] = lines[copy].rstrip()
                del lines[own]
            self.write(self.root / rel, lines)
            done.append(f"staged {stage + 1}/3")
        self.staged = going
        return done
