"""The `ocp-server` command line. With no sub-command it serves MCP over stdio."""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import os
import platform
import sys
from collections.abc import Callable, Coroutine
from importlib import import_module
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as dist_version
from pathlib import Path
from typing import Any, NoReturn, cast

from ocp_router.errors import ConfigError
from ocp_router.redact import RedactingFilter
from ocp_router.redact_names import NameRedactingFilter, redact_name
from ocp_router.tiers import EFFORTS
from ocp_server import __version__
from ocp_server.cli_waits import DEFAULT_WAIT
from ocp_server.collector import importing
from ocp_server.entry import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE, ended
from ocp_server.hard_exit import end_process
from ocp_server.mcp_config import CLIENTS
from ocp_server.sdk_imports import import_server_sdk
from ocp_server.settings import ServerSettings, workspace_setting
from ocp_server.workspace_folder import not_a_folder, not_absolute
from ocp_wire.restore import MAX_RESTORE_TOKENS, MIN_RESTORE_TOKENS
from ocp_wire.search import DEFAULT_SEARCH_RESULTS, MAX_SEARCH_RESULTS

OUR_LOGGERS = ("ocp_server", "ocp_router", "ocp_client")


def version_line() -> str:
    """`ocp-server 0.4.0 (ocp-router 0.4.0, mcp 2.3.0, Python 3.11.7)`: the versions that
    decide whether this install works, in the one line users paste into bug reports."""
    parts = []
    for dist in ("ocp-router", "mcp"):
        try:
            parts.append(f"{dist} {dist_version(dist)}")
        except PackageNotFoundError:
            parts.append(f"{dist} missing")
    parts.append(f"Python {platform.python_version()}")
    return f"ocp-server {__version__} ({', '.join(parts)})"


def command_workspace(
    flag: str | None, *, check_env: bool = True, kept: Callable[[Path], bool] | None = None
) -> Path:
    """`--workspace`, else `OCP_WORKSPACE`, else the current directory.

    A bad OCP_WORKSPACE is a ConfigError naming it (the user may have left it exported from
    another project), and a relative one is refused as the server and `doctor` refuse it: the
    CLI would otherwise answer for a folder the IDE's server never opens. One that is not
    there is taken when `kept` says its index is kept (a command that reads it)."""
    if flag:
        return Path(flag).expanduser().resolve()
    env = workspace_setting()
    if not env:
        return Path.cwd()
    path = Path(env).expanduser()
    if not check_env:
        return path.resolve()
    # in the server's and doctor's words (workspace_folder.py)
    problem = not_absolute(path, "OCP_WORKSPACE")
    if problem is None and not _gone_and_kept(path, kept):
        problem = not_a_folder(path, "OCP_WORKSPACE")
    if problem is not None:
        raise ConfigError(redact_name(problem).text)  # a folder's name can hold a token
    return path.resolve()


def _gone_and_kept(path: Path, kept: Callable[[Path], bool] | None) -> bool:
    """Whether `path` is not there at all and `kept` says its index is kept."""
    return kept is not None and not os.path.lexists(path) and kept(path.resolve())


def _kept_index(command: str) -> Callable[[Path], bool] | None:
    """For the commands that read a kept index (status, search; index says the folder is
    gone): whether a folder that is not there has its database (OCP_DB_PATH)."""
    if command not in _READS_KEPT:
        return None
    from ocp_server.settings import ServerSettings, kept_index

    return kept_index(ServerSettings.from_env())


