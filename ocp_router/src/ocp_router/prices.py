"""What models cost, to estimate a route's price and the savings of staying local.

USD per million tokens, from Anthropic's pricing page
(https://platform.claude.com/docs/en/about-claude/pricing, read 2026-11) and OpenAI's public
price list for the two OpenAI defaults. Local models cost nothing. Unknown models are priced
as `None` (unknown), never guessed. `OCP_PRICES` names a JSON or TOML file whose entries
override or extend the table (see `load_prices`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ocp_router.errors import ConfigError

PRICES_SOURCE = "https://platform.claude.com/docs/en/about-claude/pricing"
PRICES_READ = "2026-11"


@dataclass(frozen=True, slots=True)
class Price:
    input_per_mtok: float
    output_per_mtok: float
    cache_read_per_mtok: float | None = None
    cache_write_per_mtok: float | None = None

    def cost(
        self, prompt_tokens: int, completion_tokens: int, cache_read: int = 0, cache_write: int = 0
    ) -> float:
        read_rate = self.cache_read_per_mtok
        write_rate = self.cache_write_per_mtok
        uncached = prompt_tokens - cache_read - cache_write
        total = uncached * self.input_per_mtok + completion_tokens * self.output_per_mtok
        total += cache_read * (read_rate if read_rate is not None else self.input_per_mtok)
        total += cache_write * (write_rate if write_rate is not None else self.input_per_mtok)
        return round(total / 1_000_000, 6)


DEFAULT_PRICES: dict[str, Price] = {
    "claude-opus-5-5": Price(4.0, 20.0, 0.20, 5.0),
    "claude-sonnet-5-5": Price(2.0, 10.0, 0.20, 2.5),
    "claude-haiku-5-5": Price(0.10, 0.50, 0.01, 0.125),
    "claude-sonnet-5": Price(2.0, 10.0, 0.20, 2.5),
    "claude-opus-5": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-8": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-7": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-6": Price(5.0, 25.0, 0.50, 6.25),
    "claude-opus-4-5": Price(5.0, 25.0, 0.50, 6.25),
    "claude-sonnet-4-6": Price(3.0, 15.0, 0.30, 3.75),
    "claude-sonnet-4-5": Price(3.0, 15.0, 0.30, 3.75),
    "claude-haiku-4-5": Price(1.0, 5.0, 0.10, 1.25),
    "gpt-4o": Price(2.5, 10.0, 1.25),
    "gpt-4o-mini": Price(0.15, 0.60, 0.075),
}


def price_for(model: str, table: dict[str, Price] | None = None) -> Price | None:
    """The price of `model`, matching dated ids (claude-haiku-4-5-20251001) to their family."""
    table = DEFAULT_PRICES if table is None else table
    if model in table:
        return table[model]
    for name in sorted(table, key=len, reverse=True):
        if model.startswith(name + "-") and _DATED.fullmatch(model[len(name) :]):
            return table[name]
    return None


# A dated or pinned snapshot of a priced model: claude-haiku-4-5-20251001, gpt-4o-2024-08-06.
_DATED = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2}|latest|v\d+(?::\d+)?)")


class _PriceEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    input: float = Field(ge=0, allow_inf_nan=False, description="USD per million input tokens")
    output: float = Field(ge=0, allow_inf_nan=False, description="USD per million output tokens")
    cache_read: float | None = Field(None, ge=0, allow_inf_nan=False)
    cache_write: float | None = Field(None, ge=0, allow_inf_nan=False)


def parse_prices(data: Any, *, source: str = "OCP_PRICES") -> dict[str, Price]:
    """Prices from `{"model": {"input": 3, "output": 15, "cache_read": 0.3, ...}}` (USD per
    million tokens). A top-level `"models"` table is also accepted."""
    if isinstance(data, Mapping) and isinstance(data.get("models"), Mapping):
        beside = sorted(str(k) for k in data if k != "models")
        if beside:
            raise ConfigError(
                f"{source}: {', '.join(beside)} beside the `models` table; put every model "
                "inside it (or use no `models` table at all)"
            )
        data = data["models"]
    if not isinstance(data, Mapping) or not data:
        raise ConfigError(f"{source}: expected a table of model name -> prices")
    out: dict[str, Price] = {}
    for model, entry in data.items():
        if not isinstance(entry, Mapping):
            raise ConfigError(
                f"{source}: {model}: expected a table of prices in USD per million tokens "
                f"({', '.join(_PriceEntry.model_fields)}), got {entry!r:.80}"
            )
        try:
            p = _PriceEntry.model_validate(entry)
        except ValidationError as exc:
            # A key it does not know first: `[model.x]` (for `[models.x]`) lacks input too,
            # and "model.input: Field required" named a field the user never wrote.
            errors = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")
            err = errors[0]
            if err["type"] == "extra_forbidden":
                raise ConfigError(
                    f"{source}: {model}.{err['loc'][0]}: not a price field (a model's prices "
                    f"are {', '.join(_PriceEntry.model_fields)}, in USD per million tokens; "
                    "models go at the top or in a `models` table)"
                ) from exc
            where = ".".join(str(x) for x in err["loc"]) or "entry"
            raise ConfigError(f"{source}: {model}.{where}: {err['msg']}") from exc
        out[str(model)] = Price(p.input, p.output, p.cache_read, p.cache_write)
    return out


def load_prices(path: str | Path) -> dict[str, Price]:
    """The default table with a JSON or TOML file's entries laid over it."""
    file = Path(path).expanduser()
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(f"OCP_PRICES={str(path)!r}: cannot read the file ({exc})") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"OCP_PRICES={str(path)!r}: not UTF-8 text ({exc.reason})") from exc
    try:
        data = tomllib.loads(text) if file.suffix == ".toml" else json.loads(text)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        kind = "TOML" if file.suffix == ".toml" else "JSON"
        raise ConfigError(f"OCP_PRICES={str(path)!r}: not valid {kind} ({exc})") from exc
    return {**DEFAULT_PRICES, **parse_prices(data, source=f"OCP_PRICES={str(path)!r}")}
