"""A call on its way when the client's roots change, its folder not open yet: one that named
its `workspace` is served where that folder is now, or told it is outside them; one that did
not is told its folder was closed, and which folder a call now uses."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from mcp import Client
from mcp.types import CallToolResult, ListRootsResult, Root

from ocp_server.open_workspaces import OpenWorkspaces
from ocp_server.server import build_server
from ocp_server.settings import ServerSettings
from ocp_server.workspaces import Workspace
from tests.server.inproc import text_of


def _project(root: Path, word: str) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "m.py").write_text(f"def {word}():\n    return 1\n")
    return root


@asynccontextmanager
async def _roots_moving_under_the_first_call(
    monkeypatch: pytest.MonkeyPatch, cwd: Path, before: list[Path], after: list[Path]
) -> AsyncIterator[Client]:
    """A client whose roots are `before` when the first call resolves its folder, and change
    to `after` before the server opens it (the server has asked for them again by then)."""
    monkeypatch.setenv("OCP_OLLAMA_URL", "http://127.0.0.1:9")
    roots = list(before)

    async def list_roots(context: object) -> ListRootsResult:
        return ListRootsResult(roots=[Root(uri=r.as_uri()) for r in roots])

    real_get = OpenWorkspaces.get
    moved = False

    async def get(self: OpenWorkspaces, path: Path, *, watch: bool = True) -> Workspace:
        nonlocal moved
        if not moved:
            moved = True
            roots[:] = after
            with warnings.catch_warnings():  # roots are deprecated in MCP's next version
                warnings.simplefilter("ignore")
                await client.send_roots_list_changed()
            for _ in range(3_000):  # until the server has asked for them and applied them
                if self._allowed is not None:
                    break
                await asyncio.sleep(0.01)
        return await real_get(self, path, watch=watch)

    monkeypatch.setattr(OpenWorkspaces, "get", get)
    server = build_server(ServerSettings(first_index_wait=60.0), cwd=cwd)
    async with Client(
        server, list_roots_callback=list_roots, read_timeout_seconds=60, mode="legacy"
    ) as client:
        yield client


async def _search(client: Client, **arguments: Any) -> CallToolResult:
    return await client.call_tool("ocp_context_search", {"query": "alpha_marker", **arguments})


async def test_a_call_naming_a_folder_still_configured_is_served_where_it_is_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The roots went from the project to the folder holding it: the folder it named is still
    # one the user configured. It was told to call again.
    outer = tmp_path / "outer"
    first = _project(outer / "first", "alpha_marker")
    async with _roots_moving_under_the_first_call(monkeypatch, tmp_path, [first], [outer]) as c:
        found = await _search(c, workspace=str(first))
    assert not found.is_error, text_of(found)
    assert found.structured_content is not None
    assert found.structured_content["index"]["workspace"] == str(outer)
    assert [r["path"] for r in found.structured_content["results"]] == ["first/src/m.py"]


async def test_a_call_naming_a_folder_no_longer_configured_is_told_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _project(tmp_path / "first", "alpha_marker")
    second = _project(tmp_path / "second", "omega_marker")
    async with _roots_moving_under_the_first_call(monkeypatch, tmp_path, [first], [second]) as c:
        refused = await _search(c, workspace=str(first))
    assert refused.is_error
    text = text_of(refused)
    assert "roots changed while the call was on its way" in text, text
    assert (
        f"`workspace` {first} is outside the folders this server may open ({second}); leave "
        "`workspace` out, or pass one of them or a folder inside one."
    ) in text, text
    assert not (first / ".ocp").exists()  # the folder the user closed is not opened


async def test_a_call_without_workspace_is_told_its_folder_closed_and_which_one_is_used_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Served from the other project, a memory it saves would land there.
    first = _project(tmp_path / "first", "alpha_marker")
    second = _project(tmp_path / "second", "omega_marker")
    async with _roots_moving_under_the_first_call(monkeypatch, tmp_path, [first], [second]) as c:
        refused = await _search(c)
        again = await _search(c)
    assert refused.is_error
    text = text_of(refused)
    assert f"{first} is no longer among the client's roots" in text, text
    assert f"calls without `workspace` use is now {second}" in text, text
    assert not (first / ".ocp").exists()
    assert not again.is_error and again.structured_content is not None
    assert again.structured_content["index"]["workspace"] == str(second)
