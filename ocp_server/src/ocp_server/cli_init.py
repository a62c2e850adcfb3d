"""`ocp-server init --client NAME`: wire OCP into an IDE's MCP configuration."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

from ocp_router.env import env_value
from ocp_router.redact_names import redact_name
from ocp_server import __version__
from ocp_server.entry import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE
from ocp_server.first_run import refuse_reason
from ocp_server.git_exclude import CLAUDE_LOCAL_SETTINGS, ensure_ignored
from ocp_server.launcher import COMPILE_BYTECODE, Launch, detect_launch
from ocp_server.mcp_config import (
    CLIENTS,
    KEY_PLACEHOLDER,
    SERVER_NAME,
    Client,
    ConfigFileError,
    Written,
    approve_in_claude_code,
    merge_server,
    read_config,
    render,
    write_config,
)
from ocp_server.settings import git_folder_work_tree
from ocp_server.workspace_folder import not_a_folder

CHECK_TIMEOUT = 300.0  # a first `uvx` run may download and build for a while


def check_launch(launch: Launch, env: dict[str, str] | None = None) -> str | None:
    """Run `<command> --version` as the IDE will start it; None when it works, else why not.
    For uvx this also fills uv's cache, so the IDE's first start is fast."""
    try:
        done = subprocess.run(
            [*launch.argv, "--version"],
            capture_output=True,
            text=True,
            timeout=CHECK_TIMEOUT,
            env=env,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        return f"{launch.command} is not installed or not on PATH"
    except subprocess.TimeoutExpired:
        return f"`{launch.shown()} --version` took more than {CHECK_TIMEOUT:.0f} s"
    if done.returncode != 0 or "ocp-server" not in done.stdout:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return f"`{launch.shown()} --version` failed (exit {done.returncode}): " + " / ".join(tail)
    return None


def _plan(
    client: Client, workspace: Path, launch: Launch, paid: bool, env: Mapping[str, str]
) -> list[tuple[Path, dict[str, Any], bool]]:
    """The files to write: (path, document, private)."""
    path = client.config_path(workspace, Path.home(), env)
    entry = client.entry(launch, workspace, paid=paid, env=env)
    doc = _merged(path, lambda existing: merge_server(existing, client, entry))
    private = client.writes_key_itself and paid  # it holds the key itself
    plan = [(path, doc, private)]
    if client.approved_in_local_settings:
        approval = workspace / ".claude" / "settings.local.json"
        plan.append((approval, _merged(approval, approve_in_claude_code), False))
    return plan


def _merged(path: Path, merge: Callable[[dict[str, Any] | None], dict[str, Any]]) -> dict[str, Any]:
    """`merge` applied to the file's document; a document it cannot merge into is named."""
    existing = read_config(path)
    try:
        return merge(existing)
    except ConfigFileError as exc:
        raise ConfigFileError(
            f"{path}: {exc}: fix it or move it away", path=path, unread=exc.unread
        ) from exc


def _masked(doc: dict[str, Any], client: Client, env: Mapping[str, str]) -> dict[str, Any]:
    """The document with a literal API key hidden (for --print)."""
    text = render(doc)
    key = env.get("ANTHROPIC_API_KEY", "").strip()
    if client.writes_key_itself and key:
        text = text.replace(key, KEY_PLACEHOLDER)
    masked: dict[str, Any] = json.loads(text)
    return masked


def _say(text: str, *, file: TextIO | None = None, flush: bool = False) -> None:
    """Print a message with its secrets redacted (a folder's name can hold a token, glued to a
    word too): an agent that runs init reads what it prints, and sends it to its model. The
    documents meant to be copied into a file (--print, an entry to add by hand) are exact."""
    print(redact_name(text).text, file=file, flush=flush)


def _say_ignored(workspace: Path) -> None:
    """Keep Claude Code's local settings out of git, as Claude Code does (git_exclude.py)."""
    ignored = ensure_ignored(workspace)
    if ignored is None:  # not a git repository
        return
    what, exclude = ignored
    if what == "already":
        _say(f"git already ignores {CLAUDE_LOCAL_SETTINGS} (it is not committed by accident)")
    else:
        _say(
            f"git ignores {CLAUDE_LOCAL_SETTINGS} now (it holds this machine's approval, so "
            f"it is not committed by accident): added to {exclude}, as Claude Code does"
        )


def _status_of(exc: ConfigFileError) -> int:
    """What a file says or the command asks that cannot be done is a configuration error (2,
    as argparse's own); a file the OS would not let init read is a failure (1)."""
    return EXIT_FAILURE if exc.unread else EXIT_USAGE


