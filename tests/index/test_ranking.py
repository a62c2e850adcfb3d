"""The ranking rules that matter, on small workspaces written for each rule.

Each case failed on the FTS5 ranking this one replaced: prose outranked the code it describes,
a file was only as good as its single best chunk, and "handling retries" never met
`handle_retry`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocp_router.tokens import estimate_tokens
from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.lexical import ChunkRow
from ocp_server.index.lexicon import identifier_key, terms
from ocp_server.index.models import SearchResult
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import QUERY_KINDS, load_weights, query_kinds
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.built import built_index, first_hit
from tests.workspace_fixture import git


async def _paths(index: WorkspaceIndex, query: str, k: int = 5) -> list[str]:
    response = await index.search(query, k=k, refresh=False)
    return list(dict.fromkeys(r.path for r in response.results))


async def _first_lookup_hit(tmp_path: Path, files: dict[str, str], query: str) -> SearchResult:
    """The first hit of `query`, which must be a lookup, over a workspace of `files`."""
    assert parse_query(query).lookup
    return await first_hit(tmp_path, files, query)


RETRY_PY = '''"""Outgoing HTTP calls."""


def handle_retry(request, attempt):
    """Wait before the next attempt, longer each time."""
    delay = min(30, 2 ** attempt)
    return request.clone(delay=delay)


def send(request):
    return request.transport.send(request)
'''

CHANGELOG = """# Changes

## 2.4.0

- Retries: handling of retries for outgoing requests is smarter; retries back off
  exponentially, and retries stop after the last attempt. Retries are logged.
