"""Prices: the default table, OCP_PRICES files (JSON or TOML) laid over it, family matching of
dated model ids, cost arithmetic with prompt caching; and the routing v2 settings that
RouterSettings.from_env reads (top model, phase-2 classifier, thresholds, budgets)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from ocp_router import ConfigError, LLMClassifier, RouterSettings, make_router
from ocp_router.prices import DEFAULT_PRICES, Price, load_prices, parse_prices, price_for

OVERRIDES: dict[str, Any] = {
    "claude-sonnet-4-6": {"input": 2.5, "output": 12.5},
    "my-model": {"input": 0.5, "output": 1.5, "cache_read": 0.05, "cache_write": 0.6},
}

TOML_OVERRIDES = """\
["claude-sonnet-4-6"]
input = 2.5
output = 12.5

["my-model"]
input = 0.5
output = 1.5
cache_read = 0.05
cache_write = 0.6
"""


def write(tmp_path: Path, name: str, text: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, "utf-8")
    return path


# ---- load_prices -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [("prices.json", json.dumps(OVERRIDES)), ("prices.toml", TOML_OVERRIDES)],
    ids=["json", "toml"],
)
def test_a_price_file_overrides_a_default_and_adds_a_model(
    tmp_path: Path, name: str, text: str
) -> None:
    prices = load_prices(write(tmp_path, name, text))
    assert prices["claude-sonnet-4-6"] == Price(2.5, 12.5)
    assert prices["my-model"] == Price(0.5, 1.5, 0.05, 0.6)
    # every other default is still there, unchanged
    assert prices["claude-opus-4-6"] == Price(5.0, 25.0, 0.50, 6.25)
    assert set(DEFAULT_PRICES) <= set(prices)
    # and the defaults themselves were not modified
    assert DEFAULT_PRICES["claude-sonnet-4-6"] == Price(3.0, 15.0, 0.30, 3.75)
    assert "my-model" not in DEFAULT_PRICES


def test_a_models_wrapper_table_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.json", json.dumps({"models": OVERRIDES}))
    assert load_prices(path)["my-model"] == Price(0.5, 1.5, 0.05, 0.6)


def test_a_models_wrapper_table_is_accepted_in_toml(tmp_path: Path) -> None:
    text = '[models."my-model"]\ninput = 0.5\noutput = 1.5\n'
    assert load_prices(write(tmp_path, "prices.toml", text))["my-model"] == Price(0.5, 1.5)


def test_a_tilde_path_is_expanded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    write(tmp_path, "prices.json", json.dumps(OVERRIDES))
    assert load_prices("~/prices.json")["my-model"] == Price(0.5, 1.5, 0.05, 0.6)


@pytest.mark.parametrize(
    ("entry", "where"),
    [
        ({"input": -1, "output": 2}, "my-model.input"),
        ({"input": 1}, "my-model.output"),
        ({"input": 1, "output": 2, "cache_read": -0.1}, "my-model.cache_read"),
        ({"input": 1, "output": 2, "discount": 0.5}, "my-model.discount"),
        ({"input": "cheap", "output": 2}, "my-model.input"),
        (5, "my-model"),
    ],
    ids=[
        "negative-input",
        "missing-output",
        "negative-cache-read",
        "unknown-key",
        "not-a-number",
        "not-a-table",
    ],
)
def test_an_invalid_entry_names_the_file_the_model_and_the_field(
    tmp_path: Path, entry: Any, where: str
) -> None:
    path = write(tmp_path, "prices.json", json.dumps({"my-model": entry}))
    with pytest.raises(ConfigError) as info:
        load_prices(path)
    message = str(info.value)
    assert message.startswith(f"OCP_PRICES={str(path)!r}: {where}")


def test_an_entry_that_is_not_a_table_says_what_a_price_holds(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.toml", "models = 3\n")  # a `models` that is no table
    with pytest.raises(ConfigError) as info:
        load_prices(path)
    assert str(info.value) == (
        f"OCP_PRICES={str(path)!r}: models: expected a table of prices in USD per million "
        "tokens (input, output, cache_read, cache_write), got 3"
    )


def test_a_misspelt_models_table_names_the_key_it_does_not_know(tmp_path: Path) -> None:
    # `[model.x]` for `[models.x]` reads as a model named "model" priced with a field "x": the
    # error was "model.input: Field required", about a field the user never wrote.
    path = write(tmp_path, "prices.toml", "[model.claude-x]\ninput = 3.0\noutput = 15.0\n")
    with pytest.raises(ConfigError) as info:
        load_prices(path)
    assert str(info.value) == (
        f"OCP_PRICES={str(path)!r}: model.claude-x: not a price field (a model's prices are "
        "input, output, cache_read, cache_write, in USD per million tokens; models go at the "
        "top or in a `models` table)"
    )


def test_an_invalid_toml_entry_names_the_model_and_the_field(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.toml", '["my-model"]\ninput = -3\noutput = 1\n')
    with pytest.raises(ConfigError, match=r"OCP_PRICES=.*prices\.toml.*: my-model\.input: "):
        load_prices(path)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("prices.json", "{not json", "not valid JSON"),
        ("prices.toml", "input = = 3", "not valid TOML"),
        ("prices.json", "[]", "expected a table of model name -> prices"),
        ("prices.json", "{}", "expected a table of model name -> prices"),
    ],
    ids=["bad-json", "bad-toml", "json-array", "empty-table"],
)
def test_an_unreadable_price_file_is_a_config_error_naming_ocp_prices(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = write(tmp_path, name, text)
    with pytest.raises(ConfigError) as info:
        load_prices(path)
    assert str(info.value).startswith(f"OCP_PRICES={str(path)!r}: ")
    assert message in str(info.value)


def test_a_missing_price_file_is_a_config_error_naming_ocp_prices(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(ConfigError, match=r"^OCP_PRICES='.*nope\.json': cannot read the file"):
        load_prices(missing)


def test_a_price_file_that_is_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.json", json.dumps(OVERRIDES).encode("utf-16"))
    with pytest.raises(ConfigError, match="^OCP_PRICES="):
        load_prices(path)


def test_entries_beside_a_models_table_are_not_silently_dropped(tmp_path: Path) -> None:
    text = json.dumps(
        {
            "models": {"my-model": {"input": 1, "output": 2}},
            "other-model": {"input": 4, "output": 8},
        }
    )
    path = write(tmp_path, "prices.json", text)
    with pytest.raises(ConfigError, match="other-model beside the `models` table"):
        load_prices(path)


def test_parse_prices_names_its_source() -> None:
    with pytest.raises(ConfigError, match=r"^prices\.toml: x\.output: "):
        parse_prices({"x": {"input": 1}}, source="prices.toml")


# ---- price_for -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "family"),
    [
        ("claude-haiku-4-5-20251001", "claude-haiku-4-5"),
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-6", "claude-opus-4-6"),
        ("gpt-4o-mini-2024-07-18", "gpt-4o-mini"),  # the longest family wins over gpt-4o
        ("gpt-4o-2024-08-06", "gpt-4o"),
    ],
)
def test_price_for_matches_dated_ids_to_their_family(model: str, family: str) -> None:
    assert price_for(model) == DEFAULT_PRICES[family]


@pytest.mark.parametrize("model", ["claude-opus-4", "claude-opus-4-6x", "llama3.2", "qwen3:4b"])
def test_price_for_an_unknown_model_is_none(model: str) -> None:
    assert price_for(model) is None


def test_price_for_uses_the_given_table_only() -> None:
    table = {"my-model": Price(1.0, 2.0)}
    assert price_for("my-model-20260101", table) == Price(1.0, 2.0)
    assert price_for("claude-opus-4-6", table) is None
    assert price_for("claude-opus-4-6", {}) is None


# ---- Price.cost ------------------------------------------------------------------------------


def test_cost_is_usd_per_million_tokens_in_and_out() -> None:
    assert Price(3.0, 15.0).cost(1_000_000, 1_000_000) == 18.0
    assert Price(3.0, 15.0).cost(2_000, 500) == pytest.approx(0.0135)


def test_cost_bills_cache_reads_and_writes_at_their_own_rates() -> None:
    price = Price(3.0, 15.0, cache_read_per_mtok=0.3, cache_write_per_mtok=3.75)
    # 1M prompt tokens of which 600k were read from the cache and 100k written to it
    cost = price.cost(1_000_000, 0, cache_read=600_000, cache_write=100_000)
    assert cost == pytest.approx(0.3 * 3.0 + 0.6 * 0.3 + 0.1 * 3.75)
    assert cost < price.cost(1_000_000, 0)


def test_cost_bills_cache_tokens_at_the_input_rate_when_no_cache_rate_is_known() -> None:
    price = Price(2.5, 10.0)
    assert price.cost(1_000_000, 0, cache_read=500_000, cache_write=100_000) == 2.5


def test_cost_is_rounded_to_a_millionth_of_a_dollar() -> None:
    assert Price(3.0, 15.0).cost(1, 0) == 0.000003
    assert Price(0.1, 0.5).cost(1, 1) == 0.000001


# ---- OCP_PRICES through the settings into the router -------------------------------------------


async def test_the_router_prices_models_from_ocp_prices(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.toml", TOML_OVERRIDES)
    settings = RouterSettings.from_env({"OCP_PRICES": str(path)})
    assert settings.prices_file == str(path)
    router = await make_router(settings=settings)
    try:
        assert router.price("my-model") == Price(0.5, 1.5, 0.05, 0.6)
        assert router.price("claude-sonnet-4-6-20260101") == Price(2.5, 12.5)
        assert router.price("claude-opus-4-6") == DEFAULT_PRICES["claude-opus-4-6"]
    finally:
        await router.aclose()


async def test_without_ocp_prices_the_router_uses_the_defaults() -> None:
    router = await make_router({})
    try:
        assert router.price("my-model") is None
        assert router.price("claude-sonnet-4-6") == Price(3.0, 15.0, 0.30, 3.75)
    finally:
        await router.aclose()


async def test_make_router_fails_fast_on_a_bad_price_file(tmp_path: Path) -> None:
    path = write(tmp_path, "prices.json", json.dumps({"my-model": {"input": -1, "output": 1}}))
    with pytest.raises(ConfigError, match=r"^OCP_PRICES=.*: my-model\.input: "):
        await make_router({"OCP_PRICES": str(path)})


# ---- RouterSettings: the routing v2 variables --------------------------------------------------


def test_the_top_model_defaults_to_opus_on_anthropic() -> None:
    assert RouterSettings.from_env({}).top_model == "claude-opus-4-6"


def test_an_openai_paid_backend_has_no_top_model_unless_named() -> None:
    assert RouterSettings.from_env({"OCP_PAID_BACKEND": "openai"}).top_model is None
    named = RouterSettings.from_env({"OCP_PAID_BACKEND": "openai", "OCP_PAID_TOP_MODEL": "gpt-5"})
    assert named.top_model == "gpt-5"


@pytest.mark.parametrize("off", ["none", "None", "off", "0", "false"])
def test_ocp_paid_top_model_none_turns_the_top_tier_off(off: str) -> None:
    assert RouterSettings.from_env({"OCP_PAID_TOP_MODEL": off}).top_model is None


def test_ocp_paid_top_model_names_the_top_model() -> None:
    settings = RouterSettings.from_env({"OCP_PAID_TOP_MODEL": "claude-opus-4-8"})
    assert settings.top_model == "claude-opus-4-8"


async def test_the_router_gets_the_top_model_when_a_paid_backend_exists() -> None:
    router = await make_router({"ANTHROPIC_API_KEY": "sk-ant-test"})
    try:
        assert router.top_model == "claude-opus-4-6"
        assert router.mid_model == "claude-sonnet-4-6"
    finally:
        await router.aclose()
    router = await make_router({"ANTHROPIC_API_KEY": "sk-ant-test", "OCP_PAID_TOP_MODEL": "none"})
    try:
        assert router.top_model is None
    finally:
        await router.aclose()


async def test_phase_2_defaults_to_the_local_model() -> None:
    env = {"OCP_CLASSIFIER_TIMEOUT": "2.5", "OCP_CLASSIFIER_CACHE_SIZE": "8"}
    assert RouterSettings.from_env(env).phase2_model == "llama3.2"
    router = await make_router(env)
    try:
        assert isinstance(router.phase2, LLMClassifier)
        assert router.phase2.backend is router.local
        assert router.phase2.model is None  # the backend's own model: the local one
        assert (router.phase2.timeout, router.phase2.cache_size) == (2.5, 8)
    finally:
        await router.aclose()


async def test_ocp_classifier_model_names_another_local_model_for_phase_2() -> None:
    router = await make_router({"OCP_CLASSIFIER_MODEL": "qwen3:0.6b"})
    try:
        assert isinstance(router.phase2, LLMClassifier)
        assert router.phase2.model == "qwen3:0.6b"
        assert router.phase2.backend is router.local
    finally:
        await router.aclose()


@pytest.mark.parametrize("off", ["none", "NONE", "off"])
async def test_ocp_classifier_model_none_turns_phase_2_off(off: str) -> None:
    assert RouterSettings.from_env({"OCP_CLASSIFIER_MODEL": off}).phase2_model is None
    router = await make_router({"OCP_CLASSIFIER_MODEL": off})
    try:
        assert router.phase2 is None
    finally:
        await router.aclose()


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OCP_TOP_THRESHOLD", "2"),
        ("OCP_TOP_THRESHOLD", "-0.1"),
        ("OCP_CLASSIFIER_TIMEOUT", "0"),
        ("OCP_CLASSIFIER_CACHE_SIZE", "-1"),
        ("OCP_AMBIGUOUS_MARGIN", "0.9"),
        ("OCP_DAILY_BUDGET_USD", "-1"),
        ("OCP_MAX_REQUEST_USD", "a lot"),
        ("OCP_PIN_HARD_SECONDS", "-5"),
        ("OCP_LOCAL_CONTEXT_TOKENS", "0"),
    ],
)
def test_an_invalid_value_is_a_config_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match="^" + re.escape(f"{name}='{value}' is invalid: ")):
        RouterSettings.from_env({name: value})


def test_valid_v2_values_are_read() -> None:
    s = RouterSettings.from_env(
        {
            "OCP_TOP_THRESHOLD": "0.7",
            "OCP_CLASSIFIER_TIMEOUT": "1.5",
            "OCP_AMBIGUOUS_MARGIN": "0.1",
            "OCP_DAILY_BUDGET_USD": "2.5",
            "OCP_MAX_REQUEST_USD": "0.25",
        }
    )
    assert (s.top_threshold, s.classifier_timeout, s.ambiguous_margin) == (0.7, 1.5, 0.1)
    assert (s.daily_budget_usd, s.max_request_usd) == (2.5, 0.25)
