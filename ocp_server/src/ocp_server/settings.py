"""Server settings from OCP_* variables, and where the workspace is.

Clients disagree on where they start a server: Claude Desktop in `/`, VS Code in the home
directory, Windsurf declares no roots, Claude Code sets CLAUDE_PROJECT_DIR. The workspace is
resolved in this order: OCP_WORKSPACE, CLAUDE_PROJECT_DIR, the client's MCP roots, the working
directory. A variable that is still a literal `${VAR}` counts as unset.

Those are the folders the user configured, and the only ones a tool may open: a tool's
`workspace` argument must name one of them or a folder inside one (the index of the folder it
is in then answers, scoped to it). The root folder, the home folder and its parents, system
folders and credential folders (~/.ssh, ~/.aws…) are refused wherever they come from: an
index of them would read, and store, every secret on the machine.
"""

from __future__ import annotations

import functools
import os
import stat
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ocp_router.env import env_value, unexpanded
from ocp_router.errors import ConfigError
from ocp_router.redact_names import redact_name
from ocp_server.argument_errors import field_problem
from ocp_server.errors import WorkspaceError as WorkspaceError  # re-exported
from ocp_server.index.gitdirs import find_git_dirs
from ocp_server.index.limits import DEFAULT_HISTORY_COMMITS, DEFAULT_MAX_FILE_BYTES
from ocp_server.path_text import path_text
from ocp_server.workspace_folder import (
    CLIENT_ROOT,
    REFUSED_FOLDER,
    not_a_folder,
    not_absolute,
    workspace_problem,
)
from ocp_wire.base import MAX_WORKSPACE_CHARS

# The tools' own bounds of the budgets these settings stand in for: a default may not be what a
# caller could not ask for. Re-exported.
from ocp_wire.route import MAX_CONTEXT_TOKENS as MAX_CONTEXT_TOKENS
from ocp_wire.search import MAX_SEARCH_TOKENS as MAX_SEARCH_TOKENS
from ocp_wire.search import MIN_SEARCH_TOKENS as MIN_SEARCH_TOKENS
from ocp_wire.tools import TOOL_NAME_STYLES, ToolNameStyle, ToolShape

#: How much of a refused workspace path an error shows: all of it, in quotes.
PATH_CHARS = MAX_WORKSPACE_CHARS + 2

DEFAULT_MAX_FILES = 200_000  # a first index of more files needs --force (the CLI asks)


NO_WORKSPACE = (
    "no workspace: pass `workspace` (an absolute folder path), or run `ocp-server init "
    "--client <your IDE>` in the project: it sets OCP_WORKSPACE in the MCP config the way "
    'that IDE expands it (Cursor and VS Code: "${workspaceFolder}"; Windsurf and Claude '
    "Desktop: the absolute path; Claude Code passes CLAUDE_PROJECT_DIR by itself)"
)


def tool_names_setting(env: Mapping[str, str] | None = None) -> ToolNameStyle:
    """OCP_TOOL_NAMES: one of TOOL_NAME_STYLES (the first by default), how the tools are
    advertised and named in messages (ToolShape.name_in). ConfigError naming the setting
    otherwise."""
    env = os.environ if env is None else env
    names = (env_value(env, "OCP_TOOL_NAMES") or TOOL_NAME_STYLES[0]).lower()
    for style in TOOL_NAME_STYLES:
        if names == style:
            return style
    expected = " or ".join(repr(style) for style in TOOL_NAME_STYLES)
    raise ConfigError(f"OCP_TOOL_NAMES={names!r} is invalid: expected {expected}")


def workspace_setting(env: Mapping[str, str] | None = None) -> str | None:
    """OCP_WORKSPACE as given, or None when unset (or a literal `${VAR}`): the folder the
    server and the commands work in unless told another (`--workspace`)."""
    env = os.environ if env is None else env
    return env_value(env, "OCP_WORKSPACE")


def columns_set(env: Mapping[str, str] | None = None) -> bool:
    """Whether the user set COLUMNS, the width the CLI's output wraps at even when piped
    (rich reads the number itself: cli_output.console)."""
    env = os.environ if env is None else env
    return bool(env.get("COLUMNS"))


def workspace_db_path(workspace: Path) -> Path:
    """The database a workspace keeps for itself when OCP_DB_PATH is unset: it follows the
    folder when it moves (index/workspace.py, `_claim`)."""
    return workspace / ".ocp" / "ocp.db"


