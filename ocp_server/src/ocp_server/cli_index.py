"""`ocp-server index`, `search` and `status`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sqlite3
import sys
import time
from pathlib import Path

from pydantic import ValidationError
from rich.markup import escape
from rich.table import Table

from ocp_router.redact_names import redact_name
from ocp_router.words import counted
from ocp_server.argument_errors import field_problem
from ocp_server.cli_output import IndexProgress, console, option_problems
from ocp_server.cli_waits import OtherIndexer
from ocp_server.enclosing import answering_index
from ocp_server.entry import EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_USAGE
from ocp_server.errors import DatabaseError, InputError, storage_cause, storage_failed
from ocp_server.first_run import WorkspaceRefused, check_workspace, in_git_folder, refuse_reason
from ocp_server.index.full_disk import updated_unless_full
from ocp_server.index.globs import relative_glob
from ocp_server.index.languages import language_named
from ocp_server.index.lexicon import NO_SEARCHABLE_WORDS
from ocp_server.index.models import IndexSummary, SearchResponse
from ocp_server.index.query import parse_query
from ocp_server.index.skip_words import skipped_words
from ocp_server.index.workspace_root import WorkspaceGone
from ocp_server.render import hit_part, members_line
from ocp_server.settings import ServerSettings, tool_names_setting
from ocp_server.status import index_report, render_report, routing_line
from ocp_server.views import search_answer
from ocp_server.workspace_folder import not_a_folder
from ocp_server.workspaces import open_index
from ocp_wire import MAX_SEARCH_RESULTS, IndexReport, SearchArgs, SearchHit


def _settings() -> ServerSettings:
    """The server's settings (one parser for every entry point; a bad value raises
    ConfigError, which the CLI reports in one line with exit status 2)."""
    return ServerSettings.from_env()


async def _files_indexed(workspace: Path) -> int:
    """Files in the workspace's index; 0 without opening (creating) it when it does not exist."""
    settings = _settings()
    if not settings.db_path_for(workspace).exists():
        return 0
    async with await open_index(settings, workspace) as index:
        return (await index.status()).files


def _status_of(exc: DatabaseError | NotADirectoryError) -> int:
    """A workspace that is no folder is a usage error (2, as argparse's and a bad
    OCP_WORKSPACE's); a database that fails is a failure (1)."""
    return EXIT_USAGE if isinstance(exc, NotADirectoryError) else EXIT_FAILURE


async def first_run_check(workspace: Path, settings: ServerSettings, force: bool) -> None:
    """Before a first index (nothing indexed yet), refuse /, the home folder and folders with
    more than OCP_MAX_FILES files unless forced. Runs before the database is created. A
    folder that is not there with its database kept is read as it was (WorkspaceIndex.open)."""
    if (problem := not_a_folder(workspace)) is not None:
        if settings.db_path_for(workspace).is_file():
            return
        raise NotADirectoryError(problem)
    in_git_folder(workspace)  # an index of it made before answers nothing either
    if force or await _files_indexed(workspace) > 0:
        return
    check_workspace(workspace, max_files=settings.max_files)


def answering(args: argparse.Namespace, folder: Path, *, scoped: bool) -> tuple[Path, str | None]:
    """The workspace whose index answers this command run in `folder`, and the sub-folder
    it keeps to (enclosing.answering_index), said on stderr when that is a project above
    `folder`: its output is that project's. `scoped`: the command keeps to the sub-folder
    (a search, a route's context); the others (index, status, memory) are the project's."""
    own_force = isinstance(getattr(args, "force", None), bool)  # route's --force is a tier
    workspace, scope = answering_index(folder, _settings(), force=own_force and args.force)
    if scope is not None:
        shown, outer = (redact_name(str(p)).text for p in (folder, workspace))
        kept = f", scoped to {scope}/" if scoped else ""
        hint = " (--force builds a separate index of this folder)" if own_force else ""
        said = f"ocp-server: {shown} is inside {outer}: its index answers{kept}{hint}"
        print(said, file=sys.stderr)
    return workspace, scope


#: How often `index` looks again at another process's indexing it waits for.
_WAIT_POLL = 0.5


