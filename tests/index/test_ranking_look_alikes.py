"""Look-alike chunks: when the close second of the best chunk is shown, and when it leaves its
place to another file."""

from __future__ import annotations

from pathlib import Path

from ocp_router.tokens import estimate_tokens
from ocp_server.index.models import SearchResult
from tests.index.built import built_index

GROUPS_PY = '''"""Commands and the groups they are shown in."""


def add_command(parent, *commands):
    """Add one or more commands to this parent command."""
    for command in commands:
        command.parent = parent
        parent.commands.append(command)


def add_group(parent, *groups):
    """Add one or more command groups to this parent command."""
    parent.groups.extend(groups)


def remove_flags(parent):
    """Forget the parsed flags."""
    parent.flags = None
'''


OTHER_COMMAND_FILES = {
    f"cli/{name}.py": f'def {name}(parent):\n    """Run the {name} command."""\n    return parent\n'
    for name in ("help", "version", "completion", "docs")
}


async def _look_alikes(tmp_path: Path, query: str) -> list[SearchResult]:
    files = {"cli/command.py": GROUPS_PY, **OTHER_COMMAND_FILES}
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        response = await index.search(query, k=3, refresh=False)
        assert len({r.path for r in response.results}) >= 2  # more files than results' room
        return list(response.results)


async def test_a_look_alike_neighbour_of_the_best_chunk_is_shown_second(tmp_path: Path) -> None:
    """add_command and add_group's doc comments differ by a word, so both answer the query
    nearly as well; with one chunk a file, the second would give way to another file's."""
    results = await _look_alikes(tmp_path, "Add one or more commands to this parent command.")
    assert [r.path for r in results[:2]] == ["cli/command.py", "cli/command.py"]
    assert {r.symbol for r in results[:2]} == {"add_command", "add_group"}


async def test_one_result_asked_is_the_best_chunk_alone_even_with_a_close_second(
    tmp_path: Path,
) -> None:
    files = {"cli/command.py": GROUPS_PY, **OTHER_COMMAND_FILES}
    query = "Add one or more commands to this parent command."
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        two = (await index.search(query, k=2, refresh=False)).results
        one = (await index.search(query, k=1, refresh=False)).results
        budgeted = (await index.search(query, k=1, max_tokens=4000, refresh=False)).results
    assert [r.path for r in two] == ["cli/command.py", "cli/command.py"]
    assert [r.citation for r in one] == [r.citation for r in budgeted] == [two[0].citation]


async def test_a_chunk_far_behind_the_best_leaves_its_place_to_another_file(
    tmp_path: Path,
) -> None:
    results = await _look_alikes(tmp_path, "forget the parsed flags of a command")
    assert results[0].symbol == "remove_flags"
    assert results[1].path != "cli/command.py"


def _long_look_alikes() -> str:
    """GROUPS_PY with the same long tail in both look-alikes."""
    steps = "".join(f"    parent.log.append('group step {i} done')\n" for i in range(15))
    return GROUPS_PY.replace(
        "parent.commands.append(command)\n", f"parent.commands.append(command)\n{steps}"
    ).replace("parent.groups.extend(groups)\n", f"parent.groups.extend(groups)\n{steps}")


async def test_a_close_second_that_does_not_fit_the_budget_leaves_room_to_the_next_files(
    tmp_path: Path,
) -> None:
    """The close second is an extra: under a token budget it is shown whole or not at all,
    never trimmed at the cost of the files after it."""
    files = {"cli/command.py": _long_look_alikes(), **OTHER_COMMAND_FILES}
    query = "Add one or more commands to this parent command."
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        free = (await index.search(query, k=3, refresh=False)).results
        assert [r.path for r in free[:2]] == ["cli/command.py", "cli/command.py"]
        first, other = free[0], free[2]
        cost = [estimate_tokens(r.text) + 20 for r in (first, free[1], other)]
        budget = cost[0] + cost[2] + 10
        assert cost[0] + cost[1] > budget  # the second does not fit whole
        packed = (await index.search(query, k=3, max_tokens=budget, refresh=False)).results
    assert [(r.citation, r.truncated) for r in packed] == [
        (first.citation, False),
        (other.citation, False),
    ]
