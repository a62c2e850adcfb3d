"""An error message pasted as the query is answered by the line that raises it: the code file
before the tests asserting the same words, and the raising chunk before a definition that one
of the message's words names."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.lexicon import pair_hash, pairs, terms
from ocp_server.index.models import SearchResult
from ocp_server.index.query import parse_query
from tests.index.built import first_hit


def assert_shows(hit: SearchResult, path: str, text: str, line: str) -> None:
    """`hit` is the chunk of `path` (whose text is `text`) holding the line where `line` is."""
    at = text[: text.index(line)].count("\n") + 1
    assert hit.path == path
    assert hit.start_line <= at <= hit.end_line


VIEWS_PY = '''"""Finding and rendering views."""


class View:
    """A template on disk: its name, its root and its engine."""

    def __init__(self, name, root, engine):
        self.name = name
        self.root = root
        self.engine = engine

    def lookup(self, name):
        """Lookup the view's file: the view name under each root, view by view."""
        for root in self.root:
            path = root + "/" + name
            if self.engine.exists(path):
                return path
        return None


def render(app, name, options):
    view = View(name, app.roots, app.engine)
    if not view.lookup(name):
        raise LookupError("Failed to lookup view " + name + " in views directory")
    return view.render(options)
'''

TEST_VIEWS_PY = """from views import render


def test_render_missing_view(app):
    with raises(LookupError, match="Failed to lookup view"):
        render(app, "missing", {})


def test_render_missing_view_in_nested_root(app):
    app.roots = ["nested"]
    with raises(LookupError, match="Failed to lookup view"):
        render(app, "user/missing", {})


def test_failed_lookup_view_names_the_view(app):
    with raises(LookupError) as failed:
        render(app, "missing", {})
    assert "Failed to lookup view missing" in str(failed.value)


def test_failed_lookup_view_names_the_views_directory(app):
    with raises(LookupError) as failed:
        render(app, "missing", {})
    assert "Failed to lookup view missing in views directory" in str(failed.value)
"""


@pytest.mark.parametrize(
    "query",
    [
        "Failed to lookup view",
        '"Failed to lookup view"',
        "Failed to lookup view in views directory",
    ],
)
async def test_a_pasted_message_shows_the_line_raising_it(tmp_path: Path, query: str) -> None:
    """Fails while the tests asserting the message outrank the code raising it, and while the
    lookup's words name `View` and `lookup`, whose chunks were shown before the raise."""
    assert parse_query(query).message
    first = await first_hit(
        tmp_path, {"views.py": VIEWS_PY, "tests/test_views.py": TEST_VIEWS_PY}, query
    )
    assert_shows(first, "views.py", VIEWS_PY, "raise LookupError")


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("Failed to lookup view", True),
        ("name must be a string to req.get", True),
        ("infer response type", False),  # keywords: they spell InferResponseType
        ("where is the status function", False),  # a lookup of one name
        ("src/app.ts", False),
    ],
)
def test_a_phrase_with_stop_words_may_be_a_message(query: str, message: bool) -> None:
    assert parse_query(query).message is message


OPTIONS_PY = (
    "\n\n".join(
        f'def helper_{i}(config, value):\n    """Convert the value {i} for the config."""\n'
        f"    return config.convert(value, {i})"
        for i in range(40)
    )
    + """


def check_argument(param, value):
    if param.nargs == -1 and param.is_option:
        raise TypeError("nargs=-1 is not supported for options")
    return value
"""
)

TEST_OPTIONS_PY = "\n\n".join(
    f"def test_nargs_{i}(runner):\n"
    f'    with raises(TypeError, match="nargs=-1 is not supported for options"):\n'
    f"        check_argument(option_{i}, None)"
    for i in range(3)
)


async def test_a_pasted_message_ranks_the_code_raising_it_before_its_tests(
    tmp_path: Path,
) -> None:
    """The tests repeat the message in a short file, the code says it once in a long one: by
    their words the tests came first (fails on the ranking before the rule)."""
    first = await first_hit(
        tmp_path,
        {"core.py": OPTIONS_PY, "tests/test_options.py": TEST_OPTIONS_PY},
        "nargs=-1 is not supported for options",
    )
    assert_shows(first, "core.py", OPTIONS_PY, "raise TypeError")


LOADER_PY = (
    "\n\n".join(
        f'def read_section_{i}(config, path):\n    """Read section {i} of the config file."""\n'
        f"    return config.read(path, {i})"
        for i in range(30)
    )
    + """


def load(path):
    if not os.access(path, os.R_OK):
        raise PermissionError(f"cannot read config file {path}: permission denied")
    return parse(path)
"""
)

TEST_LOADER_PY = "\n\n".join(
    f"def test_unreadable_{i}(tmp_path):\n"
    f'    with raises(PermissionError, match="cannot read config file"):\n'
    f'        load(tmp_path / "settings_{i}.yaml")'
    for i in range(3)
)

APP_DIRS_PY = '''def app_settings(home):
    """The app's settings.yaml under the user's home: /home/<user>/.config/app/."""
    return home / ".config" / "app" / "settings.yaml"