async def _index(workspace: Path, force: bool, wait: float) -> IndexSummary | OtherIndexer:
    """This process's update, or, when another process holds the lease, what it is doing
    once waited for (up to `wait` seconds): a script's next search must not find half an
    index because `index` returned at once."""
    settings = _settings()
    await first_run_check(workspace, settings, force)
    async with await open_index(settings, workspace) as index:
        with IndexProgress(console(stderr=True)) as progress:
            deadline = time.monotonic() + wait
            said = False
            while True:
                if (summary := await index.update(progress.update)) is not None:
                    return summary  # the lease was free (or freed): this process indexed
                report = await index_report(index)
                other = OtherIndexer.of(report, waited=wait)
                if not other.busy or time.monotonic() >= deadline:
                    return other
                if not said:
                    said = True
                    print(f"ocp-server: {other.waiting()}", file=sys.stderr, flush=True)
                progress.update(report.build.done, report.build.total)
                await asyncio.sleep(_WAIT_POLL)


def interrupted(workspace: Path) -> int:
    """One line after Ctrl-C: what is there and how to finish. Every committed batch is whole,
    so the index is consistent; the next `ocp-server index` completes it."""
    try:
        files = asyncio.run(_files_indexed(workspace))
        kept = f"{counted(files, 'file')} indexed so far"
    except Exception:  # noqa: BLE001 - the one line must come out whatever happened
        kept = "what was indexed so far is kept"
    print(
        f"interrupted: the index is consistent ({kept}); run `ocp-server index` to finish it",
        file=sys.stderr,
    )
    return EXIT_INTERRUPTED


def _two_workspaces(args: argparse.Namespace) -> str | None:
    """`index PATH --workspace OTHER` names two folders: which one the user meant is a guess
    (PATH was taken and OTHER ignored without a word), so it is a usage error naming both.
    The same folder named both ways is no conflict."""
    flag = getattr(args, "workspace", None)
    if not args.path or not flag:
        return None
    path, other = Path(args.path).expanduser().resolve(), Path(flag).expanduser().resolve()
    if path == other:
        return None
    shown_path, shown_other = (redact_name(str(p)).text for p in (path, other))
    return (
        f"PATH {shown_path} and --workspace {shown_other} name two workspaces: give one "
        "(PATH is this command's --workspace)"
    )


def _shown(said: BaseException | str) -> str:
    """An error as printed: the paths it names redacted as names (a folder's name can hold a
    token, as `cli.main` redacts the workspace it names)."""
    return redact_name(str(said)).text