- Retries: a retry after a timeout keeps its request id.
"""


async def test_code_comes_before_prose_that_talks_about_it(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {"src/client/retry.py": RETRY_PY, "CHANGELOG.md": CHANGELOG},
        tmp_path / "ocp.db",
    ) as index:
        assert (await _paths(index, "back off between retries of outgoing requests"))[
            0
        ] == "src/client/retry.py"


async def test_a_question_about_the_docs_may_rank_prose_first(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {"src/client/retry.py": RETRY_PY, "CHANGELOG.md": CHANGELOG},
        tmp_path / "ocp.db",
    ) as index:
        paths = await _paths(index, "which changelog entry documents the retries change")
        assert paths[0] == "CHANGELOG.md"


async def test_a_changelog_restating_the_request_ranks_below_the_code_it_describes(
    tmp_path: Path,
) -> None:
    # "json" asks for configuration, so prose is not held back as prose; a changelog still is:
    # its entries restate commit messages word for word
    changelog = CHANGELOG + "- Retries: handling of retries when json logging is enabled.\n"
    async with built_index(
        tmp_path / "ws",
        {"src/client/retry.py": RETRY_PY, "History.md": changelog},
        tmp_path / "ocp.db",
    ) as index:
        paths = await _paths(index, "Fix handling of retries when json logging is enabled")
        assert paths[0] == "src/client/retry.py"


def test_stemming_meets_inflected_words() -> None:
    assert set(terms("handling retries")) <= set(terms("handle_retry"))
    assert identifier_key("HandleRetry") == "handle_retry"


async def test_an_inflected_question_finds_the_definition(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {
            "src/client/retry.py": RETRY_PY,
            "src/client/auth.py": "def sign(request, key):\n    return request.sign(key)\n",
        },
        tmp_path / "ocp.db",
    ) as index:
        top = (await index.search("handling retries", k=3, refresh=False)).results[0]
        assert (top.path, top.symbol) == ("src/client/retry.py", "handle_retry")


def _parser_module(name: str, n: int) -> str:
    parts = [f'"""Parsing of {name} files."""\n']
    for i in range(n):
        parts.append(
            f"\ndef parse_{name}_section_{i}(lines):\n"
            f'    """Parse one section of a {name} file into its keys."""\n'
            f"    return dict(line.split('=', 1) for line in lines)\n"
        )
    return "".join(parts)


SECTION = (
    "def read_section(lines):\n"
    '    """Read one manifest section into keys and values."""\n'
    '    return dict(line.split("=", 1) for line in lines)\n'
)
MORE_SECTION_HELPERS = "".join(
    f"\n\ndef read_{part}(lines):\n"
    f'    """Read the {part} of a manifest section."""\n'
    f"    return [line for line in lines if line]\n"
    for part in ("keys", "values", "defaults", "comments")
)


async def test_evidence_spread_over_a_file_counts(tmp_path: Path) -> None:
    # Both files hold the same best definition; one also has four more about the question.
    # Judged by its single best chunk, the file with one definition tied (and came first).
    async with built_index(
        tmp_path / "ws",
        {"src/a_single.py": SECTION, "src/b_many.py": SECTION + MORE_SECTION_HELPERS},
        tmp_path / "ocp.db",
    ) as index:
        assert (await _paths(index, "read manifest section keys values"))[0] == "src/b_many.py"


async def test_default_results_show_more_files_before_more_of_one_file(tmp_path: Path) -> None:
    async with built_index(
        tmp_path / "ws",
        {
            "src/manifest.py": _parser_module("manifest", 6),
            "src/config.py": _parser_module("config", 2),
        },
        tmp_path / "ocp.db",
    ) as index:
        results = (await index.search("parse section keys", k=4, refresh=False)).results
        assert [r.path for r in results[:2]].count("src/manifest.py") == 1
        assert len({r.path for r in results[:2]}) == 2
        grouped = (
            await index.search("parse section keys", k=1, refresh=False, group_by_file=True)
        ).results
        assert len({r.path for r in grouped}) == 1 and len(grouped) > 1


@pytest.mark.parametrize(
    ("query", "lookup"),
    [
        ("verifyToken", True),
        ("where is parse_config", True),
        ("where is the parse_config function defined", True),
        ("x " * 30, False),
        ("We just collected a test item.", False),
    ],
)
def test_short_queries_are_lookups(query: str, lookup: bool) -> None:
    assert parse_query(query).lookup is lookup


NODES_PY = '''class Item:
    """A basic test invocation item."""

    def __init__(self, name, parent):
        self.name = name
        self.parent = parent

    def runtest(self):
        raise NotImplementedError
'''

HOOKS_PY = '''def pytest_collectstart(collector):
    """Collector starts collecting."""


def pytest_itemcollected(item):
    """We just collected a test item."""


def pytest_collectreport(report):
    """Collector finished collecting."""
'''


async def test_a_sentence_of_plain_words_is_not_a_lookup_of_one_of_them(tmp_path: Path) -> None:
    """A doc comment's sentence names no identifier: the file defining `Item`, one of its
    words, must not jump above the function the sentence describes (fails while any request
    of three words besides stop words was a lookup, each word a name to define)."""
    async with built_index(
        tmp_path / "ws", {"nodes.py": NODES_PY, "hookspec.py": HOOKS_PY}, tmp_path / "ocp.db"
    ) as index:
        hits = (await index.search("We just collected a test item.", k=3, refresh=False)).results
    first = hits[0]
    assert (first.path, first.symbol) == ("hookspec.py", "pytest_itemcollected")


REPORT_PY = '''"""The HTML report of a run."""


def _table(rows):
    """Rows as an HTML table."""
    return "<table>" + "".join(f"<tr><td>{r}</td></tr>" for r in rows) + "</table>"


def page(title, rows):
    return f"<h1>{title}</h1>" + _table(rows)
'''

TABLE_SECRETS_PY = '''"""Secrets in Markdown tables: the cell after a secret's name, and the
cells of a column whose header names one. Each is replaced by a marker (redaction)."""


def redact_cells(markdown):
    """The Markdown table with each secret cell redacted."""
    out = []
    for line in markdown.splitlines():
        cells = line.split("|")
        out.append("|".join(hide(c) for c in cells))
    return "\\n".join(out)


def hide(cell):
    return "[REDACTED]" if looks_secret(cell) else cell


def looks_secret(cell):
    return len(cell.strip()) > 20
'''


@pytest.mark.parametrize(
    ("query", "definitions_first"),
    [
        ("markdown table redaction", False),  # plain words: one names `_table` by chance
        ("verify token", False),
        ("verifyToken", True),  # written as code
        ("where is parse_config", True),
        ("redact", True),  # one word
        ("Sets help template", False),
    ],
)
def test_only_a_lookup_naming_code_outright_puts_definitions_first(
    query: str, definitions_first: bool
) -> None:
    assert parse_query(query).lookup
    assert parse_query(query).definitions_first is definitions_first


async def test_a_short_query_of_plain_words_is_not_won_by_a_file_defining_one_of_them(
    tmp_path: Path,
) -> None:
    """ "markdown table redaction" is about the file that redacts Markdown tables; that a
    report defines `_table` is chance. Fails while every lookup put the files defining any of
    its words first."""
    async with built_index(
        tmp_path / "ws",
        {"report.py": REPORT_PY, "table_secrets.py": TABLE_SECRETS_PY},
        tmp_path / "ocp.db",
    ) as index:
        assert (await _paths(index, "markdown table redaction"))[0] == "table_secrets.py"
        # written as code, the name still wins
        assert (await _paths(index, "`_table`"))[0] == "report.py"


def test_the_shipped_weights_fit_the_features() -> None:
    weights = load_weights()
    assert len(weights.kinds) == len(QUERY_KINDS)
    assert all(len(w) == len(FEATURES) for w in (weights.base, *weights.kinds))
    # what the model learned across six repositories: prose is held back, code is not
    w = dict(zip(FEATURES, weights.base, strict=True))
    assert w["prose"] < 0 < w["code"]


def test_a_query_writing_code_or_naming_a_file_is_its_own_kind() -> None:
    stem = FEATURES.index("stem_named")
    named, unnamed = np.zeros((2, len(FEATURES))), np.zeros((2, len(FEATURES)))
    named[1, stem] = 1.0
    written = parse_query("Fix `match()` for an empty path")
    plain = parse_query("Fix match for an empty path")
    assert query_kinds(written, unnamed).tolist() == [True, False]
    assert query_kinds(plain, unnamed).tolist() == [False, False]
    assert query_kinds(plain, named).tolist() == [False, True]
    assert query_kinds(plain, np.zeros((0, len(FEATURES)))).tolist() == [False, False]
    weights = load_weights()
    both = weights.for_kinds(np.array([True, True]))
    assert np.allclose(both, weights.base + weights.kinds[0] + weights.kinds[1])
    assert np.array_equal(weights.for_kinds(np.array([False, False])), weights.base)


ROUTER_TS = """export function match(method: string, path: string): Route | null {
  const routes = table.get(method) ?? []
  for (const route of routes) {
    if (route.pattern.test(path)) return route
  }
  return null
}
"""

URL_TS = """// Helpers for a request path.
export function normalize(path: string): string {
  // an empty path becomes '/'
  // an empty path becomes '/'
  return path === '' ? '/' : path
}
"""


async def test_a_request_naming_a_function_as_code_finds_its_file(tmp_path: Path) -> None:
    # Written as code, `match()` names the function: its file comes first. In plain words
    # the same request reads as being about empty paths (one weight vector for both put the
    # path helper first in either case).
    async with built_index(
        tmp_path / "ws",
        {
            "src/router.ts": ROUTER_TS,
            "src/utils/url.ts": URL_TS,
            "src/context.ts": "export class Context {\n  constructor(public req: Request) {}\n}\n",
        },
        tmp_path / "ocp.db",
    ) as index:
        assert (await _paths(index, "Fix `match()` for an empty path"))[0] == "src/router.ts"
        assert (await _paths(index, "Fix match for an empty path"))[0] == "src/utils/url.ts"


async def test_a_question_like_a_past_commit_finds_the_files_it_changed(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    files = {
        "src/upload.py": "def send_part(part, session):\n    return session.put(part)\n",
        "src/download.py": "def fetch_part(url, session):\n    return session.get(url)\n",
        "src/timing.py": "def wait(seconds):\n    return seconds * 2\n",
    }
    for rel, text in files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Start")
    (ws / "src/upload.py").write_text(files["src/upload.py"] + "# resend once\n")
    git(ws, "commit", "-qam", "Fix flaky retry timing in the uploader")
    query = "retry is flaky again"

    with_history = await WorkspaceIndex.open(ws, tmp_path / "a.db")
    without = await WorkspaceIndex.open(ws, tmp_path / "b.db", history_commits=0)
    try:
        await with_history.update()
        await without.update()
        assert (await _paths(with_history, query))[0] == "src/upload.py"
        assert await _paths(without, query) == []  # the words alone match no file
        stored = await without.db.execute_fetchall("SELECT count(*) FROM commits")
        assert list(stored) == [(0,)]
    finally:
        await with_history.close()
        await without.close()


@pytest.mark.parametrize(
    "text",
    [
        "Fix the flaky TEST in the e2e suite",
        "Update README and the Configuration guide",
        "Add a CHANGE-LOG entry; Release Notes too",
        "testing_helpers are not tests",  # a word run on: no boundary before "tests"
        "Spec: parse YAML",
        "nothing asked here",
        "ſpecs and docſ",  # beyond ASCII, case-blind "ſ" is "s"; lower-casing keeps it
        "İNI files, the Kelvin sign in \u212aeep",
        "",
    ],
)
def test_what_a_query_asks_for_is_found_case_blind(text: str) -> None:
    """The plain patterns on lower-cased ASCII text find what the case-blind ones find."""
    from ocp_server.index import query as ranking_query

    query = parse_query(text)
    assert query.wants_tests == bool(ranking_query._TEST_QUERY.search(text))
    assert query.wants_docs == bool(ranking_query._DOCS_QUERY.search(text))
    assert query.wants_changelog == bool(ranking_query._CHANGELOG_QUERY.search(text))
    # lower-cased text meets lower-case ASCII patterns alone (an upper-case escape, \W or
    # \B, would mean something else lower-cased; "ſ" in a pattern matches "s" case-blind)
    assert all(p.pattern == p.pattern.lower() and p.pattern.isascii() for p in ranking_query._LOWER)


def test_what_a_query_asks_for_is_found_case_blind_in_any_ascii_text() -> None:
    import random
    import string

    from ocp_server.index import query as ranking_query

    rng = random.Random(7)
    # the patterns' own words, mixed in at random case, among random ASCII
    words = ["test", "tests", "spec", "docs", "readme", "changelog", "change-log", "news", "ini"]
    for _ in range(2000):
        parts = [
            rng.choice(words) if rng.random() < 0.5 else "".join(rng.choices(string.printable, k=3))
            for _ in range(rng.randint(0, 6))
        ]
        text = "".join(
            c.upper() if rng.random() < 0.5 else c
            for c in rng.choice([" ", "_", "-", ""]).join(parts)
        )
        query = parse_query(text)
        assert query.wants_tests == bool(ranking_query._TEST_QUERY.search(text)), text
        assert query.wants_docs == bool(ranking_query._DOCS_QUERY.search(text)), text
        assert query.wants_changelog == bool(ranking_query._CHANGELOG_QUERY.search(text)), text


async def test_a_snapshot_refuses_rolled_up_tables_with_keys_of_their_own(tmp_path: Path) -> None:
    """A search reads a file table at the places it looked the keys up in the chunk table."""
    import dataclasses

    async with built_index(tmp_path / "ws", {"retry.py": RETRY_PY}, tmp_path / "ocp.db") as index:
        snap = await index.snapshot()
    copied = dataclasses.replace(snap.file_body, keys=snap.file_body.keys.copy())
    with pytest.raises(ValueError, match="share its chunk table's keys"):
        dataclasses.replace(snap, file_body=copied)
    snap.derived[("length_norm", "chunk", 0.75)] = snap.chunk_len
    assert dataclasses.replace(snap).derived == {}  # its own cache, not the original's
    snap.answers.put(1, ChunkRow(1, 2, None, "function", None, "def f(): pass", 3, 1))
    assert len(dataclasses.replace(snap).answers) == 0  # nor the rows its searches kept


TEMPLATES_GO = """package cli

