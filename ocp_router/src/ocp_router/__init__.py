"""Local-first model routing: judge a request or a whole agent payload, send it to the right
tier (local, mid, top), escalate on failure, respect budgets, trace it."""

from importlib.metadata import version as _version

from ocp_router._rules import TaskType
from ocp_router.backends.base import GenerateRequest, GenerateResponse, ModelBackend, Turn
from ocp_router.backends.mock import MockBackend
from ocp_router.backends.ollama import OllamaBackend
from ocp_router.backends.openai import OpenAIBackend
from ocp_router.boundary import ContextProvider, PaidContext, PaidPrompt
from ocp_router.classifier import ClassifyResult, Route, Signal, TaskClassifier
from ocp_router.config import RouterSettings, make_router
from ocp_router.errors import (
    BackendAuthError,
    BackendError,
    BackendRateLimited,
    BackendResponseError,
    BackendTimeout,
    BackendUnavailable,
    ConfigError,
    RouterError,
)
from ocp_router.payload import AgentPayload, PayloadError, parse_payload
from ocp_router.phase1 import Assessment, LocalProfile, assess
from ocp_router.phase2 import LLMClassifier, Verdict
from ocp_router.pins import PinState, SessionPins
from ocp_router.redact import Redaction, RedactionResult, redact
from ocp_router.router import (
    Attempt,
    Budget,
    BudgetExceeded,
    Decision,
    MemoryLedger,
    OCPRouter,
    PaidFallback,
    RouteMode,
    RouteResult,
    RoutingFailed,
    SpendLedger,
)
from ocp_router.tiers import Band, Phase, Tier
from ocp_router.tokens import estimate_tokens

__version__ = _version("ocp-router")

__all__ = [
    "AgentPayload",
    "Assessment",
    "Attempt",
    "BackendAuthError",
    "BackendError",
    "BackendRateLimited",
    "BackendResponseError",
    "BackendTimeout",
    "BackendUnavailable",
    "Band",
    "Budget",
    "BudgetExceeded",
    "ClassifyResult",
    "ConfigError",
    "ContextProvider",
    "Decision",
    "GenerateRequest",
    "GenerateResponse",
    "LLMClassifier",
    "LocalProfile",
    "MemoryLedger",
    "MockBackend",
    "ModelBackend",
    "OCPRouter",
    "OllamaBackend",
    "OpenAIBackend",
    "PaidContext",
    "PaidFallback",
    "PaidPrompt",
    "PayloadError",
    "Phase",
    "PinState",
    "Redaction",
    "RedactionResult",
    "Route",
    "RouteMode",
    "RouteResult",
    "RouterError",
    "RouterSettings",
    "RoutingFailed",
    "SessionPins",
    "Signal",
    "SpendLedger",
    "TaskClassifier",
    "TaskType",
    "Tier",
    "Turn",
    "Verdict",
    "__version__",
    "assess",
    "estimate_tokens",
    "make_router",
    "parse_payload",
    "redact",
]
