"""Property-based fuzzing of ocp-server through the real MCP client over stdio: whatever the
arguments, every call is answered within its bound, invalid input is always a tool error with
a short text, valid answers match the output schema, and the server keeps serving. About 200
cases here (`OCP_FUZZ_EXAMPLES` changes it); `bench/soak.py` runs thousands."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fakes import FakeOllama
from tests.fuzzing import BackgroundClient, Case, check_answer, tool_calls
from tests.server.stdio_env import server_env
from tests.workspace_fixture import AUTH_PY, git

EXAMPLES = int(os.environ.get("OCP_FUZZ_EXAMPLES", "200"))
CALL_SECONDS = 30.0


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BackgroundClient]:
    root = tmp_path_factory.mktemp("fuzz")
    ws = root / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "src" / "auth.py").write_text(AUTH_PY)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "init")
    with FakeOllama() as ollama:
        env = server_env(
            ws,
            ollama,
            OCP_CLASSIFIER_MODEL="none",
            PATH=os.environ.get("PATH", "/usr/bin:/bin"),
            HOME=str(root),
        )
        with BackgroundClient(env, cwd=Path(root)) as client:
            yield client


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=tool_calls())
def test_every_tool_call_is_answered_and_invalid_input_is_refused(
    fuzz_server: BackgroundClient, case: Case
) -> None:
    result = fuzz_server.call(case.tool, case.arguments, timeout=CALL_SECONDS)
    problem = check_answer(case, result)
    assert problem is None, problem


def test_the_server_still_serves_after_the_fuzzing(fuzz_server: BackgroundClient) -> None:
    result = fuzz_server.call("ocp_context_search", {"query": "verify_token"}, timeout=30)
    assert not result.is_error
