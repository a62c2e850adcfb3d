"""What agents type besides requests in prose: a file's path or name, a method qualified by its
class, a phrase. Each case failed on the ranking before 2026-12-05 (`scripts/agent_queries.py`
measures them on the development corpora)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import cast

import numpy as np
import pytest

from ocp_server.index.lexical import Snapshot
from ocp_server.index.named_files import named_files
from ocp_server.index.query import NamedFile, parse_query
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.built import names_from_before

ROUTER_PY = '''"""Routes requests to handlers."""

import re


def route(path, table):
    """The handler whose pattern matches `path`."""
    for pattern, handler in table:
        if re.fullmatch(pattern, path):
            return handler
    raise LookupError(path)
'''

APP_PY = '''"""The application: its router, its settings and its views."""

from lib.router import route


def serve(path):
    """Serve a request: the router picks the view, the view renders it."""
    return route(path, VIEWS)(path)
'''

CONFIG_TS = "export default { test: { environment: 'node' } }\n"

CLI_PY = '''class Command:
    """A command line command."""

    def invoke(self, ctx):
        """Run the command's callback with the context's parameters."""
        return ctx.invoke(self.callback, **ctx.params)


class Context:
    """What a command runs in: its parameters, its parent, its settings, and the objects
    that invoke needs when a command is invoked."""

    def __init__(self, command, params):
        self.command = command
        self.params = params

    def invoke(self, callback, **kwargs):
        """Call `callback` with `kwargs`."""
        return callback(**kwargs)
'''


async def _search(
    tmp_path: Path, files: dict[str, str], query: str, path_glob: str | None = None
) -> list[tuple[str, int, str | None]]:
    root = tmp_path / "ws"
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    index = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    try:
        await index.update()
        results = (await index.search(query, k=5, refresh=False, path_glob=path_glob)).results
    finally:
        await index.close()
    return [(r.path, r.start_line, r.symbol) for r in results]


@pytest.mark.parametrize(
    ("query", "line"),
    [
        ("lib/router.py", 1),
        ("router.py", 1),
        ("./lib/router.py", 1),
        ("/home/me/ws/lib/router.py", 1),
        ("lib/router.py:8", 6),  # the chunk holding line 8: `route`, from line 6
        ("router.py:8-9", 6),
    ],
)
async def test_a_file_named_by_its_path_or_name_comes_first_from_its_start_or_its_line(
    tmp_path: Path, query: str, line: int
) -> None:
    """app.py holds the words "lib", "router" and "py" more often than router.py itself; a
    query naming the file wants the file (it came second, shown at its `route` function),
    from its start, or from the line it points at."""
    hits = await _search(tmp_path, {"lib/router.py": ROUTER_PY, "app.py": APP_PY}, query)
    assert hits[0][:2] == ("lib/router.py", line)


async def test_a_path_names_its_own_file_not_another_its_name_ends_with(tmp_path: Path) -> None:
    files = {"vitest.config.ts": CONFIG_TS, "runtime/fastly/vitest.config.ts": CONFIG_TS}
    hits = await _search(tmp_path, files, "runtime/fastly/vitest.config.ts")
    assert hits[0][0] == "runtime/fastly/vitest.config.ts"
    assert (await _search(tmp_path / "2", files, "vitest.config.ts"))[0][0] in files


async def test_a_word_ending_in_a_dot_and_letters_names_no_file_when_none_is_named_so(
    tmp_path: Path,
) -> None:
    """ "Context.invoke" reads as a file name too; no file is named so, and it is a lookup."""
    assert parse_query("Context.invoke").files == (NamedFile("Context.invoke", None),)
    hits = await _search(tmp_path, {"cli.py": CLI_PY, "app.py": APP_PY}, "Context.invoke")
    assert hits[0][0] == "cli.py"


@pytest.mark.parametrize("query", ["Context.invoke", "Context::invoke", "`Context.invoke`"])
async def test_a_method_qualified_by_its_class_shows_that_classs_method(
    tmp_path: Path, query: str
) -> None:
    """Both classes define `invoke`, and Context's docstring holds "invoke" too: the method
    scoped in Context is what the query names (it showed the Context class, or Command's
    invoke)."""
    hits = await _search(tmp_path, {"cli.py": CLI_PY}, query)
    assert hits[0] == ("cli.py", 17, "invoke")


@pytest.mark.parametrize(
    ("query", "one_name"),
    [
        ("No such option", False),  # a phrase: "no such" is no way of asking for a definition
        ("where is status", True),
        ("def echo", True),
        ("class Option", True),
        ("status", True),
        ("get type", False),  # "type" may be half of a name
    ],
)
def test_only_words_that_phrase_a_lookup_leave_it_a_lookup_of_one_name(
    query: str, one_name: bool
) -> None:
    parsed = parse_query(query)
    assert (parsed.definitions_first and parsed.only_names) is one_name


class _CountedPaths(tuple[str, ...]):
    """A snapshot's paths that count how often a path is read."""

    reads = 0

    def __getitem__(self, i: int) -> str:  # type: ignore[override]
        type(self).reads += 1
        return super().__getitem__(i)