def configure_logging(verbosity: int = 0, *, serving: bool = True) -> None:
    """Logs go to stderr: stdout belongs to the MCP protocol (and to --json output).

    `-v` shows OCP's own debug lines; `-vv` also every library's (aiosqlite alone logs each
    SQL call at DEBUG, thousands of lines for one index; without its parameters). OCP's INFO
    lines (each route, each re-index) are a log of the server and the proxy that run on; a
    command that prints its own answer (`serving` False) shows only warnings unless -v."""
    quiet = logging.INFO if serving else logging.WARNING
    logging.basicConfig(
        level=logging.DEBUG if verbosity >= 2 else logging.WARNING,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for name in OUR_LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if verbosity >= 1 else quiet)
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(NameRedactingFilter())  # whatever a log line quotes (-vv: SQL too)
    sqlite_log = logging.getLogger("aiosqlite")
    if not any(isinstance(f, SqlParametersHidden) for f in sqlite_log.filters):
        sqlite_log.addFilter(SqlParametersHidden())


class SqlParametersHidden(logging.Filter):
    """aiosqlite logs each call with its arguments: the SQL stays, the bound parameters go.
    A parameter is a value without its name (a state value, a note's text), which redaction
    cannot judge, so -vv would log a password saved as a state value verbatim."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(_call_without_parameters(a) for a in record.args)
        return True


def _call_without_parameters(value: object) -> object:
    if not isinstance(value, functools.partial):
        return value
    name = getattr(value.func, "__name__", "call")
    sql = [a for a in value.args if isinstance(a, str)][:1]
    bound = any(a for a in value.args[1:])  # execute(sql, None) binds nothing
    return f"{name}({', '.join(repr(s) for s in sql)}{', ...' if bound else ''})"


def common_options(*, top: bool) -> argparse.ArgumentParser:
    """Options every command accepts, before or after the command's name. On sub-commands
    they default to SUPPRESS, so `ocp-server -v index` is not undone by index's own default."""
    parent = argparse.ArgumentParser(add_help=False)
    unset = None if top else argparse.SUPPRESS
    parent.add_argument("--version", action="version", version=version_line())
    # The server (no command) looks further than a command does before the working folder.
    served = ", else CLAUDE_PROJECT_DIR or the client's roots when serving MCP" if top else ""
    parent.add_argument(
        "--workspace",
        default=unset,
        help=f"workspace folder (default: OCP_WORKSPACE{served}, else the current directory)",
    )
    parent.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0 if top else argparse.SUPPRESS,
        help="debug logging on stderr (-vv: libraries too)",
    )
    return parent


def add_command(
    sub: Any,
    name: str,
    common: argparse.ArgumentParser,
    help: str,
    description: str | None = None,
) -> argparse.ArgumentParser:
    """A command whose own --help says what it does: without a longer description, the line
    `ocp-server --help` lists it with (argparse shows that line only in the parent's list)."""
    described = description or f"{help[0].upper()}{help[1:]}."
    parser: argparse.ArgumentParser = sub.add_parser(
        name, parents=[common], help=help, description=described
    )
    return parser


def add_init_command(sub: Any, common: argparse.ArgumentParser) -> None:
    init = add_command(
        sub,
        "init",
        common,
        help="wire OCP into an IDE's MCP config (claude-code, cursor, windsurf, vscode, …)",
        description="Write or merge the MCP configuration that makes an IDE start OCP for "
        "this workspace: other servers are left alone, the old file is backed up, and running "
        "it twice changes nothing.",
    )
    init.add_argument("--client", required=True, choices=sorted(CLIENTS), help="which IDE")
    init.add_argument(
        "--paid",
        action="store_true",
        help="also pass ANTHROPIC_API_KEY, so OCP calls paid models itself (without it, "
        "complex requests go back to your agent, which is already a paid model)",
    )
    init.add_argument(
        "--print", action="store_true", help="print the resulting config; write nothing"
    )
    init.add_argument(
        "--no-check",
        action="store_true",
        help="do not run the command once to check that it starts before writing it",
    )
    init.add_argument(
        "--force", action="store_true", help="accept / or the home folder as the workspace"
    )
    init.set_defaults(handler="ocp_server.cli_init:run_init")


def add_force(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--force",
        action="store_true",
        help="index even /, the home folder or more than OCP_MAX_FILES files",
    )