'''


@pytest.mark.parametrize(
    "seen",
    [
        "cannot read config file /home/dev/app/settings.yaml: permission denied",
        "cannot read config file '/home/dev/app/settings.yaml': permission denied",
        "cannot read config file C:\\work\\app\\settings.yaml: permission denied",
    ],
)
async def test_a_message_seen_with_the_values_its_program_filled_in_shows_the_line_raising_it(
    tmp_path: Path, seen: str
) -> None:
    """The program printed its template with a path in it: no chunk holds the phrases around
    the path, and the path's words ("home", "app", "settings", "yaml") are the user's, not the
    code's. The file holding them, and the tests, came before the raise."""
    files = {
        "loader.py": LOADER_PY,
        "app_dirs.py": APP_DIRS_PY,
        "tests/test_loader.py": TEST_LOADER_PY,
    }
    first = await first_hit(tmp_path, files, seen)
    assert_shows(first, "loader.py", LOADER_PY, "raise PermissionError")


@pytest.mark.parametrize(
    ("query", "words"),
    [
        # a path on the user's machine is what the program printed: its words are left out
        ("cannot read /home/dev/app/settings.yaml: denied", {"cannot", "read", "denied"}),
        ("open C:\\Users\\me\\proj\\a.toml failed", {"open", "failed"}),
        ("see ~/src/app/main.py for it", {"see", "for", "it"}),
        # a network share's path (UNC) is the machine's too
        ("open \\\\fs01\\team\\proj\\a.toml failed", {"open", "failed"}),
        ("copy to //fs01/team/proj/a.toml failed", {"copy", "to", "failed"}),
        # one folder deep it may be a name the code holds; a URL is the code's too
        ("reads /etc/gitconfig first", {"reads", "etc", "gitconfig", "first"}),
        ("get https://example.com/a/b now", {"get", "https", "example", "com", "a", "b", "now"}),
        # a path alone names a file
        ("/home/me/ws/lib/router.py", {"home", "me", "ws", "lib", "router", "py"}),
    ],
)
def test_a_path_on_the_users_machine_gives_no_terms(query: str, words: set[str]) -> None:
    assert parse_query(query).words == words


def test_a_messages_template_phrases_leave_out_the_ones_touching_a_value() -> None:
    """ "config file" and "permission denied" are the template's; "file tmp" is not."""
    seen = parse_query("cannot read config file '/tmp/x/y/z.toml' for 42: permission denied")
    template = ["cannot read config file", "permission denied"]
    wanted = {pair_hash(a, b) for piece in template for a, b in pairs(terms(piece))}
    assert seen.message
    assert set(seen.message_pairs) == wanted
    assert len(wanted) == 4


@pytest.mark.parametrize(
    "seen",
    [
        "/home/dev/app/settings.toml is a directory",
        "~/work/app/settings.toml is a directory",
        "C:\\Users\\dev\\app\\settings.toml is a directory",
    ],
)
def test_a_message_whose_path_is_taken_out_is_no_lookup_of_the_word_left(seen: str) -> None:
    """Without its path "is a directory" is one word and read as a lookup of the name
    `directory` (its definitions put first, before any code printing the message); with the
    path's words, before paths gave none, it was a message."""
    query = parse_query(seen)
    assert not query.only_names
    assert not query.definitions_first
    assert query.message


def test_a_lookup_naming_a_path_on_the_machine_stays_a_lookup() -> None:
    query = parse_query("where is parse_config in /home/me/project/src/config.py")
    assert query.only_names and query.definitions_first


def test_a_file_a_printed_path_names_still_comes_first() -> None:
    query = parse_query("/home/me/ws/src/app.py line 40")
    assert [f.name for f in query.files] == ["/home/me/ws/src/app.py"]
