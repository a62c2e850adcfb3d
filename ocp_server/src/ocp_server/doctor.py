"""`ocp-server doctor`: every check contacts what it checks, and every problem comes with
its fix, naming the variable to set.

A check is `ok`, `warn` (works, but something is worth knowing or improving) or `fail`
(something the user relies on does not work); doctor exits 1 when any check fails.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any, Literal

from ocp_router.backends.base import ClosingBackend
from ocp_router.backends.ollama import OllamaBackend
from ocp_router.backends.openai import OpenAIBackend
from ocp_router.backends.probe import ModelProbe, Probing
from ocp_router.config import RouterSettings, build_local, build_paid
from ocp_router.env import env_value
from ocp_router.errors import BackendError, ConfigError
from ocp_router.tokens import CHARS_PER_TOKEN
from ocp_router.words import counted
from ocp_server import __version__
from ocp_server.doctor_settings import misspelt_note, paid_key_missing
from ocp_server.enclosing import answering_index
from ocp_server.errors import DatabaseError, WorkspaceError
from ocp_server.first_run import git_folder_refusal, refuse_reason
from ocp_server.index.files import git_files
from ocp_server.index.ignore_probe import ignores_everything, ignores_everything_note
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.launcher import COMPILE_BYTECODE
from ocp_server.mcp_config import find_ocp_entries
from ocp_server.settings import (
    ServerSettings,
    git_folder_work_tree,
    resolve_workspace,
    workspace_db_path,
)
from ocp_server.status import index_report
from ocp_server.workspaces import database_naming
from ocp_wire import TOOL_SHAPES

Status = Literal["ok", "warn", "fail"]


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: Status
    detail: str


def _versions() -> Check:
    found: dict[str, str | None] = {}
    for dist in ("ocp-router", "ocp-wire", "ocp-client"):
        try:
            found[dist] = dist_version(dist)
        except PackageNotFoundError:
            found[dist] = None
    router, wire = found["ocp-router"], found["ocp-wire"]
    line = f"ocp-server {__version__}, ocp-router {router}, ocp-wire {wire}"
    if found["ocp-client"]:
        line += f", ocp-client {found['ocp-client']}"
    wrong = [f"{d} {v}" for d, v in found.items() if v is not None and v != __version__]
    if router is None or wire is None or wrong:
        return Check(
            "versions",
            "fail",
            f"{line}: the distributions must be the same release. Reinstall them together: "
            f"`uvx {COMPILE_BYTECODE} ocp-server@{__version__}` (as `ocp-server init` writes) "
            f"or `pip install -U 'ocp-server=={__version__}'`",
        )
    return Check("versions", "ok", line)


async def _workspace_checks(settings: ServerSettings, flag: Path | None) -> list[Check]:
    try:
        if flag is not None:  # --workspace configures, as OCP_WORKSPACE would
            settings = dataclasses.replace(settings, workspace=flag)
        path = resolve_workspace(settings, None, None)
    except WorkspaceError as exc:
        said = str(exc)
        if flag is not None and said.startswith("OCP_WORKSPACE "):  # what the user typed
            said = "--workspace" + said.removeprefix("OCP_WORKSPACE")
        folder = (settings.workspace or Path.cwd()).resolve()
        refused = git_folder_refusal(folder, verb="run doctor in")
        if refused and settings.workspace is None:  # where to run it, not the tool's advice
            said = refused
        return [Check("workspace", "fail", said), *_git_folder_indexes(folder)]
    checks = [Check("workspace", "ok", str(path))]
    checks += [c for c in (_git_ignore_check(path), _git_folder_index(path / ".git")) if c]
    if reason := refuse_reason(path, max_files=settings.max_files, count=False):
        checks.append(Check("index", "warn", reason))
        return checks
    # A folder inside a project with its own index is served by that index, by the server
    # and the CLI alike (enclosing.py): its state is the one to check.
    answered, scope = answering_index(path, settings)
    if scope is not None:
        checks.append(
            Check(
                "project",
                "ok",
                f"{path} is inside {answered}: a server or command started here answers from "
                f"that project's index, scoped to {scope}/ (memory is the project's; a restore "
                "keeps to the folder's decisions and uncited ones). For a separate index of "
                "this folder run `ocp-server index --force` here",
            )
        )
    db = settings.db_path_for(answered)
    if not db.exists():
        checks.append(
            Check(
                "index",
                "warn",
                f"no index yet ({db}): the server builds it when your IDE starts it, or run "
                "`ocp-server index` now",
            )
        )
        return checks
    try:
        async with await WorkspaceIndex.open(
            answered, db, naming=database_naming(settings)
        ) as index:
            report = await index_report(index)
    except (DatabaseError, OSError) as exc:
        return [*checks, Check("index", "fail", f"{db}: {exc}")]
    state = f"{counted(report.files, 'file')}, {counted(report.chunks, 'chunk')} in {db}"
    if report.build.state != "idle":
        state += f"; build {report.build.state} at {report.build.done:,}/{report.build.total:,}"
    why = "no update has finished" if report.last_update is None else "the git HEAD moved"
    if report.storage_failed:  # every update fails until someone acts
        return [
            *checks,
            Check("index", "fail", f"{state}; the last update failed: {report.storage_failed}"),
        ]
    if report.files == 0:
        return [*checks, Check("index", "warn", f"empty: {state}. Run `ocp-server index`")]
    free = free_bytes(db.parent)
    if free < FULL_BELOW_BYTES:  # every update fails, the next search's too (`full_disk`)
        stale = f"stale ({why}), and " if report.stale else ""
        return [
            *checks,
            Check(
                "index",
                "warn",
                f"{state} ({stale}the disk holding it is full, {free:,} bytes free: updates and "
                "saves fail, and the index stays as it is until space is freed)",
            ),
        ]
    if report.stale:
        by = (
            f"ocp-server process {report.watcher.pid}, which watches the workspace, re-indexes it"
            if report.watcher.state == "other_process"
            else "the next search re-indexes it first"
        )
        state += f" (stale: {why} since the last update; {by})"
    if report.workers_failed:  # it works, more slowly: a first build of a large repository
        return [
            *checks,
            Check(
                "index",
                "warn",
                f"{state}; its worker processes {report.workers_failed}, and it read the "
                "files in one thread (see the server's log on stderr)",
            ),
        ]
    return [*checks, Check("index", "ok", state)]


def _git_ignore_check(path: Path) -> Check | None:
    """A warning when git's rules ignore every new file of a workspace git lists (a home
    folder kept in git for its dotfiles): the index holds only what git tracks."""
    rule = ignores_everything(path)
    listed = git_files(path, tell=False) if rule else None  # None: listed without git
    if rule is None or listed is None:
        return None
    return Check("git ignore", "warn", ignores_everything_note(path, rule, len(listed)))


def _git_folder_indexes(folder: Path) -> list[Check]:
    """Warnings of the indexes an older `index --force` left in the project's .git and in
    `folder`, when it is inside that .git: every command there is refused now."""
    tree = git_folder_work_tree(folder)
    if tree is None:
        return []
    stale = dict.fromkeys((tree / ".git", folder))
    return [c for c in map(_git_folder_index, stale) if c]


def _git_folder_index(folder: Path) -> Check | None:
    """A warning of an index an older `ocp-server index --force` built in `folder`, a
    project's .git or a folder inside it: git's own files, which no server or command uses
    now (first_run.git_folder_refusal)."""
    stale = workspace_db_path(folder).parent
    if not stale.is_dir():
        return None
    return Check(
        "git folder",
        "warn",
        f"{stale} is an index of git's own files, built by an older `ocp-server index --force` "
        f"run in .git: nothing uses it (every command there is refused now). Remove it: "
        f"`rm -r {stale}`",
    )


#: Less room than this on the disk holding the database, and an update's first batch cannot
#: be written (SQLite grows the file and its WAL as it writes): the disk is full for it.
FULL_BELOW_BYTES = 1 << 20


def free_bytes(path: Path) -> int:
    """The room left for this user on the filesystem holding `path`."""
    return shutil.disk_usage(path).free


def _local_tokens(rs: RouterSettings) -> int:
    """The most tokens OCP sends the local model (its own limits on a local request)."""
    by_chars = rs.local_context_chars // CHARS_PER_TOKEN
    return min(by_chars, rs.local_context_tokens) if rs.local_context_tokens else by_chars


def _judge_local(probe: ModelProbe, rs: RouterSettings, role: str) -> list[Check]:
    name = f"{role} model"
    where = f"{probe.model} on {probe.backend} at {probe.url}"
    if not probe.present:
        offered = ", ".join(probe.available[:8]) or "none"
        if probe.backend == "ollama":
            fix = f"run `ollama pull {probe.model}`, or set OCP_LOCAL_MODEL to one it has"
        else:
            fix = "set OCP_LOCAL_MODEL to a model the server lists"
        if role == "phase-2 classifier":
            fix = fix.replace("OCP_LOCAL_MODEL", "OCP_CLASSIFIER_MODEL") + " (or `none`)"
        # A one-model OpenAI-compatible server (llama.cpp) answers under any model name.
        lenient = probe.backend != "ollama" and len(probe.available) == 1
        status: Status = "warn" if lenient else "fail"
        note = " (a one-model server may answer under any name)" if status == "warn" else ""
        return [Check(name, status, f"{where}: not found{note}; it offers {offered}. Fix: {fix}")]
    facts = []
    checks: list[Check] = []
    if probe.context_window:
        facts.append(f"context {probe.context_window:,} tokens")
    if probe.loaded_context:
        facts.append(f"loaded with {probe.loaded_context:,}")
    if probe.tools is not None:
        facts.append("takes tools" if probe.tools else "no tool support")
    found = f"{where}: present" + (f", {', '.join(facts)}" if facts else "")
    checks.append(Check(name, "ok", found))
    if role != "local":
        return checks
    if rs.local_tools and probe.tools is False:
        checks.append(
            Check(
                "local tools",
                "fail",
                f"OCP_LOCAL_TOOLS=1 but {probe.model} takes no tools: tool-using conversations "
                "would fail locally. Fix: set OCP_LOCAL_TOOLS=0, or a model with tool support",
            )
        )
    elif not rs.local_tools and probe.tools:
        # said as the user left it: "OCP_LOCAL_TOOLS=0" read as a value they had set
        off = (
            "OCP_LOCAL_TOOLS=0"
            if "local_tools" in rs.model_fields_set
            else ("OCP_LOCAL_TOOLS unset (its default, 0)")
        )
        checks.append(
            Check(
                "local tools",
                "warn",
                f"{probe.model} takes tools but {off} sends every conversation with "
                "tools to the paid tier. To keep them local: set OCP_LOCAL_TOOLS=1",
            )
        )
    budget = _local_tokens(rs)
    window = probe.loaded_context or probe.context_window
    if (
        rs.local_context_tokens
        and probe.context_window
        and (rs.local_context_tokens > probe.context_window)
    ):
        checks.append(
            Check(
                "local context",
                "fail",
                f"OCP_LOCAL_CONTEXT_TOKENS={rs.local_context_tokens} is more than {probe.model}'s "
                f"context of {probe.context_window:,}. Fix: set OCP_LOCAL_CONTEXT_TOKENS="
                f"{probe.context_window}",
            )
        )
    elif window and budget > window:
        which = "is loaded with" if probe.loaded_context else "has"
        fix = (
            "start Ollama with a larger OLLAMA_CONTEXT_LENGTH, or "
            if probe.backend == "ollama" and probe.loaded_context
            else ""
        )
        checks.append(
            Check(
                "local context",
                "warn",
                f"OCP may send up to ~{budget:,} tokens locally (OCP_LOCAL_CONTEXT_CHAR_LIMIT="
                f"{rs.local_context_chars}) but {probe.model} {which} {window:,}: long prompts "
                f"get cut. Fix: {fix}set OCP_LOCAL_CONTEXT_TOKENS={window}",
            )
        )
    return checks


_WITHOUT_LOCAL = (
    "Without a local model, search and memory work, and routed requests come back to your "
    "agent as an enriched prompt"
)


def _local_configured(rs: RouterSettings, env: Mapping[str, str]) -> bool:
    """Whether the user set up a local model (its backend, model or URL), rather than OCP
    trying its default Ollama: OCP works without one, so only a configured one that does not
    answer is a failure."""
    url = "OCP_OLLAMA_URL" if rs.local_backend == "ollama" else "OCP_LOCAL_BASE_URL"
    return any(env_value(env, v) for v in ("OCP_LOCAL_BACKEND", "OCP_LOCAL_MODEL", url))


async def _local_checks(rs: RouterSettings, env: Mapping[str, str]) -> list[Check]:
    backend = build_local(rs)
    assert isinstance(backend, OllamaBackend | OpenAIBackend), backend
    try:
        try:
            if isinstance(backend, OpenAIBackend):
                probe = await backend.probe(tools=rs.local_tools)
            else:
                probe = await backend.probe()
        except BackendError as exc:
            detail = str(exc)
            if isinstance(backend, OllamaBackend) and backend.not_installed(exc.__cause__):
                detail = f"{detail.rstrip('.')}. {_WITHOUT_LOCAL}"
            if _local_configured(rs, env):
                return [Check("local model", "fail", detail)]
            return [Check("local model", "warn", f"none configured, none at the default: {detail}")]
        checks = _judge_local(probe, rs, "local")
        phase2 = rs.phase2_model
        if probe.present and phase2 and phase2 != rs.local_model:
            try:
                checks.extend(_judge_local(await backend.probe(phase2), rs, "phase-2 classifier"))
            except BackendError as exc:
                checks.append(Check("phase-2 classifier model", "fail", str(exc)))
        return checks
    finally:
        await backend.aclose()


NO_PAID = (
    "not configured: complex requests come back to your agent as an enriched prompt (it is "
    "already a paid model: nobody pays twice). For OCP to call a paid model itself, set "
    "ANTHROPIC_API_KEY (`ocp-server init --client … --paid` passes it through), or "
    "OCP_PAID_BACKEND=openai with OPENAI_API_KEY and OCP_PAID_MODEL (a model it serves)"
)


async def _paid_checks(rs: RouterSettings) -> list[Check]:
    if not rs.paid_configured:
        missing = paid_key_missing(rs)
        return [
            Check("paid model", "warn", missing) if missing else Check("paid model", "ok", NO_PAID)
        ]
    try:
        backend = build_paid(rs)
    except ConfigError as exc:
        return [Check("paid model", "fail", str(exc))]
    assert isinstance(backend, Probing) and isinstance(backend, ClosingBackend), backend
    key_var = "ANTHROPIC_API_KEY" if rs.paid_backend == "anthropic" else "OPENAI_API_KEY"
    checks = []
    try:
        tiers = [("paid model", rs.paid_model, "OCP_PAID_MODEL")]
        if rs.top_model:
            tiers.append(("top model", rs.top_model, "OCP_PAID_TOP_MODEL"))
        for name, model, var in tiers:
            try:
                probe = await backend.probe(model)
            except BackendError as exc:
                checks.append(Check(name, "fail", f"{exc} (key from {key_var})"))
                break
            where = f"{model} on {rs.paid_backend}"
            if not probe.present:
                fix = f"set {var} to a model this key can use"
                if var == "OCP_PAID_TOP_MODEL":
                    fix += " (or `none` for no top tier)"
                checks.append(Check(name, "fail", f"{where}: not found. Fix: {fix}"))
                continue
            ctx = f", context {probe.context_window:,} tokens" if probe.context_window else ""
            checks.append(Check(name, "ok", f"{where}: present{ctx}"))
    finally:
        await backend.aclose()
    return checks


def _command_runs(entry: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    command = str(entry.get("command") or "")
    if not command:
        return "it has no command"
    if os.path.isabs(command):
        return None if os.access(command, os.X_OK) else f"{command} does not exist"
    found = shutil.which(command, path=env.get("PATH", os.defpath))
    return None if found else f"`{command}` is not on PATH"


def _uvx_release(entry: Mapping[str, Any]) -> str | None:
    """What a config that starts ocp through `uvx` runs when that is not this release: "the
    newest ocp-server release on the package index" (unpinned) or "ocp-server 0.3.0"; None
    for this release, a `--from` source (a checkout) or another command."""
    if Path(str(entry.get("command") or "")).name not in ("uvx", "uvx.exe"):
        return None
    args = [str(a) for a in entry.get("args") or []]
    if "--from" in args:
        return None
    spec = next((a for a in args if a == "ocp-server" or a.startswith("ocp-server@")), None)
    spec = spec or next((a for a in args if a.startswith("ocp-server==")), None)
    if spec is None:
        return None
    pinned = spec.removeprefix("ocp-server").lstrip("@=")
    if pinned in ("", "latest"):
        return "the newest ocp-server release on the package index"
    return None if pinned == __version__ else f"ocp-server {pinned}"


def _uvx_compiles(entry: Mapping[str, Any]) -> bool:
    """Whether a config that starts ocp through `uvx` has uv compile bytecode as it installs
    (what init writes): without it each environment uv builds, a first start
    after every uv cache clean or release, imports slower until Python writes its own cache.
    True for any other command (nothing of uv's to tell)."""
    if Path(str(entry.get("command") or "")).name not in ("uvx", "uvx.exe"):
        return True
    if COMPILE_BYTECODE in (str(a) for a in entry.get("args") or []):
        return True
    # uv's own variable, in the entry's env, does the same (a uv.toml this cannot see may too).
    flag = env_value(entry.get("env") or {}, "UV_COMPILE_BYTECODE") or ""
    return flag.strip().lower() in ("1", "true", "yes", "on")


def _served_workspace(entry: Mapping[str, Any]) -> Path | None:
    """The workspace an entry names for its server (`--workspace` among its args wins over
    OCP_WORKSPACE in its env, as the server reads them), resolved; None when it names none or
    only a variable the IDE fills in."""
    args = [str(a) for a in entry.get("args") or []]
    named = None
    for at, arg in enumerate(args):
        if arg == "--workspace" and at + 1 < len(args):
            named = args[at + 1]
        elif arg.startswith("--workspace="):
            named = arg.removeprefix("--workspace=")
    if named is None:
        named = env_value(entry.get("env") or {}, "OCP_WORKSPACE")
    if not named or "${" in named or not Path(named).is_absolute():
        return None
    return Path(named).resolve()


def _client_checks(workspace: Path | None, home: Path, env: Mapping[str, str]) -> list[Check]:
    found = find_ocp_entries(workspace or Path.cwd(), home, env)
    if not found:
        return [
            Check(
                "IDE config",
                "warn",
                "no MCP config here starts ocp. Run `ocp-server init --client claude-code` "
                "(or cursor, windsurf, vscode, claude-desktop) in your project",
            )
        ]
    checks = []
    for client, path, entry in found:
        shown = " ".join([str(entry.get("command", "")), *map(str, entry.get("args") or [])])
        problem = _command_runs(entry, env)
        if problem is not None:
            checks.append(
                Check(
                    client.title,
                    "fail",
                    f"{path} starts `{shown}`, but {problem}. Fix: run "
                    f"`ocp-server init --client {client.name}` again",
                )
            )
            continue
        release = _uvx_release(entry)
        if release is not None:
            # A bare `uvx ocp-server` ran 0.3.0, which crashes at start (README).
            checks.append(
                Check(
                    client.title,
                    "warn",
                    f"{path} starts `{shown}`, which runs {release}, not this ocp-server "
                    f"{__version__}. Fix: run `ocp-server init --client {client.name}` again",
                )
            )
            continue
        server_env = entry.get("env") or {}
        if client.writes_key_itself and "ANTHROPIC_API_KEY" in server_env:
            if env_value(server_env, "ANTHROPIC_API_KEY") is None:
                checks.append(
                    Check(
                        client.title,
                        "warn",
                        f"{path} passes ANTHROPIC_API_KEY as "
                        f"{str(server_env['ANTHROPIC_API_KEY'])!r}, but {client.title} "
                        "expands no variables, so OCP gets no key. Fix: run `ocp-server init "
                        f"--client {client.name} --paid` where ANTHROPIC_API_KEY is set",
                    )
                )
                continue
        served = None if client.project or workspace is None else _served_workspace(entry)
        if served is not None and served != workspace:
            # A global config names its workspace: another project opened in that IDE is not
            # what ocp searches there.
            checks.append(
                Check(
                    client.title,
                    "warn",
                    f"{path} starts `{shown}`, which serves {served}, not this workspace "
                    f"({workspace}): the config is global, one project at a time. Fix: run "
                    f"`ocp-server init --client {client.name}` here to serve this one",
                )
            )
            continue
        if not _uvx_compiles(entry):
            checks.append(
                Check(
                    client.title,
                    "warn",
                    f"{path} starts `{shown}`, without {COMPILE_BYTECODE} (an older `ocp-server "
                    "init` wrote it so): each new uv environment, after a release or a cache "
                    "clean, starts slower until Python has compiled it. Fix: run "
                    f"`ocp-server init --client {client.name}` again",
                )
            )
            continue
        keyed = "ANTHROPIC_API_KEY" in server_env
        note = " (passes ANTHROPIC_API_KEY: OCP makes paid calls)" if keyed else ""
        checks.append(Check(client.title, "ok", f"{path} starts `{shown}`{note}"))
    return checks


async def run_checks(
    workspace_flag: Path | None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> list[Check]:
    """Every check, in order. `env` and `home` default to this process's."""
    env = os.environ if env is None else env
    home = Path.home() if home is None else home
    checks = [_versions()]
    try:
        settings = ServerSettings.from_env(env)
    except ConfigError as exc:  # every tool needs these
        return [*checks, Check("configuration", "fail", str(exc))]
    rs: RouterSettings | None = None
    routing: Check | None = None
    try:
        rs = RouterSettings.from_env(env)
    except ConfigError as exc:  # routing's alone: the server's other tools work (app.py)
        routing = Check(
            "routing settings",
            "fail",
            f"{exc}. The route tool answers with this until it is fixed and the server "
            "restarted; search, restore and save work. The local and paid models are checked "
            "once it is fixed",
        )
    names = ", ".join(t.name_in(settings.tool_names) for t in TOOL_SHAPES)
    checks.append(Check("tool names", "ok", f"{settings.tool_names}: {names}"))
    if misspelt := misspelt_note(env):
        checks.append(Check("settings", "warn", misspelt))
    ws_checks = await _workspace_checks(settings, workspace_flag)
    checks.extend(ws_checks)
    if rs is not None:
        checks.extend(await _local_checks(rs, env))
        checks.extend(await _paid_checks(rs))
    checks.extend([routing] if routing is not None else [])
    workspace = Path(ws_checks[0].detail) if ws_checks[0].status == "ok" else None
    checks.extend(_client_checks(workspace, home, env))
    return checks
