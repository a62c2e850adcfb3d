"""Definitions nested in functions cited by their short names (`inner`, `Local.method`) as well
as their full dotted ones: resolved when the cited file holds one such definition, refused as
ambiguous (naming each) when it holds several."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from ocp_server.memory import NoteIn
from tests.server.citations import NESTED_CITED, NESTED_MOVED, NESTED_PY, Repo, opened_repo


@pytest.fixture
async def repo(workspace: Path) -> AsyncIterator[Repo]:
    (workspace / "src" / "retry.py").write_text(NESTED_PY)
    async with opened_repo(workspace) as opened:
        yield opened


async def test_a_nested_definition_is_cited_by_its_short_name_within_its_file(
    repo: Repo,
) -> None:
    # Was: "no definition named 'backoff' in src/retry.py" (only with_retries.backoff was).
    result = await repo.note(
        "backoff doubles; the budget counts down",
        "src/retry.py:backoff",
        "src/retry.py:Budget.spend",
        "src/retry.py:encode",
    )
    assert [(c.citation, c.symbol) for c in result.citations] == NESTED_CITED
    # Kept under the full name: followed when lines are inserted above, as before.
    assert [(c.status, c.citation) for c in await repo.nested_followed()] == NESTED_MOVED


async def test_a_short_name_nested_in_two_functions_is_ambiguous_and_names_both(
    repo: Repo,
) -> None:
    repo.write(
        "src/two.py",
        "def first():\n    def helper(x):\n        return x + 1\n\n    return helper\n\n\n"
        "def second():\n    def helper(x):\n        return x - 1\n\n    return helper\n",
    )
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="ambiguous") as caught:
        await repo.memory.save(sid, notes=[NoteIn("x", ("src/two.py:helper",))])
    assert "src/two.py:first.helper (src/two.py:2-3)" in str(caught.value)
    assert "src/two.py:second.helper (src/two.py:9-10)" in str(caught.value)
    # The full name picks one.
    saved = await repo.memory.save(sid, notes=[NoteIn("x", ("src/two.py:second.helper",))])
    assert [c.citation for c in saved.citations] == ["src/two.py:9-10"]


async def test_a_name_the_index_holds_wins_over_a_nested_one_of_the_same_name(
    repo: Repo,
) -> None:
    repo.write(
        "src/both.py",
        "def outer():\n    def step():\n        return 1\n\n    return step\n\n\n"
        "def step():\n    return 2\n",
    )
    await repo.reindex()
    sid = await repo.memory.start_session(str(repo.root))
    saved = await repo.memory.save(sid, notes=[NoteIn("x", ("src/both.py:step",))])
    assert [(c.citation, c.symbol) for c in saved.citations] == [("src/both.py:8-9", "step")]


async def test_a_short_name_mentioned_but_not_defined_in_a_function_is_refused(
    repo: Repo,
) -> None:
    sid = await repo.memory.start_session(str(repo.root))
    with pytest.raises(ValueError, match="no definition named 'call' in src/retry.py"):
        await repo.memory.save(sid, notes=[NoteIn("x", ("src/retry.py:call",))])
    # A bare short name: the index names no file for it; the refusal says how to cite it.
    with pytest.raises(ValueError, match=r"nested in a function.*path:spend"):
        await repo.memory.save(sid, notes=[NoteIn("x", ("spend",))])
