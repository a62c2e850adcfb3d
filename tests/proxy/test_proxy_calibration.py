"""The routing proxy routes by the workspace's calibration for its local model, as
`ocp_model_route` does, and an outcome saved on a proxied request (named by its request id)
teaches that model's calibration as one saved on a routed request does."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest

from ocp_router import parse_payload
from ocp_router.calibration import Outcome
from ocp_router.calibration_file import CalibrationFile, calibration_path
from ocp_router.calibration_keys import model_key
from ocp_router.phase1 import Assessment
from ocp_server.proxy import Proxy
from ocp_wire.base import MAX_TRACE_ID_CHARS
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.cut_short import first_line_then_leave, until_closed
from tests.proxy.dialects import ANTHROPIC_HEADERS, HARD, messages_body, posted_messages
from tests.proxy.outcomes import NEAR, Outcomes
from tests.proxy.recorded import last_row, last_row_once_recorded
from tests.server.inproc import inproc_client, text_of


def _assessed(proxy: RunningProxy, text: str) -> Assessment:
    async def assess(p: Proxy) -> Assessment:
        return p.router.assess(parse_payload(messages_body(text=text)))

    return proxy.call(assess)


def _escalated(state_dir: Path, near: Assessment, model: str) -> None:
    """What `ocp_result_save` teaches of local model `model` when its answers to requests
    scored as `near` were escalated, eight times."""
    learned = CalibrationFile(calibration_path(state_dir))
    kind = near.classify.task_type.value
    for i in range(8):
        learned.learn(kind, near.raw_score, False, Outcome.ESCALATED, trace_id=f"t{i}", model=model)


def test_a_calibration_learned_for_the_local_model_routes_the_proxys_requests(
    outcomes: Outcomes, fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic, tmp_path: Path
) -> None:
    proxy = outcomes.proxy()
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        first = http.post("/v1/messages", json=messages_body(text=NEAR), headers=ANTHROPIC_HEADERS)
        assert first.status_code == 200, first.text
        assert proxy.call(last_row)["tier"] == "local"
        _escalated(tmp_path, _assessed(proxy, NEAR), model_key("llama3.2", fake_ollama.url))
        again = http.post("/v1/messages", json=messages_body(text=NEAR), headers=ANTHROPIC_HEADERS)
    assert again.status_code == 200, again.text
    row = proxy.call(last_row)
    assert row["tier"] != "local" and row["answered_tier"] != "local"
    assert "turned local into paid" in row["reason"], row["reason"]
    assert fake_anthropic.requests_to("/v1/messages")


def test_what_another_local_model_learned_does_not_route_the_proxy(
    outcomes: Outcomes, fake_ollama: FakeOllama, tmp_path: Path
) -> None:
    proxy = outcomes.proxy()
    other = model_key("qwen2.5-coder:32b", fake_ollama.url)
    _escalated(tmp_path, _assessed(proxy, NEAR), other)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answered = http.post(
            "/v1/messages", json=messages_body(text=NEAR), headers=ANTHROPIC_HEADERS
        )
    assert answered.status_code == 200, answered.text
    assert proxy.call(last_row)["tier"] == "local"


@pytest.mark.parametrize("named_by", ["request id", "trace id"])
async def test_an_outcome_saved_on_a_proxied_request_teaches_its_local_models_calibration(
    outcomes: Outcomes, named_by: str
) -> None:
    proxy = outcomes.proxy()
    answered = await posted_messages(proxy, messages_body(text=NEAR))
    said = answered.headers["request-id"]  # what the client (its SDK's `_request_id`) sees
    row = proxy.call(last_row)
    assert row["answered_tier"] == "local"
    proxy.stop()  # its queued traces written
    trace_id = said if named_by == "request id" else row["request_id"].removeprefix("req_ocp_")
    saved = await outcomes.saved(trace_id, "escalated: re-asked on the paid model")
    assert saved["saved"]["calibration"] == 1, saved["warnings"]
    assert outcomes.learned()[row["task_type"]]["outcomes"] == 1


async def test_an_outcome_on_a_request_the_route_mode_forced_local_teaches_nothing(
    outcomes: Outcomes,
) -> None:
    """OCP_ROUTE_MODE=local sends every request to the local model, routing decides none: an
    outcome on one says nothing of where routing's thresholds lie (as on a forced route of
    `ocp_model_route`, which `learn` refuses)."""
    proxy = outcomes.proxy(OCP_ROUTE_MODE="local")
    answered = await posted_messages(proxy, messages_body(text=NEAR))
    row = proxy.call(last_row)
    assert row["answered_tier"] == "local" and row["phase"] == "explicit", row
    proxy.stop()  # its queued traces written
    saved = await outcomes.saved(
        answered.headers["request-id"], "escalated: re-asked on the paid model"
    )
    assert saved["saved"]["calibration"] == 0
    assert any("forced" in w for w in saved["warnings"]), saved["warnings"]
    assert not outcomes.calibration.exists()


async def _overkill_teaches_nothing(
    row: dict[str, Any], proxy: RunningProxy, outcomes: Outcomes
) -> None:
    """`row`, a paid request nobody answered: "overkill" saved on it (by the request's own id;
    a header carries the upstream's, relayed in its place) teaches nothing, and says why."""
    assert row["tier"] != "local" and row["answered_tier"] is None, row
    proxy.stop()  # its queued traces written
    saved = await outcomes.saved(row["request_id"], "overkill: local would do")
    assert saved["saved"]["calibration"] == 0, saved
    assert any("nobody answered" in w for w in saved["warnings"]), saved["warnings"]
    assert not outcomes.calibration.exists()


@pytest.mark.parametrize("status", [429, 500, 529])
async def test_an_outcome_on_a_paid_request_its_upstream_refused_teaches_nothing(
    outcomes: Outcomes, fake_anthropic: FakeAnthropic, status: int
) -> None:
    """The paid tier answered with an error: "overkill" judges an answer nobody gave, and
    taught as one it would move routing's thresholds toward local."""
    fake_anthropic.fail_next(status)
    proxy = outcomes.proxy()
    await posted_messages(proxy, messages_body(), status=status)
    row = proxy.call(last_row)
    await _overkill_teaches_nothing(row, proxy, outcomes)


async def test_an_outcome_on_a_paid_request_whose_client_left_mid_stream_teaches_nothing(
    outcomes: Outcomes, fake_anthropic: FakeAnthropic
) -> None:
    # 2,000 pieces at 50 ms: 100 s if nobody hangs up, far beyond the 30 s waited for it.
    fake_anthropic.reply = "word " * 2000
    fake_anthropic.stream_delay = 0.05
    proxy = outcomes.proxy()
    body = messages_body(stream=True)
    first = first_line_then_leave(proxy, "/v1/messages", body, ANTHROPIC_HEADERS)
    assert first.startswith("event: message_start")
    until_closed(fake_anthropic)
    row = last_row_once_recorded(proxy)
    await _overkill_teaches_nothing(row, proxy, outcomes)


async def test_an_outcome_on_a_paid_request_the_proxy_could_not_send_teaches_nothing(
    outcomes: Outcomes,
) -> None:
    """No paid credentials and no local fallback (OCP_PAID_FALLBACK=error): the paid tier is
    blocked, the client gets a 401, and no answer exists to judge."""
    proxy = outcomes.proxy(OCP_PAID_FALLBACK="error")
    await posted_messages(
        proxy, messages_body(), headers={"anthropic-version": "2023-06-01"}, status=401
    )
    row = proxy.call(last_row)
    await _overkill_teaches_nothing(row, proxy, outcomes)


async def _paid_answers_request_id(proxy: RunningProxy, dialect: str) -> str | None:
    """What the SDK of `dialect` shows as the id of its paid answer to a hard request."""
    if dialect == "openai":
        openai_sdk = openai.AsyncOpenAI(
            base_url=proxy.url + "/v1", api_key="sk-test", max_retries=0
        )
        async with openai_sdk:
            completion = await openai_sdk.chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": HARD}]
            )
        return completion._request_id
    sdk = anthropic.AsyncAnthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0)
    async with sdk:
        message = await sdk.messages.create(
            model="claude-opus-5-5", max_tokens=100, messages=[{"role": "user", "content": HARD}]
        )
    return message._request_id