def add_index_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    index = add_command(sub, "index", common, help="index the workspace (incremental)")
    index.add_argument(
        "path",
        nargs="?",
        help="workspace to index (default: the workspace); naming another folder than "
        "--workspace is an error",
    )
    add_force(index)
    index.add_argument(
        "--wait",
        type=wait_seconds,
        default=DEFAULT_WAIT,
        metavar="SECONDS",
        help="while another ocp-server process indexes this workspace, wait up to SECONDS "
        "for it to finish (default %(default).0f); still indexing then: exit status 1",
    )
    index.add_argument(
        "--no-wait",
        dest="wait",
        action="store_const",
        const=0.0,
        help="do not wait: exit status 1 at once while another process indexes",
    )
    index.set_defaults(handler="ocp_server.cli_index:run_index")
    search = add_command(sub, "search", common, help="search the workspace index")
    search.add_argument("query", help="what to look for: words, a symbol name, a question")
    search.add_argument(
        "-k",
        type=int,
        default=DEFAULT_SEARCH_RESULTS,
        metavar="N",
        help=f"number of results, 1 to {MAX_SEARCH_RESULTS} (default %(default)s)",
    )
    search.add_argument("--json", action="store_true", help="print a JSON list of results")
    search.add_argument(
        "--glob",
        dest="path_glob",
        metavar="GLOB",
        help="only paths matching this glob, relative to the workspace ('src/**/*.py')",
    )
    search.add_argument("--language", help="only this language (python, go, …)")
    add_force(search)
    search.set_defaults(handler="ocp_server.cli_index:run_search")
    status = add_command(
        sub,
        "status",
        common,
        help="the index: files, chunks, skips by reason, last update, watcher, build progress",
    )
    status.add_argument("--json", action="store_true", help="print the report as JSON")
    status.set_defaults(handler="ocp_server.cli_index:run_status")


def add_server_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    route = add_command(
        sub, "route", common, help="route a request as the ocp_model_route tool would"
    )
    route.add_argument("text", help="the request, as an agent would send it")
    route.add_argument(
        "--dry-run",
        action="store_true",
        help="show the decision and the exact prompt; call no model",
    )
    route.add_argument(
        "--force",
        choices=["local", "mid", "top", "paid"],
        help="force the tier (paid means mid) instead of deciding",
    )
    route.add_argument("--model", help="force one model by name")
    route.add_argument(
        "--effort",
        choices=EFFORTS,
        help="how much the local model thinks: none (not at all) to high "
        "(default: the model's own)",
    )
    route.add_argument("--json", action="store_true", help="print the full result as JSON")
    route.set_defaults(handler="ocp_server.cli_server:run_route")
    restore = add_command(sub, "restore", common, help="print what earlier sessions left")
    restore.add_argument("--query", metavar="TEXT", help="put what relates to this first")
    restore.add_argument(
        "--max-tokens",
        type=int,
        default=2000,
        metavar="N",
        help=f"token budget of the whole result, {MIN_RESTORE_TOKENS} to {MAX_RESTORE_TOKENS} "
        "(default 2000)",
    )
    restore.add_argument("--json", action="store_true", help="print the result as JSON")
    restore.set_defaults(handler="ocp_server.cli_server:run_restore")
    stats = add_command(
        sub, "stats", common, help="the savings report: tiers, cost, savings, latency"
    )
    stats.add_argument(
        "--since", metavar="AGE", help="only this recent: 7d, 12h, 30m (default: all)"
    )
    stats.add_argument("--json", action="store_true", help="print the report as JSON")
    stats.add_argument(
        "--html", metavar="FILE", type=Path, help="also write a self-contained HTML report"
    )
    stats.set_defaults(handler="ocp_server.cli_server:run_stats")
    doctor = add_command(
        sub,
        "doctor",
        common,
        help="check the setup: contacts each configured model; each problem comes with its fix",
    )
    doctor.add_argument("--json", action="store_true", help="print the checks as JSON")
    doctor.set_defaults(handler="ocp_server.cli_server:run_doctor")


