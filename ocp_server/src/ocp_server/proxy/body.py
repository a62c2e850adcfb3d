"""Reading a request body as the wire means it: JSON without Python's extras (NaN,
Infinity, a number too large for a float, which Python reads as infinity), nested no deeper
than the code behind it can walk, of no more small values than the proxy can hold, and with
lone UTF-16 surrogates replaced so that it can be encoded again (to hash, redact and forward).

Text costs the proxy about its size; a tiny value costs it far more than its bytes (`{}` is
3 bytes on the wire and about 90 in memory, forwarded copy included), so a body of millions of
them parses into a gigabyte well under the size limit (bench/bench_request_memory.py). Every
value but the first follows an opening bracket or a comma: counting those outside strings
bounds the values before any is parsed.

A large body is parsed a list item at a time (`_loads_in_pieces`): one `json.loads` call holds
the GIL until the whole body is built, 0.2-1.2 s for 30 MB of 60,000 short messages, and the
event loop, though the parse runs in a worker thread, waits that long (the interpreter can
hand the GIL over only between calls); between items it is handed over, so the event loop
waits for one message's parse at most. A long string is read a piece at a time too
(long_strings.py).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from ocp_server.off_loop import OFF_LOOP_CHARS, collector_paused
from ocp_server.proxy import long_strings

# Nesting a request may have: the parser, the redaction and the router all recurse (Python's
# limit is about 1000 frames), and no real request nests anywhere near this.
MAX_DEPTH = 256
# Values a request may have, as opening brackets and commas outside strings: far above any
# real request (a long agent conversation with its tools has tens of thousands), far below a
# gigabyte of small values.
MAX_VALUES = 1_000_000
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b",[{")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class BodyError(ValueError):
    """A body the proxy cannot take (the message names the problem, for a 400)."""


def parse_body(raw: bytes | bytearray, max_values: int = MAX_VALUES) -> Any:
    """The body as JSON; BodyError when the proxy cannot take it. A large one is parsed with
    the garbage collector paused (off_loop.collector_paused: it would find nothing)."""
    if len(raw) < OFF_LOOP_CHARS:
        return _parse(raw, max_values)
    with collector_paused():
        return _parse(raw, max_values)


def _parse(raw: bytes | bytearray, max_values: int) -> Any:
    try:  # decoded as json.loads decodes bytes (UTF-8, else the UTF-16 or -32 it detects)
        text = raw.decode(json.detect_encoding(raw), "surrogatepass")
    except UnicodeDecodeError as exc:
        raise BodyError(f"body: not valid JSON ({exc})") from exc
    if _values_over(raw, text, max_values):
        raise BodyError(
            f"body: too many JSON values (over {max_values:,} opening brackets and commas "
            "outside strings); no request needs that many"
        )
    too_deep = BodyError(f"body: nested too deeply (over {MAX_DEPTH} levels)")
    try:
        body = _loads(text)
    except RecursionError:
        raise too_deep from None
    except ValueError as exc:
        raise BodyError(f"body: not valid JSON ({exc})") from exc
    if _nested_deeper(body, MAX_DEPTH):
        raise too_deep
    if "\\ud" in text or "\\uD" in text:  # only an escape can make a lone surrogate
        body = _without_lone_surrogates(body)
    return body


def _loads(text: str) -> Any:
    if len(text) >= OFF_LOOP_CHARS:
        try:
            short, taken = long_strings.taken_out(text)  # each read a piece at a time
            if taken is None:
                return _loads_in_pieces(text)
            try:
                body = _loads_in_pieces(short)
            except (ValueError, IndexError, StopIteration):  # not an object of lists
                body = json.loads(short, parse_constant=_not_json, parse_float=_finite)
            return taken.put_back(body)
        except (ValueError, IndexError, StopIteration):
            pass  # parsed whole: json's own error, with its words and position
    return json.loads(text, parse_constant=_not_json, parse_float=_finite)


_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's white space, as json.decoder skips it
_AFTER_ITEM = re.compile(r"[ \t\n\r]*([,\]])[ \t\n\r]*")
# json's own string reader (C), as its decoder reads a key
_scanstring: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


def _skip(text: str, at: int) -> int:
    """Where the white space from `at` ends."""
    found = _SPACE.match(text, at)
    return found.end() if found else at


def _loads_in_pieces(text: str) -> Any:
    """`json.loads(text)` with a top-level object's list values read an item a call (the
    same decoder, so the same values; a key given twice keeps its last value, as there).
    Raises ValueError, IndexError or StopIteration where the text is not JSON, or not such an
    object: the caller then parses it whole, for json's own error."""
    decoder = json.JSONDecoder(parse_constant=_not_json, parse_float=_finite)
    scan: Callable[[str, int], tuple[Any, int]] = decoder.scan_once  # type: ignore[attr-defined]
    at = _skip(text, 0)
    if text[at] != "{":
        raise ValueError("not an object")
    body: dict[str, Any] = {}
    at = _skip(text, at + 1)
    while text[at] != "}":
        if text[at] != '"':
            raise ValueError("not a key")
        key, at = _scanstring(text, at + 1)
        at = _skip(text, at)
        if text[at] != ":":
            raise ValueError("no colon")
        at = _skip(text, at + 1)
        if text[at] == "[":
            items: list[Any] = []
            append, after = items.append, _AFTER_ITEM.match
            at = _skip(text, at + 1)
            if text[at] != "]":
                while True:  # kept short: it runs once an item (60,000 in a long conversation)
                    item, at = scan(text, at)  # one item: the GIL may change hands after it
                    append(item)
                    # a comma and the next item (a trailing comma: the scan fails at `]`)
                    if (found := after(text, at)) is None:
                        raise ValueError("no comma")
                    at = found.end()
                    if found.group(1) == "]":
                        break
            else:
                at += 1
            body[key] = items
        else:
            body[key], at = scan(text, at)
        at = _skip(text, at)
        if text[at] == ",":
            at = _skip(text, at + 1)
            if text[at] == "}":
                raise ValueError("a trailing comma")
        elif text[at] != "}":
            raise ValueError("no comma")
    if _skip(text, at + 1) != len(text):
        raise ValueError("extra data")
    return body


