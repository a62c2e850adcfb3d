"""Tools touch only folders the user configured: a `workspace` argument must be a configured
folder (OCP_WORKSPACE, CLAUDE_PROJECT_DIR, MCP roots, else the working directory) or inside
one; the root, home and system folders are refused wherever they come from."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_client import OCPClient
from ocp_server.app import AppState
from ocp_server.settings import NO_WORKSPACE, ServerSettings, WorkspaceError, resolve_workspace
from tests.fakes import FakeOllama
from tests.results import tool_text

GH_TOKEN = "gho_" + "Zq8vR2mLp4Tx" * 3


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home folder holding a GitHub CLI token, as ~/.config/gh/hosts.yml does."""
    home = tmp_path / "home"
    (home / ".config" / "gh").mkdir(parents=True)
    (home / ".config" / "gh" / "hosts.yml").write_text(
        f"github.com:\n    oauth_token: {GH_TOKEN}\n    user: dev\n"
    )
    (home / ".ssh").mkdir()
    monkeypatch.setenv("HOME", str(home))
    return home


def refused(
    settings: ServerSettings,
    argument: str | None,
    roots: list[str] | None = None,
    cwd: Path | None = None,
) -> str:
    with pytest.raises(WorkspaceError) as error:
        resolve_workspace(settings, argument, roots, cwd)
    return str(error.value)


@pytest.mark.parametrize(
    ("argument", "why"),
    [
        ("/", "is the root folder"),
        ("~", "is your home folder"),
        ("/etc", "is a system folder"),
        ("/proc", "is a system folder"),
        ("/usr/lib", "is a system folder"),
        ("/tmp", "holds many projects"),
        ("~/.ssh", "holds credentials"),
        ("~/.config", "holds applications' settings"),
    ],
)
def test_root_home_and_system_folders_are_refused_with_a_clear_error(
    workspace: Path, home: Path, argument: str, why: str
) -> None:
    message = refused(ServerSettings(workspace=workspace), argument)
    assert message.startswith("`workspace`") and why in message
    assert "cannot be a workspace" in message


REFUSED_ROOT = (
    "/ is the root folder: it cannot be a workspace (OCP would read and store every file in "
    "it, secrets included); use the folder of one project"
)


@pytest.mark.parametrize(
    ("settings", "argument", "source"),
    [
        (ServerSettings.from_env({"OCP_WORKSPACE": "/"}), None, "OCP_WORKSPACE"),
        (ServerSettings.from_env({}, workspace_flag=Path("/")), None, "--workspace"),
        (ServerSettings(claude_project_dir=Path("/")), None, "CLAUDE_PROJECT_DIR"),
        (ServerSettings(), "/", "`workspace`"),
    ],
)
def test_a_refused_folder_is_said_in_one_format_naming_where_it_was_given(
    home: Path, settings: ServerSettings, argument: str | None, source: str
) -> None:
    # It said "OCP_WORKSPACE '/' is the root folder: it cannot be a workspace (...). Use the
    # folder of one project.", the path quoted where "OCP_WORKSPACE /x does not exist" is
    # not, and a client's root "the client's root '/x' ...": now one definition
    # (workspace_folder.workspace_problem): where it was given, the path, why, what to do.
    assert refused(settings, argument, cwd=home) == f"{source} {REFUSED_ROOT}"


def test_a_left_out_root_and_working_directory_are_said_in_the_same_format(
    home: Path,
) -> None:
    gone = home / "gone"
    message = refused(ServerSettings(), None, ["file:///", gone.as_uri()], cwd=home)
    assert message == (
        f"{NO_WORKSPACE} (not used: the client's root / is the root folder; the client's root "
        f"{gone.as_uri()} is not an existing local folder; the working directory {home} is "
        "your home folder)"
    )


def test_a_folder_outside_the_configured_ones_is_said_whole(workspace: Path, home: Path) -> None:
    outside = workspace.parent / "outside"
    outside.mkdir()
    assert refused(ServerSettings(workspace=workspace), str(outside)) == (
        f"`workspace` {outside} is outside the folders this server may open ({workspace}); "
        "leave `workspace` out, or pass one of them or a folder inside one. Other folders are "
        "opened only when configured (OCP_WORKSPACE) or opened in the client (MCP roots)."
    )


