"""The fault matrix, through the real server over stdio and the protocol-faithful fakes: every
backend fault ends, within its time bound, in a traced fallback (another tier answered and the
trace names the failed attempt) or in a clear tool error listing the attempts; and the server
keeps serving afterwards."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ocp_client import OCPClient
from tests.fakes import FakeAnthropic, FakeOllama
from tests.fuzzing import text_of

LOCAL_ASK = "explain the auth middleware"
PAID_ASK = "design the architecture of our payment service: sharding, consistency, failover"
TIMEOUTS = {"OCP_LOCAL_TIMEOUT": "1", "OCP_PAID_TIMEOUT": "1", "OCP_CLASSIFIER_MODEL": "none"}
# A route's bound: OCP_ROUTE_TIMEOUT defaults to classifier (5) + local (1) + 2 x paid (1) s.
ROUTE_BOUND = 8.0
SLACK = 4.0  # process scheduling on a loaded machine


@dataclass(frozen=True)
class Fault:
    name: str
    ask: str
    inject: Callable[[FakeOllama, FakeAnthropic], None]
    failed: str  # the error type of the first attempt
    answered_by: str  # the side that answers instead


def _stream_always(_: FakeOllama, anthropic: FakeAnthropic) -> None:
    anthropic.stream_always = True


def _bad_key(_: FakeOllama, anthropic: FakeAnthropic) -> None:
    anthropic.api_key = "sk-ant-another-key"


def _slow_local(ollama: FakeOllama, _: FakeAnthropic) -> None:
    ollama.delay = 2.5


def _slow_paid(_: FakeOllama, anthropic: FakeAnthropic) -> None:
    anthropic.delay = 2.5


FAULTS = [
    Fault("local slow", LOCAL_ASK, _slow_local, "BackendTimeout", "paid"),
    Fault(
        "local error mid-stream",
        LOCAL_ASK,
        lambda o, a: o.fail_mid_stream("model crashed"),
        "BackendResponseError",
        "paid",
    ),
    Fault(
        "local malformed",
        LOCAL_ASK,
        lambda o, a: o.malformed_next(),
        "BackendResponseError",
        "paid",
    ),
    Fault(
        "paid 429", PAID_ASK, lambda o, a: a.fail_next(429, times=2), "BackendRateLimited", "local"
    ),
    Fault(
        "paid 529", PAID_ASK, lambda o, a: a.fail_next(529, times=2), "BackendRateLimited", "local"
    ),
    Fault(
        "paid 500",
        PAID_ASK,
        lambda o, a: a.fail_next(500, times=2),
        "BackendResponseError",
        "local",
    ),
    Fault("paid bad key", PAID_ASK, _bad_key, "BackendAuthError", "local"),
    Fault("paid slow", PAID_ASK, _slow_paid, "BackendTimeout", "local"),
    Fault("paid event stream for JSON", PAID_ASK, _stream_always, "BackendResponseError", "local"),
]


def _env(workspace: Path, ollama_url: str, anthropic: FakeAnthropic) -> dict[str, str]:
    return {
        "OCP_WORKSPACE": str(workspace),
        "OCP_DB_PATH": str(workspace.parent / "ocp.db"),
        "OCP_OLLAMA_URL": ollama_url,
        "ANTHROPIC_API_KEY": "sk-ant-test",
        "ANTHROPIC_BASE_URL": anthropic.url,
        **TIMEOUTS,
    }


def _reset(ollama: FakeOllama, anthropic: FakeAnthropic) -> None:
    ollama.delay = anthropic.delay = 0.0
    anthropic.api_key = "sk-ant-test"
    anthropic.stream_always = False


async def _warm_up(client: OCPClient) -> None:
    """A healthy route to each side first: the first route's imports and database opening
    took 6 s of a loaded machine, which the bound is not about."""
    for ask in (LOCAL_ASK, PAID_ASK):
        result = await client.call("ocp_model_route", {"request": ask, "max_context_tokens": 0})
        assert not result.is_error, text_of(result)


async def test_every_backend_fault_ends_in_a_traced_fallback_within_its_bound(
    workspace: Path, fake_ollama: FakeOllama, fake_anthropic: FakeAnthropic
) -> None:
    outcomes: list[str] = []
    async with OCPClient(env=_env(workspace, fake_ollama.url, fake_anthropic)) as client:
        await _warm_up(client)
        for fault in FAULTS:
            fault.inject(fake_ollama, fake_anthropic)
            started = time.perf_counter()
            result = await client.call(
                "ocp_model_route", {"request": fault.ask, "max_context_tokens": 0}
            )
            seconds = time.perf_counter() - started
            _reset(fake_ollama, fake_anthropic)
            assert not result.is_error, (fault.name, text_of(result))
            out = result.structured_content or {}
            trace = out["trace"]
            first = trace["attempts"][0]
            assert (first["outcome"], first["error"] is not None) == ("error", True), fault.name
            assert first["error_type"] == fault.failed, (fault.name, first)
            assert trace["attempts"][-1]["outcome"] == "ok", fault.name
            assert out["answered_by"] == fault.answered_by, (fault.name, out["note"])
            assert trace["escalated"] or trace["fell_back"], fault.name
            assert seconds < ROUTE_BOUND + SLACK, (fault.name, seconds)
            outcomes.append(f"{fault.name}: {out['note']} in {seconds:.1f}s")
        # The server keeps serving.
        search = await client.search("verify_token")
        assert search.results, outcomes


async def test_local_refused_escalates_and_with_paid_failing_too_the_error_lists_both(
    workspace: Path, refused_url: str, fake_anthropic: FakeAnthropic
) -> None:
    async with OCPClient(env=_env(workspace, refused_url, fake_anthropic)) as client:
        escalated = await client.call(
            "ocp_model_route", {"request": LOCAL_ASK, "max_context_tokens": 0}
        )
        out = escalated.structured_content or {}
        assert not escalated.is_error and out["answered_by"] == "paid"
        assert "cannot reach ollama" in out["trace"]["attempts"][0]["error"]
        fake_anthropic.fail_next(500, times=2)
        started = time.perf_counter()
        failed = await client.call(
            "ocp_model_route", {"request": LOCAL_ASK, "max_context_tokens": 0}
        )
        seconds = time.perf_counter() - started
        assert failed.is_error and seconds < ROUTE_BOUND + SLACK
        text = text_of(failed)
        assert "no model could answer" in text and "cannot reach ollama" in text
        assert "anthropic answered 500" in text
        attempts = (failed.structured_content or {})["trace"]["attempts"]
        assert [a["outcome"] for a in attempts] == ["error"] * len(attempts) and len(attempts) >= 2
        assert (await client.search("verify_token")).results