def _values_over(raw: bytes | bytearray, text: str, limit: int) -> bool:
    """Whether `text` (`raw` decoded) has more than `limit` opening brackets and commas
    outside its strings, in time linear in its length whatever it holds (it runs on the event
    loop)."""
    # Each of them puts its byte in `raw` (in UTF-16 or -32 other characters may too), so the
    # bytes' count, in strings as well, bounds theirs: almost every body stops here, most
    # before any count (one pass keeping those bytes is 3x faster than counting each).
    if len(raw) <= limit or _structure_bytes(raw) <= limit:
        return False
    # Without its escapes every quote left opens or closes a string. A backslash escapes the
    # character after it, so a run of them pairs up from its start: escaped backslashes go
    # first, then escaped quotes. No copy is made of a text without either.
    bare = text.replace("\\\\", "").replace('\\"', "")
    count, outside = 0, 0
    while (opens := bare.find('"', outside)) != -1:
        count += _structure(bare, outside, opens)
        if count > limit:
            return True
        outside = bare.find('"', opens + 1) + 1
        if not outside:
            return False  # a string never closed: not JSON, and the parser stops there
    return count + _structure(bare, outside, len(bare)) > limit


def _structure_bytes(raw: bytes | bytearray) -> int:
    """How many of `raw`'s bytes are commas and opening brackets, a megabyte a call (one
    `translate` over 15 MB holds the GIL for all of it). Each piece is made bytes: a
    bytearray's own translate takes half as long again."""
    step, view = long_strings.PIECE_CHARS, memoryview(raw)
    return sum(
        len(bytes(view[i : i + step]).translate(None, _NOT_STRUCTURE))
        for i in range(0, len(raw), step)
    )


def _structure(text: str, start: int, end: int) -> int:
    return text.count(",", start, end) + text.count("[", start, end) + text.count("{", start, end)


def _not_json(constant: str) -> Any:
    """Python reads NaN and Infinity; JSON has neither, and nothing downstream can send them."""
    raise ValueError(f"{constant} is not a JSON value")


def _finite(number: str) -> float:
    """A float, unless it overflows: Python reads 1e999 as infinity, which would be forwarded
    as `Infinity`, and that is not JSON."""
    value = float(number)
    if math.isinf(value):
        raise ValueError(f"{number} is too large for a JSON number the proxy can forward")
    return value


def _without_lone_surrogates(value: Any) -> Any:
    """Each lone UTF-16 surrogate (JavaScript writes them as escapes) replaced by U+FFFD: the
    body can then be encoded as UTF-8 again. Recursive: the depth was bounded already."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def _nested_deeper(value: Any, limit: int) -> bool:
    """Whether `value` has containers more than `limit` levels deep. Walked level by level,
    without recursion (about as long as parsing took)."""
    level = [value] if isinstance(value, dict | list) else []
    for _ in range(limit):
        level = [
            child
            for item in level
            for child in (item.values() if isinstance(item, dict) else item)
            if isinstance(child, dict | list)
        ]
        if not level:
            return False
    return True