@dataclass(frozen=True, slots=True)
class ServerSettings:
    tool_names: ToolNameStyle = TOOL_NAME_STYLES[0]
    context_tokens: int = 6000
    search_tokens: int = 8000
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    max_files: int = DEFAULT_MAX_FILES
    history_commits: int = DEFAULT_HISTORY_COMMITS  # 0: the git history is not read
    db_path: Path | None = None
    workspace: Path | None = None
    claude_project_dir: Path | None = None
    # what set `workspace`, as errors name it: the variable, or the server's `--workspace`
    workspace_named_by: str = "OCP_WORKSPACE"
    # OCP_WORKSPACE and CLAUDE_PROJECT_DIR given as a literal `${VAR}` (read as unset), named
    # by the error that no workspace was found
    unexpanded_workspace: tuple[tuple[str, str], ...] = ()
    memory_ttl_days: int = 28  # memories not served while valid for this long expire; 0: never
    # Memory's clock (tests move it instead of sleeping).
    clock: Callable[[], float] = field(default=time.time, compare=False, repr=False)
    # Seconds the first search waits for a workspace's first index before answering with what
    # exists (later searches during that build answer at once: see WorkspaceIndex.first_wait_left).
    first_index_wait: float = 5.0
    # ocp_model_route calls that run at once; later ones wait their turn (see server.py).
    route_concurrency: int = 4
    # The largest postings snapshot saved beside the database for a restart to read instead
    # of the rows, in MiB (index/saved_snapshot.py); 0: none read or saved (a server deletes
    # one saved before).
    snapshot_mb: int = 1024

    def tool_name(self, shape: ToolShape[Any, Any]) -> str:
        """`shape`'s name as the tools are advertised (OCP_TOOL_NAMES), for every message."""
        return shape.name_in(self.tool_names)

    def db_path_for(self, workspace: Path) -> Path:
        """The database of `workspace`: OCP_DB_PATH when set, else its own."""
        return self.db_path or workspace_db_path(workspace)

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, workspace_flag: Path | None = None
    ) -> ServerSettings:
        """The settings `env` (the process's environment by default) gives. `workspace_flag`:
        the server's `--workspace`, which wins over OCP_WORKSPACE and is named in its place
        by errors."""
        env = os.environ if env is None else env
        names = tool_names_setting(env)
        db = env_value(env, "OCP_DB_PATH")
        ws = str(workspace_flag) if workspace_flag is not None else workspace_setting(env)
        cpd = env_value(env, "CLAUDE_PROJECT_DIR")
        default = cls()  # each variable's default is its field's
        return cls(
            tool_names=names,
            context_tokens=_int(
                env, "OCP_CONTEXT_TOKENS", default.context_tokens, 0, MAX_CONTEXT_TOKENS
            ),
            search_tokens=_int(
                env,
                "OCP_SEARCH_TOKENS",
                default.search_tokens,
                MIN_SEARCH_TOKENS,
                MAX_SEARCH_TOKENS,
            ),
            max_file_bytes=_int(env, "OCP_MAX_FILE_BYTES", default.max_file_bytes, 1),
            max_files=_int(env, "OCP_MAX_FILES", default.max_files, 1),
            history_commits=_int(env, "OCP_HISTORY_COMMITS", default.history_commits, 0),
            memory_ttl_days=_int(env, "OCP_MEMORY_TTL_DAYS", default.memory_ttl_days, 0),
            db_path=_absolute(db, "OCP_DB_PATH") if db else None,
            workspace=Path(ws).expanduser() if ws else None,
            claude_project_dir=Path(cpd).expanduser() if cpd else None,
            workspace_named_by="OCP_WORKSPACE" if workspace_flag is None else "--workspace",
            unexpanded_workspace=tuple(
                (name, value)
                for name in ("OCP_WORKSPACE", "CLAUDE_PROJECT_DIR")
                if (name != "OCP_WORKSPACE" or workspace_flag is None)
                and (value := unexpanded(env, name)) is not None
            ),
            first_index_wait=_seconds(
                env, "OCP_FIRST_INDEX_WAIT", default.first_index_wait, maximum=300.0
            ),
            route_concurrency=_int(env, "OCP_ROUTE_CONCURRENCY", default.route_concurrency, 1),
            snapshot_mb=_int(env, "OCP_SNAPSHOT_MB", default.snapshot_mb, 0, 1 << 20),
        )


