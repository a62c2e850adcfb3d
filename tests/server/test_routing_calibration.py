"""Outcomes saved through ocp_result_save teach the workspace's routing: the calibration
file is written, a later route of the same kind is decided differently and its trace says
so, `ocp-server routing reset` undoes it, and "that answer was wrong" on a local answer lifts
the conversation to a paid tier."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from ocp_router.calibration import Calibration, TypeCalibration
from ocp_router.calibration_file import Calibrations, calibration_path
from ocp_server.cli import build_parser, main
from tests.fakes import FakeOllama
from tests.server.inproc import PaidServer, inproc_client

NEAR = "debug the export job that fails on weekends"  # a request phase 1 scores just under 0.5


@pytest.fixture
def calibration_file(workspace: Path) -> Path:
    """Where the test server keeps the workspace's routing calibration (by its OCP_DB_PATH)."""
    return workspace.parent / "routing-calibration.json"


async def _route(client: Any, request: str, session: str) -> dict[str, Any]:
    out = await client.call_tool(
        "ocp_model_route", {"request": request, "session_id": session, "max_context_tokens": 0}
    )
    assert not out.is_error and out.structured_content is not None
    trace: dict[str, Any] = out.structured_content["trace"]
    return trace


async def _save_outcome(client: Any, trace_id: str, outcome: str) -> dict[str, Any]:
    """ocp_result_save's structured answer to an outcome saved on a route."""
    out = await client.call_tool("ocp_result_save", {"trace_id": trace_id, "outcome": outcome})
    assert not out.is_error and out.structured_content is not None, out.content
    return dict(out.structured_content)


def _learned(path: Path, task_type: str) -> dict[str, Any]:
    """What the calibration file at `path` holds for `task_type` (of its one local model)."""
    (model,) = json.loads(path.read_text("utf-8"))["models"].values()
    learned: dict[str, Any] = model["task_types"][task_type]
    return learned


