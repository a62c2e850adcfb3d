"""`ocp-server init --client NAME`: the right file, key, workspace variable and command per
client; merged without touching other servers, backed up, idempotent; no key unless --paid.
(The real Claude Code connecting after `init` is in test_real_clients.py, marker `clients`.)"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ocp_server import __version__
from ocp_server.cli_init import check_launch
from ocp_server.launcher import Launch, detect_launch

REPO = Path(__file__).resolve().parents[2]


def init(
    ws: Path, *args: str, home: Path, timeout: float = 120.0, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "init", *args],
        cwd=ws,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"PATH": os.environ["PATH"], "HOME": str(home), **env},
    )


def load(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


# The test suite runs from this checkout (an editable install), so init writes the checkout's
# command: uvx builds ocp-server from it, with ocp-router and ocp-client from the same workspace.
# `--compile-bytecode`, as the README's quick start installs: without it starts are slower.
CHECKOUT = {
    "command": "uvx",
    "args": ["--compile-bytecode", "--from", str(REPO / "ocp_server"), "ocp-server"],
}


def test_claude_code_gets_project_mcp_json_no_key_and_the_approval(
    workspace: Path, home: Path
) -> None:
    done = init(workspace, "--client", "claude-code", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    config = load(workspace / ".mcp.json")
    assert config == {"mcpServers": {"ocp": {"type": "stdio", **CHECKOUT}}}
    # No workspace variable: Claude Code passes CLAUDE_PROJECT_DIR to the server itself.
    assert load(workspace / ".claude" / "settings.local.json") == {"enabledMcpjsonServers": ["ocp"]}
    assert "ANTHROPIC_API_KEY" not in done.stdout.split("no API key")[0]
    assert "the checkout at" in done.stdout and "claude mcp list" in done.stdout


def test_claude_code_approval_is_kept_out_of_git_once_and_only_in_a_repository(
    workspace: Path, home: Path, tmp_path: Path
) -> None:
    # Claude Code git-ignores .claude/settings.local.json when it creates it; init created it
    # first, and `git status` offered it to the next commit.
    def untracked(ws: Path) -> str:
        return subprocess.run(
            ["git", "-C", str(ws), "status", "--porcelain", "--untracked-files=all"],
            capture_output=True, text=True, check=True, env={**os.environ, "HOME": str(home)},
        ).stdout  # fmt: skip

    done = init(workspace, "--client", "claude-code", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    assert ".claude/settings.local.json" not in untracked(workspace)
    assert ".mcp.json" in untracked(workspace)  # the team's file stays to be committed
    exclude = workspace / ".git" / "info" / "exclude"
    assert exclude.read_text().count("**/.claude/settings.local.json") == 1
    assert "git ignores .claude/settings.local.json now" in done.stdout
    again = init(workspace, "--client", "claude-code", "--no-check", home=home)
    assert again.returncode == 0, again.stderr
    assert exclude.read_text().count("**/.claude/settings.local.json") == 1
    assert "git already ignores .claude/settings.local.json" in again.stdout
    plain = tmp_path / "plain"
    plain.mkdir()
    outside = init(plain, "--client", "claude-code", "--no-check", home=home)
    assert outside.returncode == 0, outside.stderr
    assert "git" not in outside.stdout.replace("git+", "") and not (plain / ".git").exists()


def test_merge_keeps_other_servers_and_keys_backs_up_and_is_idempotent(
    workspace: Path, home: Path
) -> None:
    original: dict[str, Any] = {
        "mcpServers": {
            "github": {"command": "gh-mcp", "args": ["--stdio"]},
            "ocp": {"command": "uvx", "args": ["ocp-server"], "env": {"OCP_LOCAL_MODEL": "qwen3"}},
        },
        "someOtherKey": [1, 2],
    }
    text = json.dumps(original)
    (workspace / ".mcp.json").write_text(text)
    settings = workspace / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    settings.write_text('{"permissions": {"allow": ["Bash(ls)"]}, "enabledMcpjsonServers": ["x"]}')

    done = init(workspace, "--client", "claude-code", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    config = load(workspace / ".mcp.json")
    assert config["mcpServers"]["github"] == original["mcpServers"]["github"]
    assert config["someOtherKey"] == [1, 2]
    # OCP's entry is replaced, keeping the variable the user added to it.
    assert config["mcpServers"]["ocp"] == {
        "type": "stdio",
        **CHECKOUT,
        "env": {"OCP_LOCAL_MODEL": "qwen3"},
    }
    assert (workspace / ".mcp.json.bak").read_text() == text
    assert load(settings) == {
        "permissions": {"allow": ["Bash(ls)"]},
        "enabledMcpjsonServers": ["x", "ocp"],
    }

    again = init(workspace, "--client", "claude-code", "--no-check", home=home)
    assert again.returncode == 0 and again.stdout.count("already up to date") == 2
    assert not (workspace / ".mcp.json.bak.2").exists()


def test_paid_passes_the_key_and_leaving_it_out_takes_it_away_again(
    workspace: Path, home: Path
) -> None:
    assert (
        init(workspace, "--client", "claude-code", "--paid", "--no-check", home=home).returncode
        == 0
    )
    env = load(workspace / ".mcp.json")["mcpServers"]["ocp"]["env"]
    assert env == {"ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}"}
    assert init(workspace, "--client", "claude-code", "--no-check", home=home).returncode == 0
    assert "env" not in load(workspace / ".mcp.json")["mcpServers"]["ocp"]
    # Both earlier versions are kept.
    assert (workspace / ".mcp.json.bak").exists()


@pytest.mark.parametrize("client", ["claude-code", "cursor", "windsurf"])
def test_paid_without_the_key_in_this_shell_warns_that_no_paid_call_will_be_made(
    workspace: Path, home: Path, client: str
) -> None:
    # The IDE expands ${ANTHROPIC_API_KEY} from its own environment: with none there, the
    # server sees no key and pays nothing, while init had said only "paid calls".
    done = init(workspace, "--client", client, "--paid", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    assert "ANTHROPIC_API_KEY is not set in this shell" in done.stderr
    keyed = init(
        workspace, "--client", client, "--paid", "--no-check", home=home,
        ANTHROPIC_API_KEY="sk-ant-api03-secret-value",
    )  # fmt: skip
    assert keyed.returncode == 0 and "not set" not in keyed.stdout + keyed.stderr


def test_vscode_paid_asks_for_the_key_so_no_shell_key_is_missing(
    workspace: Path, home: Path
) -> None:
    done = init(workspace, "--client", "vscode", "--paid", "--no-check", home=home)
    assert done.returncode == 0 and "not set" not in done.stdout + done.stderr


def test_cursor_uses_its_project_file_and_workspace_folder(workspace: Path, home: Path) -> None:
    done = init(workspace, "--client", "cursor", "--paid", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    entry = load(workspace / ".cursor" / "mcp.json")["mcpServers"]["ocp"]
    assert entry == {
        **CHECKOUT,
        "env": {
            "OCP_WORKSPACE": "${workspaceFolder}",
            "ANTHROPIC_API_KEY": "${env:ANTHROPIC_API_KEY}",
        },
    }


def test_vscode_uses_servers_a_stdio_type_and_a_prompted_key(workspace: Path, home: Path) -> None:
    done = init(workspace, "--client", "vscode", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    config = load(workspace / ".vscode" / "mcp.json")
    assert config == {
        "servers": {
            "ocp": {"type": "stdio", **CHECKOUT, "env": {"OCP_WORKSPACE": "${workspaceFolder}"}}
        }
    }
    assert init(workspace, "--client", "vscode", "--paid", "--no-check", home=home).returncode == 0
    config = load(workspace / ".vscode" / "mcp.json")
    assert config["servers"]["ocp"]["env"]["ANTHROPIC_API_KEY"] == "${input:anthropic-key}"
    assert [i["id"] for i in config["inputs"]] == ["anthropic-key"]
    assert config["inputs"][0]["password"] is True


def test_windsurf_is_global_with_the_absolute_workspace(workspace: Path, home: Path) -> None:
    done = init(workspace, "--client", "windsurf", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    entry = load(home / ".codeium" / "windsurf" / "mcp_config.json")["mcpServers"]["ocp"]
    assert entry["env"] == {"OCP_WORKSPACE": str(workspace)}
    assert entry["args"] == CHECKOUT["args"]
    # A desktop app may not see the shell's PATH: uvx by its full path when it is found.
    assert entry["command"] == "uvx" or Path(entry["command"]).name == "uvx"


def test_claude_desktop_writes_the_key_itself_privately_and_print_hides_it(
    workspace: Path, home: Path
) -> None:
    config = home / ".config" / "Claude" / "claude_desktop_config.json"
    missing = init(workspace, "--client", "claude-desktop", "--paid", "--no-check", home=home)
    # a usage error (2, as argparse's), naming the option and the variable; no traceback
    assert missing.returncode == 2 and "set ANTHROPIC_API_KEY" in missing.stderr
    assert missing.stderr.startswith("error: --paid: ANTHROPIC_API_KEY")
    assert "Traceback" not in missing.stderr
    assert "mcpServers" not in missing.stderr  # no keyless entry offered to add by hand
    assert not config.exists()
    key = "sk-ant-api03-secret-value"
    shown = init(
        workspace, "--client", "claude-desktop", "--paid", "--print", home=home,
        ANTHROPIC_API_KEY=key,
    )  # fmt: skip
    assert shown.returncode == 0 and key not in shown.stdout + shown.stderr
    assert "<your ANTHROPIC_API_KEY>" in shown.stdout and not config.exists()
    done = init(
        workspace, "--client", "claude-desktop", "--paid", "--no-check", home=home,
        ANTHROPIC_API_KEY=key,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    entry = load(config)["mcpServers"]["ocp"]
    assert entry["env"] == {"OCP_WORKSPACE": str(workspace), "ANTHROPIC_API_KEY": key}
    assert stat.S_IMODE(config.stat().st_mode) == 0o600


@pytest.mark.parametrize("unexpanded", ["${ANTHROPIC_API_KEY}", "$ANTHROPIC_API_KEY", "  "])
def test_claude_desktop_takes_an_unexpanded_key_for_no_key(
    workspace: Path, home: Path, unexpanded: str
) -> None:
    # A shell started by an IDE may hold the variable as its unexpanded `${VAR}`: written
    # into the config as the key, the server read it as no key, and init had said "paid calls".
    config = home / ".config" / "Claude" / "claude_desktop_config.json"
    args = ("--client", "claude-desktop", "--paid", "--no-check")
    done = init(workspace, *args, home=home, ANTHROPIC_API_KEY=unexpanded)
    assert done.returncode == 2 and "set ANTHROPIC_API_KEY" in done.stderr, done.stderr
    assert not config.exists()


def test_taking_the_desktop_key_out_leaves_no_backup_holding_it(
    workspace: Path, home: Path
) -> None:
    config = home / ".config" / "Claude" / "claude_desktop_config.json"
    config.parent.mkdir(parents=True)
    other = {"command": "other-server", "env": {"TOKEN": "the user's own"}}
    config.write_text(json.dumps({"mcpServers": {"other": other}}))
    key = "sk-ant-api03-secret-value"
    args = ("--client", "claude-desktop", "--no-check")
    paid = init(workspace, *args, "--paid", home=home, ANTHROPIC_API_KEY=key)
    assert paid.returncode == 0, paid.stderr
    rotated = init(workspace, *args, "--paid", home=home, ANTHROPIC_API_KEY=key + "-new")
    assert rotated.returncode == 0, rotated.stderr
    unpaid = init(workspace, *args, home=home)
    assert unpaid.returncode == 0, unpaid.stderr
    assert "ANTHROPIC_API_KEY" not in load(config)["mcpServers"]["ocp"]["env"]
    backups = sorted(config.parent.glob("claude_desktop_config.json.bak*"))
    assert len(backups) == 3
    for backup in backups:
        assert key not in backup.read_text(), backup.name
        assert load(backup)["mcpServers"]["other"] == other  # the rest is kept as it was
    for backup in backups[1:]:  # the ones that held OCP's key say where it went
        env = load(backup)["mcpServers"]["ocp"]["env"]
        assert env["ANTHROPIC_API_KEY"] == "<your ANTHROPIC_API_KEY>", backup.name
        assert env["OCP_WORKSPACE"] == str(workspace)


def test_print_shows_the_merged_file_and_writes_nothing(workspace: Path, home: Path) -> None:
    (workspace / ".mcp.json").write_text('{"mcpServers": {"other": {"command": "x"}}}')
    done = init(workspace, "--client", "claude-code", "--print", home=home)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert set(shown["mcpServers"]) == {"other", "ocp"}
    assert load(workspace / ".mcp.json") == {"mcpServers": {"other": {"command": "x"}}}
    assert not (workspace / ".claude").exists() and not (workspace / ".mcp.json.bak").exists()


def test_a_file_that_is_not_plain_json_is_left_alone(workspace: Path, home: Path) -> None:
    (workspace / ".vscode").mkdir()
    text = '{\n  // my servers\n  "servers": {}\n}\n'
    (workspace / ".vscode" / "mcp.json").write_text(text)
    done = init(workspace, "--client", "vscode", "--no-check", home=home)
    # a configuration error (exit status 2, as argparse's), naming the file and the line
    assert done.returncode == 2 and '"ocp"' in done.stderr
    assert f"{workspace / '.vscode' / 'mcp.json'} is not plain JSON (line 2: " in done.stderr
    assert "Traceback" not in done.stderr
    assert (workspace / ".vscode" / "mcp.json").read_text() == text


@pytest.mark.parametrize(
    ("content", "status", "said"),
    [
        (b'{"mcpServers": {"\xff": {}}}', 2, "cannot read"),  # not UTF-8: what the file says
        (None, 1, "cannot read"),  # a folder where the file goes: reading it failed
        (b"", 1, "cannot read"),  # a named pipe: reading it waited for a writer for ever
    ],
    ids=["not_utf8", "a_folder", "a_pipe"],
)
def test_a_config_file_that_is_wrong_is_a_usage_error_and_one_unread_a_failure(
    workspace: Path, home: Path, content: bytes | None, status: int, said: str
) -> None:
    path = workspace / ".mcp.json"
    if content is None:
        path.mkdir()
    elif not content:
        os.mkfifo(path)
    else:
        path.write_bytes(content)
    done = init(workspace, "--client", "claude-code", "--no-check", home=home, timeout=20)
    assert done.returncode == status, done.stderr
    assert done.stderr.startswith(f"error: {said} {path}") and "Traceback" not in done.stderr
    assert not content or path.read_bytes() == content
    if content is not None and not content:  # doctor looks at the same file
        doctor = subprocess.run(
            [sys.executable, "-m", "ocp_server.cli", "doctor", "--workspace", str(workspace)],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PATH": os.environ["PATH"], "HOME": str(home)},
        )
        assert "Traceback" not in doctor.stderr and "IDE config" in doctor.stdout


def test_a_file_ocp_cannot_merge_into_is_named(workspace: Path, home: Path) -> None:
    (workspace / ".vscode").mkdir()
    (workspace / ".vscode" / "mcp.json").write_text('{"servers": []}')
    done = init(workspace, "--client", "vscode", "--no-check", home=home)
    assert done.returncode == 2
    assert f'{workspace / ".vscode" / "mcp.json"}: "servers" is not an object' in done.stderr
    assert '"ocp"' in done.stderr  # the entry, to add by hand


def test_a_broken_approval_file_is_named_without_the_entry_of_another_file(
    workspace: Path, home: Path
) -> None:
    settings = workspace / ".claude" / "settings.local.json"
    settings.parent.mkdir()
    settings.write_text('{"enabledMcpjsonServers": "ocp"}')
    done = init(workspace, "--client", "claude-code", "--no-check", home=home)
    assert done.returncode == 2 and f"{settings}: enabledMcpjsonServers" in done.stderr
    assert "mcpServers" not in done.stderr  # the problem is not in .mcp.json
    assert not (workspace / ".mcp.json").exists()


def test_the_home_folder_is_not_a_workspace_to_wire(home: Path) -> None:
    done = init(home, "--client", "cursor", "--no-check", home=home)
    assert done.returncode == 2 and "home folder" in done.stderr and "--force" in done.stderr
    assert not (home / ".cursor").exists()


# ---- how OCP was installed decides the command ------------------------------------------------


def test_a_checkout_runs_through_uvx_from_the_checkout_compiling_bytecode(tmp_path: Path) -> None:
    src = tmp_path / "ocp" / "ocp_server"
    src.mkdir(parents=True)
    (src / "pyproject.toml").write_text("[project]\nname = 'ocp-server'\n")
    editable = {"url": src.as_uri(), "dir_info": {"editable": True}}
    launch = detect_launch(prefix=tmp_path / "ocp" / ".venv", direct=editable)
    assert (launch.how, launch.argv) == (
        "checkout",
        ["uvx", "--compile-bytecode", "--from", str(src), "ocp-server"],
    )
    # `uvx --from <checkout>/ocp_server`: an ephemeral environment built from the folder.
    cached = tmp_path / "cache" / "uv" / "archive-v0" / "abc123"
    plain = {"url": src.as_uri(), "dir_info": {}}
    assert detect_launch(prefix=cached, direct=plain).argv == launch.argv


def test_uvx_from_the_index_runs_this_version_again_compiling_bytecode(tmp_path: Path) -> None:
    cached = tmp_path / ".cache" / "uv" / "archive-v0" / "xyz"
    launch = detect_launch(prefix=cached, direct=None)
    assert (launch.how, launch.argv) == (
        "uvx",
        ["uvx", "--compile-bytecode", f"ocp-server@{__version__}"],
    )
    git = {
        "url": "https://github.com/example/ocp",
        "vcs_info": {"vcs": "git", "commit_id": "abc123"},
        "subdirectory": "ocp_server",
    }
    assert detect_launch(prefix=cached, direct=git).argv == [
        "uvx",
        "--compile-bytecode",
        "--from",
        "git+https://github.com/example/ocp@abc123#subdirectory=ocp_server",
        "ocp-server",
    ]


def test_an_installed_ocp_server_runs_its_own_entry_point(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "ocp-server").write_text("#!/bin/sh\n")
    wheel = {"url": "file:///dist/ocp_server-0.4.0-py3-none-any.whl", "archive_info": {}}
    for direct in (None, wheel):
        launch = detect_launch(prefix=venv, direct=direct)
        assert (launch.how, launch.argv) == ("installed", [str(venv / "bin" / "ocp-server")])


def test_the_check_runs_the_command_and_says_why_it_does_not_start(tmp_path: Path) -> None:
    works = Launch("installed", sys.executable, ("-m", "ocp_server.cli"), "this interpreter")
    assert check_launch(works) is None
    missing = Launch("installed", str(tmp_path / "nope"), (), "nothing")
    assert "not installed or not on PATH" in (check_launch(missing) or "")
    broken = Launch("installed", sys.executable, ("-c", "raise SystemExit(3)"), "broken")
    assert "failed (exit 3)" in (check_launch(broken) or "")


def test_the_example_config_is_what_init_writes_for_this_release_without_a_key() -> None:
    example = load(REPO / ".mcp.json.example")["mcpServers"]["ocp"]
    launch = detect_launch(prefix=Path("/cache/uv/archive-v0/x"), direct=None)
    assert (example["command"], example["args"]) == (launch.command, list(launch.args))
    assert example["type"] == "stdio"
    # No key (nobody pays twice) and no ${CLAUDE_PROJECT_DIR} (a warning in Claude Code).
    assert "ANTHROPIC_API_KEY" not in example["env"] and "OCP_WORKSPACE" not in example["env"]


def test_uvx_from_a_checkout_rebuilds_when_the_code_changes_not_only_pyproject() -> None:
    # uv caches a folder's build keyed on pyproject.toml alone by default: after a `git pull`
    # the IDE would keep starting the old server (seen here before the cache keys were set).
    keys = tomllib.loads((REPO / "ocp_server" / "pyproject.toml").read_text())["tool"]["uv"]
    files = {k["file"] for k in keys["cache-keys"] if "file" in k}
    assert {"pyproject.toml", "src/**/*.py", "src/**/*.json"} <= files


def test_a_command_that_does_not_start_leaves_the_config_as_it_was(
    workspace: Path, home: Path, tmp_path: Path
) -> None:
    # As `uvx ocp-server@<version>` does before the version reaches PyPI: the check fails.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "uvx"
    fake.write_text("#!/bin/sh\necho 'No solution found: ocp-server not published' >&2\nexit 1\n")
    fake.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    existing = workspace / ".mcp.json"
    existing.write_text('{"mcpServers": {"other": {"command": "other"}}}\n')
    before = existing.read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "init", "--client", "claude-code"],
        cwd=workspace,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": path, "HOME": str(home)},
    )
    assert done.returncode == 1
    assert "not published" in done.stderr and "nothing written" in done.stderr
    assert existing.read_bytes() == before
    assert sorted(p.name for p in workspace.iterdir() if p.name.startswith(".mcp")) == [".mcp.json"]
    assert not (workspace / ".claude").exists()


def test_init_names_a_folder_holding_a_token_redacted(tmp_path: Path, home: Path) -> None:
    # what init prints reaches an agent that ran it, and its model; the files keep the path
    body = "Xk29dLq7" * 4 + "Ab3Z"
    ws = tmp_path / f"backupghp_{body}" / "app"
    ws.mkdir(parents=True)
    (ws / "main.py").write_text("print('hi')\n")
    (ws / ".mcp.json").write_text('{"mcpServers": {}}')  # updated: the backup is named too
    done = init(ws, "--client", "claude-code", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    assert "updated" in done.stdout and "[REDACTED:github_token]" in done.stdout
    assert body not in done.stdout + done.stderr
    broken = tmp_path / f"cfgghp_{body}"
    broken.mkdir()
    (broken / ".mcp.json").write_text("{not json")
    done = init(broken, "--client", "claude-code", "--no-check", home=home)
    assert done.returncode == 2
    assert body not in done.stdout + done.stderr
    windsurf = init(ws, "--client", "windsurf", "--no-check", home=home)
    assert windsurf.returncode == 0, windsurf.stderr
    assert body not in windsurf.stdout + windsurf.stderr


def test_init_says_a_project_config_naming_this_machines_path_is_not_the_teams(
    workspace: Path, home: Path
) -> None:
    # The README said `.mcp.json` was left for you to commit for the team, while it named
    # this machine's checkout or install (an absolute path): committed, it started nothing
    # on a teammate's machine, and init said nothing of it.
    done = init(workspace, "--client", "claude-code", "--no-check", home=home)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert ".mcp.json names this machine's ocp-server, a path your team may not have" in said
    # It said a config init writes through `uvx ocp-server@VERSION` "runs on any machine with
    # uv": not before that version is on PyPI (the README: 0.4.0 is not yet), uv finds none.
    assert f"once ocp-server {__version__} is on PyPI, init run through `uvx" in said, said
    assert f"ocp-server@{__version__}` writes a config that runs on any machine with uv" in said
    glob = init(workspace, "--client", "windsurf", "--no-check", home=home)  # not the team's
    assert "your team" not in glob.stdout, glob.stdout
