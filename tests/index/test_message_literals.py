"""A message pasted as the query is found in the string literal printing it, stop words and
all: "No such option: --colour" is searched as `option` alone, and the function raising it
must still come before the many that only speak of options."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.lexical import ChunkRow
from ocp_server.index.lexicon import pair_hash
from ocp_server.index.literal_text import (
    LiteralFinder,
    holds_run,
    literal_chunks,
    message_runs,
    named_message,
    run_windows,
    window_phrases,
)
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import rank
from ocp_server.index.search import _rows
from tests.index.built import built_index, first_hit

PARSER_PY = '''"""Parsing the command line into options and arguments."""


class Option:
    """An option of a command: its names, whether it takes a value, its default option value."""

    def __init__(self, opts, takes_value=True, default=None):
        self.opts = opts
        self.takes_value = takes_value
        self.default = default

    def option_names(self):
        """The option's names, long option names first."""
        return sorted(self.opts, key=len, reverse=True)


class OptionParser:
    """Parses options: each option looked up by name, the option value after it."""

    def __init__(self):
        self.options = {}

    def add_option(self, option):
        """Adds an option under each of its option names."""
        for name in option.option_names():
            self.options[name] = option

    def match_option(self, name):
        """The option registered under `name`, or a NoSuchOption."""
        option = self.options.get(name)
        if option is None:
            raise no_such_option(name, list(self.options))
        return option
'''

ERRORS_PY = '''"""The errors a command line can give."""


class UsageError(Exception):
    """The command line was wrong."""


def no_such_option(name, possibilities):
    close = [p for p in possibilities if p.startswith(name[:3])]
    message = "No such option {name!r}.".format(name=name)
    if close:
        message += " Did you mean " + ", ".join(close) + "?"
    return UsageError(message)


def bad_option_usage(name):
    return UsageError(f"Option {name} requires an argument.")
'''

TEST_PARSER_PY = """from parser import Option, OptionParser


def test_unknown_option(capsys):
    parser = OptionParser()
    parser.add_option(Option(["--color"]))
    with raises(UsageError, match="No such option"):
        parser.match_option("--colour")


def test_option_names():
    assert Option(["-c", "--color"]).option_names() == ["--color", "-c"]
"""

FILES = {"parser.py": PARSER_PY, "errors.py": ERRORS_PY, "tests/test_parser.py": TEST_PARSER_PY}


@pytest.mark.parametrize(
    "query",
    ["Error: No such option: --colour", "No such option '--colour'.", "no such option --colour"],
)
async def test_a_pasted_message_of_stop_words_shows_the_function_raising_it(
    tmp_path: Path, query: str
) -> None:
    """Fails while the message is searched as its one word that is not a stop word: the
    parser, which says "option" most, comes first."""
    first = await first_hit(tmp_path, FILES, query)
    at = ERRORS_PY[: ERRORS_PY.index("No such option")].count("\n") + 1
    assert first.path == "errors.py"
    assert first.start_line <= at <= first.end_line


def test_a_message_run_keeps_its_stop_words_and_drops_a_label() -> None:
    runs = message_runs(parse_query("Error: No such option: --colour"))
    assert ("no", "such", "option") in runs


def test_a_docstring_is_not_a_literal_printed() -> None:
    runs = LiteralFinder(
        run_windows((tuple("parse the given file returning the decoded".split()),))
    )
    assert not holds_run('    """Parse the given file, returning the decoded document."""', runs)
    assert holds_run('    raise ValueError("Parse the given file, returning the decoded")', runs)


@pytest.mark.parametrize("query", ["Add 'typescript' alias for 'ts'", "fix option parsing"])
def test_words_around_values_or_keywords_are_no_message_run(query: str) -> None:
    """ "alias for" is two words of a request, one of them a stop word: no message's run;
    keywords without a stop word are no message at all."""
    assert message_runs(parse_query(query)) == ()


# The words of "fix the width of wide tables", but never two of them in a row: every term of
# the subject is in one chunk, none of its phrases
LAYOUT_PY = '''"""Laying out tables."""


def layout(table, width):
    # columns that are wide are cut to the width, and the rest fix their own
    for column in table.columns:
        if column.width > width:
            column.cut(width)
    return table
'''

# The subject's phrases in a docstring: found by the index, and between quotes (so the chunk
# is read back), yet no literal prints them
PRINTER_PY = '''"""Printing tables."""


def print_table(table):
    """We fix the width of wide tables here, before printing them."""
    for row in table.rows:
        print(row)
