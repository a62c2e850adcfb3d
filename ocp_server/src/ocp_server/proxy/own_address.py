"""ocp_model_route's paid calls go to the provider, not through OCP's own proxy.

Claude Code pointed at the proxy sets ANTHROPIC_BASE_URL to it, and an ocp-server it starts
inherits that: its paid calls went into the proxy, which routed them a second time (a route
forced to `top` could be answered locally) and traced them again. A paid endpoint that is the
proxy's address (its OCP_PROXY_PORT on this machine, or on OCP_PROXY_HOST) is replaced by the
upstream the proxy relays that dialect to (OCP_PROXY_ANTHROPIC_UPSTREAM /
OCP_PROXY_OPENAI_UPSTREAM), read from the same settings the proxy reads.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from urllib.parse import urlsplit

from ocp_router.config import RouterSettings
from ocp_server.proxy.loopback import is_loopback
from ocp_server.proxy.settings import ProxySettings

logger = logging.getLogger(__name__)

# The proxy's settings that say where it listens and where it relays; its others (a token
# of the wrong length, say) are the proxy's business, not the MCP server's.
_READ = (
    "OCP_PROXY_HOST",
    "OCP_PROXY_PORT",
    "OCP_PROXY_ANTHROPIC_UPSTREAM",
    "OCP_PROXY_OPENAI_UPSTREAM",
)


def is_own_proxy(url: str, proxy: ProxySettings) -> bool:
    """`url` is the address `proxy` listens on."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # not a port: not the proxy's
        return False
    host = parts.hostname or ""
    return port == proxy.port and (is_loopback(parts.netloc) or host == proxy.host)


def around_own_proxy(
    settings: RouterSettings, env: Mapping[str, str] | None = None
) -> RouterSettings:
    """`settings` with a paid endpoint that is OCP's own proxy replaced by the provider the
    proxy relays to. Raises ConfigError naming an invalid OCP_PROXY_* it reads."""
    env = os.environ if env is None else env
    proxy = ProxySettings.from_env({k: env[k] for k in _READ if k in env})
    update: dict[str, str] = {}
    if settings.anthropic_base_url and is_own_proxy(settings.anthropic_base_url, proxy):
        update["anthropic_base_url"] = proxy.anthropic_upstream
    if is_own_proxy(settings.openai_base_url, proxy):
        update["openai_base_url"] = proxy.openai_upstream
    for field in update:  # the upstream unnamed: its URL may hold a user and password
        logger.info(
            "%s is OCP's own proxy: ocp_model_route's paid calls go to the provider it relays "
            "to (OCP_PROXY_%s_UPSTREAM), not through it",
            field.upper(),
            field.split("_")[0].upper(),
        )
    return settings.model_copy(update=update) if update else settings
