"""Filtering a search by path glob and by language: what each glob matches, and the errors naming
path_glob or language."""

from __future__ import annotations

import random
import re

import pytest

from ocp_server.errors import InputError
from ocp_server.index.workspace import WorkspaceIndex


async def test_filters_by_glob_and_language(index: WorkspaceIndex) -> None:
    await index.update()
    ts = (await index.search("verifyToken cents", language="typescript")).results
    assert ts and all(r.path.endswith(".ts") for r in ts)
    only_src = (await index.search("token", path_glob="src/*")).results
    assert only_src and all(r.path.startswith("src/") for r in only_src)


@pytest.mark.parametrize(
    ("written", "path"),
    [
        ("src/**/*.py", "src/auth.py"),
        ("src/**/auth.py", "src/auth.py"),
        ("**/*.md", "README.md"),
        ("**/README.md", "README.md"),
    ],
)
async def test_a_double_star_folder_in_a_glob_also_matches_no_folder_at_all(
    index: WorkspaceIndex, written: str, path: str
) -> None:
    # The tool's own example, 'src/**/*.py', found nothing in src/ itself: fnmatch read
    # `**/` as "something, then a slash". Git and shells with globstar match zero folders.
    await index.update()
    found = (await index.search("tokens verified", path_glob=written)).results
    assert found and {r.path for r in found} == {path}


@pytest.mark.parametrize(
    ("written", "paths"),
    [
        ("**/*.{py,ts}", {"src/auth.py", "web/billing.ts"}),
        ("{src,web}/*", {"src/auth.py", "web/billing.ts"}),
        ("{src/*.py,README.{md,txt}}", {"src/auth.py", "README.md"}),
        ("src/*.{py}", {"src/auth.py"}),  # one alternative, as ripgrep and VS Code read it
    ],
)
async def test_a_glob_with_brace_alternatives_matches_any_of_them(
    index: WorkspaceIndex, written: str, paths: set[str]
) -> None:
    # `src/**/*.{ts,tsx}` is how agents (and their Glob tools) write "these extensions":
    # fnmatch has no braces, and it matched nothing, an empty answer read as "no such code".
    await index.update()
    found = (await index.search("token verify tokens", path_glob=written, k=20)).results
    assert {r.path for r in found} == paths


def test_a_glob_of_too_many_brace_alternatives_is_an_error_naming_path_glob() -> None:
    from ocp_server.index.globs import glob_matcher

    with pytest.raises(
        InputError, match=r"^`path_glob`: expected a glob of at most 256 alternatives"
    ):
        glob_matcher("{a,b}" * 10)


def test_a_glob_of_many_double_star_folders_matches_as_fnmatch_would() -> None:
    # Globs of two `**/` or more are matched by an automaton (each `(?:.*/)?` more made the
    # regex backtrack into the others, hours a path): it answers as the regex does, on
    # random globs and paths of these characters.
    from ocp_server.index.globs import _DOUBLE_STAR_FOLDER, _Automaton, _fnmatch_body

    def agree(glob: str, path: str) -> None:
        pieces = _DOUBLE_STAR_FOLDER.split(glob)
        regex = re.compile("(?s:" + "(?:.*/)?".join(map(_fnmatch_body, pieces)) + r")\Z")
        assert _Automaton(pieces).matches(path) == bool(regex.match(path)), (glob, path)

    # an unclosed `[` in one piece and a `]` in a later one are no class together
    agree("[/**/]/**/x", "[/]/x")
    rng = random.Random(7)
    parts = ["a", "b", "/", "*", "?", "**/", "[ab]", "[!a]", "[", "]", ".", "[a-]", "[]a]", "\n"]
    for _ in range(3000):
        glob = "".join(rng.choice(parts) for _ in range(rng.randint(0, 10)))
        for _ in range(10):
            agree(glob, "".join(rng.choice("ab/.[]\n") for _ in range(rng.randint(0, 12))))


async def _filters_as_src(index: WorkspaceIndex, written: str) -> None:
    """`written` ({root}: the workspace's path) finds what "src/*" finds, and something."""
    await index.update()
    glob = written.format(root=index.workspace.as_posix())
    expected = [r.citation for r in (await index.search("token", path_glob="src/*")).results]
    found = [r.citation for r in (await index.search("token", path_glob=glob)).results]
    assert expected and found == expected


@pytest.mark.parametrize("written", ["./src/*", "././src/*", "{root}/src/*", "{root}/./src/*"])
async def test_a_glob_written_from_the_workspace_or_its_absolute_path_filters_as_a_relative_one(
    index: WorkspaceIndex, written: str
) -> None:
    # Agents write "./src/*" or the absolute path; both matched nothing, a silent empty answer.
    await _filters_as_src(index, written)


