"""A decision cites `verify_token` (by name, or its lines); a copy of the function is kept
in another file (a vendored or legacy module), and then the function itself is changed in
place. The restore served the decision as valid, "moved to src/legacy_auth.py:6-8", the copy:
a fact about code that no longer says it, while the function the decision is about, still
defined where it was cited, says something else. The cited code changed where it is: stale,
saying what changed. A function moved out of its file (no longer defined there) is still
found where it went."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.app import AppState
from tests.server.copy_fixture import (
    CHANGED,
    copied_elsewhere_then_changed,
    moved_out,
    only_stale,
    reindexed,
    saved,
    token_decision,
)


@pytest.mark.parametrize("citation", ["verify_token", "src/auth.py:6-8", "src/auth.py:8"])
async def test_code_changed_in_place_is_stale_though_a_copy_elsewhere_still_reads_as_cited(
    app: AppState, workspace: Path, citation: str
) -> None:
    ws = await saved(app, workspace, token_decision(citation))
    copied_elsewhere_then_changed(workspace)
    out = await reindexed(app, ws)
    stale = only_stale(out)
    assert stale.citations[0].citation.startswith("src/auth.py:"), out.brief
    assert CHANGED in out.brief


async def test_a_function_moved_out_of_its_file_is_found_where_it_went(
    app: AppState, workspace: Path
) -> None:
    ws = await saved(app, workspace, token_decision())
    moved_out(workspace)
    out = await reindexed(app, ws)
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "src/tokens.py:4-6"
