"""The sampling fields each dialect range-checks as its provider does: `temperature`,
`top_p`, the stop sequences and the thinking asked for (Anthropic's `thinking` and
`output_config.effort`, OpenAI's `reasoning_effort`: a value the API refuses was read as
thinking asked for, or none, and sent to a local model as no level it knows). A
value out of range is the provider's 400, in its words and naming the field, before any
model is asked: forwarded, it costs a paid round trip to be refused; a local model takes
any value (a temperature of 50, a stop "sequence" that is a number), and an integer too
large for a float broke the translation (a 500).

The words are the APIs' own: OpenAI's `Invalid 'temperature': decimal above maximum value.
Expected a value <= 2, but got 3 instead.` (with `param` and `code`), Anthropic's
`temperature: range: 0..1` and `stop_sequences: each stop sequence must be non-empty`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ocp_server.proxy.chat import BadRequest

#: OpenAI's limit on `stop` (its API reference: "up to 4 sequences").
OPENAI_MAX_STOPS = 4

#: `reasoning_effort`'s values (the openai SDK's `ReasoningEffort`).
OPENAI_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")

#: Anthropic's `thinking` configs by type (the anthropic SDK's `ThinkingConfigParam`), and
#: the smallest `budget_tokens` of an `enabled` one (its docs: "Must be ≥1024").
ANTHROPIC_THINKING = ("enabled", "disabled", "adaptive", "between_tools")
MIN_THINKING_BUDGET = 1024

#: `output_config.effort`'s values (the anthropic SDK's `OutputConfigParam`).
ANTHROPIC_EFFORTS = ("low", "medium", "high", "xhigh", "max")


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _shown(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _json_kind(value: Any) -> str:
    """The JSON name OpenAI's messages give a value's type, with its article."""
    if value is None:
        return "a null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


# ---- OpenAI ---------------------------------------------------------------------------------
def _openai_decimal(body: Mapping[str, Any], field: str, high: int) -> None:
    value = body.get(field)
    if value is None:
        return
    if not _number(value):
        raise BadRequest(
            f"Invalid type for '{field}': expected a decimal, but got {_json_kind(value)} instead.",
            param=field,
            code="invalid_type",
        )
    if value > high:
        raise BadRequest(
            f"Invalid '{field}': decimal above maximum value. Expected a value <= {high}, but "
            f"got {_shown(value)} instead.",
            param=field,
            code="decimal_above_max_value",
        )
    if value < 0:
        raise BadRequest(
            f"Invalid '{field}': decimal below minimum value. Expected a value >= 0, but got "
            f"{_shown(value)} instead.",
            param=field,
            code="decimal_below_min_value",
        )


def _choices(values: tuple[str, ...]) -> str:
    quoted = [f"'{v}'" for v in values]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def _openai_effort(effort: Any, field: str) -> None:
    if effort is None or effort in OPENAI_EFFORTS:
        return
    kind, code = ("value", "invalid_value") if isinstance(effort, str) else ("type", "invalid_type")
    got = f"'{_shown(effort)}'" if isinstance(effort, str) else _json_kind(effort)
    raise BadRequest(
        f"Invalid {kind} for '{field}': expected one of {_choices(OPENAI_EFFORTS)}, "
        f"but got {got} instead.",
        param=field,
        code=code,
    )


def _openai_reasoning(body: Mapping[str, Any]) -> None:
    """`reasoning_effort`, and Ollama's `reasoning` object (its `/v1` reads `reasoning.effort`
    as well), each effort one of OpenAI's."""
    _openai_effort(body.get("reasoning_effort"), "reasoning_effort")
    reasoning = body.get("reasoning")
    if reasoning is None:
        return
    if not isinstance(reasoning, dict):
        raise BadRequest(
            f"Invalid type for 'reasoning': expected an object, but got {_json_kind(reasoning)} "
            "instead.",
            param="reasoning",
            code="invalid_type",
        )
    _openai_effort(reasoning.get("effort"), "reasoning.effort")


