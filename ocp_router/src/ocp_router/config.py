"""Router settings from OCP_* environment variables, and `make_router()`.

Every variable has a default; an invalid value fails fast with the variable's name and the
values it accepts. A value that is still a literal `${VAR}` (some IDEs pass unset variables
through unexpanded) counts as unset.
"""

from __future__ import annotations

import importlib.util
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ocp_router.backends.base import (
    ANTHROPIC_MODEL,
    LOCAL_TIMEOUT,
    PAID_MAX_TOKENS,
    PAID_TIMEOUT,
    ModelBackend,
    SettingNames,
)
from ocp_router.backends.ollama import DEFAULT_MODEL as OLLAMA_MODEL
from ocp_router.backends.ollama import DEFAULT_URL as OLLAMA_URL
from ocp_router.backends.ollama import OllamaBackend
from ocp_router.backends.openai import DEFAULT_URL as OPENAI_URL
from ocp_router.backends.openai import OpenAIBackend
from ocp_router.calibration_keys import model_key
from ocp_router.classifier import TaskClassifier
from ocp_router.env import HTTP_URL, HTTP_URL_EXPECTED
from ocp_router.env import env_value as env_value  # the one rule, re-exported
from ocp_router.errors import ConfigError
from ocp_router.hints import ROUTER_SETTINGS
from ocp_router.phase1 import LOCAL_CONTEXT_CHARS, LOCAL_MAX_TURNS, LocalProfile
from ocp_router.phase2 import CLASSIFIER_CACHE_SIZE, CLASSIFIER_TIMEOUT, LLMClassifier
from ocp_router.pins import HARD_SECONDS, SOFT_SECONDS, SessionPins
from ocp_router.prices import Price, load_prices
from ocp_router.router import Budget, OCPRouter, PaidFallback, RouteMode, SpendLedger
from ocp_router.sticky import FLOOR_HOURS, Sticky
from ocp_router.tiers import DEFAULT_ROUTE_THRESHOLD

_OFF = {"none", "off", "0", "false", "no"}
# How errors name OCP_LOCAL_BACKEND=openai's server (llama.cpp, LM Studio, vLLM): not "openai",
# which users read as OpenAI's paid API.
LOCAL_OPENAI_SERVER = "the local OpenAI-compatible server"