async def test_an_absolute_glob_outside_the_workspace_is_an_error_naming_path_glob(
    index: WorkspaceIndex,
) -> None:
    await index.update()
    with pytest.raises(
        InputError, match=r"^`path_glob`: .* \(got '/etc/\*'\); it is not inside the workspace"
    ):
        await index.search("token", path_glob="/etc/*")


@pytest.mark.parametrize("written", ["web/../src/*", "src/x/../*", "{root}/web/../src/*"])
async def test_a_glob_that_steps_back_with_dot_dot_filters_as_the_folder_it_names(
    index: WorkspaceIndex, written: str
) -> None:
    await _filters_as_src(index, written)


@pytest.mark.parametrize("written", ["../*", "../other/src/*.py", "src/../../other/*"])
async def test_a_relative_glob_leading_out_of_the_workspace_is_an_error_naming_path_glob(
    index: WorkspaceIndex, written: str
) -> None:
    # It can match nothing: an empty answer would read as "no such code".
    await index.update()
    with pytest.raises(InputError, match=r"^`path_glob`: .*; it leads out of the workspace"):
        await index.search("token", path_glob=written)


@pytest.mark.parametrize(
    ("written", "wrong"),
    [
        ("[", "unclosed character class; the '[' at character 1 has no ']'"),
        ("src/[ab", "unclosed character class; the '[' at character 5 has no ']'"),
        ("{a,b", "unclosed alternate group; the '{' at character 1 has no '}'"),
        ("src/*.{py,{ts,js}", "unclosed alternate group; the '{' at character 7 has no '}'"),
        ("a}", "unopened alternate group; the '}' at character 2 closes no '{'"),
        ("[z-a]", "invalid range 'z-a' in a character class"),
        ("src/[!a-cz-x]*", "invalid range 'z-x' in a character class"),
    ],
)
async def test_a_malformed_glob_is_an_error_naming_path_glob_and_what_is_wrong(
    index: WorkspaceIndex, written: str, wrong: str
) -> None:
    # fnmatch reads these as literal characters or a class of nothing: they matched no file,
    # and the answer said only that no file matched (ripgrep says the glob is malformed).
    await index.update()
    with pytest.raises(InputError) as raised:
        await index.search("token", path_glob=written)
    assert str(raised.value).startswith(
        f"`path_glob`: expected a well-formed glob (got {written!r}); {wrong}"
    )


@pytest.mark.parametrize("written", ["[!]]*", "[]-]*", "[{]*", "[}]*", "src/[a-z]*.{py,ts}"])
async def test_a_glob_whose_brackets_and_braces_close_is_not_malformed(
    index: WorkspaceIndex, written: str
) -> None:
    await index.update()
    await index.search("token", path_glob=written)  # raises InputError if called malformed


@pytest.mark.parametrize("blank", ["", "  "])
async def test_a_blank_language_is_no_filter(index: WorkspaceIndex, blank: str) -> None:
    # Agents send empty optional arguments; the wire allows "".
    await index.update()
    everything = [r.citation for r in (await index.search("verifyToken cents")).results]
    assert everything
    assert [
        r.citation for r in (await index.search("verifyToken cents", language=blank)).results
    ] == everything


@pytest.mark.parametrize("named", ["ts", ".ts", "TypeScript"])
async def test_a_language_named_by_its_file_extension_or_in_any_case_filters_as_its_name(
    index: WorkspaceIndex, named: str
) -> None:
    await index.update()
    ts = (await index.search("verifyToken cents", language=named)).results
    assert ts and all(r.path.endswith(".ts") for r in ts)


async def test_a_language_that_names_none_is_an_error_listing_the_known_ones(
    index: WorkspaceIndex,
) -> None:
    # Not an empty answer: an agent would read that as "no such code".
    await index.update()
    with pytest.raises(InputError) as refused:
        await index.search("token", language="klingon")
    message = str(refused.value)
    assert message.startswith("`language`: expected a language OCP indexes") and "python" in message
    assert "(got 'klingon')" in message


def test_a_glob_matches_alike_when_fnmatch_ends_its_patterns_as_python_3_14_does(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import fnmatch

    from ocp_server.index.globs import glob_matcher

    plain = fnmatch.translate
    monkeypatch.setattr(fnmatch, "translate", lambda p: plain(p)[:-2] + r"\z")
    matches = glob_matcher("src/**/*.py")
    assert matches("src/app.py") and matches("src/a/b/app.py")
    assert not matches("lib/app.py")