def run_index(args: argparse.Namespace, workspace: Path) -> int:
    if conflict := _two_workspaces(args):
        print(f"ocp-server index: error: {conflict}", file=sys.stderr)
        return EXIT_USAGE
    folder = Path(args.path).expanduser().resolve() if args.path else workspace
    workspace, _ = answering(args, folder, scoped=False)
    err = console(stderr=True)
    try:
        summary = asyncio.run(_index(workspace, args.force, args.wait))
    except KeyboardInterrupt:
        return interrupted(workspace)
    except WorkspaceRefused as exc:
        print(f"ocp-server: {_shown(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except (DatabaseError, NotADirectoryError) as exc:
        err.print(f"[red]error:[/red] {escape(_shown(exc))}", soft_wrap=True)
        return _status_of(exc)
    except WorkspaceGone as exc:  # its index kept: nothing to index until it is back
        err.print(f"[red]error:[/red] {escape(_shown(exc))}", soft_wrap=True)
        return EXIT_FAILURE
    except sqlite3.DatabaseError as exc:  # the disk refused a batch: the ones before are kept
        if not storage_failed(exc):
            raise
        cause = _shown(storage_cause(exc, _settings().db_path_for(workspace)))
        kept = "the files indexed so far are kept: run `ocp-server index` again to finish"
        err.print(f"[red]error:[/red] {escape(cause)}; {kept}", soft_wrap=True)
        return EXIT_FAILURE
    if isinstance(summary, OtherIndexer):
        print(f"ocp-server: {summary.outcome()}", file=sys.stderr)
        return EXIT_FAILURE if summary.failed else 0
    # Names read as names (redact_names.py): a folder's name can hold a token.
    table = Table(title=f"index of {redact_name(str(workspace)).text}", show_header=False)
    table.add_row("files", f"{summary.files:,}")
    table.add_row("chunks", f"{summary.chunks:,}")
    table.add_row("read (looked changed)", f"{summary.scanned:,}")
    table.add_row("re-chunked (content changed)", f"{summary.changed:,}")
    table.add_row("removed", f"{summary.removed:,}")
    table.add_row("skipped", skipped_words(summary.skipped))
    table.add_row("seconds", f"{summary.seconds:.2f}")
    workers = str(summary.workers)
    if summary.workers_failed:
        workers += f" (worker processes {redact_name(summary.workers_failed).text})"
    table.add_row("processes reading files", workers)
    table.add_row(
        "database",
        f"{summary.db_bytes / 1e6:.1f} MB at "
        f"{redact_name(str(_settings().db_path_for(workspace))).text}",
    )
    console().print(table)
    return 0


def _empty_query(query: str) -> InputError | None:
    if not parse_query(query).empty:
        return None
    # Not "no results" and 0: a script passing an empty variable would take it for a
    # search done. What it prints goes to an agent's model: redacted, cut (field_problem).
    return InputError(
        field_problem(
            "query",
            'expected words, a symbol name or a question, as in `ocp-server search "verify token"`',
            query,
            hint=f"it {NO_SEARCHABLE_WORDS}",
            option="query",
        )
    )


#: The tool's argument names as `search` spells its options.
_OPTIONS = {"query": "query", "k": "-k", "path_glob": "--glob", "language": "--language"}


def _search_args(args: argparse.Namespace) -> SearchArgs:
    """The options as the tool's arguments, checked by the tool's own model (its limits: a
    query of 28,000 characters and a glob of 600 passed here, which the tool refuses)."""
    if (empty := _empty_query(args.query)) is not None:
        raise empty
    try:
        return SearchArgs(
            query=args.query, k=args.k, path_glob=args.path_glob, language=args.language
        )
    except ValidationError as exc:
        raise InputError(option_problems(exc, _OPTIONS)) from None


def _as_option(message: str) -> str:
    """A tool's error naming its field first (`` `path_glob`: … ``), said with the option the
    user typed (`--glob: …`), as field_problem says an option's."""
    named, sep, rest = message.partition(": ")
    field = named.strip("`")
    return f"{_OPTIONS[field]}{sep}{rest}" if sep and field in _OPTIONS else message


def _note_as_options(note: str) -> str:
    """A search's note naming the tool's fields (`path_glob`), said with the options the user
    typed (`--glob`): there is no `path_glob` on this command line."""
    for field in ("path_glob", "language"):
        note = note.replace(f"`{field}`", f"`{_OPTIONS[field]}`")
    return note


async def _search(
    workspace: Path, args: SearchArgs, force: bool, scope: str | None
) -> SearchResponse:
    # Checked first: a bad --language or --glob is reported before anything is indexed (a
    # first index takes minutes on a large repository, and its progress lines came first).
    language = language_named(args.language) if args.language is not None else None
    if args.path_glob is not None:
        folder = workspace / scope if scope else workspace
        relative_glob(folder, args.path_glob, scoped=scope is not None)
    settings = _settings()
    await first_run_check(workspace, settings, force)  # a refused workspace said first
    async with await open_index(settings, workspace) as index:
        status = await index.status()
        full: list[str] = []
        if status.files == 0:
            with IndexProgress(console(stderr=True)) as progress:
                indexed = await index.update(progress.update) is not None
        else:
            # What changed since the last index (`status` says a search indexes it when no
            # server watches): an incremental update reads only files whose size or mtime
            # moved. Where a server holds the lease it keeps the index fresh: None, at once.
            # A full disk is no error here, as for the server's searches: the index as it is.
            db_path = settings.db_path_for(workspace)
            indexed = await updated_unless_full(index.update, db_path, full)
        # another process holds the lease: its first build, under way, is said (the server's
        # searches say theirs; this one answered from a part of the files, silently)
        build = None if indexed or full else (await index_report(index)).build
        if build is not None and build.state == "building":
            full.append(
                f"the first index of this workspace is still being built by another process "
                f"({build.done:,} of {counted(build.total, 'file')} so far): results may be "
                "incomplete; ask again once it is done (`ocp-server status` shows it)"
            )
        for note in full:
            console(stderr=True).print(f"[yellow]{note}[/yellow]", soft_wrap=True)
        # The tool's budget (OCP_SEARCH_TOKENS), so this shows what the agent's search sees.
        return await index.search(
            args.query,
            k=args.k,
            path_glob=args.path_glob,
            language=language,
            max_tokens=settings.search_tokens,
            scope=scope,
        )


def run_search(args: argparse.Namespace, workspace: Path) -> int:
    if not 1 <= args.k <= MAX_SEARCH_RESULTS:
        said = field_problem("k", f"expected 1 to {MAX_SEARCH_RESULTS}", args.k, option="-k")
        print(f"error: {said}", file=sys.stderr)
        return EXIT_USAGE
    workspace, scope = answering(args, workspace, scoped=True)
    try:
        response = asyncio.run(_search(workspace, _search_args(args), args.force, scope))
    except KeyboardInterrupt:
        return interrupted(workspace)
    except WorkspaceRefused as exc:
        print(f"ocp-server: {_shown(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except InputError as exc:  # an option's value the tool refuses, or names nothing
        print(f"error: {_as_option(str(exc))}", file=sys.stderr)
        return EXIT_USAGE
    except (DatabaseError, NotADirectoryError) as exc:
        print(f"error: {_shown(exc)}", file=sys.stderr)
        return _status_of(exc)
    # What an agent running this in its shell reads goes to its cloud model, as the tool's
    # answer does: the same hits, redacted the same way.
    hits = search_answer(response).structured["results"]
    if args.json:
        # the tool's hits, every field, as its model writes them (one definition of a hit);
        # the note goes to stderr, leaving stdout one JSON list
        rows = [SearchHit.model_validate(hit).model_dump(mode="json") for hit in hits]
        sys.stdout.write(json.dumps(rows, indent=2, ensure_ascii=False) + "\n")
        if response.note:
            print(f"note: {_note_as_options(response.note)}", file=sys.stderr)
        return 0
    out = console()
    if response.note:
        out.print(_note_as_options(response.note), style="yellow", markup=False, highlight=False)
    if not hits and response.status.files == 0:  # not "no such code": nothing to search
        out.print(
            f"no results: no file of {workspace} is indexed (`ocp-server status` counts what "
            "was left out and why)",
            markup=False,
            highlight=False,
            soft_wrap=True,  # one line, however wide the terminal
        )
    elif not hits:
        out.print("no results")
    for hit in hits:
        about = f"{hit['kind']} {hit['symbol'] or ''}  score {hit['score']:.2f}"
        out.print(f"[bold]{hit['citation']}[/bold]{hit_part(hit)}  {about}")
        preview = "\n".join(hit["text"].split("\n")[:8])
        out.print(preview + members_line(hit), markup=False, highlight=False)
        out.print()
    return 0


async def _status(workspace: Path) -> IndexReport | None:
    """The index's report, or None when the workspace has no index yet (not created here)."""
    settings = _settings()
    if not settings.db_path_for(workspace).exists():
        return None
    async with await open_index(settings, workspace) as index:
        return await index_report(index)


def _routing_error() -> str | None:
    """Why the server's route tool would refuse to route (an invalid routing setting), or
    None: the index's status is no routing matter, but this is where a user looks."""
    from ocp_router.config import RouterSettings  # status's only routing import
    from ocp_router.errors import ConfigError

    try:
        RouterSettings.from_env()
    except ConfigError as exc:
        return str(exc)
    return None


def run_status(args: argparse.Namespace, workspace: Path) -> int:
    workspace, _ = answering(args, workspace, scoped=False)
    try:
        report = asyncio.run(_status(workspace))
    except (DatabaseError, NotADirectoryError) as exc:
        print(f"error: {_shown(exc)}", file=sys.stderr)
        return _status_of(exc)
    routing_error = _routing_error()
    names = tool_names_setting()  # the route tool named as the server advertises it
    if report is None:  # a state, not an error: say so and how to leave it
        # A folder the index refuses (/, the home folder) gets the refusal, not "run index".
        refused = refuse_reason(workspace, max_files=0, count=False)
        hint = (
            refused or "run `ocp-server index`, or let your IDE start the server, which builds it"
        )
        shown = redact_name(str(workspace)).text  # as the report shows it (status.py)
        if args.json:
            data = {"workspace": shown, "indexed": False, "hint": hint}
            data |= {"routing_error": routing_error} if routing_error else {}
            sys.stdout.write(json.dumps(data, indent=2) + "\n")
        else:
            sys.stdout.write(f"{shown}: not indexed yet; {hint}\n")
            if routing_error:
                sys.stdout.write(routing_line(routing_error, names) + "\n")
        return 0
    report = report.model_copy(update={"routing_error": routing_error})
    text = report.model_dump_json(indent=2) if args.json else render_report(report, names)
    sys.stdout.write(text + "\n")
    return 0