class RouterSettings(BaseModel):
    """Everything `make_router()` reads. Field aliases are the environment variable names."""

    # No inf or nan: a timeout never reached, or a threshold no score compares with, is no
    # setting (unset is how to leave a limit out).
    model_config = ConfigDict(
        frozen=True, populate_by_name=True, extra="ignore", allow_inf_nan=False
    )

    local_backend: Literal["ollama", "openai"] = Field("ollama", alias="OCP_LOCAL_BACKEND")
    local_model: str = Field(OLLAMA_MODEL, alias="OCP_LOCAL_MODEL", min_length=1)
    ollama_url: str = Field(OLLAMA_URL, alias="OCP_OLLAMA_URL", pattern=HTTP_URL)
    local_base_url: str = Field(
        "http://127.0.0.1:8080/v1", alias="OCP_LOCAL_BASE_URL", pattern=HTTP_URL
    )
    # Sent as a bearer token to an OpenAI-compatible local server that requires one (vLLM,
    # llama.cpp and LM Studio can).
    local_api_key: str | None = Field(None, alias="OCP_LOCAL_API_KEY", repr=False)
    local_timeout: float = Field(LOCAL_TIMEOUT, alias="OCP_LOCAL_TIMEOUT", gt=0)
    # Always sent: llama.cpp and vLLM otherwise generate until the context window is full.
    local_max_tokens: int = Field(1024, alias="OCP_LOCAL_MAX_TOKENS", gt=0)
    paid_backend: Literal["anthropic", "openai", "none"] = Field(
        "anthropic", alias="OCP_PAID_BACKEND"
    )
    paid_model: str = Field(ANTHROPIC_MODEL, alias="OCP_PAID_MODEL", min_length=1)
    # Default for the Anthropic backend; "none" turns the top tier off.
    paid_top_model: str | None = Field(None, alias="OCP_PAID_TOP_MODEL")
    top_threshold: float = Field(0.8, alias="OCP_TOP_THRESHOLD", ge=0.0, le=1.0)
    paid_timeout: float = Field(PAID_TIMEOUT, alias="OCP_PAID_TIMEOUT", gt=0)
    paid_max_tokens: int = Field(PAID_MAX_TOKENS, alias="OCP_PAID_MAX_TOKENS", gt=0)
    paid_fallback: PaidFallback = Field(PaidFallback.LOCAL, alias="OCP_PAID_FALLBACK")
    route_threshold: float = Field(
        DEFAULT_ROUTE_THRESHOLD, alias="OCP_ROUTE_THRESHOLD", ge=0.0, le=1.0
    )
    route_mode: RouteMode = Field(RouteMode.AUTO, alias="OCP_ROUTE_MODE")
    route_timeout: float | None = Field(None, alias="OCP_ROUTE_TIMEOUT", gt=0)
    ambiguous_margin: float = Field(0.25, alias="OCP_AMBIGUOUS_MARGIN", ge=0.0, le=0.5)
    local_context_chars: int = Field(
        LOCAL_CONTEXT_CHARS, alias="OCP_LOCAL_CONTEXT_CHAR_LIMIT", gt=0
    )
    local_context_tokens: int | None = Field(None, alias="OCP_LOCAL_CONTEXT_TOKENS", gt=0)
    local_tools: bool = Field(False, alias="OCP_LOCAL_TOOLS")
    local_max_turns: int = Field(LOCAL_MAX_TURNS, alias="OCP_LOCAL_MAX_TURNS", gt=0)
    # Phase 2: the local model by default; "none" turns it off.
    classifier_model: str | None = Field(None, alias="OCP_CLASSIFIER_MODEL")
    classifier_timeout: float = Field(CLASSIFIER_TIMEOUT, alias="OCP_CLASSIFIER_TIMEOUT", gt=0)
    classifier_cache_size: int = Field(
        CLASSIFIER_CACHE_SIZE, alias="OCP_CLASSIFIER_CACHE_SIZE", ge=0
    )
    pin_hard_seconds: float = Field(HARD_SECONDS, alias="OCP_PIN_HARD_SECONDS", ge=0)
    pin_soft_seconds: float = Field(SOFT_SECONDS, alias="OCP_PIN_SOFT_SECONDS", ge=0)
    sticky: Sticky = Field(Sticky.OFF, alias="OCP_STICKY")
    floor_hours: float = Field(FLOOR_HOURS, alias="OCP_FLOOR_HOURS", ge=0)
    prices_file: str | None = Field(None, alias="OCP_PRICES")
    daily_budget_usd: float | None = Field(None, alias="OCP_DAILY_BUDGET_USD", ge=0)
    max_request_usd: float | None = Field(None, alias="OCP_MAX_REQUEST_USD", ge=0)
    anthropic_api_key: str | None = Field(None, alias="ANTHROPIC_API_KEY", repr=False)
    anthropic_base_url: str | None = Field(None, alias="ANTHROPIC_BASE_URL")
    openai_api_key: str | None = Field(None, alias="OPENAI_API_KEY", repr=False)
    openai_base_url: str = Field(OPENAI_URL, alias="OPENAI_BASE_URL", pattern=HTTP_URL)

    @model_validator(mode="after")
    def _soft_pin_outlasts_hard(self) -> RouterSettings:
        """The soft pin window follows the hard one (pins.py): shorter, it would never apply."""
        if self.pin_soft_seconds < self.pin_hard_seconds:
            default = "" if "pin_soft_seconds" in self.model_fields_set else " (its default)"
            raise ValueError(
                f"OCP_PIN_SOFT_SECONDS={self.pin_soft_seconds:g}{default} is invalid: should be "
                f"at least OCP_PIN_HARD_SECONDS ({self.pin_hard_seconds:g})"
            )
        return self

    @model_validator(mode="after")
    def _openai_paid_model_named(self) -> RouterSettings:
        """An OpenAI-compatible paid backend has no model of its own to default to: the
        default, Anthropic's id, was sent to it (a 404 at every paid call, which then fell
        back to the local model)."""
        if self.paid_configured and self.paid_backend == "openai":
            if "paid_model" not in self.model_fields_set:
                raise ValueError(
                    "OCP_PAID_MODEL is unset: with OCP_PAID_BACKEND=openai it must name a model "
                    "your OpenAI-compatible endpoint serves (gpt-4.1 on OpenAI's own; its "
                    f"default, {ANTHROPIC_MODEL}, is Anthropic's id)"
                )
        return self

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RouterSettings:
        env = os.environ if env is None else env
        values = {}
        for field in cls.model_fields.values():
            alias = field.alias
            if alias and (value := env_value(env, alias)) is not None:
                values[alias] = value
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(_explain(exc)) from exc

    @classmethod
    def read_env(cls, env: Mapping[str, str] | None = None) -> ReadSettings:
        """The settings for a reader that does not route (stats, the calibration of saved
        outcomes, `routing explain`): each invalid variable at its default, named in `error`
        and `invalid`, so the reader can tell whether the ones it needs are among them."""
        try:
            return ReadSettings(cls.from_env(env))
        except ConfigError as exc:
            error = str(exc)
        # Every variable the error names: a field's own, or those a check across settings
        # names in its sentence (the pins' windows).
        aliases = {f.alias for f in cls.model_fields.values() if f.alias}
        invalid = frozenset(re.findall(r"\b(?:OCP|ANTHROPIC|OPENAI)_[A-Z_]+\b", error)) & aliases
        env = os.environ if env is None else env
        try:
            kept = cls.from_env({k: v for k, v in env.items() if k not in invalid})
        except ConfigError:  # no sentence named what failed: nothing is trusted
            kept, invalid = cls(), frozenset(aliases)
        return ReadSettings(kept, error, invalid)

    @property
    def top_model(self) -> str | None:
        """The top tier's model: OCP_PAID_TOP_MODEL, by default Opus on Anthropic and none
        on an OpenAI-compatible paid backend (name one to get a top tier there)."""
        value = self.paid_top_model
        if value is not None:
            return None if value.lower() in _OFF else value
        return "claude-opus-4-6" if self.paid_backend == "anthropic" else None

    @property
    def counterfactual_model(self) -> str | None:
        """The model savings are measured against: the top model, else the paid one."""
        return self.top_model or self.paid_model

    @property
    def phase2_model(self) -> str | None:
        value = self.classifier_model
        if value is not None and value.lower() in _OFF:
            return None
        return value or self.local_model

    @property
    def total_timeout(self) -> float:
        if self.route_timeout is not None:
            return self.route_timeout
        return self.classifier_timeout + self.local_timeout + 2 * self.paid_timeout

    def prices(self) -> dict[str, Price] | None:
        return load_prices(self.prices_file) if self.prices_file else None

    @property
    def paid_configured(self) -> bool:
        if self.paid_backend == "anthropic":
            return bool(self.anthropic_api_key)
        if self.paid_backend == "openai":
            return bool(self.openai_api_key)
        return False


