"""An outcome saved by another process on the proxy's database (the MCP server's
`ocp_result_save`, on a connection of its own) reaches the running proxy: "that answer was
wrong" on a request answered locally lifts that conversation to a paid tier in the proxy, as
in the process that saved it."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from ocp_router import Tier
from ocp_router.sticky import TierFloors
from ocp_server import floors_elsewhere
from ocp_server.db import connect
from ocp_server.outcomes import FloorsRead
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import ANTHROPIC_HEADERS, messages_body
from tests.proxy.outcomes import NEAR, Outcomes
from tests.proxy.recorded import all_written, last_row


def _asked(http: httpx.Client, proxy: RunningProxy, session: str) -> dict[str, object]:
    """The trace of NEAR asked in conversation `session`, once it is stored."""
    headers = ANTHROPIC_HEADERS | {"x-ocp-session": session}
    answered = http.post("/v1/messages", json=messages_body(text=NEAR), headers=headers)
    assert answered.status_code == 200, answered.text
    proxy.call(all_written)
    return proxy.call(last_row)


def _first_asked(proxy: RunningProxy) -> dict[str, object]:
    """The trace of NEAR asked first in conversation "conversation-a": answered locally."""
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        first = _asked(http, proxy, "conversation-a")
    assert first["answered_tier"] == "local", first
    return first


def _asked_again(proxy: RunningProxy) -> dict[str, object]:
    """The trace of NEAR asked again in conversation "conversation-a", once it is asked in
    "conversation-b" too: that one is not lifted whatever the outcome."""
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        again = _asked(http, proxy, "conversation-a")
        other = _asked(http, proxy, "conversation-b")
    assert other["tier"] == "local", other
    return again


_OUTCOMES = pytest.mark.parametrize(
    ("outcome", "lifted"),
    [("bad: the fix it gave was wrong", True), ("good: it worked", False)],
    ids=["bad", "good"],
)


@_OUTCOMES
async def test_a_bad_outcome_saved_by_another_process_lifts_the_running_proxys_conversation(
    outcomes: Outcomes, outcome: str, lifted: bool
) -> None:
    proxy = outcomes.proxy()
    first = _first_asked(proxy)
    saved = await outcomes.saved(str(first["request_id"]), outcome)
    assert not any("no trace" in w for w in saved["warnings"]), saved["warnings"]
    again = _asked_again(proxy)
    if lifted:
        assert again["tier"] == "mid", again
        assert "this conversation already needed it" in str(again["reason"]), again
    else:
        assert again["tier"] == "local", again


@_OUTCOMES
async def test_a_bad_outcome_saved_before_the_proxy_restarts_lifts_the_conversation_after(
    outcomes: Outcomes, outcome: str, lifted: bool
) -> None:
    """Floors are rebuilt from the stored outcomes when the proxy starts: the conversation's
    next request does not go back to the tier that just failed."""
    proxy = outcomes.proxy()
    first = _first_asked(proxy)
    proxy.stop()  # its traces written
    await outcomes.saved(str(first["request_id"]), outcome)
    again = _asked_again(outcomes.proxy())
    assert again["tier"] == ("mid" if lifted else "local"), again
    assert ("this conversation already needed it" in str(again["reason"])) is lifted, again


def test_a_database_the_proxy_cannot_look_at_leaves_outcomes_unread_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Not a database (here a folder where it should be): the proxy serves on, told."""
    caplog.set_level(logging.WARNING, logger=floors_elsewhere.__name__)
    assert floors_elsewhere.FloorsElsewhere.opened(tmp_path, since=FloorsRead()) is None
    assert "will not be read" in caplog.text, caplog.text


async def _with_outcomes(path: Path, count: int) -> sqlite3.Connection:
    """A migrated database holding `count` outcomes saved (each on a trace of its own) and
    another process's connection to it."""
    await (await connect(path)).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("PRAGMA foreign_keys = OFF")  # the rows' sessions matter not here
    facts = {"decision": "local", "answered_tier": "local", "session": "conversation-a"}
    for n in range(count + 1):
        other.execute(
            "INSERT INTO traces (id, session_id, created_at, request, route_to, decision, "
            "decided_by, model, backend, task_type, complexity, prompt_tokens, "
            "completion_tokens, duration_ms, trace_json) "
            "VALUES (?, 's', 0, '', '', 'local', '', '', '', '', 0, 0, 0, 0, ?)",
            (f"{n:032x}", json.dumps({"trace": facts})),
        )
    other.executemany(
        "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
        "VALUES ('s', 0, 'outcome', 'good: it worked', ?, 0)",
        [(f"{n:032x}",) for n in range(count)],
    )
    return other


async def _steps_of_a_look(tmp_path: Path, count: int) -> int:
    """The SQLite instructions the proxy's look after another's write runs (in hundreds),
    with `count` outcomes saved before it started; the one saved after lifts its floor."""
    path = tmp_path / f"{count}.db"
    other = await _with_outcomes(path, count)
    saved, floors = floors_elsewhere.FloorsElsewhere(path, since=FloorsRead(count)), TierFloors()
    steps = [0]

    def counted() -> int:
        steps[0] += 1
        return 0

    saved._db.set_progress_handler(counted, 100)  # (its own connection: nothing else runs)
    other.execute(
        "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
        "VALUES ('s', 0, 'outcome', 'bad: it was wrong', ?, 0)",
        (f"{count:032x}",),
    )
    saved.lift_floors(floors)
    saved.close()
    other.close()
    assert floors.floor("conversation-a") == Tier.MID
    return steps[0]


async def test_a_look_after_a_write_reads_past_the_last_outcome_not_every_outcome(
    tmp_path: Path,
) -> None:
    """Every request looks once another connection wrote (the proxy's own trace writes are
    one): it reads the outcomes past the last one seen by their rowid. Read through the index
    of notes by kind, it went over every outcome ever saved, at each request (2 ms at 20,000
    at load 18)."""
    few, many = await _steps_of_a_look(tmp_path, 10), await _steps_of_a_look(tmp_path, 3000)
    assert many <= few + 2, (few, many)


async def test_an_outcome_saved_between_the_rebuild_of_floors_and_the_readers_start_lifts(
    outcomes: Outcomes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A starting proxy rebuilds its floors from the stored outcomes when it opens the
    workspace, then starts the reader of outcomes saved later: one saved in between (here
    written just as the reader opens, as another process would) lifts its conversation at
    the next request, not only after the next restart."""
    proxy = outcomes.proxy()
    _first_asked(proxy)
    proxy.stop()
    opened = floors_elsewhere.FloorsElsewhere.opened

    def saved_meanwhile(db_path: Path, *args: Any, **kwargs: Any) -> Any:
        with sqlite3.connect(db_path) as other:  # the MCP server's ocp_result_save
            trace_id, session_id = other.execute(
                "SELECT id, session_id FROM traces ORDER BY created_at DESC LIMIT 1"
            ).fetchone()
            other.execute(
                "INSERT INTO notes (session_id, created_at, kind, text, trace_id, renewed_at) "
                "VALUES (?, ?, 'outcome', 'bad: it was wrong', ?, ?)",
                (session_id, time.time(), trace_id, time.time()),
            )
        return opened(db_path, *args, **kwargs)

    monkeypatch.setattr(floors_elsewhere.FloorsElsewhere, "opened", saved_meanwhile)
    restarted = outcomes.proxy()
    with httpx.Client(base_url=restarted.url, timeout=20) as http:
        again = _asked(http, restarted, "conversation-a")
    assert again["tier"] == "mid", again
    assert "this conversation already needed it" in str(again["reason"]), again