def wait_seconds(text: str) -> float:
    """`index --wait`: seconds, 0 or more and finite (`nan` waited for ever)."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"expected seconds, 0 or more (got {text!r})")
    return seconds


def port_number(text: str) -> int:
    """`--port`: checked here, so that a bad one is named as the option, not as the
    OCP_PROXY_PORT variable the proxy's settings read it through."""
    try:
        port = int(text)
    except ValueError:
        port = -1
    from ocp_server.proxy.settings import MAX_PORT  # here: the CLI's start stays short

    if not 0 <= port <= MAX_PORT:
        raise argparse.ArgumentTypeError(f"expected a port from 0 to {MAX_PORT} (got {text!r})")
    return port


def add_proxy_command(sub: Any, common: argparse.ArgumentParser) -> None:
    proxy = add_command(
        sub,
        "proxy",
        common,
        help="route an agent's own model requests: an Anthropic/OpenAI-compatible proxy",
        description="Serve Anthropic Messages (/v1/messages) and OpenAI Chat Completions "
        "(/v1/chat/completions) on 127.0.0.1, each request routed to the local model or "
        "relayed to the paid provider. Dashboard at /ui. Claude Code: "
        "ANTHROPIC_BASE_URL=http://127.0.0.1:8787",
    )
    proxy.add_argument("--port", type=port_number, help="port (default: OCP_PROXY_PORT or 8787)")
    proxy.add_argument(
        "--host",
        help="address to bind (default: OCP_PROXY_HOST or 127.0.0.1); another address "
        "needs OCP_PROXY_TOKEN",
    )
    proxy.set_defaults(handler="ocp_server.proxy.cli:run_proxy")


def add_routing_commands(sub: Any, common: argparse.ArgumentParser) -> None:
    routing = add_command(
        sub,
        "routing",
        common,
        help="the workspace's routing calibration, learned from saved outcomes",
        description="Outcomes saved with ocp_result_save (good, bad/wrong, escalated, "
        "overkill) shift the local/paid threshold per task type for this workspace.",
    )
    # The actions as the metavar; with none given, main prints this help (what each action
    # does) and exits 2: argparse's own "required: {explain,reset}" said nothing of them.
    actions = routing.add_subparsers(dest="action", metavar="{explain,reset}")
    routing.set_defaults(action_help=routing.format_help)
    explain = add_command(
        actions, "explain", common, help="the threshold per task type and the outcomes behind it"
    )
    explain.add_argument("--json", action="store_true", help="print the calibration file")
    explain.set_defaults(handler="ocp_server.cli_routing:run_explain")
    reset = add_command(
        actions, "reset", common, help="forget every learned shift (back to the defaults)"
    )
    reset.set_defaults(handler="ocp_server.cli_routing:run_reset")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ocp-server",
        description="Local-first context and model routing for IDE coding agents. With no "
        "command, serves MCP over stdio (what an IDE runs from its MCP config). Start with "
        "`ocp-server init --client claude-code` in your project.",
        epilog=f"exit status: 0 done; {EXIT_FAILURE} something failed (doctor: a check failed; "
        f"a damaged database or routing calibration, files OCP writes); {EXIT_USAGE} a usage "
        "or configuration error (an option, an OCP_* variable, the workspace, a config file "
        f"init cannot merge into, --paid without the key it needs); {EXIT_INTERRUPTED} "
        "interrupted (Ctrl-C). A reader that closes the pipe early (| head -1) ends it with 0.",
        parents=[common_options(top=True)],
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = common_options(top=False)
    add_init_command(sub, common)
    add_index_commands(sub, common)
    add_server_commands(sub, common)
    add_proxy_command(sub, common)
    add_routing_commands(sub, common)
    for command in sub.choices.values():  # for an unknown option: the command's own error
        command.set_defaults(command_parser=command)
    return parser


