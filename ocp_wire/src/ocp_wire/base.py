"""What every wire model shares: the input limits, the base models, common fields."""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)

# Every input is bounded (count and size); the README's "Input limits" table lists them and a
# test keeps the two in step. Beyond a limit the call is a tool error naming the field.
MAX_WORKSPACE_CHARS = 4_096
MAX_PAYLOAD_CHARS = 2_000_000  # messages + system + tools of one route, serialised
MAX_STATE_KEYS = 200
MAX_STATE_KEY_CHARS = 200
MAX_STATE_VALUE_CHARS = 10_000
MAX_ITEM_CHARS = 5_000  # one note or open item
MAX_DB_ID = 2**63 - 1  # SQLite's largest integer
MAX_CALLER_ID_CHARS = 200  # a session id or a model's name
# A trace's id, or a proxied request's: OCP's (32 hex, or req_ocp_ and 32 hex) or a paid
# upstream's, kept to this many characters (Anthropic's are 28, OpenAI's 36; an
# OpenAI-compatible server names its own, longer).
MAX_TRACE_ID_CHARS = 200

Redacted = Field(
    0,
    ge=0,
    description="How many secret values in this result were replaced by [REDACTED:<kind>] "
    "markers (what an agent receives goes to its cloud model)",
)
WorkspaceArg = Field(
    None,
    max_length=MAX_WORKSPACE_CHARS,
    description="Absolute path of the workspace folder. Defaults to OCP_WORKSPACE, "
    "CLAUDE_PROJECT_DIR, the client's roots, or the server's working directory.",
)


def _not_a_boolean(value: object) -> object:
    # JSON's true is not 1, though pydantic's lax mode reads it so: `k: true` searched for one
    # result, and `forget_notes: [true]` would forget note 1
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, not {str(value).lower()}")
    return value


#: An integer argument: "5" and 5.0 are read as 5, as the SDK's clients may send them; true
#: and false are refused.
WireInt = Annotated[int, BeforeValidator(_not_a_boolean)]
#: The same check, for an integer with bounds that may also be null: written
#: `Annotated[int, Field(ge=…, le=…), NOT_A_BOOLEAN] | None`, the bounds on the int itself.
#: (`WireInt | None = Field(ge=…)` checked them too, but advertised them as "ge" and "le",
#: which no JSON Schema reader knows.)
NOT_A_BOOLEAN = BeforeValidator(_not_a_boolean)


def _true_or_false(value: object) -> object:
    # pydantic's lax mode read "yes", "on", "1", 1 and 0 as booleans: `dry_run: "yes"` was a
    # dry run, `dry_run: "no"` called the model. JSON true and false are read, and the words
    # "true" and "false", which a client or model that sends every argument as a string gives
    # (as a number given as "5" is read); anything else is refused.
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError("expected true or false")


#: A boolean argument: JSON true or false (or those words as a string), nothing else.
WireBool = Annotated[bool, BeforeValidator(_true_or_false)]


def _not_a_credential(value: str) -> str:
    # An id the caller picks goes out as it is: a model name in the paid request, a session id
    # in every trace and as the key other rows point to. One holding a key is a pasting
    # accident; refused here, before any model is called (redacting it would break lookups).
    from ocp_router.redact_names import name_holds_secret  # not at import: loaded at start

    if name_holds_secret(value):  # `featurexghp_<token>`: glued to a word, a token still
        raise ValueError(
            "it looks like it holds a secret (a key or token), which would be sent and "
            "stored as given: use a name that is not a credential"
        )
    return value


def _no_nul(value: str) -> str:
    # Stored as a key and written in logs and traces: a NUL ends the id early in C strings.
    if "\0" in value:
        raise ValueError("it holds a NUL character, which no id or name may hold")
    return value


#: A name or id chosen by the caller that OCP sends or stores verbatim: never a credential.
#: Its bounds come before the check (`Field(max_length=…)` beside it was checked after, and
#: told "Value should have at most 200 items" of a string).
CallerId = Annotated[
    str,
    StringConstraints(max_length=MAX_CALLER_ID_CHARS),
    AfterValidator(_no_nul),
    AfterValidator(_not_a_credential),
]
#: A model's name: a caller's id that cannot be empty.
ModelName = Annotated[
    str,
    StringConstraints(min_length=1, max_length=MAX_CALLER_ID_CHARS),
    AfterValidator(_no_nul),
    AfterValidator(_not_a_credential),
]


class WireIn(BaseModel):
    """A tool's arguments: flat, unknown fields refused, strings stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WireOut(BaseModel):
    """A tool's result or a part of one: unknown fields refused."""

    model_config = ConfigDict(extra="forbid")
