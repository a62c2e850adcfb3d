"""A search's token budget (`max_tokens`) holds for the texts the agent is sent: redacted.
The budget was filled by the counts stored at index time, of the texts as they are on disk,
and a marker can be longer than the value it hides (`https://u:[REDACTED:...]@x.io` for
`https://u:p1@x.io`): a chunk of such lines came out a quarter over the budget."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_server.app import AppState
from tests.server.app_fixture import opened


def _texts(result: wire.SearchResult) -> list[str]:
    hits = [*result.results, *(h for f in result.files or [] for h in f.hits)]
    return [h.text for h in hits]


@pytest.mark.parametrize("group_by", ["chunk", "file"])
async def test_the_redacted_texts_of_a_search_keep_to_its_token_budget(
    app: AppState, workspace: Path, group_by: str
) -> None:
    # short passwords in URLs: each marker is some tokens longer than the value it hides
    lines = "".join(f"    mirror_{i} = 'https://u:p{i}@x{i}.io'\n" for i in range(80))
    (workspace / "src" / "mirrors.py").write_text(f"def mirror_urls():\n{lines}")
    (workspace / "src" / "more_mirrors.py").write_text(f"def mirror_urls_again():\n{lines}")
    ws = await opened(app, workspace)
    for budget in (200, 300, 500, 1000, 2000):
        args = wire.SearchArgs(query="mirror_urls", k=4, max_tokens=budget, group_by=group_by)
        result = await app.search(ws, args)
        texts = _texts(result)
        assert texts and "p1@" not in "".join(texts)
        assert sum(estimate_tokens(t) for t in texts) <= budget, budget
