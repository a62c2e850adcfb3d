"""The server's environment: what the caller's own environment passes on to it.

The MCP SDK starts a server with a short safe list (HOME, LOGNAME, PATH, SHELL, TERM, USER on
POSIX) plus the `env` it is given: nothing else of the caller's. A user who exported OCP_* settings
or a provider key in their shell expects the server their script starts to use them, as the
server does when they run it by hand. So the client adds, from its own environment, every OCP_*
variable and the provider variables the router reads, and nothing else: an unrelated secret, a
PYTHONPATH or a VIRTUAL_ENV meant for the caller stays out. The network settings the router's
HTTP client (httpx) reads pass too: behind a corporate proxy or a private CA, a paid or local
model is reachable from the server only with them.

CLAUDE_PROJECT_DIR is left out on purpose: Claude Code sets it in every shell it opens, and the
server would take it over `cwd` as the workspace. tests/client/test_environment.py fails when
the server reads a variable this rule does not pass on.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["NETWORK_NAMES", "PASSED_NAMES", "PASSED_PREFIX", "passed_on", "server_environment"]

PASSED_PREFIX = "OCP_"
# The router's provider settings (ocp_router.config.RouterSettings) without the OCP_ prefix.
PASSED_NAMES = frozenset(
    {"ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL"}
)
# What httpx reads from the environment (trust_env): proxies, either case, and CA bundles.
NETWORK_NAMES = frozenset(
    {
        *(
            case(name)
            for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
            for case in (str.upper, str.lower)
        ),
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    }
)


def passed_on(name: str) -> bool:
    """Whether the caller's variable `name` reaches the server."""
    return name.startswith(PASSED_PREFIX) or name in PASSED_NAMES or name in NETWORK_NAMES


def server_environment(environ: Mapping[str, str], env: Mapping[str, str]) -> dict[str, str]:
    """What the client adds to the SDK's safe list: the variables of `environ` (the caller's)
    that are passed on, then `env`, which wins (an empty value counts as unset there)."""
    return {**{name: value for name, value in environ.items() if passed_on(name)}, **env}
