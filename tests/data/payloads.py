"""Loader for the labelled whole-payload routing dataset.

Each line of ``routing_payloads_*.jsonl`` holds one provider request body (OpenAI chat
completions or Anthropic messages, marked by its ``"format"`` key) with a routing label. Large
shared pieces are stored once and referenced as ``{"ref": "<name>"}``:

- under a ``"tools"`` key, the ref names ``agent_tools/<name>.json`` (a tool list);
- anywhere else (a system prompt string, a system text block, an OpenAI system message's
  content), it names ``agent_system_prompts/<name>.md`` (text).

``load_payloads`` returns the items with every ref replaced by the file's content.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).resolve().parent
PROMPTS_DIR = DATA_DIR / "agent_system_prompts"
TOOLS_DIR = DATA_DIR / "agent_tools"

ROUTES = ("local", "paid")
TIERS = ("local", "mid", "top")
KINDS = (
    "single_short",
    "multi_turn",
    "long_conversation",
    "tools",
    "agent_system",
    "pasted_log",
    "huge_context",
    "multi_file",
)
FORMATS = ("openai", "anthropic")

_REF_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_FIELDS = ("id", "route", "tier", "kind", "why", "tags", "payload")


class PayloadRefError(LookupError):
    """A ``{"ref": ...}`` in a payload names a file that does not exist."""


class PayloadFormatError(ValueError):
    """A dataset line is not a well-formed labelled payload record."""


@dataclass(frozen=True)
class LabeledPayload:
    id: str
    route: str
    tier: str
    kind: str
    why: str
    tags: tuple[str, ...]
    payload: dict[str, Any]


@cache
def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _ref_path(name: str, *, tools: bool, where: str) -> Path:
    folder, suffix, what = (
        (TOOLS_DIR, ".json", "tool list") if tools else (PROMPTS_DIR, ".md", "system prompt")
    )
    path = folder / f"{name}{suffix}"
    if not _REF_NAME.match(name) or not path.is_file():
        known = sorted(p.stem for p in folder.glob(f"*{suffix}"))
        raise PayloadRefError(
            f"{where}: unknown {what} ref {name!r} (expected {path}); known: {', '.join(known)}"
        )
    return path


def load_system_prompt(name: str, *, where: str = "<direct>") -> str:
    """The text of ``agent_system_prompts/<name>.md``."""
    return _read_text(_ref_path(name, tools=False, where=where))


def load_tools(name: str, *, where: str = "<direct>") -> list[dict[str, Any]]:
    """A fresh copy of the tool list in ``agent_tools/<name>.json``."""
    data = json.loads(_read_text(_ref_path(name, tools=True, where=where)))
    if not isinstance(data, list) or not all(isinstance(t, dict) for t in data):
        raise PayloadFormatError(f"agent_tools/{name}.json must hold a JSON list of objects")
    return data


def _is_ref(value: object) -> bool:
    return isinstance(value, dict) and set(value) == {"ref"} and isinstance(value["ref"], str)


def expand_refs(value: Any, *, key: str | None = None, where: str = "<direct>") -> Any:
    """Return ``value`` with every ``{"ref": name}`` replaced by the referenced content."""
    if _is_ref(value):
        name = value["ref"]
        if key == "tools":
            return load_tools(name, where=where)
        return load_system_prompt(name, where=where)
    if isinstance(value, dict):
        return {k: expand_refs(v, key=k, where=where) for k, v in value.items()}
    if isinstance(value, list):
        return [expand_refs(v, key=key, where=where) for v in value]
    return value


def _parse_record(raw: object, where: str) -> LabeledPayload:
    if not isinstance(raw, dict):
        raise PayloadFormatError(f"{where}: expected a JSON object")
    missing = [f for f in _FIELDS if f not in raw]
    if missing:
        raise PayloadFormatError(f"{where}: missing field(s) {', '.join(missing)}")
    for field in ("id", "route", "tier", "kind", "why"):
        if not isinstance(raw[field], str):
            raise PayloadFormatError(f"{where}: field {field!r} must be a string")
    tags = raw["tags"]
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise PayloadFormatError(f"{where}: 'tags' must be a list of strings")
    payload = raw["payload"]
    if not isinstance(payload, dict) or payload.get("format") not in FORMATS:
        raise PayloadFormatError(f"{where}: 'payload' must be an object with format in {FORMATS}")
    where = f"{where} ({raw['id']})"
    expanded = expand_refs(payload, where=where)
    assert isinstance(expanded, dict)
    return LabeledPayload(
        id=raw["id"],
        route=raw["route"],
        tier=raw["tier"],
        kind=raw["kind"],
        why=raw["why"],
        tags=tuple(tags),
        payload=expanded,
    )


def load_payloads(name: str) -> list[LabeledPayload]:
    """Load ``name`` (e.g. ``"routing_payloads_dev.jsonl"``) from this directory, refs expanded.

    Raises ``PayloadRefError`` for a ref to a missing prompt or tool file and
    ``PayloadFormatError`` for a malformed line; both name the file, line and item id.
    """
    path = DATA_DIR / name
    items: list[LabeledPayload] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                raw = json.loads(line)
            except json.JSONDecodeError as exc:
                raise PayloadFormatError(f"{where}: invalid JSON: {exc}") from exc
            items.append(_parse_record(raw, where))
    return items