def _absolute(value: str, name: str) -> Path:
    """A path setting: a relative one would land wherever the process was started (`/` for
    Claude Desktop, the home folder for VS Code), outside every configured folder."""
    path = Path(value).expanduser()
    if not path.is_absolute():
        raise ConfigError(
            f"{name}={value!r} is invalid: expected an absolute path (a relative one lands "
            "wherever the server happens to start)"
        )
    return path


def _int(
    env: Mapping[str, str], name: str, default: int, minimum: int, maximum: int | None = None
) -> int:
    value = env_value(env, name)
    if value is None:
        return default
    try:
        parsed = int(value)
    except ValueError:
        parsed = minimum - 1
    if maximum is not None and not minimum <= parsed <= maximum:
        raise ConfigError(
            f"{name}={value!r} is invalid: expected an integer from {minimum} to {maximum}"
        )
    if parsed < minimum:
        raise ConfigError(f"{name}={value!r} is invalid: expected an integer >= {minimum}")
    return parsed


def _seconds(env: Mapping[str, str], name: str, default: float, *, maximum: float) -> float:
    value = env_value(env, name)
    if value is None:
        return default
    try:
        parsed = float(value)
    except ValueError:
        parsed = -1.0
    if not 0.0 <= parsed <= maximum:
        raise ConfigError(
            f"{name}={value!r} is invalid: expected a number of seconds from 0 to {maximum:g}"
        )
    return parsed


# Refused with everything below them: the system's own folders and where credentials live.
_SYSTEM_TREES = tuple(
    Path(p)
    for p in """/etc /proc /sys /dev /boot /run /bin /sbin /lib /lib32 /lib64 /libx32 /usr/bin
    /usr/sbin /usr/lib /usr/lib32 /usr/lib64 /usr/libexec /usr/include /usr/share /var/lib
    /var/log /var/run /var/cache /var/spool /var/mail /var/db /snap /System /Library
    /private/etc /private/var/db /private/var/root""".split()
)
# Refused themselves (a project may live below them): shared roots of many projects or users.
_SHARED_FOLDERS = frozenset(
    Path(p)
    for p in "/ /usr /usr/local /var /opt /home /Users /srv /mnt /media /Volumes /tmp /var/tmp "
    "/private /private/tmp /private/var".split()
)
_HOME_TREES = (
    ".ssh",
    ".gnupg",
    ".aws",
    ".azure",
    ".kube",
    ".docker",
    ".password-store",
    ".config/gh",
    ".config/gcloud",
    ".local/share/keyrings",
)
_HOME_FOLDERS = (".config", ".local", ".local/share", "Library")


def _under(parts: tuple[str, ...], tree: tuple[str, ...]) -> bool:
    # A prefix test on parts: Path.is_relative_to builds and raises per call, 10x slower, and
    # this runs on every tool call.
    return parts[: len(tree)] == tree


_SYSTEM_TREE_PARTS = tuple(tree.parts for tree in _SYSTEM_TREES)


@functools.lru_cache(maxsize=4)
def _home_rules(
    home: str,
) -> tuple[Path, frozenset[Path], tuple[tuple[str, ...], ...], frozenset[Path]]:
    """The home folder, its parents, credential trees and settings folders, for one $HOME."""
    resolved = Path(home).resolve()
    return (
        resolved,
        frozenset(resolved.parents),
        tuple((resolved / tree).parts for tree in _HOME_TREES),
        frozenset(resolved / folder for folder in _HOME_FOLDERS),
    )


def refusal(path: Path) -> str | None:
    """Why this (resolved) folder may never be a workspace, or None."""
    return _refusal(path, os.path.expanduser("~"))


@functools.lru_cache(maxsize=256)
def _refusal(path: Path, home_dir: str) -> str | None:
    # A function of the folder and $HOME only, asked on every tool call: remembered.
    home, above_home, credential_trees, settings_folders = _home_rules(home_dir)
    if path == Path(path.anchor):
        return "is the root folder"
    if path == home:
        return "is your home folder"
    if path in above_home or path in _SHARED_FOLDERS:
        return "holds many projects or users' files"
    parts = path.parts
    if any(_under(parts, tree) for tree in _SYSTEM_TREE_PARTS):
        return "is a system folder"
    if any(_under(parts, tree) for tree in credential_trees):
        return "holds credentials"
    if path in settings_folders:
        return "holds applications' settings and credentials"
    if (dirs := find_git_dirs(path)) is not None and dirs.bare:
        # git's own files (objects, hooks, a config that may hold a remote's credentials):
        # git runs here without a work tree, and a listing would be of those files
        if (tree := git_folder_work_tree(path)) is not None:
            return f"is git's own folder of the project {tree} (inside its .git: no work tree)"
        return "is in a git folder (a bare repository, or a .git folder): it has no work tree"
    return None