type Command struct {
	helpTemplate string
	parent       *Command
}

// SetHelpTemplate sets help template to be used. Application can use it to set custom template.
func (c *Command) SetHelpTemplate(s string) {
	c.helpTemplate = s
}

// Usage prints the usage of the command.
func (c *Command) Usage() string {
	return "usage"
}

// HelpTemplate return help template for the command.
// This function is kept for backwards-compatibility reasons.
func (c *Command) HelpTemplate() string {
	if c.helpTemplate != "" {
		return c.helpTemplate
	}
	if c.parent != nil {
		return c.parent.HelpTemplate()
	}
	return defaultHelpTemplate
}

const defaultHelpTemplate = "{{.Long}}"
"""


async def test_a_short_doc_comment_shows_the_function_its_words_name(tmp_path: Path) -> None:
    """The lookup "sets help template" spells HelpTemplate by two adjacent words, and
    SetHelpTemplate's name holds all three: both gain the full boost and the doc comment's
    words decide (the old flat boost went to HelpTemplate alone, and showed it). The whole
    sentence, "Sets help template to be used.", is no lookup and shows the same function."""
    first = await _first_lookup_hit(
        tmp_path / "lookup", {"cli/command.go": TEMPLATES_GO}, "Sets help template"
    )
    assert (first.path, first.symbol) == ("cli/command.go", "SetHelpTemplate")
    async with built_index(
        tmp_path / "ws", {"cli/command.go": TEMPLATES_GO}, tmp_path / "sentence.db"
    ) as index:
        hits = (await index.search("Sets help template to be used.", k=3, refresh=False)).results
    assert (hits[0].path, hits[0].symbol) == ("cli/command.go", "SetHelpTemplate")


HEADERS_PY = '''"""Reading HTTP headers."""


def read_header_value(raw, name):
    """Parse the raw header block and read one header value: the value after the header's
    name, header by header; the parse header value steps are: split, parse, match."""
    for header in raw.split("\\n"):
        key, _, value = header.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return None


def parse_header_value(value):
    """Split a comma-separated list into its items."""
    return [item.strip() for item in value.split(",") if item.strip()]
'''


async def test_a_lookup_shows_the_definition_whose_name_holds_more_of_its_words(
    tmp_path: Path,
) -> None:
    """The lookup "parse header value" names no identifier outright (parse_header and
    header_value are defined nowhere), so neither function gains a definition's full boost:
    the one whose name holds all three words gains more than the one whose name holds two, and
    is shown although the other's body repeats the query's words more often (fails with the
    flat boost for named identifiers alone, and with a full boost for any name term)."""
    first = await _first_lookup_hit(tmp_path, {"http/headers.py": HEADERS_PY}, "parse header value")
    assert (first.path, first.symbol) == ("http/headers.py", "parse_header_value")


RESPONSE_JS = """res.sendStatus = function sendStatus(statusCode) {
  var body = statuses.message[statusCode] || String(statusCode);
  this.status(statusCode);
  this.type('txt');
  return this.send(body);
};