def check_openai(body: Mapping[str, Any]) -> None:
    """`temperature` 0..2, `top_p` 0..1, `stop` a string or up to 4 of them (or null),
    `reasoning_effort` (and Ollama's `reasoning.effort`) one of its values (or null)."""
    _openai_decimal(body, "temperature", 2)
    _openai_decimal(body, "top_p", 1)
    _openai_reasoning(body)
    stop = body.get("stop")
    if stop is None or isinstance(stop, str):
        return
    if not isinstance(stop, list):
        raise BadRequest(
            "Invalid type for 'stop': expected one of a string or array of strings, but got "
            f"{_json_kind(stop)} instead.",
            param="stop",
            code="invalid_type",
        )
    if len(stop) > OPENAI_MAX_STOPS:
        raise BadRequest(
            f"Invalid 'stop': array too long. Expected an array with maximum length "
            f"{OPENAI_MAX_STOPS}, but got an array with length {len(stop)} instead.",
            param="stop",
            code="array_above_max_length",
        )
    for i, item in enumerate(stop):
        if not isinstance(item, str):
            raise BadRequest(
                f"Invalid type for 'stop[{i}]': expected a string, but got {_json_kind(item)} "
                "instead.",
                param=f"stop[{i}]",
                code="invalid_type",
            )


# ---- Anthropic ------------------------------------------------------------------------------
def _anthropic_unit(body: Mapping[str, Any], field: str) -> None:
    if field not in body:
        return
    value = body[field]
    if not _number(value):
        raise BadRequest(f"{field}: Input should be a valid number")
    if not 0 <= value <= 1:
        raise BadRequest(f"{field}: range: 0..1 (got {_shown(value)})")


def _anthropic_thinking(body: Mapping[str, Any]) -> None:
    config = body.get("thinking")
    if config is None:
        return
    if not isinstance(config, dict):
        raise BadRequest("thinking: Input should be an object")
    kind = config.get("type")
    if kind not in ANTHROPIC_THINKING:
        raise BadRequest(f"thinking.type: Input should be {_choices(ANTHROPIC_THINKING)}")
    if kind == "enabled":
        budget = config.get("budget_tokens")
        if budget is None:
            raise BadRequest("thinking.enabled.budget_tokens: Field required")
        if not isinstance(budget, int) or isinstance(budget, bool):
            raise BadRequest("thinking.enabled.budget_tokens: Input should be a valid integer")
        if budget < MIN_THINKING_BUDGET:
            raise BadRequest(
                "thinking.enabled.budget_tokens: Input should be greater than or equal to "
                f"{MIN_THINKING_BUDGET} (got {_shown(budget)})"
            )
    if kind in ("enabled", "adaptive") and config.get("display") not in (
        None,
        "summarized",
        "omitted",
    ):
        raise BadRequest(f"thinking.{kind}.display: Input should be 'summarized' or 'omitted'")


def _anthropic_effort(body: Mapping[str, Any]) -> None:
    config = body.get("output_config")
    if not isinstance(config, dict) or config.get("effort") is None:
        return
    if config["effort"] not in ANTHROPIC_EFFORTS:
        raise BadRequest(
            f"output_config.effort: Input should be {_choices(ANTHROPIC_EFFORTS)} "
            f"(got {_shown(config['effort'])})"
        )


def check_anthropic(body: Mapping[str, Any]) -> None:
    """`temperature` and `top_p` 0..1; `stop_sequences` a list of strings, each with more
    than whitespace in it; `thinking` one of the API's configs (an `enabled` one with a
    budget of at least 1,024 tokens); `output_config.effort` one of its levels."""
    _anthropic_unit(body, "temperature")
    _anthropic_unit(body, "top_p")
    _anthropic_thinking(body)
    _anthropic_effort(body)
    if "stop_sequences" not in body:
        return
    stops = body["stop_sequences"]
    if not isinstance(stops, list):
        raise BadRequest("stop_sequences: Input should be a valid list")
    for i, item in enumerate(stops):
        if not isinstance(item, str):
            raise BadRequest(f"stop_sequences.{i}: Input should be a valid string")
        if not item:
            raise BadRequest("stop_sequences: each stop sequence must be non-empty")
        if not item.strip():
            raise BadRequest("stop_sequences: each stop sequence must contain non-whitespace")