@pytest.mark.parametrize("dialect", ["anthropic", "openai"])
async def test_an_outcome_saved_on_a_paid_answer_by_the_request_id_its_sdk_shows_teaches(
    outcomes: Outcomes, fake_anthropic: FakeAnthropic, fake_openai: FakeOpenAI, dialect: str
) -> None:
    """A paid answer names its request by the upstream's id (relayed for the provider's
    support: Anthropic's `request-id`, OpenAI's `x-request-id`), which is what the SDK's
    `_request_id` shows: saved as the outcome's trace id, it names the proxied request's
    trace."""
    proxy = outcomes.proxy()
    said = await _paid_answers_request_id(proxy, dialect)
    row = proxy.call(last_row)
    upstream = fake_openai.requests_to("/v1/chat/completions") if dialect == "openai" else (
        fake_anthropic.requests_to("/v1/messages")
    )  # fmt: skip
    assert row["answered_tier"] != "local" and upstream
    assert said is not None and said == row["upstream_request_id"]  # the upstream's own
    proxy.stop()  # its queued traces written
    saved = await outcomes.saved(said, "overkill: a local model would have done")
    assert saved["saved"]["calibration"] == 1, saved["warnings"]
    assert outcomes.learned()[row["task_type"]]["outcomes"] == 1