def git_folder_work_tree(path: Path) -> Path | None:
    """The project whose `.git` folder holds `path` (`/p/.git/refs` → `/p`), else None (a
    bare repository has no project). Run in `.git`, a command meant its project."""
    for folder in (path, *path.parents):
        if folder.name == ".git":
            return folder.parent
    return None


# A folder's resolved path, with the device and inode it named then. Resolving walks every
# component of the path, a system call each, and the workspace is resolved on every tool call.
_RESOLVED: dict[Path, tuple[Path, int, int]] = {}


def _same_folder(path: Path, device: int, inode: int) -> bool:
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return False
    return (found.st_dev, found.st_ino) == (device, inode)


def resolved_folder(path: Path) -> Path | None:
    """`path.resolve()` when `path` is an existing folder, else None. Reused while the path
    and what it resolved to still name the same folder (device and inode): a symlink pointed
    elsewhere, or a folder moved, deleted or replaced, is resolved again. (Only a folder moved
    and a symlink to its new place put where it was keeps the old name.)"""
    try:
        found = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISDIR(found.st_mode):
        return None
    identity = (found.st_dev, found.st_ino)
    cached = _RESOLVED.get(path)
    # (a path that resolved to itself was just looked at: no second stat)
    if (
        cached is not None
        and cached[1:] == identity
        and (cached[0] == path or _same_folder(cached[0], *identity))
    ):
        return cached[0]
    resolved = path.resolve()
    if len(_RESOLVED) >= 64:  # a few configured folders and roots; tool arguments vary
        _RESOLVED.clear()
    _RESOLVED[path] = (resolved, *identity)
    return resolved


#: Whether a folder that is not there has an index kept for it (`kept_index`).
Kept = Callable[[Path], bool]


def kept_index(settings: ServerSettings, open_now: Callable[[], Iterable[Path]] = tuple) -> Kept:
    """A missing folder's index is kept when it is open (`open_now()`: its own `.ocp/`
    moved away with it, and is read where it went) or its database is there (OCP_DB_PATH)."""
    return lambda folder: folder in open_now() or settings.db_path_for(folder).is_file()


def _usable(path: Path, source: str, kept: Kept | None = None) -> Path:
    path = path.expanduser()
    problem = not_absolute(path, source)  # in the CLI's and doctor's words
    if problem is not None:
        raise WorkspaceError(problem)
    resolved = resolved_folder(path)
    if resolved is None and kept is not None and not os.path.lexists(path):
        # Gone (a drive not mounted yet, a folder moved away) with its index kept: served
        # from the index as it was, each answer saying so, until the folder is back
        missing = path.resolve()
        if refusal(missing) is None and kept(missing):
            return missing
    if resolved is None:  # (a folder again by now: said as a folder that is not there)
        raise WorkspaceError(not_a_folder(path, source) or f"{source} {path} does not exist")
    if why := refusal(resolved):
        shown = str(path) if resolved == path else f"{path} ({resolved})"
        raise WorkspaceError(
            workspace_problem(
                source, shown, f"{why}: {REFUSED_FOLDER}", "use the folder of one project"
            )
        )
    return resolved


def root_to_path(uri: str) -> Path | None:
    parsed = urlparse(uri)
    if parsed.scheme != "file":
        return None
    return Path(unquote(parsed.path))


def configured_folders(
    settings: ServerSettings,
    roots: list[str] | None,
    cwd: Path | None = None,
    kept: Kept | None = None,
) -> list[Path]:
    """The folders the user configured, in the documented order: OCP_WORKSPACE,
    CLAUDE_PROJECT_DIR, the client's roots; the working directory only when none is set. A
    configured folder that is refused raises WorkspaceError; a refused root is left out.
    `kept`: a configured folder that is not there counts when it says its index is kept."""
    folders: list[Path] = []
    if settings.workspace is not None:
        folders.append(_usable(settings.workspace, settings.workspace_named_by, kept))
    if settings.claude_project_dir is not None:
        folders.append(_usable(settings.claude_project_dir, "CLAUDE_PROJECT_DIR", kept))
    for uri in roots or []:
        path = root_to_path(uri)
        resolved = resolved_folder(path) if path is not None else None
        if resolved is not None and refusal(resolved) is None:
            folders.append(resolved)
    if not folders:
        here = (cwd or Path.cwd()).resolve()
        if refusal(here) is None:
            folders.append(here)
    return list(dict.fromkeys(folders))


