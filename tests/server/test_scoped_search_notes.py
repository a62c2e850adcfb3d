"""A search scoped to a sub-folder (`workspace` naming one) explains an empty or refused
`path_glob` in the sub-folder's terms: its globs are relative to it, and the files counted
are its own, not the whole workspace's."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.errors import InputError
from tests.server.app_fixture import opened


async def test_a_scoped_search_matching_nothing_counts_the_sub_folder_files(
    app: AppState, workspace: Path
) -> None:
    (workspace / "web" / "cart.ts").write_text("export function cartTotal() { return 0 }\n")
    ws = await opened(app, workspace)
    args = wire.SearchArgs(query="verify token", path_glob="*.py", workspace=str(ws.path / "web"))
    result = await app.search(ws, args)
    assert not result.results
    note = result.note or ""
    # web/ holds 2 indexed files; the workspace more (src/auth.py, README.md, ...)
    assert "no indexed file matches `path_glob` (of 2 files in web/" in note
    assert "'src/**/*.py'" not in note and "'**/*.py'" in note


async def test_a_scoped_search_without_a_scope_keeps_the_workspace_note(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="verify token", path_glob="*.rs"))
    assert not result.results
    total = (await ws.index.snapshot()).n_files
    assert f"(of {total} files; a glob is relative to the workspace" in (result.note or "")


async def test_a_scoped_glob_leading_out_of_the_sub_folder_gives_an_example_that_fits(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    args = wire.SearchArgs(
        query="verify token", path_glob="../../x/*", workspace=str(ws.path / "web")
    )
    with pytest.raises(InputError) as error:
        await app.search(ws, args)
    text = str(error.value)
    assert "path_glob" in text and "'src/**/*.py'" not in text
    assert "relative to the folder searched" in text and "'**/*.py'" in text


async def test_a_scoped_search_of_a_folder_without_indexed_files_names_the_folder(
    app: AppState, workspace: Path
) -> None:
    # logs/ holds only files .gitignore leaves out (*.log): no path_glob was given
    (workspace / "logs").mkdir()
    (workspace / "logs" / "verify.log").write_text("verify_token failed\n")
    ws = await opened(app, workspace)
    args = wire.SearchArgs(query="verify token", workspace=str(ws.path / "logs"))
    result = await app.search(ws, args)
    assert not result.results
    note = result.note or ""
    assert "path_glob" not in note and "glob" not in note
    assert "no indexed file is in logs/, the folder searched" in note


async def test_a_scoped_search_by_language_alone_names_the_language(
    app: AppState, workspace: Path
) -> None:
    # web/ holds TypeScript only; Python is elsewhere in the workspace (src/auth.py)
    ws = await opened(app, workspace)
    args = wire.SearchArgs(query="verify token", language="python", workspace=str(ws.path / "web"))
    result = await app.search(ws, args)
    assert not result.results
    note = result.note or ""
    assert "path_glob" not in note
    assert "no indexed file matches `language` (of 1 file in web/" in note
    # what it does hold, rather than how to write a glob the caller never gave
    assert "glob" not in note and "typescript" in note and "python" not in note


async def test_a_search_by_a_language_the_workspace_lacks_names_the_languages_it_has(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    result = await app.search(ws, wire.SearchArgs(query="verify token", language="go"))
    assert not result.results
    note = result.note or ""
    assert "no indexed file matches `language`" in note
    assert "glob" not in note
    assert "languages indexed here: " in note and "python" in note and "typescript" in note