@pytest.mark.parametrize(
    "upstream_id",
    [
        str(uuid.uuid4()),  # hex digits alone: read as OCP's id, and found by nobody
        uuid.uuid4().hex,  # 32 hex digits, the length of OCP's own ids
        uuid.uuid4().hex.upper(),
        "sk-" + "A1b2C3d4" * 6,  # shaped like an API key: redacted in the trace
        "cmpl-" + "-".join(uuid.uuid4().hex for _ in range(3)),  # 103 characters, over 64
    ],
    ids=["a uuid", "32 hex digits", "32 upper-case hex", "shaped like a key", "longer than 64"],
)
async def test_an_outcome_saved_by_an_openai_compatible_upstreams_own_request_id_teaches(
    outcomes: Outcomes, fake_openai: FakeOpenAI, upstream_id: str
) -> None:
    """An OpenAI-compatible upstream names its requests in its own shape (a uuid, a longer
    id), which the proxy relays as the answer's `x-request-id`: saved as the outcome's trace
    id as the SDK shows it, it names the proxied request's trace. One shaped like an API key
    is relayed as it came but never stored: the trace keeps its redaction and digest."""
    fake_openai.request_id = upstream_id
    proxy = outcomes.proxy()
    said = await _paid_answers_request_id(proxy, "openai")
    row = proxy.call(last_row)
    assert said == upstream_id, row
    if upstream_id.startswith("sk-"):
        assert upstream_id not in json.dumps(row)
        assert row["upstream_request_id"].startswith("[REDACTED:openai_key] sha256:"), row
    else:
        assert row["upstream_request_id"] == upstream_id, row
    proxy.stop()  # its queued traces written
    saved = await outcomes.saved(said, "overkill: local would do")
    assert saved["saved"]["calibration"] == 1, saved["warnings"]


async def test_a_trace_id_longer_than_any_kept_is_refused_naming_the_field(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with inproc_client(workspace, monkeypatch) as client:
        out = await client.call_tool(
            "ocp_result_save", {"trace_id": "req_" + "a" * MAX_TRACE_ID_CHARS, "outcome": "good"}
        )
    assert out.is_error
    told = text_of(out)
    assert "trace_id" in told and f"at most {MAX_TRACE_ID_CHARS}" in told, told


async def test_an_upstreams_hex_request_id_that_starts_another_trace_names_its_own(
    outcomes: Outcomes, fake_openai: FakeOpenAI
) -> None:
    """An upstream's id of hex digits alone that happens to start an OCP trace's id (read as
    a short id, it named that trace): the whole id the client was shown names its own
    request's trace, before any prefix of another."""
    proxy = outcomes.proxy()
    await posted_messages(proxy, messages_body(text=NEAR))
    first = proxy.call(last_row)
    assert first["answered_tier"] == "local", first
    fake_openai.request_id = first["id"][:12]
    said = await _paid_answers_request_id(proxy, "openai")
    paid = proxy.call(last_row)
    assert said is not None and said == first["id"][:12] == paid["upstream_request_id"], paid
    proxy.stop()  # its queued traces written
    saved = await outcomes.saved(said, "overkill: local would do")
    assert saved["saved"]["calibration"] == 1, saved["warnings"]
