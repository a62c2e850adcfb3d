"""`ocp-server --workspace DIR` with no command: the server serves DIR, as `doctor` and every
other command read that flag. An MCP config's `"args": ["--workspace", "/path"]` is a common
way to name a server's folder; the server left the flag unread and served its working
directory (Claude Desktop starts servers in `/`, VS Code in the home folder)."""

from __future__ import annotations

from pathlib import Path

from tests.server.raw_server import RawServer


def _search(server: RawServer, query: str) -> dict[str, object]:
    server.initialize()
    reply = server.call_tool("ocp_context_search", {"query": query, "k": 3})
    result: dict[str, object] = reply["result"]
    return result


def test_the_workspace_flag_is_the_folder_served(workspace: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    server = RawServer({}, cwd=elsewhere, args=("--workspace", str(workspace)))
    try:
        result = _search(server, "verify_token")
        server.close_stdin_and_wait()
    finally:
        server.kill()
    assert not result.get("isError"), result
    structured = result["structuredContent"]
    assert isinstance(structured, dict)
    assert structured["index"]["workspace"] == str(workspace)
    assert structured["results"][0]["path"] == "src/auth.py"
    assert not (elsewhere / ".ocp").exists()  # nothing made where the server was started


def test_the_flag_wins_over_ocp_workspace_and_is_checked_as_it_is(
    workspace: Path, tmp_path: Path
) -> None:
    # Named on the command line, it is what the user meant for this server: before
    # OCP_WORKSPACE (as for the CLI's commands), and refused by the same rules.
    server = RawServer(
        {"OCP_WORKSPACE": str(tmp_path)}, cwd=tmp_path, args=("--workspace", str(workspace))
    )
    try:
        result = _search(server, "verify_token")
    finally:
        server.kill()
    structured = result["structuredContent"]
    assert isinstance(structured, dict)
    assert structured["index"]["workspace"] == str(workspace)
    refused = RawServer({}, cwd=tmp_path, args=("--workspace", str(tmp_path / "nope")))
    try:
        answer = _search(refused, "verify_token")
    finally:
        refused.kill()
    assert answer["isError"] is True
    content = answer["content"]
    assert isinstance(content, list)
    # named as what the user wrote: the flag, not a variable they never set; in the wording
    # every command says it in (workspace_folder.not_a_folder)
    assert content[0]["text"].startswith(f"--workspace {tmp_path / 'nope'} does not exist")