res.status = function status(code) {
  this.statusCode = code;
  return this;
};
"""


@pytest.mark.parametrize("query", ["status", "`status`", "where is status"])
async def test_a_lookup_of_one_name_shows_its_definition_before_names_holding_it(
    tmp_path: Path, query: str
) -> None:
    """ "status" asks for `status`; `sendStatus` holds the word as well, and more often (it
    calls status). Fails while an exact definition gained no more than a name holding every
    word of the query (express: "status" showed sendStatus, "cookie" clearCookie)."""
    first = await _first_lookup_hit(tmp_path, {"lib/response.js": RESPONSE_JS}, query)
    assert (first.path, first.symbol) == ("lib/response.js", "status")


async def test_how_often_files_changed_is_counted_again_for_a_new_snapshot(tmp_path: Path) -> None:
    """The history's change counts are kept on a snapshot for its next search: a commit
    indexed after it (a new snapshot) counts again."""

    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "upload.py").write_text("def send_part(part):\n    return part\n")
    (ws / "other.py").write_text("def send_other(part):\n    return part\n")
    git(ws, "init", "-q")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "Start")
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    column = FEATURES.index("history_changes")

    async def changes() -> dict[str, float]:
        snap = await index.snapshot()
        cand, x, *_ = candidate_features(snap, parse_query("send part"))
        again = candidate_features(snap, parse_query("send part"))[1]  # from the kept counts
        assert np.array_equal(x, again)
        return {snap.paths[f]: float(x[i, column]) for i, f in enumerate(cand.tolist())}

    try:
        await index.update()
        before = await changes()
        (ws / "upload.py").write_text("def send_part(part):\n    return part or None\n")
        git(ws, "commit", "-qam", "Send no empty part")
        await index.update()
        after = await changes()
    finally:
        await index.close()
    assert after["upload.py"] > before["upload.py"]
    assert after["other.py"] == before["other.py"]


GROUPS_PY = '''"""Commands and the groups they are shown in."""


def add_command(parent, *commands):
    """Add one or more commands to this parent command."""
    for command in commands:
        command.parent = parent
        parent.commands.append(command)


def add_group(parent, *groups):
    """Add one or more command groups to this parent command."""
    parent.groups.extend(groups)


def remove_flags(parent):
    """Forget the parsed flags."""
    parent.flags = None
'''

OTHER_COMMAND_FILES = {
    f"cli/{name}.py": f'def {name}(parent):\n    """Run the {name} command."""\n    return parent\n'
    for name in ("help", "version", "completion", "docs")
}


async def _look_alikes(tmp_path: Path, query: str) -> list[SearchResult]:
    files = {"cli/command.py": GROUPS_PY, **OTHER_COMMAND_FILES}
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        response = await index.search(query, k=3, refresh=False)
        assert len({r.path for r in response.results}) >= 2  # more files than results' room
        return list(response.results)


async def test_a_look_alike_neighbour_of_the_best_chunk_is_shown_second(tmp_path: Path) -> None:
    """add_command and add_group's doc comments differ by a word, so both answer the query
    nearly as well; with one chunk a file, the second would give way to another file's."""
    results = await _look_alikes(tmp_path, "Add one or more commands to this parent command.")
    assert [r.path for r in results[:2]] == ["cli/command.py", "cli/command.py"]
    assert {r.symbol for r in results[:2]} == {"add_command", "add_group"}


