"""The enriched prompt's session notes read as a part of that prompt: the brief's sections
nested under "## Session notes", without restore's title or its instructions to the agent
that restores ("supersede or forget by id"), redacted and within the brief's share."""

from __future__ import annotations

import re
from pathlib import Path

import ocp_wire as wire
from ocp_router.tokens import estimate_tokens
from ocp_server.app import AppState
from ocp_server.prompt import NOTES_HEADER, brief_share, frame_tokens
from ocp_server.workspaces import Workspace
from tests.server.app_fixture import opened


def _notes(prompt: str) -> str:
    return prompt.split(NOTES_HEADER, 1)[1].split("\n\n## Request\n", 1)[0]


async def _prompts(app: AppState, ws: Workspace, budget: int) -> list[wire.RouteResult]:
    """The paid prompt (a dry run shows it), and the one handed back (the fixture has no
    key), of a paid route of "verify_token" within `budget`."""
    results = []
    for dry_run in (True, False):
        args = wire.RouteArgs(
            request="verify_token", force="paid", max_context_tokens=budget, dry_run=dry_run
        )
        result = await app.route(ws, args)
        assert result.prompt is not None and NOTES_HEADER in result.prompt, dry_run
        assert result.answered_by == ("none" if dry_run else "agent")
        results.append(result)
    return results


async def test_the_prompts_session_notes_nest_the_briefs_sections_without_restores_wording(
    app: AppState, workspace: Path
) -> None:
    ws = await opened(app, workspace)
    decision = wire.DecisionArg(
        title="token check", decision="verify_token keeps HMAC (https://u:hunter2pw@x.io)"
    )
    note = wire.NoteArg(text="verify_token is called by the login handler")
    await app.save(ws, wire.SaveArgs(decisions=[decision], notes=[note]))
    budget = 4000
    for result in await _prompts(app, ws, budget):
        assert result.prompt is not None
        notes = _notes(result.prompt)
        assert "verify_token keeps HMAC" in notes and "login handler" in notes
        headings = [line for line in notes.split("\n") if line.startswith("#")]
        assert headings == ["### Active decisions", "### Notes"], (result.answered_by, headings)
        assert "Session memory" not in result.prompt
        assert "supersede" not in notes and "forget" not in notes
        assert "hunter2pw" not in result.prompt
        assert estimate_tokens(notes) <= brief_share(budget - frame_tokens())


async def test_what_the_prompts_session_notes_left_out_is_said_as_the_routes_budget(
    app: AppState, workspace: Path
) -> None:
    # The notes ended with restore's "_Left out to fit max_tokens=N: …_", N the brief's share
    # of the prompt: a budget the route's caller never set and cannot raise.
    ws = await opened(app, workspace)
    words = ["alpha", "bravo", "cobalt", "delta", "ember", "fjord", "garnet", "harbor", "indigo"]
    notes = [  # each unlike the others (near-identical notes are merged into one)
        wire.NoteArg(text=f"verify_token {a} {b}: " + " ".join(words[i:] + words[:i]) * 4)
        for i, a in enumerate(words)
        for b in words[i + 1 :]
    ]
    await app.save(ws, wire.SaveArgs(notes=notes))
    for result in await _prompts(app, ws, 2000):
        assert result.prompt is not None
        last = _notes(result.prompt).split("\n")[-1]
        assert last.startswith("_Left out to fit the context budget (max_context_tokens=2,000): ")
        assert re.search(r": \d+ notes?\._$", last), last
        assert "max_tokens=" not in result.prompt.replace("max_context_tokens=", "")
