"""What the server imports before it can answer `initialize`, and that the deferred parts of
the mcp SDK are whole when used (ocp_server.sdk_imports). Timing lives in
`bench/bench_server.py --start`; these tests pin the import graph, which is what regresses."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from ocp_server.sdk_imports import defer_package_init

LOAD_SERVER = "import sys, json\nfrom ocp_server import cli\ncli.load_server()\n"

# The tools' implementation and its libraries load after `initialize` (server._load_app);
# the SDK's client and high-level server are not used by a stdio server at all.
NOT_BEFORE_INITIALIZE = (
    "numpy",
    "tree_sitter",
    "tree_sitter_python",
    "Stemmer",
    "anthropic",
    "openai",
    "httpx",
    "httpx2",
    "aiosqlite",
    "pathspec",
    "rich",
    "ocp_router.router",
    "ocp_router.classifier",
    "ocp_router.backends",
    "ocp_server.app",
    "ocp_server.memory",
    "ocp_server.index.workspace",
    "ocp_server.index.chunking",
    "mcp.client",
    "mcp.server.mcpserver",
)


def run(code: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", LOAD_SERVER + code], capture_output=True, text=True, check=True
    )
    return out.stdout.strip()


def test_serving_imports_neither_the_tools_libraries_nor_the_sdks_client() -> None:
    loaded = set(json.loads(run("print(json.dumps(sorted(sys.modules)))")))
    assert "ocp_server.server" in loaded and "mcp.server.lowlevel.server" in loaded
    assert sorted(loaded & set(NOT_BEFORE_INITIALIZE)) == []


def test_the_deferred_sdk_packages_are_whole_on_first_use() -> None:
    code = (
        "import mcp, mcp.server; "
        "from mcp import ClientSession, stdio_client; "
        "from mcp.client.session import ClientSession as Defined; "
        "from mcp.server import MCPServer, Server; "
        "from mcp.server.lowlevel.server import Server as Low; "
        "print(json.dumps([ClientSession is Defined, Server is Low, "
        "[n for n in mcp.__all__ if not hasattr(mcp, n)], "
        "[n for n in mcp.server.__all__ if not hasattr(mcp.server, n)]]))"
    )
    assert json.loads(run(code)) == [True, True, [], []]


def test_only_the_sdks_models_wait_for_first_use() -> None:
    code = (
        "from pydantic._internal._config import config_defaults\n"
        "from pydantic import BaseModel\n"
        "import mcp_types\n"
        "import ocp_wire as wire\n"
        "class Later(BaseModel):\n"
        "    x: int\n"
        "before = mcp_types.ListToolsResult.__pydantic_complete__\n"
        "mcp_types.ListToolsResult(tools=[])\n"
        "print(json.dumps([config_defaults['defer_build'], wire.SearchArgs.__pydantic_complete__, "
        "Later.__pydantic_complete__, before, mcp_types.ListToolsResult.__pydantic_complete__]))"
    )
    assert json.loads(run(code)) == [False, True, True, False, True]


@pytest.fixture
def package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A package whose `__init__` re-exports its submodule and counts its runs."""
    root = tmp_path / "deferred_pkg"
    root.mkdir()
    (root / "__init__.py").write_text(
        "import time, deferred_runs\n"
        "deferred_runs.count += 1\n"
        "time.sleep(0.05)\n"
        "from deferred_pkg.part import VALUE\n"
        "LAST = 'set at the end'\n"
    )
    (root / "part.py").write_text("VALUE = 42\n")
    (tmp_path / "deferred_runs.py").write_text("count = 0\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "deferred_pkg"
    for name in [m for m in sys.modules if m.split(".")[0] in ("deferred_pkg", "deferred_runs")]:
        del sys.modules[name]


def test_a_deferred_package_runs_its_init_once_on_first_attribute_for_every_thread(
    package: str,
) -> None:
    import importlib

    runs = importlib.import_module("deferred_runs")
    assert defer_package_init(package) is not None
    part = importlib.import_module(f"{package}.part")  # a submodule: the __init__ waits
    assert part.VALUE == 42 and runs.count == 0

    seen: list[str] = []
    threads = [
        threading.Thread(target=lambda: seen.append(sys.modules[package].LAST)) for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == ["set at the end"] * 4  # none saw a half-run __init__
    assert runs.count == 1
    assert sys.modules[package].VALUE == 42
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        sys.modules[package].missing  # noqa: B018


def test_a_package_already_imported_is_left_alone() -> None:
    import json as already

    assert defer_package_init("json") is None
    assert sys.modules["json"] is already
