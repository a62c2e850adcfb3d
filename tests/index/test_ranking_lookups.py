"""Lookups: which queries name code outright, and how a lookup puts the definition it names first
(and a plain sentence does not)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ocp_server.index.features import FEATURES, candidate_features
from ocp_server.index.models import SearchResult
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import load_weights, query_kinds
from tests.index.built import built_index, first_hit
from tests.index.ranked_paths import ranked_paths


async def _first_lookup_hit(tmp_path: Path, files: dict[str, str], query: str) -> SearchResult:
    """The first hit of `query`, which must be a lookup, over a workspace of `files`."""
    assert parse_query(query).lookup
    return await first_hit(tmp_path, files, query)


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
        assert (await ranked_paths(index, "markdown table redaction"))[0] == "table_secrets.py"
        # written as code, the name still wins
        assert (await ranked_paths(index, "`_table`"))[0] == "report.py"


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
        assert (await ranked_paths(index, "Fix `match()` for an empty path"))[0] == "src/router.ts"
        assert (await ranked_paths(index, "Fix match for an empty path"))[0] == "src/utils/url.ts"


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
