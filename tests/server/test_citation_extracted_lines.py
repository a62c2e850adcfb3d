"""A short line cited within a function, moved by a split (a stretch of its body went to a new
function that it calls in its place: "extract function"), is followed to the new function; it
was stale, a short block being looked for only within the definitions of its name. The
citation keeps the cited function's name, so the split undone finds the line back in it (a
follow that took the new function's name lost the line again when that function went). A
short line is not followed to a function the cited one does not call, nor to one it calls
that held the line already amid other lines."""

from __future__ import annotations

from tests.server.citations import Repo, followed

BEFORE = (
    "import os\n\n\ndef load():\n    env = os.environ\n    path = env['PATH']\n"
    "    x = 1\n    home = env['HOME']\n    return path, home\n"
)
# lines 6-8 of `load` split off into `_load_part1`, called where they were
SPLIT = (
    "import os\n\n\ndef load():\n    env = os.environ\n    _load_part1()\n"
    "    return path, home\n\n\ndef _load_part1():\n    path = env['PATH']\n"
    "    x = 1\n    home = env['HOME']\n"
)


async def _cite_x(repo: Repo) -> None:
    await repo.cite("src/load.py", BEFORE, "src/load.py:7-7", title="X", decision="x is one")


async def test_a_short_line_split_off_into_a_function_it_calls_is_followed(repo: Repo) -> None:
    await _cite_x(repo)
    cited = followed(await repo.rewritten("src/load.py", SPLIT))
    assert (cited.status, cited.citation, cited.symbol) == ("moved", "src/load.py:12-12", "load")


async def test_a_short_line_split_off_is_found_back_when_the_split_is_undone(repo: Repo) -> None:
    await _cite_x(repo)
    followed(await repo.rewritten("src/load.py", SPLIT))
    cited = followed(await repo.rewritten("src/load.py", BEFORE))
    assert (cited.status, cited.citation, cited.symbol) == ("valid", "src/load.py:7-7", "load")


async def test_a_short_line_moved_to_a_function_not_called_stays_stale(repo: Repo) -> None:
    await _cite_x(repo)
    brief = await repo.rewritten("src/load.py", SPLIT.replace("    _load_part1()\n", ""))
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"


async def test_a_short_line_deleted_is_not_followed_to_a_called_function_amid_other_lines(
    repo: Repo,
) -> None:
    await _cite_x(repo)
    text = (
        "import os\n\n\ndef load():\n    env = os.environ\n    path = env['PATH']\n"
        "    home = env['HOME']\n    setup()\n    return path, home\n\n\n"
        "def setup():\n    y = 2\n    x = 1\n    return y\n"
    )
    brief = await repo.rewritten("src/load.py", text)
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"


# `load`'s guard answers None; `first`, which it calls and which was there all along, has the
# same guard. Its `return None` cited, then changed in `load` to `return []`.
GUARDED = (
    "def load(items):\n    if not items:\n        return None\n    head = first(items)\n"
    "    return head\n\n\ndef first(items):\n    if not items:\n        return None\n"
    "    return items[0]\n"
)


async def test_a_short_line_changed_is_not_followed_to_a_like_line_of_a_function_it_calls(
    repo: Repo,
) -> None:
    """The line beside the like one (`if not items:`) is still in the cited function: nothing
    moved out of it, so the like line is another's, and the cited one is stale (it was
    followed to `first`'s `return None`, reported moved: the guard's change unseen)."""
    await repo.cite("src/load.py", GUARDED, "src/load.py:3-3", title="G", decision="none")
    changed = GUARDED.replace("        return None\n    head", "        return []\n    head")
    brief = await repo.rewritten("src/load.py", changed)
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"


# Two classes' `load`: `A.load` holds the cited line; `B.load` calls a helper holding its like.
TWO_LOADS = (
    "class A:\n    def load(self):\n        a = 1\n        x = 1\n        return a\n\n\n"
    "class B:\n    def load(self):\n        return self.part()\n\n"
    "    def part(self):\n        a = 1\n        x = 1\n        return a\n"
)


async def test_a_short_line_deleted_is_not_followed_into_what_a_namesake_of_another_class_calls(
    repo: Repo,
) -> None:
    """`A.load`'s lines deleted: `B.load` (a namesake by its bare name only) calls `B.part`,
    which holds the like lines all along; `A.load` calls nothing. The line is stale (it was
    followed to `B.part`, under the name `A.load`)."""
    await repo.cite("src/m.py", TWO_LOADS, "src/m.py:4-4", title="X", decision="x is one")
    gone = TWO_LOADS.replace(
        "        a = 1\n        x = 1\n        return a\n\n\n", "        return 2\n\n\n", 1
    )
    brief = await repo.rewritten("src/m.py", gone)
    assert brief.decisions == ()
    assert brief.stale[0].citations[0].status == "stale"
