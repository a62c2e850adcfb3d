"""A restore whose first fit runs over its budget (the parts' estimates ran short of the
whole's: `AppState.restore` measures the result as sent) is fitted again into less room
until it fits. Each refit stepped down by the last overshoot only: with items of hundreds of
tokens and an overshoot of a dozen, the same items fitted four times over and the restore
failed as an internal error ("the brief could not be fitted into max_tokens=1000")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

import ocp_wire as wire
from ocp_server import views
from ocp_server.app import AppState
from tests.server.app_fixture import opened


@pytest.fixture
async def underpriced(
    app: AppState, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, list[int]]:
    """The workspace with 60 notes of about 400 tokens each (text and structured), each note's
    structured form priced at 3/4 of what it costs: every fit runs over. And the budgets the
    memory was asked to fit, in order."""
    ws = await opened(app, workspace)
    await app.save(
        ws,
        wire.SaveArgs(
            notes=[f"note {n}: " + " ".join(f"w{n}x{i}" for i in range(40)) for n in range(60)]
        ),
    )
    priced = views.value_tokens
    fits: list[int] = []
    restore = ws.memory.restore

    async def counted(**kwargs: Any) -> Any:
        fits.append(kwargs["max_tokens"])
        return await restore(**kwargs)

    monkeypatch.setattr(views, "value_tokens", lambda value: priced(value) * 3 // 4)
    monkeypatch.setattr(ws.memory, "restore", counted)
    return ws, fits


@pytest.mark.parametrize("budget", [300, 1_000, 2_000, 5_000])
async def test_a_fit_that_runs_over_is_refitted_until_it_fits(
    app: AppState, underpriced: tuple[Any, list[int]], budget: int
) -> None:
    ws, fits = underpriced
    brief = await app.restore(ws, wire.RestoreArgs(max_tokens=budget))
    assert brief.tokens <= budget and brief.omitted
    assert fits[0] == budget


@pytest.mark.parametrize("budget", [1_000, 5_000])
async def test_a_refitted_brief_says_it_left_out_to_fit_the_callers_max_tokens(
    app: AppState, underpriced: tuple[Any, list[int]], budget: int
) -> None:
    # It named the budget of the last refit ("Left out to fit max_tokens=961"), one the
    # caller never gave.
    ws, fits = underpriced
    brief = await app.restore(ws, wire.RestoreArgs(max_tokens=budget))
    assert len(fits) > 1 and fits[-1] < budget
    assert re.findall(r"max_tokens=([\d,]+)", brief.brief) == [f"{budget:,}"]
