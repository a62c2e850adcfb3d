"""What models cost, to estimate a route's price and the savings of staying local.

USD per million tokens, from Anthropic's pricing page
(https://platform.claude.com/docs/en/about-claude/pricing, read 2026-11) and OpenAI's public
price list for the two OpenAI defaults. Local models cost nothing. Unknown models are priced
as `None` (unknown), never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass


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
        if model.startswith(name + "-"):
            return table[name]
    return None
