"""`ocp-server doctor` contacts every configured backend and says what it found, with the fix
(naming the right variable) for each problem. Backends are the protocol-faithful fakes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from ocp_router.config import RouterSettings
from ocp_server import __version__, doctor
from ocp_server.doctor import run_checks
from ocp_server.index.workspace import WorkspaceIndex
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI
from tests.fakes._http import Request, Response, StreamResponse, json_response
from tests.server.installed import installed_ollama, no_ollama
from tests.workspace_fixture import git


async def checks(
    workspace: Path, home: Path | None = None, /, **env: str
) -> dict[str, tuple[str, str]]:
    found = await run_checks(workspace, env, home or workspace.parent / "home")
    return {c.name: (c.status, c.detail) for c in found}


# ---- the local model --------------------------------------------------------------------------


async def test_ollama_model_present_with_tools_and_context_is_reported(workspace: Path) -> None:
    with FakeOllama(context_length=131072) as ollama:
        found = await checks(workspace, OCP_OLLAMA_URL=ollama.url)
        asked = {r.path for r in ollama.requests}
    assert {"/api/tags", "/api/show", "/api/ps"} <= asked
    status, detail = found["local model"]
    assert status == "ok" and "llama3.2 on ollama" in detail
    assert "context 131,072 tokens" in detail and "takes tools" in detail
    # It takes tools but OCP_LOCAL_TOOLS=0 sends tool conversations to the paid tier: a hint.
    assert found["local tools"][0] == "warn" and "OCP_LOCAL_TOOLS=1" in found["local tools"][1]
    # Not "OCP_LOCAL_TOOLS=0", a value the user never set: said as left unset.
    assert "takes tools but OCP_LOCAL_TOOLS unset (its default, 0) sends" in found["local tools"][1]


async def test_a_local_tools_setting_turned_off_by_hand_is_named_as_set(workspace: Path) -> None:
    with FakeOllama() as ollama:
        found = await checks(workspace, OCP_OLLAMA_URL=ollama.url, OCP_LOCAL_TOOLS="0")
    assert "takes tools but OCP_LOCAL_TOOLS=0 sends" in found["local tools"][1]


async def test_a_missing_ollama_model_fails_with_the_pull_command(workspace: Path) -> None:
    with FakeOllama(models=["qwen3:4b"]) as ollama:
        found = await checks(workspace, OCP_OLLAMA_URL=ollama.url)
    status, detail = found["local model"]
    assert status == "fail" and "not found" in detail and "qwen3:4b" in detail
    assert "ollama pull llama3.2" in detail and "OCP_LOCAL_MODEL" in detail


async def test_unreachable_ollama_fails_naming_OCP_OLLAMA_URL(
    workspace: Path, refused_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = f"{installed_ollama(tmp_path)}{os.pathsep}{os.environ['PATH']}"
    monkeypatch.setenv("PATH", path)
    found = await checks(workspace, OCP_OLLAMA_URL=refused_url, PATH=path)
    status, detail = found["local model"]
    assert status == "fail" and "ollama serve" in detail and "OCP_OLLAMA_URL" in detail
    assert "ollama.com" not in detail


async def test_ollama_not_installed_says_where_to_get_it_and_what_works_without(
    workspace: Path, refused_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new machine: no Ollama at all. "Start it with `ollama serve`" sent the user to a
    # command they do not have.
    path = no_ollama(monkeypatch, tmp_path)
    found = await checks(workspace, OCP_OLLAMA_URL=refused_url, PATH=path)
    status, detail = found["local model"]
    assert status == "fail" and "ollama serve" not in detail
    assert "https://ollama.com" in detail and "ollama pull llama3.2" in detail
    assert "OCP_OLLAMA_URL" in detail and "back to your agent" in detail
    # An Ollama elsewhere (another machine) is not one to install here.
    remote = await checks(workspace, OCP_OLLAMA_URL="http://ollama.invalid:11434", PATH=path)
    assert "ollama.com" not in remote["local model"][1]


async def test_no_local_model_at_the_default_url_is_a_warning_unless_one_was_configured(
    refused_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # OCP works without a local model (routes come back to the agent): doctor said "fail"
    # and exited 1 on every machine without Ollama. The default URL is refused here (a
    # machine running Ollama at the real default would not test this).
    env = {"PATH": no_ollama(monkeypatch, tmp_path)}
    rs = RouterSettings.from_env(env).model_copy(update={"ollama_url": refused_url})
    [default] = await doctor._local_checks(rs, env)
    assert default.status == "warn" and "none configured" in default.detail
    assert "https://ollama.com" in default.detail and "back to your agent" in default.detail
    for var, value in [("OCP_LOCAL_MODEL", "qwen3:4b"), ("OCP_LOCAL_BACKEND", "ollama")]:
        configured = {**env, var: value}
        [check] = await doctor._local_checks(
            RouterSettings.from_env(configured).model_copy(update={"ollama_url": refused_url}),
            configured,
        )
        assert check.status == "fail" and "none configured" not in check.detail, var


async def test_tools_switched_on_for_a_model_without_tools_fails(workspace: Path) -> None:
    with FakeOllama(capabilities=["completion"]) as ollama:
        found = await checks(workspace, OCP_OLLAMA_URL=ollama.url, OCP_LOCAL_TOOLS="1")
    assert "no tool support" in found["local model"][1]
    status, detail = found["local tools"]
    assert status == "fail" and "set OCP_LOCAL_TOOLS=0" in detail


async def test_a_context_smaller_than_what_ocp_sends_is_a_warning_with_the_setting(
    workspace: Path,
) -> None:
    with FakeOllama(context_length=2048) as ollama:
        found = await checks(workspace, OCP_OLLAMA_URL=ollama.url)
        too_big = await checks(
            workspace, OCP_OLLAMA_URL=ollama.url, OCP_LOCAL_CONTEXT_TOKENS="4096"
        )
    status, detail = found["local context"]
    assert status == "warn" and "~7,500 tokens" in detail and "2,048" in detail
    assert "OCP_LOCAL_CONTEXT_TOKENS=2048" in detail
    status, detail = too_big["local context"]
    assert status == "fail" and "OCP_LOCAL_CONTEXT_TOKENS=4096 is more than" in detail


async def test_the_phase_2_classifier_model_is_checked_too(workspace: Path) -> None:
    with FakeOllama(models=["llama3.2"]) as ollama:
        found = await checks(
            workspace, OCP_OLLAMA_URL=ollama.url, OCP_CLASSIFIER_MODEL="qwen3:0.6b"
        )
    status, detail = found["phase-2 classifier model"]
    assert status == "fail" and "OCP_CLASSIFIER_MODEL" in detail and "`none`" in detail


class LlamaCppLike(FakeOpenAI):
    """FakeOpenAI with llama.cpp's /v1/models `meta` block, serving one model, and a server
    that rejects `tools` (as llama-server without --jinja does)."""

    def _model(self, mid: str) -> dict[str, Any]:
        return {**super()._model(mid), "meta": {"n_ctx_train": 32768, "n_vocab": 262144}}

    def handle(self, req: Request) -> Response | StreamResponse:
        body = req.json if isinstance(req.json, dict) else {}
        if req.path == "/v1/chat/completions" and body.get("tools"):
            return json_response(
                500, {"error": {"code": 500, "message": "tools param requires --jinja flag"}}
            )
        return super().handle(req)


async def test_an_openai_compatible_local_server_is_contacted_not_assumed_fine(
    workspace: Path,
) -> None:
    with LlamaCppLike(models=["gemma-3-270m"]) as server:
        env = {
            "OCP_LOCAL_BACKEND": "openai",
            "OCP_LOCAL_BASE_URL": f"{server.url}/v1",
            "OCP_LOCAL_MODEL": "gemma-3-270m",
        }
        found = await checks(workspace, **env)
        with_tools = await checks(workspace, **env, OCP_LOCAL_TOOLS="1")
        assert server.requests_to("/v1/models")
    status, detail = found["local model"]
    assert status == "ok" and "present" in detail and "context 32,768 tokens" in detail
    status, detail = with_tools["local tools"]
    assert status == "fail" and "OCP_LOCAL_TOOLS=0" in detail


async def test_an_unreachable_openai_compatible_server_names_OCP_LOCAL_BASE_URL(
    workspace: Path, refused_url: str
) -> None:
    found = await checks(
        workspace, OCP_LOCAL_BACKEND="openai", OCP_LOCAL_BASE_URL=f"{refused_url}/v1"
    )
    status, detail = found["local model"]
    assert status == "fail" and "OCP_LOCAL_BASE_URL" in detail
    assert "OPENAI_BASE_URL" not in detail and "OPENAI_API_KEY" not in detail


async def test_a_model_the_local_server_does_not_list_fails(workspace: Path) -> None:
    with FakeOpenAI(models=["a", "b"]) as server:
        found = await checks(
            workspace,
            OCP_LOCAL_BACKEND="openai",
            OCP_LOCAL_BASE_URL=f"{server.url}/v1",
            OCP_LOCAL_MODEL="c",
        )
    status, detail = found["local model"]
    assert status == "fail" and "it offers a, b" in detail and "OCP_LOCAL_MODEL" in detail


# ---- the paid tier ----------------------------------------------------------------------------


async def test_no_paid_key_is_fine_and_says_nobody_pays_twice(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url)
    status, detail = found["paid model"]
    assert status == "ok" and "nobody pays twice" in detail and "ANTHROPIC_API_KEY" in detail


async def test_anthropic_models_are_looked_up_with_the_key(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    with FakeAnthropic(models=["claude-sonnet-5-5"]) as anthropic:
        env = {
            "OCP_OLLAMA_URL": fake_ollama.url,
            "ANTHROPIC_API_KEY": "sk-ant-test",
            "ANTHROPIC_BASE_URL": anthropic.url,
            "OCP_PAID_MODEL": "claude-sonnet-5-5",
        }
        found = await checks(workspace, **env, OCP_PAID_TOP_MODEL="claude-opus-9")
        wrong_key = await checks(workspace, **{**env, "ANTHROPIC_API_KEY": "sk-ant-wrong"})
        asked = [r.path for r in anthropic.requests]
    assert "/v1/models/claude-sonnet-5-5" in asked and not any("messages" in p for p in asked)
    assert found["paid model"][0] == "ok" and "present" in found["paid model"][1]
    status, detail = found["top model"]
    assert status == "fail" and "claude-opus-9" in detail and "OCP_PAID_TOP_MODEL" in detail
    status, detail = wrong_key["paid model"]
    assert status == "fail" and "ANTHROPIC_API_KEY" in detail


# ---- versions, workspace, IDE configs ---------------------------------------------------------


async def test_versions_and_an_unwired_workspace(workspace: Path, fake_ollama: FakeOllama) -> None:
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url)
    assert found["versions"] == (
        "ok",
        "ocp-server 0.4.0, ocp-router 0.4.0, ocp-wire 0.4.0, ocp-client 0.4.0",
    )
    assert found["workspace"] == ("ok", str(workspace))
    assert found["index"][0] == "warn" and "ocp-server index" in found["index"][1]
    status, detail = found["IDE config"]
    assert status == "warn" and "ocp-server init --client claude-code" in detail


async def test_a_config_whose_command_is_gone_fails_with_the_init_command(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    (workspace / ".cursor").mkdir()
    (workspace / ".cursor" / "mcp.json").write_text(
        '{"mcpServers": {"ocp": {"command": "/nowhere/ocp-server", "args": []}}}'
    )
    (workspace / ".mcp.json").write_text(
        '{"mcpServers": {"ocp": {"command": "sh", "args": ["-c", "true"]}}}'
    )
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url, PATH="/usr/bin:/bin")
    status, detail = found["Cursor"]
    assert status == "fail" and "/nowhere/ocp-server does not exist" in detail
    assert "ocp-server init --client cursor" in detail
    assert found["Claude Code"][0] == "ok"


def _vscode_runs_uvx(workspace: Path, args: list[str]) -> None:
    """A .vscode/mcp.json starting ocp through a `uvx` (an empty script) with `args`."""
    uvx = workspace.parent / "bin" / "uvx"
    uvx.parent.mkdir()
    uvx.write_text("#!/bin/sh\n")
    uvx.chmod(0o755)
    entry = {"type": "stdio", "command": str(uvx), "args": args}
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "mcp.json").write_text(json.dumps({"servers": {"ocp": entry}}))


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["ocp-server"], "the newest ocp-server release on the package index"),
        (["ocp-server@latest"], "the newest ocp-server release on the package index"),
        (["ocp-server@0.3.0"], "ocp-server 0.3.0"),
        (["--python", "3.12", "ocp-server==0.3.0", "--workspace", "/w"], "ocp-server 0.3.0"),
    ],
)
async def test_a_config_running_another_release_through_uvx_is_a_warning_with_the_init_command(
    workspace: Path, fake_ollama: FakeOllama, args: list[str], expected: str
) -> None:
    # README: a bare `uvx ocp-server` runs the release line before this one, which crashes at
    # start; doctor said "ok" for it.
    _vscode_runs_uvx(workspace, args)
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url)
    status, detail = found["VS Code"]
    assert status == "warn", detail
    assert f"runs {expected}, not this ocp-server {__version__}" in detail
    assert "ocp-server init --client vscode" in detail


@pytest.mark.parametrize(
    "args",
    [
        ["--compile-bytecode", f"ocp-server@{__version__}"],
        ["--compile-bytecode", "--from", "/src/ocp_server", "ocp-server"],
    ],
)
async def test_a_config_running_this_release_through_uvx_is_ok(
    workspace: Path, fake_ollama: FakeOllama, args: list[str]
) -> None:
    _vscode_runs_uvx(workspace, args)
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url)
    assert found["VS Code"][0] == "ok", found["VS Code"]


@pytest.mark.parametrize(
    "args", [[f"ocp-server@{__version__}"], ["--from", "/src/ocp_server", "ocp-server"]]
)
async def test_a_uvx_config_without_compile_bytecode_is_a_warning_with_the_init_command(
    workspace: Path, fake_ollama: FakeOllama, args: list[str]
) -> None:
    # An older init wrote `uvx ocp-server@<version>`: each new uv environment then starts
    # slower (Python compiles as it imports). Doctor said "ok" for it.
    _vscode_runs_uvx(workspace, args)
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url)
    status, detail = found["VS Code"]
    assert status == "warn", detail
    assert "without --compile-bytecode" in detail and "starts slower" in detail
    assert "Fix: run `ocp-server init --client vscode` again" in detail


async def test_a_uvx_config_whose_env_has_uv_compile_bytecode_is_ok(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # uv's own variable does what the flag does.
    _vscode_runs_uvx(workspace, [f"ocp-server@{__version__}"])
    config = workspace / ".vscode" / "mcp.json"
    doc = json.loads(config.read_text())
    doc["servers"]["ocp"]["env"] = {"UV_COMPILE_BYTECODE": "1"}
    config.write_text(json.dumps(doc))
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url)
    assert found["VS Code"][0] == "ok", found["VS Code"]


async def test_the_uvx_command_init_writes_is_one_doctor_finds_ok(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # init's launch and doctor's check agree: a config init writes is never flagged.
    from ocp_server.launcher import detect_launch

    prefix = workspace.parent / "cache" / "archive-v0" / "env"
    launch = detect_launch(prefix=prefix, direct=None)
    assert launch.how == "uvx"
    _vscode_runs_uvx(workspace, list(launch.args))
    found = await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url)
    assert found["VS Code"][0] == "ok", found["VS Code"]


async def test_a_desktop_config_passing_an_unexpanded_key_is_a_warning_not_paid_calls(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    # Claude Desktop expands no variables: `${ANTHROPIC_API_KEY}` reaches the server as that
    # text, which it reads as no key. An older init wrote it so; doctor said "OCP makes paid
    # calls".
    home = workspace.parent / "home"
    config = home / ".config" / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir(parents=True)
    entry = {"command": "/bin/sh", "args": [], "env": {"ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}"}}
    config.write_text(json.dumps({"mcpServers": {"ocp": entry}}))
    found = await checks(workspace, home, OCP_OLLAMA_URL=fake_ollama.url)
    status, detail = found["Claude Desktop"]
    assert status == "warn", detail
    assert "OCP makes paid calls" not in detail
    assert "expands no variables" in detail and "--paid" in detail


async def test_a_bad_workspace_flag_is_named_as_the_flag(tmp_path: Path) -> None:
    # `doctor --workspace /nope` said "OCP_WORKSPACE '/nope' is not an existing folder": a
    # variable the user may not have set, while the flag they typed went unnamed. Then "is not
    # an existing folder" while every other command said "workspace /nope does not exist".
    found = {c.name: (c.status, c.detail) for c in await run_checks(tmp_path / "nope", env={})}
    assert found["workspace"] == ("fail", f"--workspace {tmp_path / 'nope'} does not exist")
    (tmp_path / "a-file").write_text("")
    found = {c.name: (c.status, c.detail) for c in await run_checks(tmp_path / "a-file", env={})}
    assert found["workspace"] == ("fail", f"--workspace {tmp_path / 'a-file'} is not a folder")
    found = {
        c.name: (c.status, c.detail)
        for c in await run_checks(None, env={"OCP_WORKSPACE": str(tmp_path / "nope")})
    }
    assert found["workspace"][1].startswith("OCP_WORKSPACE ")


async def _indexed_then_head_moved(workspace: Path) -> None:
    """Indexed, then a commit: the index is stale (its git HEAD is not the work tree's)."""
    async with await WorkspaceIndex.open(workspace) as index:
        assert await index.update() is not None
    (workspace / "src" / "later.py").write_text("def later():\n    pass\n")
    git(workspace, "add", "src/later.py")
    git(workspace, "commit", "-qm", "later")


async def test_a_stale_index_is_said_to_be_refreshed_by_the_next_search(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    await _indexed_then_head_moved(workspace)
    status, detail = (await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url))["index"]
    assert status == "ok" and "stale" in detail and "git HEAD moved" in detail, detail
    assert "the next search re-indexes it first" in detail, detail


async def test_a_stale_index_on_a_full_disk_is_not_said_to_be_refreshed_at_the_next_search(
    workspace: Path, fake_ollama: FakeOllama, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The next search's update fails too, until space is freed (`full_disk`)."""
    await _indexed_then_head_moved(workspace)
    # the fault seam: the filesystem holding the database reports no space left
    monkeypatch.setattr(doctor, "free_bytes", lambda path: 0, raising=False)
    status, detail = (await checks(workspace, OCP_OLLAMA_URL=fake_ollama.url))["index"]
    assert status == "warn" and "stale" in detail and "full" in detail, detail
    assert "next search" not in detail and "until space is freed" in detail, detail


async def test_a_workspace_whose_git_rules_ignore_every_new_file_is_a_warning(
    tmp_path: Path,
    fake_ollama: FakeOllama,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A home folder kept in git for its dotfiles (.gitignore `*`), indexed as itself: only the
    # tracked dotfiles are, as git's rules say, and nothing said why.
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no_config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "no_xdg"))
    dots = tmp_path / "dots"
    (dots / "app").mkdir(parents=True)
    (dots / "app" / "main.py").write_text("x = 1\n")
    (dots / ".bashrc").write_text("export EDITOR=vi\n")
    (dots / ".gitignore").write_text("*\n")
    git(dots, "init", "-q")
    git(dots, "add", "-f", ".bashrc")
    git(dots, "commit", "-qm", "dotfiles")
    with caplog.at_level("INFO"):
        found = await checks(dots, OCP_OLLAMA_URL=fake_ollama.url)
    assert not [r for r in caplog.records if "ignores every new file" in r.getMessage()]
    status, detail = found["git ignore"]  # said once, as a check (not in the log too)
    assert status == "warn" and f"{dots / '.gitignore'}:1:*" in detail, detail
    assert "only the 1 file git lists" in detail and "--workspace" in detail, detail
    (dots / ".gitignore").write_text("*.log\n")
    assert "git ignore" not in await checks(dots, OCP_OLLAMA_URL=fake_ollama.url)


def _global_config(home: Path, client: str, entry: dict[str, Any]) -> None:
    path = {
        "windsurf": home / ".codeium" / "windsurf" / "mcp_config.json",
        "claude-desktop": home / ".config" / "Claude" / "claude_desktop_config.json",
    }[client]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": {"ocp": entry}}))


@pytest.mark.parametrize(
    ("client", "title", "how"),
    [
        ("windsurf", "Windsurf", "env"),
        ("claude-desktop", "Claude Desktop", "env"),
        ("windsurf", "Windsurf", "args"),
    ],
)
async def test_a_global_config_serving_another_project_is_a_warning_naming_it(
    workspace: Path, fake_ollama: FakeOllama, client: str, title: str, how: str
) -> None:
    # Windsurf's and Claude Desktop's configs are global, with the workspace written in: after
    # `init` in one project, opening another still searched the first, and doctor said "ok".
    home = workspace.parent / "home"
    other = workspace.parent / "other-project"
    other.mkdir()
    entry: dict[str, Any] = {"command": "/bin/sh", "args": []}
    if how == "env":
        entry["env"] = {"OCP_WORKSPACE": str(other)}
    else:
        entry["args"] = ["--workspace", str(other)]
    _global_config(home, client, entry)
    found = await checks(workspace, home, OCP_OLLAMA_URL=fake_ollama.url)
    status, detail = found[title]
    assert status == "warn", detail
    assert f"serves {other}, not this workspace ({workspace})" in detail
    assert f"ocp-server init --client {client}" in detail


async def test_a_global_config_serving_this_project_is_ok(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    home = workspace.parent / "home"
    entry = {"command": "/bin/sh", "args": [], "env": {"OCP_WORKSPACE": str(workspace)}}
    _global_config(home, "windsurf", entry)
    found = await checks(workspace, home, OCP_OLLAMA_URL=fake_ollama.url)
    assert found["Windsurf"][0] == "ok", found["Windsurf"]


def test_mismatched_distributions_are_told_to_reinstall_as_init_launches_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The hint is the command an IDE config holds: init writes `uvx --compile-bytecode …`,
    # and without the flag each start compiles the package again (slower first starts).
    monkeypatch.setattr(doctor, "dist_version", lambda dist: "0.3.0")
    check = doctor._versions()
    assert check.status == "fail"
    assert "ocp-router 0.3.0" in check.detail
    assert f"`uvx --compile-bytecode ocp-server@{__version__}`" in check.detail
