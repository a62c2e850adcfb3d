"""Deterministic "model" helpers shared by the fakes: token counts, stream pieces, JSON output."""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

_PIECE = re.compile(r"\s*\S+")


def count_tokens(text: str) -> int:
    """Whitespace-separated tokens: deterministic and easy to predict in a test."""
    return len(text.split())


def pieces(text: str, size: int | None = None) -> list[str]:
    """Split ``text`` into stream pieces, one token each, keeping the whitespace; ``size``:
    pieces of that many characters instead, cutting words and tags anywhere.

    ``"".join(pieces(t)) == t`` always holds.
    """
    if size is not None:
        return [text[i : i + size] for i in range(0, len(text), size)]
    parts = _PIECE.findall(text)
    consumed = sum(len(p) for p in parts)
    if consumed < len(text):
        if parts:
            parts[-1] += text[consumed:]
        else:
            parts = [text]
    return parts


def truncate_tokens(text: str, limit: int) -> tuple[str, bool]:
    """Keep the first ``limit`` tokens. Returns (text, was_truncated)."""
    if count_tokens(text) <= limit:
        return text, False
    return "".join(_PIECE.findall(text)[:limit]), True


def cut_at_stop(text: str, stops: list[str] | None) -> tuple[str, str | None]:
    """Cut ``text`` at the earliest stop sequence. Returns (text, matched stop or None)."""
    best: tuple[int, str] | None = None
    for stop in stops or []:
        if not stop:
            continue
        i = text.find(stop)
        if i >= 0 and (best is None or i < best[0]):
            best = (i, stop)
    if best is None:
        return text, None
    return text[: best[0]], best[1]


def snippet(text: str, n: int = 40) -> str:
    return " ".join(text.split())[:n]


def json_chunks(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def embedding(text: str, dim: int) -> list[float]:
    """A deterministic unit vector derived from the text (same text -> same vector)."""
    values: list[float] = []
    counter = 0
    while len(values) < dim:
        digest = hashlib.sha256(f"{counter}:{text}".encode()).digest()
        for i in range(0, len(digest), 4):
            n = int.from_bytes(digest[i : i + 4], "big")
            values.append(n / 0xFFFFFFFF * 2.0 - 1.0)
        counter += 1
    values = values[:dim]
    norm = math.sqrt(sum(v * v for v in values)) or 1.0
    return [round(v / norm, 6) for v in values]


def example_from_schema(schema: Any, hint: str, root: Any = None) -> Any:
    """A value that validates against a (simple) JSON Schema, filled deterministically."""
    root = schema if root is None else root
    if not isinstance(schema, dict):
        return hint
    if "$ref" in schema:
        ref = str(schema["$ref"])
        target: Any = root
        if ref.startswith("#/"):
            for part in ref[2:].split("/"):
                target = target.get(part, {}) if isinstance(target, dict) else {}
            return example_from_schema(target, hint, root)
        return hint
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            options = [
                s for s in schema[key] if not (isinstance(s, dict) and s.get("type") == "null")
            ]
            return example_from_schema((options or schema[key])[0], hint, root)
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next((t for t in typ if t != "null"), "null")
    if typ is None:
        typ = "object" if "properties" in schema else "string"
    if typ == "object":
        props = schema.get("properties") or {}
        return {name: example_from_schema(sub, hint, root) for name, sub in props.items()}
    if typ == "array":
        n = max(1, int(schema.get("minItems", 1)))
        return [example_from_schema(schema.get("items", {}), hint, root) for _ in range(n)]
    if typ == "integer":
        return int(schema.get("minimum", 0))
    if typ == "number":
        return float(schema.get("minimum", 0))
    if typ == "boolean":
        return True
    if typ == "null":
        return None
    text = hint or "example"
    if "maxLength" in schema:
        text = text[: int(schema["maxLength"])]
    return text


def structured_reply(reply: str, fmt: Any, hint: str) -> str:
    """Reply content for a structured-output request (``fmt`` = "json" or a JSON Schema).

    A scripted reply that already is valid JSON is kept as it is.
    """
    try:
        json.loads(reply)
        return reply
    except ValueError:
        pass
    if isinstance(fmt, dict):
        return json.dumps(example_from_schema(fmt, hint))
    return json.dumps({"answer": reply})
