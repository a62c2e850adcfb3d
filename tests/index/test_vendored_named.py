"""`ocp-server status` names the files it skipped as vendored, as it names nested repositories:
the first few, then how many more. It said "skipped vendored 1" and left the user to guess."""

from __future__ import annotations

from pathlib import Path

from ocp_server.index import nested
from ocp_server.index.files import list_workspace
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.status import index_report, render_report
from tests.workspace_fixture import git


def _vendor(ws: Path, names: list[str]) -> None:
    """Tracked files inside vendored folders: git lists them, the index skips them."""
    for name in names:
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text("x = 1\n")
    git(ws, "add", "-f", *names)


async def test_status_names_the_one_vendored_file_it_skipped(
    workspace: Path, tmp_path: Path
) -> None:
    _vendor(workspace, ["node_modules/left/index.js"])
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        report = await index_report(index)
    assert report.skipped["vendored"] == 1
    assert report.vendored_files == ["node_modules/left/index.js"]
    assert "vendored   1 file not indexed: node_modules/left/index.js (" in render_report(
        report, "underscore"
    )


async def test_many_vendored_files_are_named_the_first_few_then_how_many_more(
    workspace: Path, tmp_path: Path
) -> None:
    names = [f"node_modules/pkg{i}/index.js" for i in range(nested.NAMED_AT_MOST + 3)]
    _vendor(workspace, names)
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        report = await index_report(index)
    assert report.skipped["vendored"] == len(names)
    assert report.vendored_files == sorted(names)[: nested.NAMED_AT_MOST]
    text = render_report(report, "underscore")
    shown = ", ".join(sorted(names)[: nested.NAMED_AT_MOST])
    assert f"vendored   {len(names)} files not indexed: {shown} and 3 more (" in text


def test_the_listing_keeps_only_the_first_few_names(workspace: Path) -> None:
    _vendor(workspace, [f".venv/lib/m{i:03}.py" for i in range(40)])
    listing = list_workspace(workspace)
    assert listing.skipped["vendored"] == 40
    assert len(listing.vendored) == nested.NAMED_AT_MOST


def test_nested_repositories_past_the_named_ones_say_how_many_more_too() -> None:
    line = nested.describe(7, ["a", "b", "c", "d", "e"])
    assert line.startswith("7 git repositories or submodules not indexed: a, b, c, d, e and 2 more")


async def test_an_editors_settings_are_counted_as_editor_settings_not_vendored(
    workspace: Path, tmp_path: Path
) -> None:
    # `init --client vscode` writes .vscode/mcp.json: status called it vendored, "inside a
    # dependency or tool folder such as node_modules".
    _vendor(workspace, [".vscode/mcp.json", ".idea/misc.xml", "node_modules/x/.vscode/a.json"])
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        report = await index_report(index)
    assert report.skipped["editor_settings"] == 2 and report.skipped["vendored"] == 1
    assert report.vendored_files == ["node_modules/x/.vscode/a.json"]
    rendered = render_report(report, "underscore")
    assert "vendored   1 file not indexed: node_modules/x/.vscode/a.json (" in rendered
    assert ".vscode/mcp.json" not in rendered


async def test_mcp_client_configs_and_their_backups_are_skipped_as_mcp_config(
    workspace: Path, tmp_path: Path
) -> None:
    # `init` writes .mcp.json (a .bak of the one it replaced) and .cursor/mcp.json: they were
    # indexed and searched, their `env` with an API key, while .vscode/mcp.json was skipped.
    configs = [
        ".mcp.json",
        ".mcp.json.bak",
        ".mcp.json.bak.2",
        ".cursor/mcp.json",
        ".cursor/mcp.json.bak",
        ".claude/settings.local.json",
        "web/.codeium/windsurf/mcp_config.json",
    ]
    _vendor(workspace, [*configs, "src/mcp.py", "docs/mcp.json.md"])
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        report = await index_report(index)
        rows = await index.db.execute_fetchall("SELECT path FROM files WHERE skip_reason IS NULL")
        indexed = {r[0] for r in rows}
    assert report.skipped["mcp_config"] == len(configs)
    assert not indexed & set(configs)
    assert {"src/mcp.py", "docs/mcp.json.md"} <= indexed
    assert "7 files: MCP client config (may hold keys)" in render_report(report, "underscore")
