"""Finding cited lines again within a file: the block at another place, the definition
holding it, and the definition most alike when it changed."""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence

from ocp_router.redact import MARKER_OPEN
from ocp_server.citations.context import by_context, context_of
from ocp_server.citations.definitions import matches
from ocp_server.citations.lines import content_hash, normalized
from ocp_server.citations.values import MAX_CONTENT, Definition, FileLines, Located, Stored

__all__ = [
    "MIN_LOOSE_BLOCK",
    "a_copy",
    "find_block",
    "holder_of",
    "located",
    "loose_place",
    "most_alike",
    "most_alike_stretch",
    "only_place",
    "place_by_context",
    "places_in",
    "region",
]

CLOSE_ENOUGH = 0.5  # line similarity for "most alike now" in a stale summary
MOST_ALIKE_TRIES = 40
MAX_STRETCHES = 400  # places within a definition compared with cited lines that changed
MIN_LOOSE_BLOCK = 40  # characters a block needs to be looked for anywhere in its file


def a_copy(
    defs: Sequence[Definition], lines: Sequence[str], c: Stored, symbol: str, start: int, end: int
) -> bool:
    """Lines cited within `symbol`, found unchanged at start-end of its file in another
    definition (or none), are a copy of them, not the cited code, when a definition of
    that name there holds them changed: the function copied under a new name before the
    cited one was edited where it is. With no such definition the lines are the code
    itself (its function renamed). Found in a definition of that very name they are
    taken as the cited ones: overloads share a name, and one edited is not the other."""
    holder = holder_of(defs, start, end)
    if holder is not None and matches(holder, symbol) == 2:
        return False
    named = [d for d in defs if matches(d, symbol) == 2]
    if not named or any(find_block(lines, c, d.start_line, d.end_line) for d in named):
        return False
    return most_alike_stretch(named, lines, normalized(c.content.splitlines()))[0] is not None


def located(
    path: str, lines: Sequence[str], start: int, end: int, symbol: str | None, whole: bool
) -> Located:
    cited = lines[start - 1 : end]
    return Located(
        path,
        start,
        end,
        symbol,
        whole,
        content_hash(cited),
        "\n".join(cited)[:MAX_CONTENT],
        context=context_of(lines, start, end),
    )


def edited_in_place(lines: Sequence[str], c: Stored) -> bool:
    """More than half of the cited lines (those not blank) are still at their very places: the
    block was edited where it is, and the same block found elsewhere in its file is a copy that
    was there already (two environments' settings alike), not where it went. A block moved, or
    shifted by lines added above it, keeps (almost) none of them at their places."""
    old = [line.strip() for line in c.content.splitlines()]
    now = [line.strip() for line in lines[c.start_line - 1 : c.end_line]]
    cited = [line for line in old if line]
    kept = sum(1 for a, b in zip(old, now, strict=False) if a and a == b)
    return bool(cited) and kept * 2 > len(cited)


def find_block(lines: Sequence[str], c: Stored, lo: int, hi: int) -> tuple[int, int] | None:
    """Where the cited block is within lines lo..hi: of several places, the one with the lines
    around it as they were (context.py), for nearest the old place may be another copy (a
    line a function repeats, shifted); the nearest only when that does not tell them apart."""
    places = _places(lines, c, lo, hi)
    first = next(places, None)
    if first is None or not c.context or (second := next(places, None)) is None:
        return first
    return by_context(lines, [first, second, *places], c.context) or first


def loose_place(lines: Sequence[str], c: Stored, own: bool) -> tuple[int, int] | None:
    """Where the cited block is anywhere in a file (`own`: its own, the block outside any
    definition; else the one its file became), nearest the old place; a short one (found just
    anywhere it proves nothing) only at its one place in its own file. (Lines a definition
    held are looked for in it, by its name, and in the functions it calls: extracted.py; a
    short one elsewhere proves nothing either.)"""
    if len(normalized(c.content.splitlines())) >= MIN_LOOSE_BLOCK:
        return find_block(lines, c, 1, len(lines))
    return only_place(lines, c) if own else None


def only_place(lines: Sequence[str], c: Stored) -> tuple[int, int] | None:
    """The one place of the file holding the cited block, None when it is in none: a short
    block (an import, a constant) proves where it went only when no other place could be it.
    Of several, the one place with the lines around it as they were (context.py), if one
    has. Nor does one of punctuation alone (a closing bracket, quotes) prove anything."""
    if not any(ch.isalnum() for ch in c.content):
        return None
    places = list(_places(lines, c, 1, len(lines)))
    if len(places) <= 1:
        return places[0] if places else None
    return by_context(lines, places, c.context)


def place_by_context(
    lines: Sequence[str], c: Stored, spans: Sequence[tuple[int, int]], but: tuple[int, int]
) -> tuple[int, int] | None:
    """The one place of the cited block within `spans`, `but` the one known not to have the
    lines around it as they were (its own are not hashed again), that has them (context.py);
    None when none or several have. (Spans may nest: a place is counted once.)"""
    return by_context(lines, [p for p in places_in(lines, c, spans) if p != but], c.context)