def load_server() -> Callable[[ServerSettings | None, str | None], Coroutine[Any, Any, None]]:
    """`serve_stdio`, with only what answering `initialize` needs of the mcp SDK imported
    (sdk_imports); the tools' implementation loads once the server is up (server._load_app)."""
    with importing():
        import_server_sdk()
        from ocp_server.server import serve_stdio

    return serve_stdio


def serve(workspace: str | None = None) -> int:
    """Serve MCP over stdio until the client closes stdin. A configuration error does not stop
    the server: it starts, and every tool answers with the error (an IDE shows a tool's error;
    a server that exits shows only "Connection closed").

    `--workspace` (an MCP config's `"args": ["--workspace", "/path"]`) is OCP_WORKSPACE for
    this server, winning over the variable as it does for every command: the same checks
    apply. It is given to the settings, not put in the process's environment."""
    flag = Path(workspace).expanduser().resolve() if workspace else None
    if sys.stdin.isatty():  # typed by hand: an IDE's stdin is a pipe
        print(
            "ocp-server serves MCP over stdio, for an IDE to start (`ocp-server init --client "
            "...` wires it in); Ctrl-D ends it. The commands: ocp-server --help",
            file=sys.stderr,
        )
    serve_stdio = load_server()
    from ocp_server.log_thread import flush_logs, log_from_a_thread

    try:
        # errors name the flag the user wrote
        settings: ServerSettings | None = ServerSettings.from_env(workspace_flag=flag)
        error = None
    except ConfigError as exc:
        print(f"ocp-server: {exc}", file=sys.stderr)
        settings, error = None, str(exc)
    log_from_a_thread()  # a client that leaves stderr unread must not stop the answers
    try:
        asyncio.run(serve_stdio(settings, error))
    finally:
        flushed = flush_logs(0.5)  # what is still queued, unless stderr is not read
    _end_now(flushed)


def _end_now(flushed: bool) -> NoReturn:
    """End the served process without the interpreter's teardown: the server has shut down,
    and freeing every module's objects one by one took 10 s of a loaded machine, past the
    exit grace promised to the client (stdio.EXIT_GRACE). The watchdog cannot cut that
    short: a daemon thread that wakes during the teardown ends silently instead. The OS
    frees the memory at once, and index workers end with their lifeline. What the teardown
    must not skip runs first (hard_exit): the atexit handlers, for half a second at most."""
    end_process(0.5, flush_streams=flushed)  # unless stderr is not read: it would wait


def _handler(args: argparse.Namespace) -> Callable[[argparse.Namespace, Path], int]:
    """The function that runs the command: `module:function`, imported now (a command's
    libraries are loaded by the command that needs them, never by the server's start)."""
    handler = args.handler
    if callable(handler):
        return cast(Callable[[argparse.Namespace, Path], int], handler)
    module, name = str(handler).split(":")
    return cast(Callable[[argparse.Namespace, Path], int], getattr(import_module(module), name))


# Commands that say themselves what a missing workspace means: init names its fix, doctor
# lists it as a failed check. Every other one needs the folder.
_OWN_WORKSPACE_CHECK = frozenset({"init", "doctor"})
# ... and a refused one: status says why it is not indexed; index and search take --force.
_OWN_REFUSAL = _OWN_WORKSPACE_CHECK | {"status", "index", "search"}
# A workspace folder that is not there, its index kept: status and search read it as it was
# (saying the folder is gone), index says so (settings.kept_index, as the server serves it).
_READS_KEPT = frozenset({"status", "index", "search"})


