"""A short line cited within a function that was renamed, and then shifted (lines added above),
is followed: its function's name is gone from the file, and one place of the file holds the
line with both lines around it as they were. It was stale: a short block (found just anywhere
it proves nothing) was looked for only within the definitions of its name. It takes the name
of the function holding it now, so the rename undone finds it back under the old one. Not
followed when the line is at two such places, when a line beside it changed, or when the
place is in a definition of another scope (a method's line in a top-level function)."""

from __future__ import annotations

from tests.server.citations import Repo, followed

BEFORE = (
    "import os\n\n\nclass Loader:\n    def load(self):\n        env = os.environ\n"
    "        x = 1\n        return env\n\n    def save(self):\n        return None\n"
)
# `Loader.load` renamed `Loader.read`, two lines added above: `x = 1` goes from 7 to 9
RENAMED = "# a header\n# added\n" + BEFORE.replace("def load(", "def read(")


async def _cite_x(repo: Repo) -> None:
    await repo.cite("src/load.py", BEFORE, "src/load.py:7-7", title="X", decision="x is one")


async def test_a_short_line_in_a_renamed_function_shifted_is_followed(repo: Repo) -> None:
    await _cite_x(repo)
    cited = followed(await repo.rewritten("src/load.py", RENAMED))
    assert (cited.status, cited.citation, cited.symbol) == (
        "moved",
        "src/load.py:9-9",
        "Loader.read",
    )


async def test_a_short_line_followed_through_a_rename_is_found_back_when_it_is_undone(
    repo: Repo,
) -> None:
    await _cite_x(repo)
    followed(await repo.rewritten("src/load.py", RENAMED))
    cited = followed(await repo.rewritten("src/load.py", BEFORE))
    assert (cited.status, cited.citation, cited.symbol) == (
        "valid",
        "src/load.py:7-7",
        "Loader.load",
    )


async def test_a_short_line_at_two_places_alike_after_a_rename_stays_stale(repo: Repo) -> None:
    await _cite_x(repo)
    twice = (
        RENAMED
        + "\n    def again(self):\n        env = os.environ\n        x = 1\n        return env\n"
    )
    brief = await repo.rewritten("src/load.py", twice)
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"


async def test_a_short_line_with_a_neighbour_changed_after_a_rename_stays_stale(
    repo: Repo,
) -> None:
    await _cite_x(repo)
    brief = await repo.rewritten("src/load.py", RENAMED.replace("return env", "return env, x"))
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"


async def test_a_method_line_is_not_followed_to_a_top_level_function(repo: Repo) -> None:
    await _cite_x(repo)
    # the method gone; a module function holds the same three lines
    text = (
        "# a header\n# added\nimport os\n\n\nclass Loader:\n    def save(self):\n"
        "        return None\n\n\ndef read():\n    env = os.environ\n    x = 1\n    return env\n"
    )
    brief = await repo.rewritten("src/load.py", text)
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"
