"""How a bad argument is told to the caller, in one format wherever it is found (the tool's
schema, the tool's own checks, a CLI option): the field, what was expected in plain words,
and what was given, echoed only so far, redacted (an error text reaches the agent's cloud
model like any result): `` `k`: expected at most 50 (got 51) `` (field_problem)."""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ValidationError

import ocp_wire as wire
from ocp_router.redact_names import redact_name, redact_name_head

# Error texts echo the caller's input only this far: a 1 MB tool name must not come back whole.
ECHO_CHARS = 80
MAX_ARGUMENT_ERRORS = 10


# A secret that starts within what an error shows ends within this many characters more (a
# GitHub App token is ~520): redacting that much finds it whole, and a 1 MB value costs no
# more (unless markers shorter than their secrets make the shown part reach past it).
_SECRET_SPAN = 2_000
# What an error reads of a value at most: a value of secrets one after another is markers
# only, and read to its end it cost a minute of the event loop's time (redact_name_head).
_READ_AT_MOST = 2 * _SECRET_SPAN


def clip(text: str, limit: int = ECHO_CHARS) -> str:
    """`text` redacted and cut to `limit` characters, saying how much was left out. Redacted
    before the cut (a cut token is too short to be found, yet most of a secret), as a name is
    (redact_names.py): what an error quotes is the caller's ids and paths."""
    if len(text) <= limit:
        return redact_name(text).text
    return (
        f"{redact_name_head(text, limit, _SECRET_SPAN, _READ_AT_MOST)}… ({len(text):,} characters)"
    )


#: JSON's literals as the caller wrote them: Python's repr would say None, True and False.
_JSON_LITERALS = {None: "null", True: "true", False: "false"}


#: `got` of a problem that quotes no value (a field that is missing)
NOTHING: Final = object()


def field_problem(
    field: str,
    message: str,
    got: object = NOTHING,
    *,
    hint: str = "",
    option: str = "",
    limit: int = ECHO_CHARS,
) -> str:
    """One bad argument as every error says it: the field as the caller names it
    (`decisions[0].supersedes`), what was expected in plain words (`message`: `expected the
    id of an open item`), the value given (redacted, cut), and what to do when that is not
    plain from the rest (`hint`): `` `resolve[0]`: expected the id of an open item (got 99)
    ``. On the command line the field is the `option` typed: `--glob: expected …`. `limit`:
    how much of the value is shown (a folder's path is shown whole, as far as it may be)."""
    name = option or f"`{field}`"
    shown = "" if got is NOTHING else f" (got {echo(got, limit)})"
    return f"{name}: {message}{shown}{f'; {hint}' if hint else ''}"


def echo(value: object, limit: int = ECHO_CHARS) -> str:
    """A caller's value as an error text shows it: its repr (a JSON literal as JSON writes
    it), redacted, cut short when longer than `limit`."""
    if value is None or isinstance(value, bool):
        return _JSON_LITERALS[value]
    shown = repr(value)
    if len(shown) <= limit:
        return redact_name(shown).text
    if isinstance(value, str):
        size, unit = len(value), "characters"
    elif isinstance(value, list | dict):
        size, unit = len(value), "items"
    elif isinstance(value, int):
        size, unit = len(shown.lstrip("-")), "digits"
    else:
        size, unit = len(shown), "characters"
    return f"{redact_name_head(shown, limit, _SECRET_SPAN, _READ_AT_MOST)}… ({size:,} {unit})"


#: What pydantic names a union's branches by in an error's location, said as an expected
#: value: a plain or constrained type, or one of the tools' argument models (`NoteArg`).
_BRANCH_KINDS = {
    **{
        f"{prefix}{name}": said
        for prefix in ("", "constrained-")
        for name, said in (
            ("str", "a string"),
            ("int", "an integer"),
            ("float", "a number"),
            ("bool", "a boolean"),
        )
    },
    **{
        name: "an object"
        for name, value in vars(wire).items()
        if isinstance(value, type) and issubclass(value, BaseModel)
    },
}


def _is_branch(part: object) -> bool:
    return isinstance(part, str) and part in _BRANCH_KINDS