async def test_escalated_outcomes_move_the_threshold_and_reset_undoes_it(
    workspace: Path,
    paid_server: PaidServer,
    calibration_file: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async with paid_server() as client:
        first = await _route(client, NEAR, "a")
        assert first["decision"] == "local"
        kind = first["task_type"]
        taught = 0
        for i in range(6):
            trace = await _route(client, NEAR, f"s{i}")
            if trace["decision"] == "paid":  # learned: "escalated" on a paid route says nothing
                break
            taught += 1
            saved = await client.call_tool(
                "ocp_result_save",
                {"trace_id": trace["trace_id"], "outcome": "escalated: re-asked on the paid model"},
            )
            assert saved.structured_content is not None
            assert saved.structured_content["saved"]["calibration"] == 1
        assert 1 <= taught < 6
        stored = json.loads(calibration_file.read_text("utf-8"))
        assert stored["format"] == "ocp-routing-calibration/2"
        assert _learned(calibration_file, kind)["shift"] < 0
        after = await _route(client, NEAR, "b")
        assert after["decision"] == "paid"
        assert any("calibration" in r and "turned local into paid" in r for r in after["reasons"])

        assert main(["routing", "explain", "--workspace", str(workspace)]) == 0
        assert f"{kind} " in capsys.readouterr().out
        assert main(["routing", "reset", "--workspace", str(workspace)]) == 0
        assert not calibration_file.exists()
        # The running server reads the change on its next route: no restart.
        again = await _route(client, NEAR, "c")
        assert again["decision"] == "local"
        assert not any("calibration" in r for r in again["reasons"])


async def test_what_one_local_model_taught_does_not_move_another_models_routes(
    paid_server: PaidServer, fake_ollama: FakeOllama, calibration_file: Path
) -> None:
    # One calibration for every model: outcomes on a weak model's answers went on sending
    # the strong model's work to paid after OCP_LOCAL_MODEL changed.
    fake_ollama.models.append("qwen2.5-coder:32b")
    async with paid_server() as client:
        for i in range(6):
            trace = await _route(client, NEAR, f"s{i}")
            if trace["decision"] == "paid":
                break
            await _save_outcome(client, trace["trace_id"], "escalated: re-asked on paid")
        weak = await _route(client, NEAR, "a")
        assert weak["decision"] == "paid" and weak["local_model"] == f"llama3.2 @ {fake_ollama.url}"
    async with paid_server({"OCP_LOCAL_MODEL": "qwen2.5-coder:32b"}) as client:
        strong = await _route(client, NEAR, "b")
        assert strong["local_model"] == f"qwen2.5-coder:32b @ {fake_ollama.url}"
        assert strong["decision"] == "local"
        assert not any("calibration" in r for r in strong["reasons"])
    async with paid_server({"OCP_LOCAL_MODEL": "llama3.2"}) as client:  # back: lessons kept
        assert (await _route(client, NEAR, "c"))["decision"] == "paid"
    assert list(json.loads(calibration_file.read_text("utf-8"))["models"]) == [
        f"llama3.2 @ {fake_ollama.url}"
    ]


async def test_an_outcome_that_is_not_about_the_tier_teaches_nothing(
    paid_server: PaidServer,
    calibration_file: Path,
) -> None:
    async with paid_server() as client:
        trace = await _route(client, NEAR, "a")
        saved = await _save_outcome(client, trace["trace_id"], "shipped in v2.3")
    assert saved["saved"]["calibration"] == 0
    assert not calibration_file.exists()


async def test_a_wrong_local_answer_lifts_only_its_conversation_to_paid(
    paid_server: PaidServer,
) -> None:
    async with paid_server() as client:
        local = await _route(client, "what does git stash do", "task-1")
        assert local["decision"] == "local" and local["session"] == "task-1"
        await client.call_tool(
            "ocp_result_save",
            {"trace_id": local["trace_id"], "outcome": "that answer was wrong: stash keeps index"},
        )
        same = await _route(client, "and git stash pop?", "task-1")
        other = await _route(client, "and git stash pop?", "task-2")
    assert same["decision"] == "paid" and "already needed it" in same["decided_by"]
    assert other["decision"] == "local"


@pytest.mark.parametrize(
    ("outcome", "lifted"), [("bad: stash keeps the index", True), ("good", False)]
)
async def test_a_wrong_local_answer_lifts_its_conversation_in_a_server_started_later(
    paid_server: PaidServer, outcome: str, lifted: bool
) -> None:
    """The floor is rebuilt from the stored outcome: a restarted server does not send the
    conversation's next request back to the tier that just failed."""
    async with paid_server() as client:
        local = await _route(client, "what does git stash do", "task-1")
        assert local["decision"] == "local"
        await _save_outcome(client, local["trace_id"], outcome)
    async with paid_server() as client:  # a new process: floors start empty in memory
        same = await _route(client, "and git stash pop?", "task-1")
        other = await _route(client, "and git stash pop?", "task-2")
    assert same["decision"] == ("paid" if lifted else "local"), same
    assert ("already needed it" in same["decided_by"]) is lifted, same
    assert other["decision"] == "local"


async def test_sticky_upward_keeps_a_conversation_on_the_tier_it_reached(
    paid_server: PaidServer,
) -> None:
    async with paid_server({"OCP_STICKY": "upward"}) as client:
        hard = await _route(
            client, "design the architecture of our payment service: sharding, failover", "t"
        )
        easy = await _route(client, "rename the variable tmp to buffer", "t")
        fresh = await _route(client, "rename the variable tmp to buffer", "u")
    assert hard["decision"] == "paid"
    assert easy["decision"] == "paid" and "already needed it" in easy["decided_by"]
    assert fresh["decision"] == "local"


async def test_an_outcome_on_a_local_route_the_local_model_never_answered_teaches_nothing(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, refused_url: str, calibration_file: Path
) -> None:
    # The local model was down and the agent answered the handed-back prompt: "good" judges
    # the agent's answer, and taught "local was right for this" before.
    env = {"OCP_OLLAMA_URL": refused_url, "OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        trace = await _route(client, "what does git stash do", "a")
        assert trace["decision"] == "local" and trace["route_to"] == "agent"
        saved = await _save_outcome(client, trace["trace_id"], "good")
    assert saved["saved"]["calibration"] == 0
    assert saved["warnings"] == [
        "the outcome taught routing nothing: the local model never answered its route "
        "(answered by your agent)"
    ]
    assert not calibration_file.exists()


async def test_an_outcome_saved_again_on_a_route_replaces_the_point_the_first_taught(
    paid_server: PaidServer,
    calibration_file: Path,
) -> None:
    # The save says "the new one is current", yet each outcome on the same route added a
    # point: "good" corrected to "wrong" left one for local and one for paid, and an agent
    # saving "good" three times counted three.
    async with paid_server() as client:
        trace = await _route(client, NEAR, "a")
        assert trace["decision"] == "local" and trace["route_to"] == "local"
        for outcome in ("good", "good", "wrong: it missed the weekend case"):
            saved = await _save_outcome(client, trace["trace_id"], outcome)
            assert saved["saved"]["calibration"] == 1
    learned = _learned(calibration_file, trace["task_type"])
    assert learned["outcomes"] == 1
    assert sum(learned["wanted_paid"].values()) == 1 and learned["wanted_local"] == {}


async def test_an_outcome_not_about_the_tier_takes_back_the_point_its_route_taught_before(
    paid_server: PaidServer,
    calibration_file: Path,
) -> None:
    # "good" then "shipped" left the "good" point in force though "shipped" is the route's
    # outcome now; "wrong" after it then replaced "shipped" (nothing) and the route counted
    # one point for local and one for paid.
    async with paid_server() as client:
        trace = await _route(client, NEAR, "a")
        kind = trace["task_type"]
        good = await _save_outcome(client, trace["trace_id"], "good")
        assert good["saved"]["calibration"] == 1
        shipped = await _save_outcome(client, trace["trace_id"], "shipped to production")
        assert shipped["saved"]["calibration"] == 0
        assert any("taken back" in w for w in shipped["warnings"]), shipped["warnings"]
        learned = _learned(calibration_file, kind)
        assert (learned["outcomes"], learned["wanted_local"]) == (0, {})
        wrong = await _save_outcome(client, trace["trace_id"], "wrong: it missed the weekend case")
        assert wrong["saved"]["calibration"] == 1
    learned = _learned(calibration_file, kind)
    assert learned["outcomes"] == 1 and learned["wanted_local"] == {}
    assert sum(learned["wanted_paid"].values()) == 1


async def test_an_outcome_after_a_reset_takes_back_no_other_routes_point(
    workspace: Path,
    paid_server: PaidServer,
    calibration_file: Path,
) -> None:
    # Route a's "good" was reset away; route b's "good" lands in the same score bin; a's
    # "wrong" then took b's point back as if it were its own.
    async with paid_server() as client:
        a, b = await _route(client, NEAR, "a"), await _route(client, NEAR, "b")
        assert a["task_type"] == b["task_type"]
        for trace, outcome in ((a, "good"), (None, "reset"), (b, "good"), (a, "wrong")):
            if trace is None:
                assert main(["routing", "reset", "--workspace", str(workspace)]) == 0
                continue
            saved = await _save_outcome(client, trace["trace_id"], outcome)
            assert saved["saved"]["calibration"] == 1
    learned = _learned(calibration_file, a["task_type"])
    assert learned["outcomes"] == 2
    assert sum(learned["wanted_local"].values()) == 1 and sum(learned["wanted_paid"].values()) == 1


async def test_an_outcome_on_a_dry_run_teaches_nothing(
    paid_server: PaidServer,
    calibration_file: Path,
) -> None:
    # A dry run called no model: "overkill" on a paid one taught "local would do" and "good"
    # "paid was right", from answers nobody gave.
    async with paid_server() as client:
        warnings = []
        for request, outcome in (
            ("design the architecture of our payment service", "overkill"),
            ("design the architecture of our payment service", "good"),
            ("what does git stash do", "good"),
        ):
            planned = await client.call_tool(
                "ocp_model_route", {"request": request, "dry_run": True, "max_context_tokens": 0}
            )
            assert planned.structured_content is not None
            trace = planned.structured_content["trace"]
            saved = await _save_outcome(client, trace["trace_id"], outcome)
            assert saved["saved"]["calibration"] == 0
            warnings.append(saved["warnings"])
    assert warnings == 3 * [
        ["the outcome taught routing nothing: its route was a dry run (no model answered)"]
    ]
    assert not calibration_file.exists()


async def test_an_outcome_on_a_paid_route_the_calling_agent_answered_teaches(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    fake_ollama: FakeOllama,
    calibration_file: Path,
) -> None:
    """No paid key: a paid route is the calling agent's to answer, and an outcome on it judges
    that answer (unlike a proxied paid request nobody answered, tests/proxy)."""
    env = {"OCP_OLLAMA_URL": fake_ollama.url, "OCP_CLASSIFIER_MODEL": "none"}
    async with inproc_client(workspace, monkeypatch, env) as client:
        trace = await _route(client, "design the architecture of our payment service", "s")
        assert trace["decision"] == "paid" and trace["answered_tier"] is None, trace
        saved = await _save_outcome(client, trace["trace_id"], "overkill: local would do")
    assert saved["saved"]["calibration"] == 1, saved["warnings"]
    assert _learned(calibration_file, trace["task_type"])["outcomes"] == 1


async def test_an_outcome_that_cannot_teach_routing_is_saved_with_a_warning_saying_why(
    paid_server: PaidServer,
    calibration_file: Path,
) -> None:
    # Saved without a word, an outcome on a forced route or with no trace read as taught.
    async with paid_server() as client:
        forced = await client.call_tool(
            "ocp_model_route",
            {"request": NEAR, "force": "local", "session_id": "a", "max_context_tokens": 0},
        )
        assert forced.structured_content is not None
        trace_id = forced.structured_content["trace"]["trace_id"]
        decided = await _route(client, NEAR, "b")
        paid = await _route(client, "design the architecture of our payment service", "c")
        assert paid["decision"] == "paid"
        saves = [
            {"outcome": "good"},
            {"trace_id": trace_id, "outcome": "good"},
            {"trace_id": decided["trace_id"], "outcome": "shipped in v2.3"},
            {"trace_id": paid["trace_id"], "outcome": "bad: it missed the retry"},
        ]
        warnings = []
        for arguments in saves:
            saved = await client.call_tool("ocp_result_save", arguments)
            assert saved.structured_content is not None
            assert saved.structured_content["saved"]["calibration"] == 0
            warnings.append(saved.structured_content["warnings"])
    why = "the outcome taught routing nothing: "
    assert warnings == [
        [why + "no `trace_id` names the route it judges (pass the route's)"],
        [why + "its route was forced (`force`), not decided by routing"],
        [why + "it does not start with good, bad (or wrong), escalated or overkill"],
        [why + "'bad' on a paid route says nothing about the tier"],
    ]
    assert not calibration_file.exists()


async def test_a_trace_id_in_capitals_or_with_dashes_names_its_trace(
    paid_server: PaidServer,
) -> None:
    # Ids are uuid hex stored lower case: one copied in capitals was "no trace is recorded".
    async with paid_server() as client:
        trace_id = (await _route(client, NEAR, "a"))["trace_id"]
        dashed = str(uuid.UUID(trace_id))
        for written in (trace_id.upper(), trace_id[:8].upper(), dashed.upper(), f" {dashed} "):
            saved = await client.call_tool(
                "ocp_result_save", {"trace_id": written, "outcome": "good"}
            )
            assert not saved.is_error, (written, saved.content)
            assert saved.structured_content is not None
            assert saved.structured_content["saved"]["calibration"] == 1, written


def test_routing_explain_shows_the_threshold_in_force_not_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The router adds a learned shift to OCP_ROUTE_THRESHOLD: explain must say the same.
    monkeypatch.setenv("OCP_ROUTE_THRESHOLD", "0.3")
    assert main(["routing", "explain", "--workspace", str(tmp_path)]) == 0
    assert "default threshold 0.30" in capsys.readouterr().out
    # A file written while the threshold was 0.5 (its own base_threshold): the shift applies
    # to the threshold in force now.
    cal = Calibration()
    cal.types["debug"] = TypeCalibration(shift=-0.1, outcomes=4.0)
    Calibrations(models={"llama3.2 @ http://127.0.0.1:11434": cal}).save(
        calibration_path(tmp_path / ".ocp")
    )
    assert main(["routing", "explain", "--workspace", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "Default threshold 0.30" in out and "debug        threshold 0.20" in out
    # --json prints the file as it is.
    assert main(["routing", "explain", "--json", "--workspace", str(tmp_path)]) == 0
    assert json.loads(capsys.readouterr().out)["base_threshold"] == 0.5


def test_routing_explain_names_a_bad_threshold_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OCP_ROUTE_THRESHOLD", "2")
    assert main(["routing", "explain", "--workspace", str(tmp_path)]) == 2
    assert "OCP_ROUTE_THRESHOLD='2'" in capsys.readouterr().err


def test_routing_explain_on_a_damaged_file_is_a_failure_naming_the_file_and_reset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # OCP writes the file, so a damaged one is a failure (1, as a damaged database is), not a
    # usage or configuration error (2): no option or OCP_* variable fixes it; the help says so.
    path = calibration_path(tmp_path / ".ocp")
    path.parent.mkdir(parents=True)
    path.write_text("{not json", "utf-8")
    assert main(["routing", "explain", "--workspace", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and str(path) in err and "routing reset" in err
    help_text = " ".join(build_parser().format_help().split())
    assert "1 something failed (doctor: a check failed; a damaged database or routing " in (
        help_text
    )
