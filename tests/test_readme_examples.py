"""The READMEs' Python examples run as written (the one placeholder, the client's workspace
path, filled in), each in a fresh interpreter with ResourceWarnings shown: an example that
leaves a connection or a server open fails on its stderr. `await` at the top level runs as in
`python -m asyncio`, which the README offers for them."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fakes import FakeOpenAI, closed_port

ROOT = Path(__file__).resolve().parents[1]
READMES = (ROOT / "README.md", ROOT / "ocp_router" / "README.md")
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)
# Compiled as the asyncio REPL does. Code with top-level await runs in a loop that, once it is
# done, drops what the example left behind while still running: a connection left open is
# then collected with asyncio's "unclosed transport" ResourceWarning.
_RUNNER = """
import ast, asyncio, gc, inspect, sys
code = compile(sys.stdin.read(), "README example", "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
if not code.co_flags & inspect.CO_COROUTINE:
    exec(code, {"__name__": "__main__"})
    sys.exit()

async def main():
    names = {"__name__": "__main__"}
    await eval(code, names)
    names.clear()
    gc.collect()
    await asyncio.sleep(0)

asyncio.run(main())
"""


def _examples(readme: Path, *, mentioning: str) -> list[str]:
    return [block for block in _BLOCK.findall(readme.read_text()) if mentioning in block]


def _snippets(readme: Path) -> list[str]:
    """The router examples written for async code (no `asyncio.run` of their own), in order."""
    return [b for b in _examples(readme, mentioning="await router.") if "asyncio.run(" not in b]


def _run(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", _RUNNER],
        input=code,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def _env(**settings: str) -> dict[str, str]:
    import os

    keep = {k: v for k, v in os.environ.items() if not k.startswith(("OCP_", "ANTHROPIC_"))}
    return keep | settings


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_mock_backend_example_runs_and_routes_each_prompt(readme: Path) -> None:
    (example,) = _examples(readme, mentioning="MockBackend(")
    done = _run(example, _env())
    assert done.returncode == 0 and done.stderr == "", done.stderr
    routes = [line.split()[0] for line in done.stdout.splitlines() if not line.startswith(" ")]
    assert routes == ["local", "paid"]


@pytest.mark.parametrize("readme", READMES, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_make_router_examples_run_against_a_local_model_and_leave_nothing_open(
    readme: Path,
) -> None:
    examples = _snippets(readme)
    assert examples, "no make_router example"
    # An OpenAI-compatible local server: its connections stay open between requests.
    settings = {"OCP_LOCAL_BACKEND": "openai", "OCP_PAID_BACKEND": "none"}
    with FakeOpenAI() as fake:
        done = _run("\n".join(examples), _env(OCP_LOCAL_BASE_URL=fake.base_url, **settings))
        asked = [r.path for r in fake.requests]
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert "/v1/chat/completions" in asked


def test_the_client_example_runs_against_a_real_server(workspace: Path) -> None:
    (example,) = _examples(ROOT / "README.md", mentioning="OCPClient(")
    example = example.replace("/path/to/repo", str(workspace))
    printed = example + "\nprint(hits.results[0].path, answer.answered_by, saved.saved)\n"
    # No model anywhere (an Ollama of the machine's own is not asked): answered by the agent.
    done = _run(printed, _env(OCP_OLLAMA_URL=f"http://127.0.0.1:{closed_port()}"))
    assert done.returncode == 0 and "ResourceWarning" not in done.stderr, done.stderr
    path, answered_by, saved = done.stdout.split(maxsplit=2)
    assert path.endswith("auth.py") and answered_by == "agent" and "'summary': 1" in saved
