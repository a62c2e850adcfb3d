"""What the proxy's outcome tests share: a request phase 1 scores just under the line, a
proxy started without the classifier model, an outcome saved through the MCP server (another
process's ocp_result_save) on a proxied request, and what the local model's calibration
learned from it (the `outcomes` fixture, in conftest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ocp_router.calibration_file import calibration_path
from tests.fakes import FakeAnthropic, FakeOllama
from tests.server.inproc import inproc_client, paid_env

if TYPE_CHECKING:  # conftest.py imports this module for its fixture
    from tests.proxy.conftest import RunningProxy

NEAR = "debug the export job that fails on weekends"  # a request phase 1 scores just under 0.5


def phase1_only(proxy_env: dict[str, str]) -> dict[str, str]:
    return proxy_env | {"OCP_CLASSIFIER_MODEL": "none"}


class Outcomes:
    """Proxies routing by phase 1 alone, and outcomes saved on their requests through the MCP
    server on the same workspace."""

    def __init__(
        self,
        start_proxy: Callable[..., RunningProxy],
        proxy_env: dict[str, str],
        workspace: Path,
        monkeypatch: pytest.MonkeyPatch,
        fake_ollama: FakeOllama,
        fake_anthropic: FakeAnthropic,
    ) -> None:
        self._start_proxy = start_proxy
        self.env = phase1_only(proxy_env)
        self._workspace = workspace
        self._monkeypatch = monkeypatch
        self._fake_ollama = fake_ollama
        self._fake_anthropic = fake_anthropic

    def proxy(self, **env: str) -> RunningProxy:
        """A proxy started on `self.env` and `env` (more OCP_ settings)."""
        return self._start_proxy(self.env | env)

    async def saved(self, request_id: str, outcome: str) -> dict[str, Any]:
        """What `ocp_result_save` answers to `outcome` saved on the proxied request
        `request_id`."""
        env = paid_env(self._fake_ollama, self._fake_anthropic) | {"OCP_CLASSIFIER_MODEL": "none"}
        async with inproc_client(self._workspace, self._monkeypatch, env) as client:
            out = await client.call_tool(
                "ocp_result_save", {"trace_id": request_id, "outcome": outcome}
            )
        assert not out.is_error and out.structured_content is not None, out.content
        saved: dict[str, Any] = out.structured_content
        return saved

    @property
    def calibration(self) -> Path:
        """The workspace's calibration file."""
        return calibration_path(self._workspace.parent)

    def learned(self) -> dict[str, Any]:
        """What the local model's calibration holds, by task type."""
        stored = json.loads(self.calibration.read_text("utf-8"))
        task_types: dict[str, Any] = stored["models"][f"llama3.2 @ {self._fake_ollama.url}"][
            "task_types"
        ]
        return task_types