def _left_out(settings: ServerSettings, roots: list[str] | None, cwd: Path | None) -> str:
    """Why the variables, the client's roots and the working directory did not count
    (configured_folders leaves them out silently): said with NO_WORKSPACE, or the user cannot
    tell."""
    why = [
        f"{name} is {value!r}, a variable the client did not expand (write the folder's "
        "absolute path there)"
        for name, value in settings.unexpanded_workspace
    ]
    for uri in roots or []:
        path = root_to_path(uri)
        resolved = resolved_folder(path) if path is not None else None
        if resolved is None:
            why.append(workspace_problem(CLIENT_ROOT, uri, "is not an existing local folder"))
        elif reason := refusal(resolved):
            why.append(workspace_problem(CLIENT_ROOT, resolved, reason))
    here = (cwd or Path.cwd()).resolve()
    if reason := refusal(here):
        why.append(workspace_problem("the working directory", here, reason))
    return f" (not used: {'; '.join(why)})" if why else ""


def resolve_workspace(
    settings: ServerSettings,
    argument: str | None,
    roots: list[str] | None,
    cwd: Path | None = None,
    kept: Kept | None = None,
) -> Path:
    """The workspace to open for a tool call; WorkspaceError (saying what to do) if none.

    Without `argument`, the first configured folder. With one (a tool's `workspace`), the
    innermost configured folder that contains it: a tool never opens, or creates files in,
    a folder the user did not configure. `kept`: as configured_folders takes it."""
    folders = configured_folders(settings, roots, cwd, kept)
    if not argument:
        if folders:
            return folders[0]
        raise WorkspaceError(NO_WORKSPACE + _left_out(settings, roots, cwd))
    if not Path(argument).expanduser().is_absolute():  # said as every argument error is
        raise WorkspaceError(
            field_problem(
                "workspace",
                "expected an absolute path",
                argument,
                option="`workspace`",
                limit=PATH_CHARS,
            )
        )
    path = _usable(Path(argument), "`workspace`")
    containing = [f for f in folders if path.is_relative_to(f)]
    if containing:
        return max(containing, key=lambda f: len(f.parts))
    allowed = ", ".join(redact_name(path_text(f)).text for f in folders) or "none"
    raise WorkspaceError(
        workspace_problem(
            "`workspace`",
            argument,
            f"is outside the folders this server may open ({allowed})",
            "leave `workspace` out, or pass one of them or a folder inside one. Other folders "
            "are opened only when configured (OCP_WORKSPACE) or opened in the client (MCP "
            "roots).",
        )
    )


def resolve_after_roots_moved(
    settings: ServerSettings,
    argument: str | None,
    gone: Path,
    roots: list[str] | None,
    cwd: Path | None = None,
) -> Path:
    """The workspace of a call resolved to `gone` under the client's roots before they
    changed. One that named its `workspace` is served where that folder is now (the innermost
    configured folder holding it); one that did not meant the folder it was made in, which
    the client closed: it is told so, not served from another project (whose memory it could
    write to)."""
    if argument:
        try:
            return resolve_workspace(settings, argument, roots, cwd)
        except WorkspaceError as exc:
            raise WorkspaceError(
                f"the client's roots changed while the call was on its way: {exc}"
            ) from None
    folders = configured_folders(settings, roots, cwd)
    now = (
        f"the folder calls without `workspace` use is now {folders[0]}"
        if folders
        else ("no folder is configured now")
    )
    raise WorkspaceError(
        f"{gone} is no longer among the client's roots: they changed while the call was on "
        f"its way, and {now}. Call again to use it, or pass `workspace`."
    )


def workspace_scope(workspace: Path, argument: str | None) -> str | None:
    """The sub-folder of `workspace` a tool's `workspace` argument names, as a relative
    posix path ('pkg/api'), or None when it names the workspace itself (or nothing)."""
    if not argument:
        return None
    rel = Path(argument).expanduser().resolve().relative_to(workspace).as_posix()
    return None if rel == "." else rel
