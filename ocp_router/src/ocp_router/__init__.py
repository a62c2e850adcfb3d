"""Local-first model routing: classify a request, send it to the right tier, trace it."""

from ocp_router._rules import TaskType
from ocp_router.backends.base import GenerateRequest, GenerateResponse, ModelBackend
from ocp_router.backends.mock import MockBackend
from ocp_router.backends.ollama import OllamaBackend
from ocp_router.backends.openai import OpenAIBackend
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
from ocp_router.router import (
    Attempt,
    OCPRouter,
    PaidFallback,
    RouteMode,
    RouteResult,
    RoutingFailed,
)

__all__ = [
    "Attempt",
    "BackendAuthError",
    "BackendError",
    "BackendRateLimited",
    "BackendResponseError",
    "BackendTimeout",
    "BackendUnavailable",
    "ClassifyResult",
    "ConfigError",
    "GenerateRequest",
    "GenerateResponse",
    "MockBackend",
    "ModelBackend",
    "OCPRouter",
    "OllamaBackend",
    "OpenAIBackend",
    "PaidFallback",
    "Route",
    "RouteMode",
    "RouteResult",
    "RouterError",
    "RouterSettings",
    "RoutingFailed",
    "Signal",
    "TaskClassifier",
    "TaskType",
    "make_router",
]
