"""Git's own text files read as git reads them: ignore files (`.gitignore`, and `.ocpignore`
in the same syntax), `.git/HEAD` and loose refs, `packed-refs`, a `.git` file's `gitdir:` line
and a worktree's `commondir`.

Git splits them at `\\n` alone, works on bytes, and strips only ASCII space, tab, CR and LF:
Python's `splitlines()` also ends a line at `\\r`, `\\x0b`, `\\x0c`, `\\x1c`-`\\x1e`, `\\x85` and
U+2028/U+2029, and its `strip()` takes NBSP and the other Unicode spaces off (a branch
`feature\\xa0`, typed with macOS's option-space, was read as `feature`), while a file that is not
UTF-8 (a comment in Latin-1) failed to decode and was dropped whole.
"""

from __future__ import annotations

import codecs

__all__ = ["ignore_patterns", "packed_ref", "ref_target", "rtrim", "strip_line_ends"]

#: What git's isspace() takes for a space (sane_ctype.h): no \v, no \f, no Unicode spaces.
_GIT_SPACES = b" \t\n\r"


def ignore_patterns(data: bytes) -> list[str]:
    """An ignore file's patterns as git reads them (dir.c, add_patterns_from_buffer): a UTF-8
    BOM skipped, lines split at `\\n` only, one `\\r` before it dropped (CRLF files), blank lines
    and comments left out, trailing spaces trimmed unless escaped. Decoded with surrogate
    escapes, as file names from os.walk are, so that a byte that is not UTF-8 matches the same
    byte in a name; matched as git matches them by ignore_rules.py, which strips nothing."""
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    patterns = []
    for line in data.split(b"\n"):
        line = line.removesuffix(b"\r")  # git appends a "\n" to a last line without one
        if not line or line.startswith(b"#"):
            continue
        pattern = _trim_trailing_spaces(line).decode("utf-8", "surrogateescape")
        if pattern:
            patterns.append(pattern)
    return patterns


def _trim_trailing_spaces(line: bytes) -> bytes:
    """dir.c's trim_trailing_spaces: the run of spaces (` ` alone) that ends the line goes,
    unless a backslash escapes its first one (which then stays, and the rest too)."""
    if not line.endswith(b" "):
        return line  # (nothing to trim: most lines, read without the walk below)
    last_space = None
    i = 0
    while i < len(line):
        c = line[i]
        if c == 0x20:
            if last_space is None:
                last_space = i
        elif c == 0x5C:  # a backslash escapes the next byte
            i += 1
            if i == len(line):
                return line
            last_space = None
        else:
            last_space = None
        i += 1
    return line if last_space is None else line[:last_space]


def rtrim(data: bytes) -> bytes:
    """strbuf_rtrim: git's spaces (space, tab, CR, LF) off the end."""
    return data.rstrip(_GIT_SPACES)


def strip_line_ends(data: bytes) -> bytes:
    """Every `\\n` and `\\r` off the end, as git reads a `.git` file's `gitdir:` and a
    worktree's `commondir` (setup.c): a path may end with any other character."""
    return data.rstrip(b"\r\n")


def ref_target(data: bytes) -> tuple[str, bool]:
    """A loose ref's or HEAD's content as git parses it (refs/files-backend.c,
    parse_loose_ref_contents): (the ref it names, True) for `ref:` and git's spaces before the
    name, else (the object name, False). Decoded with surrogate escapes: a ref name is bytes."""
    text = rtrim(data)
    if text.startswith(b"ref:"):
        return text[4:].lstrip(_GIT_SPACES).decode("utf-8", "surrogateescape"), True
    # an object name, and anything after a space (git ignores it)
    name = text.split(b" ", 1)[0].split(b"\t", 1)[0].split(b"\n", 1)[0].split(b"\r", 1)[0]
    return name.decode("utf-8", "surrogateescape"), False


def packed_ref(data: bytes, ref: str) -> str | None:
    """The object `ref` names in a `packed-refs` file's content, or None: lines split at `\\n`
    alone (a ref name may hold U+2028 or NEL, which `splitlines()` broke the line at)."""
    wanted = b" " + ref.encode("utf-8", "surrogateescape")
    for line in data.split(b"\n"):
        if line.endswith(wanted) and not line.startswith((b"#", b"^")):
            return line[: -len(wanted)].decode("ascii", "replace")
    return None
