"""The state every request of one proxy shares (settings, router, recorder, HTTP client,
the local target), and the steps every path takes: work off the event loop, the
credentials and headers a request is sent upstream with."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from importlib.resources import files
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from starlette.requests import Request

from ocp_router import OCPRouter, RouterSettings, estimate_tokens
from ocp_router.backends.ollama import OllamaBackend
from ocp_router.backends.ollama_version import SilentCutCheck
from ocp_router.backends.openai import OpenAIBackend
from ocp_server.off_loop import off_loop_within
from ocp_server.proxy.dialect import ANTHROPIC, Dialect
from ocp_server.proxy.local import LocalTarget
from ocp_server.proxy.recorder import Recorder
from ocp_server.proxy.settings import ProxySettings
from ocp_server.proxy.signed_thinking import SignedThinking

if TYPE_CHECKING:  # the proxy reads its calibration and outcomes; opened by service.py
    from ocp_server.workspaces import Workspace

T = TypeVar("T")

LOOP_HEADER = "x-ocp-proxy"
LOOPED = (
    "this request came back to the proxy: its upstream URL points at itself (OCP_PROXY_*_UPSTREAM)"
)
# Client headers the provider sees as they came (besides credentials): API versions and
# betas, SDK identification (Claude Code's OAuth access depends on them).
_FORWARD_PREFIXES = ("anthropic-", "openai-", "x-stainless-")
_FORWARD = frozenset({"user-agent", "x-app"})


class ProxyBase:
    """What the proxy's paths share. `Proxy` (app.py) puts them together."""

    def __init__(
        self,
        settings: ProxySettings,
        router: OCPRouter,
        router_settings: RouterSettings,
        recorder: Recorder,
        client: httpx.AsyncClient,
        workspace: Workspace | None = None,
    ) -> None:
        """`workspace`: where routing's calibration is read (None: the defaults), and the
        floors other processes on its database lift (Workspace.floors_elsewhere)."""
        self.settings = settings
        self.workspace = workspace
        self.router = router
        self.router_settings = router_settings
        self.recorder = recorder
        self.client = client
        rs = router_settings
        local = router.local
        self.local = LocalTarget(
            rs.local_backend,
            rs.ollama_url if rs.local_backend == "ollama" else rs.local_base_url,
            rs.local_model,
            rs.local_timeout,
            rs.local_max_tokens,
            local.transport_failure if isinstance(local, OllamaBackend | OpenAIBackend) else None,
            rs.local_api_key if rs.local_backend == "openai" else None,
        )
        # Whether the local Ollama may cut a prompt silently, asked once when first needed.
        ollama = self.local.kind == "ollama"
        self.local_cuts = SilentCutCheck(self.local.base_url) if ollama else None
        # OpenAI-compatible upstreams (their URLs) that refused the stream_options the proxy
        # adds (older Azure API versions, some servers): asked without, their usage estimated.
        self.refuse_stream_options: set[str] = set()
        # Which paid model signed each thinking block relayed lately (signed_thinking.py).
        self.signed_thinking = SignedThinking()
        # The dashboard page (`/ui`), read once.
        self._dashboard = (files("ocp_server.proxy") / "dashboard.html").read_text("utf-8")

    async def _work(
        self, what: str, size: int, fn: Callable[..., T], *args: Any, building: bool = False
    ) -> T:
        """`fn(*args)`, off the event loop whatever `size` (a small body can be slow to work
        on), within OCP_PROXY_WORK_TIMEOUT (WorkTimedOut, naming `what`, the work's thread left
        behind); `size` (the body's bytes) decides whether the collector is paused."""
        seconds = self.settings.work_timeout
        return await off_loop_within(seconds, what, size, fn, *args, building=building)

    def _credentials(
        self, d: Dialect, headers: Mapping[str, str], consumed: set[str]
    ) -> dict[str, str]:
        """The client's own credentials (minus the proxy's token), else the environment's."""
        own = {k: v for k, v in d.module.credentials(headers).items() if k not in consumed}
        if any(k in own for k in ("x-api-key", "authorization")):
            return own
        rs = self.router_settings
        key = rs.anthropic_api_key if d is ANTHROPIC else rs.openai_api_key
        return own | d.module.env_credentials(key) if key else {}

    @staticmethod
    def _forwarded(headers: Mapping[str, str]) -> dict[str, str]:
        out = {k: v for k, v in headers.items() if k in _FORWARD or k.startswith(_FORWARD_PREFIXES)}
        out[LOOP_HEADER] = "1"
        return out


def body_size(request: Request) -> int:
    """The request body's size in bytes, once read (what decides whether work on it leaves
    the event loop)."""
    return int(getattr(request.state, "body_bytes", 0))


def tokens_of(value: Any) -> int:
    return estimate_tokens(json.dumps(value))