@dataclass(frozen=True, slots=True)
class ReadSettings:
    """`RouterSettings.read_env`: the settings, each invalid one at its default."""

    settings: RouterSettings
    error: str | None = None  # the ConfigError's text naming the invalid ones; None: all valid
    invalid: frozenset[str] = frozenset()  # their variables

    def valid(self, field: str) -> bool:
        """Whether the setting `field` (the attribute's name) holds what the user set."""
        return RouterSettings.model_fields[field].alias not in self.invalid

    def kept(self, field: str) -> Any:
        """The setting `field` as the user set it (or its default when unset); None when
        what they set is invalid."""
        return getattr(self.settings, field) if self.valid(field) else None


def _explain(exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        if not err["loc"]:  # a check across settings says it all
            lines.append(err["msg"].removeprefix("Value error, "))
            continue
        alias = str(err["loc"][0])
        got = err.get("input")
        ctx = err.get("ctx") or {}
        if "expected" in ctx:
            problem = f"expected one of {ctx['expected']}"
        elif err["type"] == "string_pattern_mismatch":  # the URLs' one pattern
            problem = HTTP_URL_EXPECTED
        else:  # pydantic's "Input should be …", as part of this sentence
            problem = err["msg"].removeprefix("Input ")
            if err["type"].endswith(("_parsing", "_type")) and (accepted := _accepted(alias)):
                problem += f" (accepted: {accepted})"
        lines.append(f"{alias}={got!r} is invalid: {problem}")
    return "; ".join(lines)


_BOUNDS = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}


def _accepted(alias: str) -> str | None:
    """What a number or switch setting accepts, from its field: pydantic's parse error says
    only that 'abc' is no number, not that the timeout wants one above 0."""
    field = next((f for f in RouterSettings.model_fields.values() if f.alias == alias), None)
    if field is None:
        return None
    kinds = {
        int: "an integer",
        float: "a number",
        bool: "true or false, 1 or 0, yes or no, on or off",
    }
    base = next((kinds[t] for t in kinds if field.annotation in (t, t | None)), None)
    if base is None:
        return None
    bounds = [
        f"{sign} {getattr(m, name):g}"
        for m in field.metadata
        for name, sign in _BOUNDS.items()
        if getattr(m, name, None) is not None
    ]
    if len(bounds) == 2 and bounds[0].startswith(">=") and bounds[1].startswith("<="):
        return f"{base} from {bounds[0][3:]} to {bounds[1][3:]}"
    return " ".join([base, *bounds])