def _union_errors(errors: list[Any]) -> list[Any]:
    """A union's errors as the caller needs them: the value matched no branch, so pydantic
    reports each branch's complaint under its name (`notes.0.constrained-str`: should be a
    valid string; `notes.0.NoteArg`: should be a valid dictionary). Keep the complaints of the
    branches that took the value's type, under the field's own name; when none did, one error
    naming what each branch takes."""
    out: list[Any] = []
    by_path: dict[tuple[Any, ...], list[tuple[int, Any]]] = {}
    for err in errors:
        at = next((i for i, part in enumerate(err["loc"]) if _is_branch(part)), None)
        if at is None:
            out.append(err)
        else:
            by_path.setdefault(tuple(err["loc"][:at]), []).append((at, err))
    for path, branches in by_path.items():
        # a branch refused the value itself when its error is its type, at the branch
        took = [
            (at, e)
            for at, e in branches
            if len(e["loc"]) > at + 1 or not e["type"].endswith("_type")
        ]
        if took:
            out += [{**e, "loc": (*path, *e["loc"][at + 1 :])} for at, e in took]
        else:
            kinds = dict.fromkeys(_BRANCH_KINDS[e["loc"][at]] for at, e in branches)
            first = branches[0][1]
            out.append(
                {**first, "loc": path, "type": "union", "msg": "expected " + " or ".join(kinds)}
            )
    return out


#: pydantic's error types said as what was expected, in the words of the tools' own errors
#: (pydantic's "String should have at least 1 character" names its own types, not the user's)
_EXPECTED = {
    "string_type": "expected a string",
    "int_type": "expected an integer",
    "int_parsing": "expected an integer",
    "int_from_float": "expected an integer",
    "float_type": "expected a number",
    "float_parsing": "expected a number",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected an object",
    "model_type": "expected an object",
    "model_attributes_type": "expected an object",
    "missing": "is required",
}
#: a bound's ctx key and how it is said
_BOUNDS = {"ge": "at least", "gt": "more than", "le": "at most", "lt": "less than"}


def expected(err: Any) -> str:
    """What one pydantic error says the field expected, in plain words: `expected text that
    is not blank`, `expected at most 500 characters`, `expected at least 1`; pydantic's own
    message for a kind not listed, and a check's own (ValueError) without pydantic's prefix.
    The tools (over MCP) and the CLI's options say it alike."""
    kind, ctx = err["type"], err.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "string_too_short":
        least = int(ctx["min_length"])
        return (
            "expected text that is not blank"
            if least == 1
            else f"expected at least {least:,} characters"
        )
    if kind == "string_too_long":
        return f"expected at most {int(ctx['max_length']):,} characters"
    if kind in ("too_short", "too_long"):
        bound = "at least" if kind == "too_short" else "at most"
        count = int(ctx["min_length" if kind == "too_short" else "max_length"])
        return f"expected {bound} {count:,} item{'s' * (count != 1)}"
    if kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        key = next(k for k in _BOUNDS if k in ctx)
        bound = ctx[key]
        return f"expected {_BOUNDS[key]} {f'{bound:,}' if isinstance(bound, int) else bound}"
    if kind in ("literal_error", "enum"):
        return f"expected {ctx['expected']}"
    if kind == "string_pattern_mismatch":
        return f"expected text matching {ctx['pattern']}"
    return str(err["msg"]).removeprefix("Value error, ")


def problems(
    exc: ValidationError,
    *,
    extra: str = "is not an argument of this tool",
    under: str | None = None,
) -> str:
    """`k`: expected at most 50 (got 99) — one per problem, naming the field; `extra`
    is what a field the model does not know is told; `under`: the member every field is named
    from (`params`), added where a location starts below it."""
    lines = []
    errors = _union_errors(list(exc.errors()))
    for err in errors[:MAX_ARGUMENT_ERRORS]:
        loc, message = tuple(err["loc"]), expected(err)
        if under is not None and loc[:1] != (under,):
            loc = (under, *loc)
        if loc[-1:] == ("[key]",):  # a mapping's key itself (pydantic: `state`, key, "[key]")
            loc, message = loc[:-2], f"a key: {message}"  # the key is shown as what was got
        field = clip(field_path(loc))  # a key is the caller's text
        got = err.get("input") if err["type"] != "missing" else NOTHING
        if err["type"] == "extra_forbidden":
            message = extra
        elif err["type"] == "value_error" and not field:
            # A check across fields already names them: `request` and `messages`: …
            lines.append(message)
            continue
        lines.append(field_problem(field or "arguments", message, got))
    if len(errors) > MAX_ARGUMENT_ERRORS:
        lines.append(f"and {len(errors) - MAX_ARGUMENT_ERRORS} more")
    return "; ".join(lines)


def field_path(loc: tuple[Any, ...]) -> str:
    """A location as the caller names it: `decisions[0].citations[1]`, as a JSON path and the
    tools' own errors do (pydantic says `decisions.0.citations.1`); a mapping's key by a dot
    (`state.branch`)."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path


def argument_error(exc: ValidationError) -> str:
    """A tool's arguments that break its schema, one problem after another, as the tool's
    own checks say theirs (no "invalid arguments:" before them: the field comes first)."""
    return problems(exc)
