"""A message pasted as the query is found in the string literal printing it, stop words and
all: "No such option: --colour" is searched as `option` alone, and the function raising it
must still come before the many that only speak of options."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.literal_text import LiteralFinder, holds_run, message_runs, run_windows
from ocp_server.index.query import parse_query
from tests.index.built import first_hit

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
