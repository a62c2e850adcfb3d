"""The OCP_* variables OCP reads, to tell a misspelt one: an unknown name is ignored as any
variable is, and `OCP_LOCAL_MODLE=qwen3` left the default model in use with nothing said.
tests/test_readme_settings.py keeps this list equal to the names the code reads."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

__all__ = ["SETTING_NAMES", "misspelt_settings"]

SETTING_NAMES = frozenset(
    {
        "OCP_AMBIGUOUS_MARGIN",
        "OCP_CLASSIFIER_CACHE_SIZE",
        "OCP_CLASSIFIER_MODEL",
        "OCP_CLASSIFIER_TIMEOUT",
        "OCP_CONTEXT_TOKENS",
        "OCP_DAILY_BUDGET_USD",
        "OCP_DB_PATH",
        "OCP_FIRST_INDEX_WAIT",
        "OCP_FLOOR_HOURS",
        "OCP_HISTORY_COMMITS",
        "OCP_LOCAL_API_KEY",
        "OCP_LOCAL_BACKEND",
        "OCP_LOCAL_BASE_URL",
        "OCP_LOCAL_CONTEXT_CHAR_LIMIT",
        "OCP_LOCAL_CONTEXT_TOKENS",
        "OCP_LOCAL_MAX_TOKENS",
        "OCP_LOCAL_MAX_TURNS",
        "OCP_LOCAL_MODEL",
        "OCP_LOCAL_TIMEOUT",
        "OCP_LOCAL_TOOLS",
        "OCP_MAX_FILES",
        "OCP_MAX_FILE_BYTES",
        "OCP_MAX_REQUEST_USD",
        "OCP_MEMORY_TTL_DAYS",
        "OCP_OLLAMA_URL",
        "OCP_PAID_BACKEND",
        "OCP_PAID_FALLBACK",
        "OCP_PAID_MAX_TOKENS",
        "OCP_PAID_MODEL",
        "OCP_PAID_TIMEOUT",
        "OCP_PAID_TOP_MODEL",
        "OCP_PIN_HARD_SECONDS",
        "OCP_PIN_SOFT_SECONDS",
        "OCP_PRICES",
        "OCP_PROXY_ANTHROPIC_UPSTREAM",
        "OCP_PROXY_CEILING",
        "OCP_PROXY_HOST",
        "OCP_PROXY_MAX_BODY_BYTES",
        "OCP_PROXY_OPENAI_UPSTREAM",
        "OCP_PROXY_PORT",
        "OCP_PROXY_RECENT",
        "OCP_PROXY_SHUTDOWN_GRACE",
        "OCP_PROXY_TOKEN",
        "OCP_PROXY_UPSTREAM_TIMEOUT",
        "OCP_PROXY_WORK_TIMEOUT",
        "OCP_ROUTE_CONCURRENCY",
        "OCP_ROUTE_MODE",
        "OCP_ROUTE_THRESHOLD",
        "OCP_ROUTE_TIMEOUT",
        "OCP_SEARCH_TOKENS",
        "OCP_SNAPSHOT_MB",
        "OCP_STICKY",
        "OCP_TOOL_NAMES",
        "OCP_TOP_THRESHOLD",
        "OCP_TRACE_CONTENT",
        "OCP_WORKSPACE",
    }
)

_PREFIX = "OCP_"
# How alike (difflib's ratio, past the prefix) an unknown name and a setting must be to take
# one for the other: a typo, a missing or swapped letter; not another tool's OCP_* variable
# (OpenShift's OCP_VERSION is like no setting)
_ALIKE = 0.75


def misspelt_settings(env: Mapping[str, str]) -> dict[str, str]:
    """Each OCP_* variable of `env` that OCP does not read and that looks like one it does:
    the name set -> the setting it was likely meant to be."""
    tails = {name.removeprefix(_PREFIX): name for name in SETTING_NAMES}
    found: dict[str, str] = {}
    for name in sorted(env):
        if not name.startswith(_PREFIX) or name in SETTING_NAMES:
            continue
        tail = name.removeprefix(_PREFIX).upper()
        if tail in tails:  # set in another case: OCP_local_model
            found[name] = tails[tail]
            continue
        near = difflib.get_close_matches(tail, list(tails), n=1, cutoff=_ALIKE)
        if near:
            found[name] = tails[near[0]]
    return found