def test_a_folder_outside_the_configured_ones_is_refused(workspace: Path, home: Path) -> None:
    outside = workspace.parent / "outside"
    outside.mkdir()
    for argument in (str(outside), f"{workspace}/../outside"):
        message = refused(ServerSettings(workspace=workspace), argument)
        assert "is outside the folders this server may open" in message
        assert str(workspace) in message


def test_a_symlink_out_of_the_workspace_is_judged_by_its_target(
    workspace: Path, home: Path
) -> None:
    outside = workspace.parent / "outside"
    outside.mkdir()
    os.symlink(outside, workspace / "escape")
    assert "outside" in refused(ServerSettings(workspace=workspace), str(workspace / "escape"))


def test_the_workspace_or_a_folder_inside_it_opens_the_workspace(
    workspace: Path, home: Path
) -> None:
    settings = ServerSettings(workspace=workspace)
    assert resolve_workspace(settings, str(workspace), None) == workspace.resolve()
    assert resolve_workspace(settings, str(workspace / "src"), None) == workspace.resolve()


def test_client_roots_are_configured_folders_too(workspace: Path, home: Path) -> None:
    other = workspace.parent / "other"
    (other / "pkg").mkdir(parents=True)
    roots = [workspace.as_uri(), other.as_uri(), "file:///"]
    settings = ServerSettings()
    assert resolve_workspace(settings, None, roots) == workspace.resolve()
    assert resolve_workspace(settings, str(other / "pkg"), roots) == other.resolve()
    assert "outside" in refused(settings, str(other / "pkg"), [workspace.as_uri()])


