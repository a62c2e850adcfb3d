"""Every git command OCP runs, built here so that a repository cannot make it run a program.

A work tree's `.git/config` belongs to whoever made the folder (an unpacked archive, a shared
drive), and git runs programs it names: the `core.fsmonitor` hook (run by `ls-files` and
`diff --cached`), gpg for `log.showSignature` (run by `git log` on a signed commit), external
diff and textconv drivers (patches), hooks (a command that writes the index), the pager. OCP's
commands only read, so each is run with those switched off, while the user's own settings
(global and system config, `core.excludesFile`) still apply:

- `-c core.fsmonitor=`: no hook (an empty value is "off" in every git version; `false` was
  taken for a program's name before git 2.36);
- `-c core.hooksPath=<null device>`: no hook, should a command ever write the index;
- `-c log.showSignature=false`;
- `-c log.mailmap=false`: `git log` opens the work tree's `.mailmap` (and `mailmap.file`) at
  its start, for author names no format of OCP's shows; a named pipe there waited for a
  writer until the command's timeout;
- `--no-ext-diff --no-textconv` for `diff` and `log` (filter drivers need no switch: OCP never
  diffs the work tree, and git reads a staged file from its blob when a filter would apply);
- `--no-pager`; no inherited `GIT_DIR`, `GIT_WORK_TREE`, `GIT_INDEX_FILE` and the rest of the
  variables git itself clears before it runs git in a submodule (`git rev-parse
  --local-env-vars`): a server started from a git hook or inside `git rebase -x` would read
  that repository instead of the workspace; `GIT_TERMINAL_PROMPT=0` (never wait on a
  prompt); `GIT_OPTIONAL_LOCKS=0` (never take `index.lock` from the user's own git);
- `--literal-pathspecs`: a path is a path, never a glob (but for `check-ignore`, which refuses
  the flag: its arguments are path names, never pathspecs with magic).
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

__all__ = [
    "STALL_S",
    "git_command",
    "git_env",
    "read_config_file",
    "run_git",
    "start_git",
    "system_config",
]

#: How long a command may run before the repository's loose objects are looked at for pipes.
STALL_S = 2.0

_OFF = (
    ("core.fsmonitor", ""),
    ("core.hooksPath", os.devnull),
    ("log.showSignature", "false"),
    ("log.mailmap", "false"),
)
_NO_DRIVERS = ("--no-ext-diff", "--no-textconv")
_WITH_DRIVERS = frozenset({"diff", "log", "show"})
_PATH_NAMES_ONLY = frozenset({"check-ignore"})


def git_command(workspace: Path, subcommand: str, *args: str) -> list[str]:
    """The argv of `git <subcommand> <args>` run in `workspace`, with the hardening above."""
    config = [a for key, value in _OFF for a in ("-c", f"{key}={value}")]
    drivers = _NO_DRIVERS if subcommand in _WITH_DRIVERS else ()
    return [
        "git",
        "--no-pager",
        *(() if subcommand in _PATH_NAMES_ONLY else ("--literal-pathspecs",)),
        *config,
        "-C",
        str(workspace),
        subcommand,
        *drivers,
        *args,
    ]


# `git rev-parse --local-env-vars` (git 2.39), fixed here so no command is spent asking.
_REPOSITORY_VARIABLES = frozenset(
    {
        "GIT_ALTERNATE_OBJECT_DIRECTORIES",
        "GIT_CONFIG",
        "GIT_CONFIG_PARAMETERS",
        "GIT_CONFIG_COUNT",
        "GIT_OBJECT_DIRECTORY",
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_IMPLICIT_WORK_TREE",
        "GIT_GRAFT_FILE",
        "GIT_INDEX_FILE",
        "GIT_NO_REPLACE_OBJECTS",
        "GIT_REPLACE_REF_BASE",
        "GIT_PREFIX",
        "GIT_INTERNAL_SUPER_PREFIX",
        "GIT_SHALLOW_FILE",
        "GIT_COMMON_DIR",
    }
)


def git_env() -> dict[str, str]:
    """Our environment without another repository's variables, with git told never to prompt
    and never to take optional locks, and to write its messages untranslated: they are read
    ("not a git repository", "dubious ownership"; files.py, citations/renames.py), and in a
    German desktop's environment git wrote "Kein Git-Repository". (The C locale changes
    nothing else OCP reads: paths come with -z or quoted by core.quotePath, commit text in
    i18n.logOutputEncoding.)"""
    env = {
        k: v for k, v in os.environ.items() if k not in _REPOSITORY_VARIABLES and k != "LANGUAGE"
    }
    return {**env, "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}


def run_git(
    workspace: Path, subcommand: str, *args: str, timeout: float, check: bool = False
) -> subprocess.CompletedProcess[bytes]:
    """Run the hardened command, output captured as bytes. Raises OSError when git cannot be
    started or when the repository's config reaches a pipe or a device (git_config_guard.py;
    a loose object that is one, once the command ran STALL_S), subprocess.TimeoutExpired,
    and CalledProcessError when `check` and it failed."""
    # (imported here: the guard finds the repository through a module that runs git by this one)
    from ocp_server.git_config_guard import check_config, look_for_stalls

    check_config(workspace)
    argv = git_command(workspace, subcommand, *args)
    started = time.monotonic()
    with subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=git_env(),
    ) as git:
        try:
            try:
                out, err = git.communicate(timeout=min(STALL_S, timeout))
            except subprocess.TimeoutExpired:
                # A loose object that is a pipe held the command until its timeout (checked
                # only now: a listing of every object folder); raises UnreadableConfig
                look_for_stalls(workspace)
                left = timeout - (time.monotonic() - started)
                out, err = git.communicate(timeout=max(left, 0.0))
        except (subprocess.TimeoutExpired, OSError):
            git.kill()
            git.communicate()
            raise
    if check and git.returncode:
        raise subprocess.CalledProcessError(git.returncode, argv, out, err)
    return subprocess.CompletedProcess(argv, git.returncode, out, err)


def start_git(workspace: Path, subcommand: str, *args: str) -> subprocess.Popen[bytes]:
    """Start the hardened command, its output and errors piped, for a caller that watches it
    while it runs (files.py: a listing that stalls). Raises OSError as run_git does."""
    from ocp_server.git_config_guard import check_config

    check_config(workspace)
    return subprocess.Popen(
        git_command(workspace, subcommand, *args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=git_env(),
    )


def read_config_file(
    config: Path, key_pattern: str, *, timeout: float
) -> subprocess.CompletedProcess[bytes]:
    """`git config --file <config> --no-includes --null --get-regexp <key_pattern>`: the
    values of one config file as git parses it, read outside any repository (the repository's
    own config, and what it includes, are then not read)."""
    return subprocess.run(
        [
            "git",
            "--git-dir",
            os.devnull,
            "config",
            "--no-includes",
            "--null",
            "--file",
            str(config),
            "--get-regexp",
            key_pattern,
        ],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        env=_alone(),
        cwd=config.parent,
    )


def _alone() -> dict[str, str]:
    """git_env() without the user's and the system's config: git reads them at the start of
    every command, and the guard asks git about them before it knows they cannot wait."""
    return {**git_env(), "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def system_config(*, timeout: float) -> Path | None:
    """The system config file this git reads (its build's `etc/gitconfig`), which git prints
    nowhere but hands to the editor of `git config --system --edit`; None when git cannot say."""
    try:
        done = subprocess.run(
            ["git", "--git-dir", os.devnull, "config", "--system", "--edit"],
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            env={**_alone(), "GIT_EDITOR": "echo"},
        )
    except (OSError, subprocess.SubprocessError):
        return None
    named = done.stdout.decode("utf-8", "surrogateescape").removesuffix("\n")
    return Path(named) if done.returncode == 0 and os.path.isabs(named) else None