def local_calibration_key(settings: RouterSettings) -> str:
    """The key the local model these settings build files its calibration under, as
    `OCPRouter.calibration_key` gives it for `build_local(settings)`, without building it."""
    ollama = settings.local_backend == "ollama"
    return model_key(
        settings.local_model, settings.ollama_url if ollama else settings.local_base_url
    )


def build_local(settings: RouterSettings) -> ModelBackend:
    if settings.local_backend == "openai":
        return OpenAIBackend(
            settings.local_model,
            base_url=settings.local_base_url,
            api_key=settings.local_api_key,
            timeout=settings.local_timeout,
            names=SettingNames(
                model="OCP_LOCAL_MODEL",
                base_url="OCP_LOCAL_BASE_URL",
                timeout="OCP_LOCAL_TIMEOUT",
                api_key="OCP_LOCAL_API_KEY",
            ),
            cut_check=True,
            said=LOCAL_OPENAI_SERVER,
        )
    return OllamaBackend(
        settings.local_model,
        base_url=settings.ollama_url,
        timeout=settings.local_timeout,
        names=SettingNames(
            model="OCP_LOCAL_MODEL", base_url="OCP_OLLAMA_URL", timeout="OCP_LOCAL_TIMEOUT"
        ),
    )


def build_paid(settings: RouterSettings) -> ModelBackend | None:
    """The paid backend, or None when it is not configured (no key, or OCP_PAID_BACKEND=none)."""
    if not settings.paid_configured:
        return None
    if settings.paid_backend == "openai":
        return OpenAIBackend(
            settings.paid_model,
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key,
            timeout=settings.paid_timeout,
            max_tokens=settings.paid_max_tokens,
            names=SettingNames(
                model="OCP_PAID_MODEL",
                base_url="OPENAI_BASE_URL",
                timeout="OCP_PAID_TIMEOUT",
                api_key="OPENAI_API_KEY in the environment the server runs in",
            ),
        )
    # Looked for, not imported: the SDK is an optional extra, imported when the backend first
    # sends a request (backends/anthropic.py), and its absence is a setting's error at start.
    if importlib.util.find_spec("anthropic") is None:
        raise ConfigError(
            "OCP_PAID_BACKEND=anthropic needs the anthropic SDK: "
            "pip install 'ocp-router[anthropic]'"
        )
    from ocp_router.backends.anthropic import AnthropicBackend  # refuses to load without it

    return AnthropicBackend(
        settings.paid_model,
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url,
        timeout=settings.paid_timeout,
        max_tokens=settings.paid_max_tokens,
        names=SettingNames(
            model="OCP_PAID_MODEL",
            base_url="ANTHROPIC_BASE_URL",
            timeout="OCP_PAID_TIMEOUT",
            api_key="ANTHROPIC_API_KEY in the env block of .mcp.json (or your shell)",
        ),
    )


async def make_router(
    env: Mapping[str, str] | None = None,
    *,
    settings: RouterSettings | None = None,
    ledger: SpendLedger | None = None,
) -> OCPRouter:
    """A router configured from the environment. Contacts nothing until the first request.
    `ledger` tells the router what was spent today (default: this process's own spend)."""
    settings = settings or RouterSettings.from_env(env)
    prices = settings.prices()
    local = build_local(settings)
    phase2_model = settings.phase2_model
    phase2 = (
        LLMClassifier(
            local,
            model=phase2_model if phase2_model != settings.local_model else None,
            timeout=settings.classifier_timeout,
            cache_size=settings.classifier_cache_size,
        )
        if phase2_model
        else None
    )
    return OCPRouter(
        local=local,
        paid=build_paid(settings),
        classifier=TaskClassifier(settings.route_threshold),
        mode=settings.route_mode,
        paid_fallback=settings.paid_fallback,
        local_max_tokens=settings.local_max_tokens,
        paid_max_tokens=settings.paid_max_tokens,
        total_timeout=settings.total_timeout,
        prices=prices,
        top_model=settings.top_model,
        top_threshold=settings.top_threshold,
        ambiguous_margin=settings.ambiguous_margin,
        local_profile=LocalProfile(
            context_chars=settings.local_context_chars,
            context_tokens=settings.local_context_tokens,
            tools=settings.local_tools,
            max_turns=settings.local_max_turns,
        ),
        phase2=phase2,
        budget=Budget(settings.daily_budget_usd, settings.max_request_usd),
        ledger=ledger,
        pins=SessionPins(
            hard_seconds=settings.pin_hard_seconds, soft_seconds=settings.pin_soft_seconds
        ),
        counterfactual_model=settings.counterfactual_model,
        sticky=settings.sticky,
        floor_hours=settings.floor_hours,
        names=ROUTER_SETTINGS,
    )