def test_a_configured_folder_is_resolved_again_once_it_changes_between_calls(
    tmp_path: Path, home: Path
) -> None:
    """The folder is resolved on every tool call (remembered while it names the same folder):
    a symlink pointed elsewhere, a folder deleted, a link that turns into a file, a home
    moved: each next call sees it."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    link = tmp_path / "project"
    link.symlink_to(first)
    settings = ServerSettings(workspace=link)
    assert resolve_workspace(settings, None, None) == first.resolve()
    assert resolve_workspace(settings, None, None) == first.resolve()
    link.unlink()
    link.symlink_to(second)
    assert resolve_workspace(settings, None, None) == second.resolve()
    second.rmdir()
    assert refused(settings, None) == f"OCP_WORKSPACE {link} does not exist"
    second.mkdir()  # a new folder by the same name
    assert resolve_workspace(settings, None, None) == second.resolve()
    link.unlink()
    link.write_text("not a folder")
    assert refused(settings, None) == f"OCP_WORKSPACE {link} is not a folder"
    link.unlink()
    link.symlink_to(home)
    assert "is your home folder" in refused(settings, None)


def test_a_configured_home_or_root_is_refused_rather_than_indexed(home: Path) -> None:
    assert "is your home folder" in refused(ServerSettings(workspace=home), None)
    assert "is the root folder" in refused(ServerSettings(claude_project_dir=Path("/")), None)
    # The working directory counts only when it is a project's folder, not / or home.
    assert "no workspace" in refused(ServerSettings(), None, cwd=home)
    assert "no workspace" in refused(ServerSettings(), None, cwd=Path("/"))


def test_no_workspace_says_which_root_or_working_directory_was_left_out_and_why(
    home: Path,
) -> None:
    # VS Code opened on the home folder, Claude Desktop starting servers in /.
    message = refused(ServerSettings(), None, [home.as_uri()], cwd=Path("/"))
    assert message.startswith("no workspace")
    assert f"the client's root {home} is your home folder" in message
    assert "the working directory / is the root folder" in message


@pytest.mark.parametrize("name", ["OCP_WORKSPACE", "CLAUDE_PROJECT_DIR"])
def test_no_workspace_names_a_variable_the_client_passed_unexpanded(name: str) -> None:
    # An IDE that does not expand `${workspaceFolder}` passes it as that text, read as unset:
    # the error told the user to set OCP_WORKSPACE to `${workspaceFolder}`, which they had.
    settings = ServerSettings.from_env({name: "${workspaceFolder}"})
    message = refused(settings, None, cwd=Path("/"))
    assert message.startswith("no workspace")
    assert f"{name} is '${{workspaceFolder}}', a variable the client did not expand" in message
    assert "the working directory / is the root folder" in message


# ---- over MCP ----------------------------------------------------------------------------


async def test_tools_refuse_outside_folders_and_create_nothing_there(
    workspace: Path, home: Path, fake_ollama: FakeOllama
) -> None:
    outside = workspace.parent / "outside"
    outside.mkdir()
    (outside / "notes.py").write_text("def private(): pass\n")
    env = {
        "OCP_WORKSPACE": str(workspace),
        "OCP_OLLAMA_URL": fake_ollama.url,
        "HOME": str(home),
    }
    async with OCPClient(env=env) as client:
        for tool, args in (
            ("ocp_context_search", {"query": "oauth_token"}),
            ("ocp_session_restore", {}),
            ("ocp_result_save", {"notes": ["x"]}),
            ("ocp_model_route", {"request": "explain private", "dry_run": True}),
        ):
            for folder in ("~", str(home), str(outside), f"{workspace}/../outside"):
                result = await client.call(tool, {**args, "workspace": folder})
                assert result.is_error, (tool, folder)
                text = tool_text(result)
                assert "cannot be a workspace" in text or "outside the folders" in text
                assert GH_TOKEN not in text
        inside = await client.call(
            "ocp_context_search", {"query": "verify_token", "workspace": str(workspace / "src")}
        )
        assert not inside.is_error
    assert not (outside / ".ocp").exists() and not (home / ".ocp").exists()
    assert sorted(p.name for p in outside.iterdir()) == ["notes.py"]


async def test_a_sub_folder_scopes_results_to_it_from_the_workspace_index(
    workspace: Path, home: Path, fake_ollama: FakeOllama
) -> None:
    env = {"OCP_WORKSPACE": str(workspace), "OCP_OLLAMA_URL": fake_ollama.url}
    async with OCPClient(env=env) as client:
        everywhere = await client.search("verify token")
        while everywhere.index.building or not everywhere.results:
            everywhere = await client.search("verify token")
        web = await client.search("verify token", workspace=str(workspace / "web"))
        # an absolute glob is the sub-folder's own path, not one more folder inside it
        web_glob = await client.search(
            "verify token", workspace=str(workspace / "web"), path_glob=f"{workspace}/web/*"
        )
    assert {r.path.split("/")[0] for r in everywhere.results} >= {"src", "web"}
    assert web.results and all(r.path.startswith("web/") for r in web.results)
    assert [r.citation for r in web_glob.results] == [r.citation for r in web.results]
    assert not (workspace / "web" / ".ocp").exists()  # no second index was created


async def test_tool_hints_say_what_each_tool_touches(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    env = {"OCP_WORKSPACE": str(workspace), "OCP_OLLAMA_URL": fake_ollama.url}
    async with OCPClient(env=env) as client:
        tools = {t.name: t.annotations for t in await client.list_tools()}
    hints = {
        name: (a.read_only_hint, a.open_world_hint) for name, a in tools.items() if a is not None
    }
    assert hints == {
        "ocp_context_search": (True, False),
        "ocp_session_restore": (True, False),
        "ocp_model_route": (False, True),  # writes its trace, may call a paid provider
        "ocp_result_save": (False, False),
    }


async def test_a_workspace_the_roots_moved_away_from_closes_once_the_search_using_it_is_done(
    tmp_path: Path,
) -> None:
    # After `roots/list_changed` (server.py), the workspaces not among the folders configured
    # now are stopped and closed: at once when idle, and after the calls using them.
    first, second = tmp_path / "first", tmp_path / "second"
    for root, word in ((first, "alpha_marker"), (second, "omega_marker")):
        (root / "src").mkdir(parents=True)
        (root / "src" / "m.py").write_text(f"def {word}():\n    return 1\n")
    state = await AppState.create(ServerSettings(), routing=False)
    try:
        busy, idle = await state.workspace(first), await state.workspace(second)
        state.workspaces.hold(busy)  # a call using it, as server.py holds it around a tool call
        search = asyncio.create_task(state.search(busy, wire.SearchArgs(query="alpha_marker")))
        assert await state.workspaces.keep_only([tmp_path / "third"]) == [first, second]
        assert idle.closed and idle.watcher is not None and idle.watcher.done()
        assert not busy.closed and busy.watcher is not None and not busy.watcher.done()
        found = await search
        assert [hit.path for hit in found.results] == ["src/m.py"]
        with pytest.raises(WorkspaceError, match="no longer among the folders"):
            await state.workspace(first)
        await state.workspaces.release(busy)
        assert busy.closed and busy.watcher.done()
    finally:
        await state.aclose()
