"""Local-first model routing: judge a request or a whole agent payload, send it to the right
tier (local, mid, top), escalate on failure, respect budgets, trace it.

The names below load on first use (PEP 562): `import ocp_router.errors` or `ocp_router.env`
does not pull in httpx, pydantic and every backend, which keeps the server's start short."""

from __future__ import annotations

import logging as _logging
from importlib import import_module
from importlib.metadata import version as _version
from importlib.util import find_spec
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ocp_router._rules import TaskType
    from ocp_router.backends.anthropic import AnthropicBackend
    from ocp_router.backends.base import (
        CheckedBackend,
        ClosingBackend,
        GenerateRequest,
        GenerateResponse,
        ModelBackend,
        SettingNames,
        Turn,
    )
    from ocp_router.backends.mock import MockBackend
    from ocp_router.backends.ollama import OllamaBackend
    from ocp_router.backends.openai import OpenAIBackend
    from ocp_router.backends.probe import ModelProbe, Probing
    from ocp_router.boundary import ContextProvider, PaidContext, PaidPrompt
    from ocp_router.budget import Budget, MemoryLedger, SpendLedger
    from ocp_router.calibration import Calibration, Outcome, Taught, TypeCalibration
    from ocp_router.classifier import ClassifyResult, Signal, TaskClassifier
    from ocp_router.config import RouterSettings, make_router
    from ocp_router.errors import (
        BackendAuthError,
        BackendContextExceeded,
        BackendError,
        BackendRateLimited,
        BackendResponseError,
        BackendTimeout,
        BackendUnavailable,
        ConfigError,
        RouterError,
    )
    from ocp_router.hints import RouterNames
    from ocp_router.modes import PaidFallback, RouteMode
    from ocp_router.payload import AgentPayload, Message, PayloadError, parse_payload
    from ocp_router.phase1 import Assessment, LocalProfile, assess
    from ocp_router.phase2 import LLMClassifier, Verdict
    from ocp_router.pins import Pin, PinState, SessionPins
    from ocp_router.prices import Price
    from ocp_router.redact import Redaction, RedactionResult
    from ocp_router.results import Attempt, BudgetExceeded, Decision, RouteResult, RoutingFailed
    from ocp_router.router import OCPRouter
    from ocp_router.sticky import Sticky
    from ocp_router.tiers import EFFORTS, Band, Effort, Phase, Route, Tier
    from ocp_router.tokens import estimate_tokens

# Loaded now: `redact` names a function and its module. Importing the module binds the package
# attribute to the module; this import binds it back to the function, before anyone looks.
from ocp_router.redact import redact  # noqa: E402

__version__ = _version("ocp-router")

# A library logs to its loggers and leaves where the lines go to the application (the logging
# HOWTO's rule for libraries): without this, Python's last-resort handler printed the router's
# warnings (a failed attempt the fallback answered) on the stderr of a program that set no
# logging up. An application that configures logging sees them as before.
_logging.getLogger(__name__).addHandler(_logging.NullHandler())