async def test_one_result_asked_is_the_best_chunk_alone_even_with_a_close_second(
    tmp_path: Path,
) -> None:
    files = {"cli/command.py": GROUPS_PY, **OTHER_COMMAND_FILES}
    query = "Add one or more commands to this parent command."
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        two = (await index.search(query, k=2, refresh=False)).results
        one = (await index.search(query, k=1, refresh=False)).results
        budgeted = (await index.search(query, k=1, max_tokens=4000, refresh=False)).results
    assert [r.path for r in two] == ["cli/command.py", "cli/command.py"]
    assert [r.citation for r in one] == [r.citation for r in budgeted] == [two[0].citation]


async def test_a_chunk_far_behind_the_best_leaves_its_place_to_another_file(
    tmp_path: Path,
) -> None:
    results = await _look_alikes(tmp_path, "forget the parsed flags of a command")
    assert results[0].symbol == "remove_flags"
    assert results[1].path != "cli/command.py"


def _long_look_alikes() -> str:
    """GROUPS_PY with the same long tail in both look-alikes."""
    steps = "".join(f"    parent.log.append('group step {i} done')\n" for i in range(15))
    return GROUPS_PY.replace(
        "parent.commands.append(command)\n", f"parent.commands.append(command)\n{steps}"
    ).replace("parent.groups.extend(groups)\n", f"parent.groups.extend(groups)\n{steps}")