def run_init(args: argparse.Namespace, workspace: Path) -> int:
    client = CLIENTS[args.client]
    workspace = workspace.resolve()
    if (problem := not_a_folder(workspace)) is not None:
        _say(f"error: {problem}", file=sys.stderr)
        return EXIT_USAGE
    reason = refuse_reason(workspace, max_files=0, count=False, verb="serve")
    # --force accepts / or the home folder, never git's own folder (no server serves it)
    if reason is not None and (not args.force or git_folder_work_tree(workspace) is not None):
        _say(f"ocp-server: {reason}", file=sys.stderr)
        return EXIT_USAGE
    launch = detect_launch(absolute_uvx=not client.project)
    env = dict(os.environ)  # read once: the plan, --print's mask and the key's warning agree
    try:
        plan = _plan(client, workspace, launch, args.paid, env)
    except ConfigFileError as exc:
        _say(f"error: {exc}", file=sys.stderr)
        if exc.path == client.config_path(workspace, Path.home(), env):
            # The IDE's own file: its entry can be added by hand (a missing key or a broken
            # approval file is not helped by it).
            entry = client.entry(launch, workspace, paid=False, env={})
            _say(f"OCP's entry, to add to {exc.path} by hand:", file=sys.stderr)
            print(render({client.key: {SERVER_NAME: entry}}), end="", file=sys.stderr)
        return _status_of(exc)
    if args.print:
        for i, (path, doc, _) in enumerate(plan):
            stream = sys.stdout if i == 0 else sys.stderr
            _say(f"# {path}", file=sys.stderr)
            stream.write(render(_masked(doc, client, env)))
        return 0
    # Checked before anything is written: a command that cannot start (say a version not yet
    # on PyPI) must not be left in the IDE's config.
    if not args.no_check:
        _say(f"checking that `{launch.shown()} --version` starts…", flush=True)
        try:
            problem = check_launch(launch)
        except KeyboardInterrupt:
            _say("interrupted: the check did not finish; nothing written", file=sys.stderr)
            return EXIT_INTERRUPTED
        if problem is not None:
            _say(f"error: the command does not start: {problem}", file=sys.stderr)
            _say("nothing written (--no-check writes it anyway)", file=sys.stderr)
            return EXIT_FAILURE
        _say("checked: the command starts")
    results: list[Written] = []
    try:
        for path, doc, private in plan:
            results.append(write_config(path, doc, private=private))
    except (OSError, ConfigFileError) as exc:  # (a file changed since it was read)
        _say(f"error: {exc}", file=sys.stderr)
        return _status_of(exc) if isinstance(exc, ConfigFileError) else EXIT_FAILURE
    for w in results:
        if not w.changed:
            _say(f"{w.path}: already up to date")
        elif w.backup is not None:
            _say(f"updated {w.path} (the previous version is in {w.backup})")
        else:
            _say(f"wrote {w.path}")
    if client.approved_in_local_settings:  # its approval, which is this machine's alone
        _say_ignored(workspace)
    _say(f"{client.title} starts ocp with: {launch.shown()}  ({launch.detail})")
    if client.project and launch.how != "uvx":
        # A project's config is the team's to commit; a path of this machine is not theirs.
        # (not before: uvx finds the release on PyPI, and the README says when it is not)
        release = f"{COMPILE_BYTECODE} ocp-server@{__version__}"
        _say(
            f"note: {results[0].path.name} names this machine's ocp-server, a path your team "
            "may not have: commit it only if they install it there too (once ocp-server "
            f"{__version__} is on PyPI, init run through `uvx {release}` writes a config that "
            "runs on any machine with uv)"
        )
    if args.paid:
        _say("paid calls: OCP reads ANTHROPIC_API_KEY (leave --paid out to never pay twice)")
        if client.expands_key_from_env and env_value(env, "ANTHROPIC_API_KEY") is None:
            _say(
                f"warning: ANTHROPIC_API_KEY is not set in this shell; {client.title} passes "
                "the one set where it starts (an app started from a menu or the dock may not "
                "see your shell's), and with none OCP makes no paid call: requests come back "
                "to your agent",
                file=sys.stderr,
            )
    else:
        _say("no API key passed: complex requests come back to your agent as an enriched prompt")
    if (said := _enclosing_note(client, workspace, env)) is not None:
        _say(said)
    _say("next: " + client.next_step.format(ws=workspace))
    return 0


def _enclosing_note(client: Client, workspace: Path, env: Mapping[str, str]) -> str | None:
    """What a server started in `workspace` serves when it lies inside a project with its own
    index (enclosing.py), as doctor says it; for a client whose config lives in the project,
    which file it reads opened at that project instead. None otherwise."""
    from ocp_router.errors import ConfigError
    from ocp_server.enclosing import answering_index
    from ocp_server.settings import ServerSettings

    try:
        project, scope = answering_index(workspace, ServerSettings.from_env(env))
    except ConfigError:  # the server says that one at its start (and doctor too)
        return None
    if scope is None:
        return None
    note = (
        f"note: {workspace} is inside {project}, which has its own index: the server started "
        f"here answers from it, scoped to {scope}/ (searches and routes keep to the folder; "
        "memory is the project's, a restore keeps to the folder's decisions and uncited ones; "
        "`ocp-server index --force` here builds a separate index)"
    )
    if client.project:
        other = client.config_path(project, Path.home(), env)
        note += (
            f". {client.title} reads the config written here when opened in {workspace}; "
            f"opened at {project} it reads {other} instead: run init there for that"
        )
    return note