def test_a_query_naming_many_files_reads_each_path_of_a_shared_name_once() -> None:
    """A query of 4,000 characters can name some 200 files; in a workspace holding 6,000
    `index.ts` each was compared with every one of them (1.3 s a search, prose 4 ms)."""
    n = 3000
    paths = _CountedPaths(f"pkg/mod{i}/index.ts" for i in range(n))
    snap = SimpleNamespace(paths=paths, stems={"index": np.arange(n)})
    query = parse_query(" ".join(f"mod{i}/index.ts" for i in range(0, n, 30)))
    assert len(query.files) == 100 and query.only_files
    found = named_files(cast(Snapshot, snap), query)
    assert sorted(found) == list(range(0, n, 30))
    assert _CountedPaths.reads <= 2 * n


@pytest.mark.parametrize("query", [".eslintrc.json", "config/.eslintrc.json", ".eslintrc.json:2"])
async def test_a_dotfile_named_by_its_name_comes_first(tmp_path: Path, query: str) -> None:
    """`.eslintrc.json` names a file as `eslintrc.json` would; the code mentioning eslintrc
    and json came before it."""
    files = {
        "config/.eslintrc.json": '{"rules": {"no-unused-vars": "error"}}\n',
        "src/eslint.ts": "export function eslintrc(json) { return json.rules }\n",
        "src/lint.ts": '// reads eslintrc json\nexport function readEslintrcJson() { return "" }\n',
    }
    assert (await _search(tmp_path, files, query))[0][:2] == ("config/.eslintrc.json", 1)


async def test_a_dotfile_without_an_extension_named_comes_first(tmp_path: Path) -> None:
    files = {
        ".gitignore": "node_modules\ndist\n",
        "src/ignore.ts": "// gitignore rules\nexport function gitignore(rules) { return rules }\n",
    }
    assert (await _search(tmp_path, files, ".gitignore"))[0][:2] == (".gitignore", 1)


async def test_a_named_file_outside_path_glob_leaves_the_others_their_best_chunks(
    tmp_path: Path,
) -> None:
    """`lib/router.py` under `path_glob: "web/*"`: the file is left out, and what the glob
    holds shows its best chunk (it showed from its first line, as if the named file were
    there to be shown so)."""
    web = "def unrelated():\n    return 0\n\n\n" + ROUTER_PY.replace("The handler", "The router")
    files = {"lib/router.py": ROUTER_PY, "web/views.py": web}
    hits = await _search(tmp_path, files, "lib/router.py", path_glob="web/*")
    assert [path for path, _, _ in hits] == ["web/views.py"]
    assert hits[0][2] == "route"


UTILS_PY = (
    '''def echo(message=None, file=None, nl=True, err=False, color=None):
    """Print a message and newline to stdout or a file."""
'''
    + "\n".join(f"    step_{i} = prepare(message, file, {i})" for i in range(60))
    + "\n    return write(message, file, nl, err, color)\n"
)

TESTING_PY = '''def _echo(text):
    """Echo the text: the runner's echo of its echo input."""
    return echo(text, echo=True)
'''


@pytest.mark.parametrize("query", ["echo", "`echo`", "def echo"])
async def test_a_lookup_shows_the_name_as_it_is_spelt_before_one_spelt_otherwise(
    tmp_path: Path, query: str
) -> None:
    """`_echo` and `echo` have one identifier key; the short testing file says "echo" more
    often, and came first."""
    hits = await _search(tmp_path, {"utils.py": UTILS_PY, "testing.py": TESTING_PY}, query)
    assert hits[0] == ("utils.py", 1, "echo")


async def test_a_lookup_spelt_with_its_underscore_shows_that_definition(tmp_path: Path) -> None:
    hits = await _search(tmp_path, {"utils.py": UTILS_PY, "testing.py": TESTING_PY}, "_echo")
    assert hits[0] == ("testing.py", 1, "_echo")


async def test_an_index_from_before_spellings_learns_them_when_it_opens(tmp_path: Path) -> None:
    """m019: the names an older server wrote lack the spelt identifier; opening the database
    rewrites them as the indexer does, and "echo" finds `echo` first without a re-index."""
    from ocp_server.index.lexicon import spelt_hash

    await _search(tmp_path, {"utils.py": UTILS_PY, "testing.py": TESTING_PY}, "echo")
    spelt = {spelt_hash("echo"), spelt_hash("_echo")}
    await names_from_before(tmp_path / "ocp.db", spelt, "m019_names_spelt")
    index = await WorkspaceIndex.open(tmp_path / "ws", tmp_path / "ocp.db")
    try:
        results = (await index.search("echo", k=2, refresh=False)).results
        async with index.db.execute("SELECT names FROM chunks WHERE symbol = 'echo'") as cursor:
            (names,) = await cursor.fetchone()  # type: ignore[misc]
    finally:
        await index.close()
    assert spelt_hash("echo") in np.frombuffer(names, "<u4").tolist()
    assert (results[0].path, results[0].symbol) == ("utils.py", "echo")
