"""A decision cites lines inside `handle`; the function is copied under a new name above it
(`handle_v1`, kept for the old callers), then `handle` itself is edited where it is. The
restore served the decision as valid at the copy's lines (the copy sat at the very lines
cited) or as "moved" into the copy (lines added above shifted it): a fact about code the
decision is not about, while `handle`, still defined, says something else. The cited code
changed where it is: stale, saying what changed in `handle`. A copy whose original is not
edited leaves the decision served, and a function renamed (no copy) is still followed."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.app import AppState
from tests.server.copy_fixture import (
    COPY,
    EDITED,
    HANDLE,
    HEAD,
    REFUSAL,
    TAIL,
    only_stale,
    restored,
)


@pytest.mark.parametrize("above", ["", "# kept for the old callers\n# until 2.0\n"])
async def test_lines_of_a_function_edited_after_a_copy_of_it_was_pasted_above_are_stale(
    app: AppState, workspace: Path, above: str
) -> None:
    out = await restored(app, workspace, HEAD + above + COPY + "\n\n" + EDITED + TAIL)
    only_stale(out)
    assert f"its lines changed: -`{REFUSAL}` +`return None`" in out.brief, out.brief


async def test_lines_of_a_function_copied_but_not_edited_are_still_served(
    app: AppState, workspace: Path
) -> None:
    out = await restored(app, workspace, HEAD + "# old\n" + COPY + "\n\n" + HANDLE + TAIL)
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "mod.py:14-16", out.brief


async def test_lines_of_a_renamed_function_are_still_followed(
    app: AppState, workspace: Path
) -> None:
    out = await restored(app, workspace, HEAD + "# renamed\n" + COPY + TAIL)
    (served,) = out.decisions
    assert served.verified == "moved" and served.citations[0].citation == "mod.py:6-8", out.brief
