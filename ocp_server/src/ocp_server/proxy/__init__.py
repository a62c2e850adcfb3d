"""An Anthropic- and OpenAI-compatible proxy that routes an agent's own model requests:
`ocp-server proxy`. See app.py for what happens to one request."""

from ocp_server.proxy.app import Proxy, build_app
from ocp_server.proxy.service import open_proxy, serve
from ocp_server.proxy.settings import Ceiling, ProxySettings

__all__ = ["Ceiling", "Proxy", "ProxySettings", "build_app", "open_proxy", "serve"]
