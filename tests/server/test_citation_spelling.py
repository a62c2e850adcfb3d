"""A citation spelled in an unusual way resolves to the lines meant, or is refused saying why:
never another place. Line numbers in one script's digits are read as numbers (`٦-٨` is 6-8),
but a number mixing two scripts (`1٣`, which int() read as 13) is refused; `.`, `//` and `..`
inside the workspace are read as the path they name (`src/../src/auth.py` was said to be "not
inside the workspace", `./src/./auth.py` "not in the index"). A session id holding a NUL is
refused, the field named."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp.types import CallToolResult

from ocp_server.memory.citing import CITABLE
from tests.server.inproc import inproc_client, text_of


async def _saved(workspace: Path, monkeypatch: pytest.MonkeyPatch, citation: str) -> CallToolResult:
    """The save's answer to a note citing `citation`, once the workspace is indexed."""
    async with inproc_client(workspace, monkeypatch) as client:
        await client.call_tool("ocp_context_search", {"query": "verify_token"})  # indexed
        return await client.call_tool(
            "ocp_result_save", {"notes": [{"text": "constant time", "citations": [citation]}]}
        )


@pytest.mark.parametrize(
    ("citation", "cited"),
    [
        ("src/auth.py:٦-٨", "src/auth.py:6-8"),  # Arabic-Indic
        ("src/auth.py:۶-۸", "src/auth.py:6-8"),  # Extended Arabic-Indic (Persian)
        ("src/auth.py:６-８", "src/auth.py:6-8"),  # full-width
        ("src/auth.py#L٦-L٨", "src/auth.py:6-8"),
        ("src/auth.py:٦-8", "src/auth.py:6-8"),  # each number in one script
        ("src/../src/auth.py:6-8", "src/auth.py:6-8"),
        ("./src/./auth.py:6-8", "src/auth.py:6-8"),
        ("src//auth.py:6-8", "src/auth.py:6-8"),
        ("web/../src/auth.py:verify_token", "src/auth.py:6-8"),
    ],
)
async def test_a_citation_spelled_unusually_cites_the_lines_it_names(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, citation: str, cited: str
) -> None:
    saved = await _saved(workspace, monkeypatch, citation)
    assert not saved.is_error, text_of(saved)
    assert f"Cited (notes[0]): {cited} `verify_token`" in text_of(saved), text_of(saved)


@pytest.mark.parametrize(
    ("citation", "error"),
    [
        (
            "src/auth.py:1٣",
            "a line number mixes the digits of two scripts ('1٣'): write it in one (ASCII 0-9)",
        ),
        (
            "src/../../auth.py:6-8",
            "'src/../../auth.py' is outside the workspace: cite a path inside the workspace",
        ),
    ],
)
async def test_a_citation_that_could_name_another_place_is_refused_saying_why(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, citation: str, error: str
) -> None:
    saved = await _saved(workspace, monkeypatch, citation)
    assert saved.is_error
    assert text_of(saved) == f"`notes[0].citations[0]`: {CITABLE} (got {citation!r}); {error}"


async def test_a_dotdot_through_a_symlink_is_refused_not_read_as_another_file(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `web/to_src/../auth.py` is src/auth.py spelled lexically, but the system reads it as
    # src/../auth.py (web/to_src is src): not a file it may guess.
    (workspace / "web" / "to_src").symlink_to(workspace / "src")
    saved = await _saved(workspace, monkeypatch, "web/to_src/../auth.py:6-8")
    assert saved.is_error
    assert text_of(saved) == (
        f"`notes[0].citations[0]`: {CITABLE} (got 'web/to_src/../auth.py:6-8'); "
        "'web/to_src/../auth.py': '..' after a symbolic link "
        "(web/to_src) names another file than web/auth.py: cite the path without '..'"
    )


@pytest.mark.parametrize("tool", ["ocp_result_save", "ocp_model_route"])
async def test_a_session_id_holding_a_nul_is_refused_naming_the_field(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, tool: str
) -> None:
    arguments = (
        {"notes": ["x"], "session_id": "ab\x00cd"}
        if tool == "ocp_result_save"
        else {"request": "hi", "dry_run": True, "session_id": "ab\x00cd"}
    )
    async with inproc_client(workspace, monkeypatch) as client:
        result = await client.call_tool(tool, arguments)
    assert result.is_error, text_of(result)
    assert text_of(result) == (
        "`session_id`: it holds a NUL character, which no id or name may hold (got 'ab\\x00cd')"
    )
