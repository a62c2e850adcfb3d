"""A short cited block its file repeats a few lines above it, shifted by as many lines as lie
between the two: the copy now sits at the cited lines. It was served as valid there (the lines
read as cited), though the cited line had gone down with the rest. The lines around each place
(m048) tell them apart: the old place's are not those the block had, the new place's are."""

from __future__ import annotations

import pytest

from tests.server.citations import IN_LOAD, Repo, followed

# `x = 1` at lines 6 and 8, two lines apart: in a function (IN_LOAD, cited within it, by its
# name) and outside any definition.
AT_TOP = "import os\n\n\nA = 0\n\nx = 1\ny = 2\nx = 1\nz = 3\n"
TWO_LINES = "# a new header\n# added by a refactor\n"
SET_AGAIN = "x is set again"


@pytest.mark.parametrize("text", [IN_LOAD, AT_TOP], ids=["in a function", "outside any"])
async def test_a_short_block_whose_copy_shifted_onto_its_lines_is_followed_not_valid(
    repo: Repo, text: str
) -> None:
    await repo.cite("src/env.py", text, "src/env.py:8-8", title="Second x", decision=SET_AGAIN)
    # both copies two lines down: 8 and 10
    cited = followed(await repo.rewritten("src/env.py", TWO_LINES + text))
    assert (cited.status, cited.citation, cited.moved_from) == (
        "moved",
        "src/env.py:10-10",
        "src/env.py:8-8",
    )
    # confirmed there, with the lines around it there: still there on the next restore
    again = await repo.memory.restore()
    (cited,) = again.decisions[0].citations
    assert (cited.status, cited.citation) == ("moved", "src/env.py:10-10")


async def test_a_short_block_whose_line_above_changed_stays_valid_where_it_is(
    repo: Repo,
) -> None:
    # The lines around the old place differ, but no other place has those the block had: an
    # edit beside it, not a shift; it is where it was.
    await repo.cite("src/env.py", AT_TOP, "src/env.py:8-8", title="Second x", decision=SET_AGAIN)
    brief = await repo.rewritten("src/env.py", AT_TOP.replace("y = 2", "y = 3"))
    (cited,) = brief.decisions[0].citations
    assert (cited.status, cited.citation) == ("valid", "src/env.py:8-8")


async def test_a_short_block_whose_line_below_changed_stays_valid_beside_its_twin(
    repo: Repo,
) -> None:
    # The file repeats the block with the same lines around it: its context never told the
    # two apart, so a line edited beside the cited one is no sign that the other is it.
    twins = "import os\n\n\nif os.sep:\n    x = 1\n    y = 2\nif os.sep:\n    x = 1\n    y = 2\n"
    await repo.cite(
        "src/env.py", twins, "src/env.py:5-5", title="First x", decision="x is set first"
    )
    brief = await repo.rewritten("src/env.py", twins.replace("y = 2", "y = 3", 1))
    (cited,) = brief.decisions[0].citations
    assert (cited.status, cited.citation) == ("valid", "src/env.py:5-5")


# A copy pasted a few lines above the cited line together with one of its neighbours, the
# lines between making up the shift: the copy sits at the cited place with that neighbour as
# it was and the other not; the cited line, below, has both, as many lines from the file's
# end as when confirmed. (text, cited line, lines inserted after line k, where it went)
ONE_SIDE_KEPT = {
    "above kept, outside any": (
        "import os\n\n\nA = 0\nx = 1\nz = 3\n",
        5,
        (4, "x = 1\ny = 2\nA = 0\n"),
        8,
    ),
    "below kept, outside any": (
        "import os\n\n\nA = 0\nx = 1\nz = 3\n",
        5,
        (3, "w = 9\nx = 1\nz = 3\n"),
        8,
    ),
    "above kept, in a function": (
        "import os\n\n\ndef load():\n    env = os.environ\n    x = 1\n    return env\n",
        6,
        (5, "    x = 1\n    y = 2\n    env = os.environ\n"),
        9,
    ),
    "below kept, in a function": (
        "import os\n\n\ndef load():\n    env = os.environ\n    x = 1\n"
        "    path = env['PATH']\n    return path\n",
        6,
        (4, "    w = 0\n    x = 1\n    path = env['PATH']\n"),
        9,
    ),
}


@pytest.mark.parametrize("case", list(ONE_SIDE_KEPT.values()), ids=list(ONE_SIDE_KEPT))
async def test_a_copy_shifted_onto_a_short_block_with_one_of_its_neighbours_is_not_it(
    repo: Repo, case: tuple[str, int, tuple[int, str], int]
) -> None:
    text, line, (after, inserted), went = case
    repo.write("src/env.py", text)
    await repo.reindex()
    await repo.decide(f"src/env.py:{line}-{line}", title="x", decision="x is set")
    rows = text.splitlines(keepends=True)
    edited = "".join(rows[:after]) + inserted + "".join(rows[after:])
    assert edited.splitlines()[line - 1] == text.splitlines()[line - 1]  # the copy is there
    repo.write("src/env.py", edited)
    await repo.reindex()
    brief = await repo.memory.restore()
    assert brief.stale == (), brief.stale[0].citations
    (cited,) = brief.decisions[0].citations
    assert (cited.status, cited.citation) == ("moved", f"src/env.py:{went}-{went}")
    again = await repo.memory.restore()
    (cited,) = again.decisions[0].citations
    assert (cited.status, cited.citation) == ("moved", f"src/env.py:{went}-{went}")