# name -> the module that defines it
_HOMES: dict[str, str] = {
    "AgentPayload": "ocp_router.payload",
    "AnthropicBackend": "ocp_router.backends.anthropic",
    "Assessment": "ocp_router.phase1",
    "Attempt": "ocp_router.results",
    "BackendAuthError": "ocp_router.errors",
    "BackendContextExceeded": "ocp_router.errors",
    "BackendError": "ocp_router.errors",
    "BackendRateLimited": "ocp_router.errors",
    "BackendResponseError": "ocp_router.errors",
    "BackendTimeout": "ocp_router.errors",
    "BackendUnavailable": "ocp_router.errors",
    "Band": "ocp_router.tiers",
    "Budget": "ocp_router.budget",
    "BudgetExceeded": "ocp_router.results",
    "Calibration": "ocp_router.calibration",
    "CheckedBackend": "ocp_router.backends.base",
    "ClassifyResult": "ocp_router.classifier",
    "ClosingBackend": "ocp_router.backends.base",
    "ConfigError": "ocp_router.errors",
    "EFFORTS": "ocp_router.tiers",
    "ContextProvider": "ocp_router.boundary",
    "Decision": "ocp_router.results",
    "Effort": "ocp_router.tiers",
    "GenerateRequest": "ocp_router.backends.base",
    "GenerateResponse": "ocp_router.backends.base",
    "LLMClassifier": "ocp_router.phase2",
    "LocalProfile": "ocp_router.phase1",
    "MemoryLedger": "ocp_router.budget",
    "Message": "ocp_router.payload",
    "MockBackend": "ocp_router.backends.mock",
    "ModelProbe": "ocp_router.backends.probe",
    "ModelBackend": "ocp_router.backends.base",
    "OCPRouter": "ocp_router.router",
    "OllamaBackend": "ocp_router.backends.ollama",
    "OpenAIBackend": "ocp_router.backends.openai",
    "Outcome": "ocp_router.calibration",
    "PaidContext": "ocp_router.boundary",
    "PaidFallback": "ocp_router.modes",
    "PaidPrompt": "ocp_router.boundary",
    "PayloadError": "ocp_router.payload",
    "Phase": "ocp_router.tiers",
    "Pin": "ocp_router.pins",
    "PinState": "ocp_router.pins",
    "Price": "ocp_router.prices",
    "Probing": "ocp_router.backends.probe",
    "Redaction": "ocp_router.redact",
    "RedactionResult": "ocp_router.redact",
    "Route": "ocp_router.tiers",
    "RouteMode": "ocp_router.modes",
    "RouteResult": "ocp_router.results",
    "RouterError": "ocp_router.errors",
    "RouterNames": "ocp_router.hints",
    "RouterSettings": "ocp_router.config",
    "RoutingFailed": "ocp_router.results",
    "SessionPins": "ocp_router.pins",
    "SettingNames": "ocp_router.backends.base",
    "Signal": "ocp_router.classifier",
    "SpendLedger": "ocp_router.budget",
    "Sticky": "ocp_router.sticky",
    "TaskClassifier": "ocp_router.classifier",
    "TaskType": "ocp_router._rules",
    "Taught": "ocp_router.calibration",
    "Tier": "ocp_router.tiers",
    "Turn": "ocp_router.backends.base",
    "TypeCalibration": "ocp_router.calibration",
    "Verdict": "ocp_router.phase2",
    "assess": "ocp_router.phase1",
    "estimate_tokens": "ocp_router.tokens",
    "make_router": "ocp_router.config",
    "parse_payload": "ocp_router.payload",
}


# An optional extra's module -> what installs it
_EXTRAS = {"anthropic": "pip install 'ocp-router[anthropic]'"}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ocp_router' has no attribute {name!r}")
    try:
        module = import_module(home)
    except ModuleNotFoundError as exc:
        if exc.name not in _EXTRAS:
            raise
        raise ImportError(
            f"ocp_router.{name} needs the {exc.name} SDK: {_EXTRAS[exc.name]}", name=exc.name
        ) from exc
    value = getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AgentPayload",
    "AnthropicBackend",
    "Assessment",
    "Attempt",
    "BackendAuthError",
    "BackendContextExceeded",
    "BackendError",
    "BackendRateLimited",
    "BackendResponseError",
    "BackendTimeout",
    "BackendUnavailable",
    "Band",
    "Budget",
    "BudgetExceeded",
    "Calibration",
    "CheckedBackend",
    "ClassifyResult",
    "ClosingBackend",
    "ConfigError",
    "ContextProvider",
    "Decision",
    "EFFORTS",
    "Effort",
    "GenerateRequest",
    "GenerateResponse",
    "LLMClassifier",
    "LocalProfile",
    "MemoryLedger",
    "Message",
    "MockBackend",
    "ModelBackend",
    "ModelProbe",
    "OCPRouter",
    "OllamaBackend",
    "OpenAIBackend",
    "Outcome",
    "PaidContext",
    "PaidFallback",
    "PaidPrompt",
    "PayloadError",
    "Phase",
    "Pin",
    "PinState",
    "Price",
    "Probing",
    "Redaction",
    "RedactionResult",
    "Route",
    "RouteMode",
    "RouteResult",
    "RouterError",
    "RouterNames",
    "RouterSettings",
    "RoutingFailed",
    "SessionPins",
    "SettingNames",
    "Signal",
    "SpendLedger",
    "Sticky",
    "TaskClassifier",
    "TaskType",
    "Taught",
    "Tier",
    "Turn",
    "TypeCalibration",
    "Verdict",
    "__version__",
    "assess",
    "estimate_tokens",
    "make_router",
    "parse_payload",
    "redact",
]

# Without the anthropic extra, `from ocp_router import *` imports what it can (0.1 ms).
if not TYPE_CHECKING and find_spec("anthropic") is None:
    __all__.remove("AnthropicBackend")
