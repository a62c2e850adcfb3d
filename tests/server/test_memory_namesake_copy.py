"""A decision cites `handle` (whole, or lines inside it); a copy of the function under the
same name is pasted above it (kept for the old callers, shadowed), then `handle` itself is
edited where it now is. The restore served the decision as valid at the copy, which sits at
the very lines cited (or "moved" into it, lines added above): the copy has the cited name,
and a definition of that name holding the lines was taken for the cited one (overloads
share a name). The file defines `handle` once more than when the decision was saved, and
the other one holds the cited code changed: stale, saying what changed. A file that already
defined the name twice when it was saved (a definition per platform, overloads) keeps its
citation valid over an edit elsewhere, and a namesake added that is not alike proves nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import ocp_wire as wire
from ocp_server.app import AppState
from ocp_server.migrations import m043_count_namesakes, migrate
from tests.server.copy_fixture import (
    EDITED,
    HANDLE,
    HEAD,
    MOD,
    REFUSAL,
    TAIL,
    handle_decision,
    only_stale,
    reindexed,
    restored,
    saved,
)
from tests.workspace_fixture import settled


@pytest.mark.parametrize("above", ["", 'OLD_CALLERS = ("billing",)\n\n\n'])
@pytest.mark.parametrize("cited", ["mod.py:5-7", "mod.py:handle"])
async def test_a_citation_is_stale_when_a_same_named_copy_sits_where_the_edited_code_was(
    app: AppState, workspace: Path, above: str, cited: str
) -> None:
    after = HEAD + above + HANDLE + "\n\n" + EDITED + TAIL
    out = await restored(app, workspace, after, cited=cited)
    only_stale(out)
    assert f"-`{REFUSAL}` +`return None`" in out.brief, out.brief


PER_PLATFORM = """import sys


if sys.platform == "win32":
    def handle(request):
        user = request.user
        if user is None:
            raise PermissionError("no user on the request")
        return user
else:
    def handle(request):
        user = request.user
        if user is None:
            raise LookupError("no user on the request")
        return user


def respond(request):
    return request
"""


async def test_a_name_defined_twice_when_saved_keeps_its_citation_over_an_edit_elsewhere(
    app: AppState, workspace: Path
) -> None:
    after = PER_PLATFORM.replace("    return request\n", "    return (request, None)\n")
    out = await restored(app, workspace, after, before=PER_PLATFORM, cited="mod.py:6-8")
    (served,) = out.decisions
    assert served.verified == "valid" and served.citations[0].citation == "mod.py:6-8", out.brief


async def test_a_namesake_added_that_is_not_alike_leaves_the_citation_valid(
    app: AppState, workspace: Path
) -> None:
    other = "\n\ndef handle(request, retries):\n    return retry(request, retries)\n"
    out = await restored(app, workspace, HEAD + HANDLE + other + TAIL)
    (served,) = out.decisions
    assert served.verified == "valid" and served.citations[0].citation == "mod.py:5-7", out.brief


async def test_a_same_named_copy_of_code_left_unchanged_leaves_the_citation_served(
    app: AppState, workspace: Path
) -> None:
    out = await restored(app, workspace, HEAD + HANDLE + "\n\n" + HANDLE + TAIL)
    (served,) = out.decisions
    assert served.verified == "valid", out.brief


async def test_a_citation_saved_before_namesakes_were_counted_is_counted_at_its_next_check(
    app: AppState, workspace: Path
) -> None:
    mod = workspace / "mod.py"
    mod.write_text(MOD)
    ws = await saved(app, workspace, handle_decision())
    db = ws.memory.db
    assert list(await db.execute_fetchall("SELECT namesakes FROM memory_citations")) == [(1,)]
    await db.execute("UPDATE memory_citations SET namesakes = NULL")  # as m042 left it
    await db.commit()
    mod.write_text(MOD + "\n\ndef later():\n    return 1\n")
    out = await reindexed(app, ws)
    assert [d.verified for d in out.decisions] == ["valid"], out.brief
    assert list(await db.execute_fetchall("SELECT namesakes FROM memory_citations")) == [(1,)]
    mod.write_text(HEAD + HANDLE + "\n\n" + EDITED + TAIL)
    out = await reindexed(app, ws)
    assert not out.decisions and len(out.stale) == 1, out.brief


async def test_a_citation_saved_before_namesakes_were_counted_is_counted_at_the_first_restore(
    app: AppState, workspace: Path
) -> None:
    # Counted only at its file's next edit, a citation whose next edit was the paste itself
    # took the copy for one of the namesakes it had when saved.
    mod = workspace / "mod.py"
    mod.write_text(MOD)
    settled(workspace)  # signed as checked at the save, not left to check again (racy)
    ws = await saved(app, workspace, handle_decision())
    db = ws.memory.db
    await db.execute("UPDATE memory_citations SET namesakes = NULL")  # as m042 left it
    await db.execute("DELETE FROM _migrations WHERE name = ?", (m043_count_namesakes.__name__,))
    await db.commit()
    assert await migrate(db) == [m043_count_namesakes.__name__]
    await app.restore(ws, wire.RestoreArgs(max_tokens=2_000))  # no edit since the save
    assert list(await db.execute_fetchall("SELECT namesakes FROM memory_citations")) == [(1,)]
    mod.write_text(HEAD + HANDLE + "\n\n" + EDITED + TAIL)
    out = await reindexed(app, ws)
    assert not out.decisions and len(out.stale) == 1, out.brief
