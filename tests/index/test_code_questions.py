"""A question about how the code does something is answered by the code, not by the tests
whose names and help texts share its words (`scripts/agent_queries.py`'s question sets
measure it on the development corpora)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.query import parse_query
from tests.index.built import built_index

CORE_PY = '''"""Commands, their parameters and options."""

import os


class Option:
    """An option of a command line."""

    def __init__(self, name, envvar=None, default=None):
        self.name = name
        self.envvar = envvar
        self.default = default

    def resolve_envvar_value(self, ctx):
        """The value of the option's environment variable, if it is set."""
        if self.envvar is None:
            return None
        return os.environ.get(self.envvar)

    def value(self, ctx, given):
        if given is not None:
            return given
        found = self.resolve_envvar_value(ctx)
        return self.default if found is None else found
'''

TEST_OPTIONS_PY = '''from app.core import Option


def test_option_help_names_its_variable(runner):
    option = Option(
        "--config",
        help="""Configuration file to use.

        If not given, the environment variable CONFIG_FILE is read
        for the options' default.""",
    )
    result = runner.invoke(option, ["--help"])
    assert "environment variable CONFIG_FILE is read" in result.output


def test_options_show_their_default(runner):
    option = Option("--count", default=1)
    assert "1" in runner.invoke(option, ["--help"]).output
'''

HELP_PY = '''def format_option(option):
    """One line of help for an option."""
    return f"{option.name}  {option.help}"
'''

FILES = {
    "src/app/core.py": CORE_PY,
    "src/app/help.py": HELP_PY,
    "tests/test_options.py": TEST_OPTIONS_PY,
}


@pytest.mark.parametrize(
    "question",
    [
        "how are environment variables read for options",
        "where do options read their environment variable?",
    ],
)
async def test_a_question_about_the_code_finds_the_source_before_its_tests(
    tmp_path: Path, question: str
) -> None:
    async with built_index(tmp_path / "ws", FILES, tmp_path / "ocp.db") as index:
        results = (await index.search(question, k=5, refresh=False)).results
        assert results[0].path == "src/app/core.py"
        assert results[0].symbol == "resolve_envvar_value"
        # only the best code file moves up: the test keeps its place before weaker code
        paths = list(dict.fromkeys(r.path for r in results))
        assert paths == ["src/app/core.py", "tests/test_options.py", "src/app/help.py"]


@pytest.mark.parametrize(
    ("text", "asks_code"),
    [
        ("how are environment variables read for options", True),
        ("What parses the command line?", True),
        ("does the pager read PAGER?", True),
        ("Read environment variables for options", False),  # a change request
        ("how are options tested", False),  # asks for the tests
        ("where do the docs describe options", False),  # asks for the docs
        ("which changelog entry mentions envvars", False),
        ("Do not read the environment twice", False),
    ],
)
def test_a_question_asks_for_code_unless_it_names_tests_or_docs(text: str, asks_code: bool) -> None:
    assert parse_query(text).asks_code is asks_code
