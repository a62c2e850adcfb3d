"""A paid prompt's workspace context keeps to its budget as sent: redacted. The budget was
filled by the token counts of the texts on disk, and a marker can be longer than the value
it hides (`https://u:[REDACTED:...]@x.io` for `https://u:p1@x.io`): the code shown in the
prompt came out over the share of `max_context_tokens` the search was given, and the session
brief over its share when it quoted rows stored before the rule that finds their secrets.
(The same defect in ocp_context_search: test_search_budget_after_redaction.py.)"""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_server.app import AppState
from ocp_server.prompt import brief_share, context_share, frame_tokens
from tests.server.app_fixture import opened

# a block of the prompt's workspace context: its header, then the code in its fence
_BLOCK_RE = re.compile(r"^### [^\n]*\n(`{3,})[^\n]*\n(.*?)\n\1$", re.M | re.S)


def _code_shown(prompt: str) -> list[str]:
    context = prompt.split("## Workspace context", 1)[1].split("\n## Request\n", 1)[0]
    return [m[2] for m in _BLOCK_RE.finditer(context)]


async def test_the_redacted_code_of_a_paid_prompt_keeps_to_its_budget(
    app: AppState, workspace: Path
) -> None:
    # short passwords in URLs: each marker is some tokens longer than the value it hides
    lines = "".join(f"    mirror_{i} = 'https://u:p{i}@x{i}.io'\n" for i in range(80))
    (workspace / "src" / "mirrors.py").write_text(f"def mirror_urls():\n{lines}")
    (workspace / "src" / "more_mirrors.py").write_text(f"def mirror_urls_again():\n{lines}")
    ws = await opened(app, workspace)
    for budget in (400, 800, 1400, 2800):
        args = wire.RouteArgs(
            request="mirror_urls", force="paid", max_context_tokens=budget, dry_run=True
        )
        result = await app.route(ws, args)
        assert result.prompt is not None
        code = _code_shown(result.prompt)
        assert code and "p1@" not in "".join(code)
        shown = sum(estimate_tokens(t) for t in code)
        assert shown <= context_share(budget - frame_tokens()), (budget, shown)


async def test_the_redacted_brief_of_a_paid_prompt_keeps_to_its_budget(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    notes = [wire.NoteArg(text=f"mirror list {i} for the mirror_urls job") for i in range(30)]
    await app.save(ws, wire.SaveArgs(notes=notes))
    # As rows stored before the rule that finds their passwords: written as they were given
    # (each shorter than a note's cap in the brief, so shown whole, not cut and redacted).
    urls = " ".join(f"https://u:p{i}@x{i}.io" for i in range(20))
    con = sqlite3.connect(workspace.parent / "ocp.db", timeout=30)
    with con:
        con.execute("UPDATE notes SET text = ?", (f"mirror_urls {urls}",))
    con.close()
    for budget in (1600, 2800, 6000):  # (the frame's share, then a quarter: one note fits)
        args = wire.RouteArgs(
            request="mirror_urls", force="paid", max_context_tokens=budget, dry_run=True
        )
        result = await app.route(ws, args)
        assert result.prompt is not None
        brief = result.prompt.split("## Session notes (from earlier sessions)\n", 1)[1]
        brief = brief.split("\n\n## Request\n", 1)[0]
        assert "mirror_urls" in brief and "p1@" not in brief
        share = brief_share(budget - frame_tokens())
        assert estimate_tokens(brief) <= share, (budget, estimate_tokens(brief))