'''


async def _read_backs(tmp_path: Path, files: dict[str, str], query: str) -> list[list[int]]:
    """The chunks `literal_chunks` reads back for `query`, read by read."""
    reads: list[list[int]] = []
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        snap = await index.snapshot()
        parsed = parse_query(query)

        async def read(chunks: list[int]) -> dict[int, ChunkRow]:
            reads.append(chunks)
            rows = await _rows(index._read, snap, chunks)
            ids = snap.chunk_ids[chunks].tolist()
            return {c: rows[i] for c, i in zip(chunks, ids, strict=True) if i in rows}

        assert (await literal_chunks(snap, rank(snap, parsed), parsed, read)).found == []
    return reads


async def test_a_commit_subject_whose_phrases_no_chunk_holds_reads_no_text(
    tmp_path: Path,
) -> None:
    """A commit's subject shows a colon as a message does. Fails while every chunk of the best
    files holding a window's terms is read back: the index's phrases show no chunk can."""
    query = "printer: fix the width of wide tables"
    assert message_runs(parse_query(query))
    assert await _read_backs(tmp_path, {"layout.py": LAYOUT_PY}, query) == []


async def test_a_message_with_a_value_is_not_read_back_again_for_chunks_read_once(
    tmp_path: Path,
) -> None:
    """The best files for the message's words alone are read back only for a chunk not read
    yet. Fails while they are read again: the one chunk holding the phrases is read twice."""
    query = "fix the width of wide tables in 'main'"
    reads = await _read_backs(tmp_path, {"printer.py": PRINTER_PY}, query)
    assert len(reads) == 1


async def test_a_message_held_by_phrases_is_still_found(tmp_path: Path) -> None:
    files = {
        "printer.py": PRINTER_PY.replace(
            "print(row)", 'raise ValueError("Cannot fix the width of wide tables")'
        )
    }
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        first = (await index.search("Error: Cannot fix the width of wide tables", k=3)).results[0]
    assert first.path == "printer.py"
    assert "Cannot fix" in first.text


def test_phrases_leave_out_stop_words_and_words_written_otherwise() -> None:
    """A phrase skips stop words, as the index's do; none touches a word that may be spelt
    otherwise in the literal (`getValue` has the terms of `get` and `value` too)."""
    assert window_phrases(("no", "such", "option")) == set()
    assert window_phrases(("fix", "the", "width")) == {pair_hash("fix", "width")}
    assert window_phrases(("use", "getvalue", "here"), frozenset({"getvalue"})) == set()


def test_a_short_sentence_with_a_stop_word_is_a_message_run_a_long_one_is_not() -> None:
    """ "Command has no name." shows neither a value nor a colon. Fails while only those mark
    a message: its literal is not looked for. A doc comment's sentence stays a request."""
    assert message_runs(parse_query("Command has no name.")) == (("command", "has", "no", "name"),)
    assert message_runs(parse_query("Returns true if this file path is just a file name.")) == ()


CORE_PY = '''"""Parameters of a command: options and arguments."""


class Argument:
    """A positional argument: required unless a default is given. A missing argument is
    reported when the command is invoked; an argument missing a value takes its default."""

    def __init__(self, name, required=True, default=None):
        self.name = name
        self.required = required and default is None
        self.default = default

    def missing(self, values):
        """Whether the argument is missing from `values` (its default aside)."""
        return self.required and self.name not in values


def memory_map(path):
    """The file at `path` mapped into memory."""
    return open(path, "rb")
'''

REPORT_PY = '''"""What a command line that is wrong reports."""


def describe(param, kind):
    if kind == "argument":
        return _("Missing argument")
    return _("Missing option")
'''


async def test_a_short_message_without_a_stop_word_shows_the_literal_printing_it(
    tmp_path: Path,
) -> None:
    """ "Missing argument" reads as a lookup of names. Fails while it is searched as one
    alone: the class that says "argument" and "missing" most comes first."""
    files = {"core.py": CORE_PY, "report.py": REPORT_PY}
    first = await first_hit(tmp_path, files, "Missing argument")
    assert first.path == "report.py"
    assert '_("Missing argument")' in first.text


async def test_plain_words_naming_a_definition_are_a_lookup_not_a_message(tmp_path: Path) -> None:
    async with built_index(tmp_path / "ws", {"core.py": CORE_PY}, tmp_path / "ocp.db") as index:
        snap = await index.snapshot()
        assert named_message(snap, parse_query("memory map")) == ()
        assert named_message(snap, parse_query("Missing argument")) == ("missing", "argument")
        assert named_message(snap, parse_query("parse `memory_map`")) == ()


def test_a_named_message_opens_its_literal() -> None:
    finder = LiteralFinder((("missing", "argument"),), at_start=True)
    assert holds_run('        return _("Missing argument")', finder)
    assert not holds_run('    log("the missing argument was filled in")', finder)


NAMES_GO = """package names

// name is the command's name, as typed.
func name(args []string) string {
	return args[0]
}
"""

USAGE_GO = """package names

import "fmt"

func usage() {
	fmt.Println("func name and arguments, as the template shows them")
}
"""


async def test_a_lookup_phrased_with_a_keyword_is_no_message(tmp_path: Path) -> None:
    """ "func name" is Go's way of naming `name`. Fails while its words are looked for at a
    literal's start: the file printing "func name and arguments" came first."""
    first = await first_hit(tmp_path, {"names.go": NAMES_GO, "usage.go": USAGE_GO}, "func name")
    assert first.path == "names.go"
    assert first.symbol == "name"
