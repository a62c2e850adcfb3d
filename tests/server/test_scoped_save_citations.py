"""A save scoped to a sub-folder (`workspace` naming one) takes a citation's path relative to
that folder as well as to the workspace root, as a scoped search takes `path_glob` relative to
it: `auth.py:6-8` saved with `workspace=<ws>/src` cites src/auth.py. It was refused as "not in
the workspace index", without a word about which folder paths are relative to."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.server.inproc import inproc_client, text_of


async def _save(client: Any, workspace: Path, citation: str) -> tuple[bool, str, Any]:
    out = await client.call_tool(
        "ocp_result_save",
        {
            "notes": [{"text": "verify_token compares in constant time", "citations": [citation]}],
            "workspace": str(workspace / "src"),
        },
    )
    return bool(out.is_error), text_of(out), out.structured_content


@pytest.mark.parametrize("citation", ["auth.py:6-8", "auth.py:verify_token", "src/auth.py:6-8"])
async def test_a_save_scoped_to_a_sub_folder_cites_a_path_relative_to_it_or_to_the_root(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, citation: str
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        failed, text, structured = await _save(client, workspace, citation)
    assert not failed, text
    assert isinstance(structured, dict)
    assert [c["citation"] for c in structured["citations"]] == ["src/auth.py:6-8"]


async def test_a_scoped_save_citing_a_file_in_neither_names_the_root_and_the_sub_folder(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        failed, text, _ = await _save(client, workspace, "missing.py:1-3")
    assert failed
    assert "'missing.py' is not in the workspace index" in text
    assert f"relative to the workspace root {workspace}" in text
    assert "src/missing.py" in text  # the place it was looked for under the sub-folder


async def test_an_unscoped_save_says_paths_are_relative_to_the_workspace_root(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        out = await client.call_tool(
            "ocp_result_save", {"notes": [{"text": "verify", "citations": ["auth.py:6-8"]}]}
        )
    assert out.is_error
    # the file is in src/: the error suggests the path that cites it
    assert f"relative to the workspace root {workspace}" in text_of(out)
    assert "src/auth.py" in text_of(out)