def places_in(
    lines: Sequence[str], c: Stored, spans: Sequence[tuple[int, int]]
) -> list[tuple[int, int]]:
    """The places of the cited block within `spans`, each once (spans may nest)."""
    return list(dict.fromkeys(p for lo, hi in spans for p in _places(lines, c, lo, hi)))


def _places(lines: Sequence[str], c: Stored, lo: int, hi: int) -> Iterator[tuple[int, int]]:
    """The places of the cited block within lines lo..hi, nearest the old place first. Places
    to hash are where its anchor line fits (`_anchor`); every place when it has none."""
    size = c.end_line - c.start_line + 1
    span = range(lo, hi - size + 2)
    anchor = _anchor(c.content, size)
    if anchor is None:
        starts = list(span)
    else:
        k, text, how = anchor
        if how != "within" and isinstance(lines, FileLines):
            starts = [n - k for n in lines.reading(text, how) if lo <= n - k < span.stop]
        else:
            starts = [i for i in span if _fits(lines[i - 1 + k].strip(), text, how)]
    for i in sorted(starts, key=lambda i: abs(i - c.start_line)):
        if content_hash(lines[i - 1 : i - 1 + size]) == c.content_hash:
            yield i, i + size - 1


def _anchor(kept: str, size: int) -> tuple[int, str, str] | None:
    """The line of the block to find it by: (offset in the block, text, how it fits). It is
    the longest text the kept lines show as it is in the file: a line without a secret, the
    start of a line up to one, or the text after one. (A block whose first line began with a
    secret had every line of the file as a place to hash.)"""
    rows = kept.split("\n")
    # A secret over several lines is one marker: lines after it may sit higher than in the file.
    aligned = len(rows) == size
    best: tuple[int, str, str] | None = None
    for k, row in enumerate(rows[:size]):
        head, *secrets = row.strip().split(MARKER_OPEN)
        cut = k == len(rows) - 1  # the kept text may end within this line (MAX_CONTENT)
        texts = [(head, "start" if secrets or cut else "equal")]
        texts += [(after.partition("]")[2].strip(), "within") for after in secrets]
        for text, how in texts:
            if len(text) > len(best[1] if best else ""):
                best = (k, text, how)
        if secrets and not aligned:
            break
    return best


def _fits(line: str, text: str, how: str) -> bool:
    if how == "equal":
        return line == text
    return line.startswith(text) if how == "start" else text in line


def holder_of(defs: Sequence[Definition], start: int, end: int) -> Definition | None:
    inside = [d for d in defs if d.start_line <= start and end <= d.end_line]
    return min(inside, key=lambda d: d.end_line - d.start_line, default=None)


def region(lines: Sequence[str], d: Definition, c: Stored) -> str:
    """What to compare a changed citation with: the definition, or for a part of one the
    stretch of the same size where the cited lines sat within it."""
    if c.whole:
        return normalized(lines[d.start_line - 1 : d.end_line])
    size = c.end_line - c.start_line + 1
    start = max(d.start_line, min(c.start_line, d.end_line - size + 1))
    return normalized(lines[start - 1 : start - 1 + size])


def most_alike(defs: Sequence[Definition], lines: Sequence[str], old: str) -> Definition | None:
    """The definition most like the old text (line by line), if alike enough. Only those of
    a comparable size are compared, the nearest in size first, at most MOST_ALIKE_TRIES."""
    want = old.split("\n")
    sized = sorted(
        (d for d in defs if 0.5 <= (d.end_line - d.start_line + 1) / len(want) <= 2.0),
        key=lambda d: abs(d.end_line - d.start_line + 1 - len(want)),
    )
    best, score = None, CLOSE_ENOUGH
    for d in sized[:MOST_ALIKE_TRIES]:
        text = normalized(lines[d.start_line - 1 : d.end_line]).split("\n")
        matcher = difflib.SequenceMatcher(None, want, text, autojunk=False)
        if matcher.real_quick_ratio() > score and matcher.quick_ratio() > score:
            ratio = matcher.ratio()
            if ratio > score:
                best, score = d, ratio
    return best


def most_alike_stretch(
    defs: Sequence[Definition], lines: Sequence[str], old: str
) -> tuple[Definition | None, str]:
    """The definition holding the stretch of lines most like the old (cited) ones, if alike
    enough, and that stretch (normalized): for lines cited within a definition, which may
    sit anywhere in it now. At most MAX_STRETCHES places are compared in all."""
    want = old.split("\n")
    size = len(want)
    best: tuple[Definition | None, str] = (None, "")
    score, tries = CLOSE_ENOUGH, 0
    for d in defs:
        for start in range(d.start_line, max(d.start_line, d.end_line - size + 1) + 1):
            tries += 1
            if tries > MAX_STRETCHES:
                return best
            text = normalized(lines[start - 1 : start - 1 + size])
            matcher = difflib.SequenceMatcher(None, want, text.split("\n"), autojunk=False)
            if matcher.real_quick_ratio() > score and matcher.quick_ratio() > score:
                ratio = matcher.ratio()
                if ratio > score:
                    best, score = (d, text), ratio
    return best
