"""A lookup of a name that nothing defines, but that ends a longer one: "VersionFlag" when the
code defines `InitDefaultVersionFlag`, "BufferBuilder" for `LineBufferBuilder`. Agents remember the
end of a name more often than its prefix; the definitions it ends come first, and are the
chunks shown, after a definition of the name itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.lexicon import tail_hash, tails_of
from ocp_server.index.query import parse_query
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.built import built_index, names_from_before

CLIENT_PY = '''"""The client's errors."""


class OCPServerError(RuntimeError):
    """The server could not be started."""


class OCPToolError(RuntimeError):
    """A tool answered with an error."""
'''

_FILLER = "".join(
    f'''
// Filler{i} does step {i} of running a command.
func (c *Command) Filler{i}(args []string) error {{
	if len(args) > {i} {{
		return fmt.Errorf("too many arguments for step {i}: %v", args)
	}}
	c.ran = append(c.ran, "{i}")
	return nil
}}
'''
    for i in range(30)
)
COMMAND_GO = (
    """package cobra

import "fmt"

// Command is one command of the program.
type Command struct {
	Use     string
	Version string
	ran     []string
}
"""
    + _FILLER
    + """
// InitDefaultVersionFlag adds the default version flag to c.
func (c *Command) InitDefaultVersionFlag() {
	if c.Version == "" {
		return
	}
	c.Flags().Bool("version", false, "version for "+c.Name())
}
"""
)
COMPLETIONS_GO = """package cobra

// helpOrVersionFlagPresent reports whether the help flag or the version flag was given:
// no completion is offered after the version flag.
func helpOrVersionFlagPresent(cmd *Command) bool {
	if versionFlag := cmd.Flags().Lookup("version"); versionFlag != nil &&
		len(versionFlag.Annotations[FlagSetByCobraAnnotation]) > 0 && versionFlag.Changed {
		return true
	}
	if helpFlag := cmd.Flags().Lookup("help"); helpFlag != nil && helpFlag.Changed {
		return true
	}
	return false
}
"""

LINE_BUFFER_RS = """/// Builds a line buffer.
pub struct LineBufferBuilder {
    capacity: usize,
    binary: bool,
}

impl LineBufferBuilder {
    /// A new builder of a line buffer with the default capacity.
    pub fn new() -> LineBufferBuilder {
        LineBufferBuilder { capacity: 64 * 1024, binary: false }
    }

    /// Builds the line buffer.
    pub fn build(&self) -> LineBuffer {
        LineBuffer { buf: vec![0; self.capacity], binary: self.binary }
    }
}
"""

ERRORS_PY = '''class ToolError(Exception):
    """An error of a tool."""
'''


async def _search(
    tmp_path: Path, files: dict[str, str], query: str
) -> list[tuple[str, str | None]]:
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        results = (await index.search(query, k=5, refresh=False)).results
    return [(r.path, r.symbol) for r in results]


def test_the_tails_of_a_name_are_its_endings_of_two_words_or_more() -> None:
    assert tails_of("OCPToolError") == ["tool_error"]
    assert tails_of("get_short_help_str") == ["short_help_str", "help_str"]
    assert tails_of("ToolError") == []  # the name itself is not a tail of it
    assert tails_of("PCRE2Version") == []  # a digit is not a word


@pytest.mark.parametrize("query", ["VersionFlag", "`VersionFlag`", "where is VersionFlag defined"])
async def test_a_lookup_of_a_name_nothing_defines_finds_the_name_it_ends(
    tmp_path: Path, query: str
) -> None:
    """The short file says "version flag" again and again and its function's name holds both
    words; the definition the name ends, among thirty others in a long file, is what the
    lookup asks for."""
    files = {"command.go": COMMAND_GO, "completions.go": COMPLETIONS_GO}
    hits = await _search(tmp_path, files, query)
    assert hits[0] == ("command.go", "InitDefaultVersionFlag")


async def test_a_lookup_shows_the_definition_the_name_ends_not_a_method_scoped_in_it(
    tmp_path: Path,
) -> None:
    """`new` and `build`, scoped in LineBufferBuilder, hold the query's words in their names
    as much as the struct does, and more of them in their bodies."""
    hits = await _search(tmp_path, {"src/line_buffer.rs": LINE_BUFFER_RS}, "BufferBuilder")
    assert hits[0] == ("src/line_buffer.rs", "LineBufferBuilder")


async def test_a_definition_of_the_name_itself_comes_before_one_it_ends(tmp_path: Path) -> None:
    files = {"client/errors.py": CLIENT_PY, "tools/errors.py": ERRORS_PY}
    hits = await _search(tmp_path, files, "ToolError")
    assert hits[:2] == [("tools/errors.py", "ToolError"), ("client/errors.py", "OCPToolError")]


async def test_an_index_from_before_tails_learns_them_when_it_opens(tmp_path: Path) -> None:
    """m021: the names an older server wrote lack the tails; opening the database rewrites
    them as the indexer does, and the lookup finds the definition without a re-index."""
    files = {"command.go": COMMAND_GO, "completions.go": COMPLETIONS_GO}
    await _search(tmp_path, files, "VersionFlag")
    await names_from_before(tmp_path / "ocp.db", {tail_hash("version_flag")}, "m021_names_tails")
    index = await WorkspaceIndex.open(tmp_path / "ws", tmp_path / "ocp.db")
    try:
        results = (await index.search("VersionFlag", k=2, refresh=False)).results
    finally:
        await index.close()
    assert (results[0].path, results[0].symbol) == ("command.go", "InitDefaultVersionFlag")


@pytest.mark.parametrize(
    ("query", "tail"),
    [("VersionFlag", True), ("help_str", True), ("Searcher::search_slice", False), ("echo", False)],
)
def test_only_a_lookup_of_one_unqualified_name_of_two_words_looks_for_names_it_ends(
    query: str, tail: bool
) -> None:
    """In `Searcher::search_slice` the scope says which `search_slice` is meant: files
    defining `multi_search_slice` must not come before the others defining it."""
    assert bool(parse_query(query).tails) is tail