def _refused(args: argparse.Namespace, workspace: Path) -> str | None:
    """Why this command may not open `workspace` (/, the home folder, /etc, ~/.ssh, /tmp…:
    opening one creates its database and indexes it), or None. An index made on purpose
    before (`index --force`) is used; `index` and `search` check their own --force. A folder
    inside a project's .git is refused for every command but init (its own refusal) and
    doctor (a failed check), an index built there before or not."""
    from ocp_server.first_run import NO_FORCE_HINT, git_folder_refusal, refuse_reason

    if args.command not in _OWN_WORKSPACE_CHECK and (
        why := git_folder_refusal(workspace, verb=f"run {args.command} in")
    ):
        return why
    if args.command in _OWN_REFUSAL:
        return None
    if ServerSettings.from_env().db_path_for(workspace).exists():
        return None

    return refuse_reason(workspace, max_files=0, count=False, force_hint=NO_FORCE_HINT)


# Options whose value may start with "-": argparse takes `--since -5d` for two options and
# says only "expected one argument"; joined (`--since=-5d`) the value reaches its own check.
_DASH_VALUES = frozenset({"--since"})


def _dash_values_joined(argv: list[str]) -> list[str]:
    out: list[str] = []
    at = 0
    while at < len(argv):
        arg = argv[at]
        following = argv[at + 1] if at + 1 < len(argv) else ""
        if arg in _DASH_VALUES and following.startswith("-") and not following.startswith("--"):
            out.append(f"{arg}={following}")
            at += 2
        else:
            out.append(arg)
            at += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, unknown = parser.parse_known_args(
        _dash_values_joined(sys.argv[1:] if argv is None else argv)
    )
    if unknown:  # argparse says them with the program's usage, not the command's options
        said_by = getattr(args, "command_parser", parser)
        said_by.error(f"unrecognized arguments: {' '.join(unknown)}")
    configure_logging(args.verbose, serving=args.command in (None, "proxy"))
    if args.command is None:
        return serve(args.workspace)
    if getattr(args, "action", "") is None:  # a command of actions, without one
        sys.stderr.write(args.action_help())
        print(f"ocp-server {args.command}: error: name an action", file=sys.stderr)
        return EXIT_USAGE
    own_check = args.command in _OWN_WORKSPACE_CHECK
    try:  # doctor lists a bad OCP_WORKSPACE among its checks, as the server would see it
        kept = _kept_index(args.command)
        workspace = command_workspace(args.workspace, check_env=args.command != "doctor", kept=kept)
    except ConfigError as exc:
        print(f"ocp-server: {exc}", file=sys.stderr)
        return EXIT_USAGE
    problem = None if own_check or _gone_and_kept(workspace, kept) else not_a_folder(workspace)
    if problem is not None:
        print(f"error: {redact_name(problem).text}", file=sys.stderr)  # a name can hold a token
        return EXIT_USAGE  # as for a bad OCP_WORKSPACE: a usage error (argparse's status)
    try:
        if refused := _refused(args, workspace):
            print(f"ocp-server: {refused}", file=sys.stderr)
            return EXIT_USAGE
        result: int = _handler(args)(args, workspace)
    except ConfigError as exc:  # an OCP_* variable: one line naming it, a usage error
        print(f"ocp-server: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - only a busy database is said here; else raised
        return _busy(exc, args.command, workspace)
    return result


def _busy(exc: Exception, command: str, workspace: Path) -> int:
    """Another process kept the database's write lock past the busy timeout (a second IDE
    window's build, a `sqlite3` shell in a transaction): said as the server says it, in one
    line naming the holder when it can be known, not as a traceback. Anything else is raised."""
    from ocp_server.errors import busy_text, database_busy

    if not database_busy(exc):
        raise exc
    db_path = ServerSettings.from_env().db_path_for(workspace)
    print(f"ocp-server: {busy_text(f'ocp-server {command}', db_path)}", file=sys.stderr)
    return EXIT_FAILURE


if __name__ == "__main__":
    sys.exit(ended(main))  # as the `ocp-server` entry point ends: Ctrl-C, a closed pipe
