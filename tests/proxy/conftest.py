"""A real proxy on 127.0.0.1 (uvicorn in a thread with its own event loop), in front of the
fake Ollama, Anthropic and OpenAI servers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from ocp_server.proxy import Proxy, ProxySettings, open_proxy
from ocp_server.proxy.service import _serve, bound_port, uvicorn_server
from ocp_server.settings import ServerSettings
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.ollama import FakeOllama
from tests.fakes.openai import FakeOpenAI
from tests.proxy.outcomes import Outcomes

T = TypeVar("T")


class RunningProxy:
    def __init__(
        self,
        env: dict[str, str],
        workspace: Path | None,
        db: Path | None,
        port: int = 0,
        **overrides: Any,
    ) -> None:
        self.env = env
        self.settings = ProxySettings.from_env(env, OCP_PROXY_PORT=port, **overrides)
        self.workspace = workspace
        self.db = db
        self.proxy: Proxy | None = None
        self.server: uvicorn.Server | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.port = 0
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="proxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        server_settings = ServerSettings(db_path=self.db)
        async with open_proxy(
            self.settings, self.workspace, env=self.env, server_settings=server_settings
        ) as proxy:
            self.proxy = proxy
            self.server = uvicorn_server(proxy, self.settings)
            task = asyncio.create_task(_serve(self.server, self.settings))  # as `serve`
            while not self.server.started and not task.done():
                await asyncio.sleep(0.01)
            self.port = bound_port(self.server)
            self._ready.set()
            await task

    def start(self) -> RunningProxy:
        self._thread.start()
        self._ready.wait(30)
        if self._error is not None:
            raise self._error
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
        self._thread.join(30)
        assert not self._thread.is_alive(), "the proxy did not stop"

    def call(self, fn: Callable[[Proxy], Coroutine[Any, Any, T]]) -> T:
        """Run `fn(proxy)` (a coroutine function) on the proxy's loop and return its result."""
        assert self.loop is not None and self.proxy is not None
        return asyncio.run_coroutine_threadsafe(fn(self.proxy), self.loop).result(60)


@pytest.fixture
def proxy_env(
    fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI
) -> dict[str, str]:
    return {
        "OCP_LOCAL_BACKEND": "ollama",
        "OCP_LOCAL_MODEL": "llama3.2",
        "OCP_OLLAMA_URL": fake_ollama.url,
        "OCP_PAID_MODEL": "claude-sonnet-5-5",
        "OCP_PAID_TOP_MODEL": "claude-opus-5-5",
        "OCP_PROXY_ANTHROPIC_UPSTREAM": fake_anthropic.url,
        "OCP_PROXY_OPENAI_UPSTREAM": fake_openai.base_url,
    }


@pytest.fixture
def thinking_ollama() -> Iterator[FakeOllama]:
    """An Ollama whose model can think (`thinking` among its capabilities)."""
    with FakeOllama(capabilities=["completion", "tools", "thinking"]) as fake:
        yield fake


@pytest.fixture
def start_proxy(tmp_path: Path) -> Iterator[Callable[..., RunningProxy]]:
    started: list[RunningProxy] = []

    def start(
        env: dict[str, str], *, store: bool = True, port: int = 0, **overrides: Any
    ) -> RunningProxy:
        """`port`: 0 for any free one."""
        workspace = tmp_path / "ws" if store else None
        if workspace is not None:
            workspace.mkdir(exist_ok=True)
        db = tmp_path / "ocp.db" if store else None
        running = RunningProxy(env, workspace, db, port, **overrides)
        started.append(running)
        return running.start()

    yield start
    for running in started:
        running.stop()


@pytest.fixture
def outcomes(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    fake_anthropic: FakeAnthropic,
) -> Outcomes:
    """Phase-1-only proxies and outcomes saved on their requests (tests/proxy/outcomes.py)."""
    return Outcomes(start_proxy, proxy_env, workspace, monkeypatch, fake_ollama, fake_anthropic)