async def test_a_close_second_that_does_not_fit_the_budget_leaves_room_to_the_next_files(
    tmp_path: Path,
) -> None:
    """The close second is an extra: under a token budget it is shown whole or not at all,
    never trimmed at the cost of the files after it."""
    files = {"cli/command.py": _long_look_alikes(), **OTHER_COMMAND_FILES}
    query = "Add one or more commands to this parent command."
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        free = (await index.search(query, k=3, refresh=False)).results
        assert [r.path for r in free[:2]] == ["cli/command.py", "cli/command.py"]
        first, other = free[0], free[2]
        cost = [estimate_tokens(r.text) + 20 for r in (first, free[1], other)]
        budget = cost[0] + cost[2] + 10
        assert cost[0] + cost[1] > budget  # the second does not fit whole
        packed = (await index.search(query, k=3, max_tokens=budget, refresh=False)).results
    assert [(r.citation, r.truncated) for r in packed] == [
        (first.citation, False),
        (other.citation, False),
    ]


async def test_a_name_counts_less_in_a_file_that_defines_many_things(tmp_path: Path) -> None:
    # Both files define `include_paths`; one also defines forty flags. A file defining hundreds
    # of things names most words of any request, so its names match less each (without the
    # normalisation both files' names evidence was the same).
    include = "def include_paths(items):\n    return items\n\n\n"
    flags = "".join(f"def flag_{i}(value):\n    return value + {i}\n\n\n" for i in range(40))
    async with built_index(
        tmp_path / "ws",
        {"few.py": include + "def other(x):\n    return x\n", "many.py": include + flags},
        tmp_path / "ocp.db",
    ) as index:
        snap = await index.snapshot()
        cand, x, *_ = candidate_features(snap, parse_query("include paths"))
        names = dict(zip([snap.paths[f] for f in cand], x[:, FEATURES.index("names")], strict=True))
        assert names["few.py"] > names["many.py"] > 0
