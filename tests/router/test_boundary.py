"""The paid boundary: whoever calls OCPRouter, nothing reaches a paid provider unredacted, and
a caller's context is asked for only when an attempt is paid.

Requests go over real HTTP to the fake Anthropic server; what it received is what a real
provider would have received. Every secret is assembled at run time (no literal tokens here).
"""

from __future__ import annotations

import json

import pytest

from ocp_router import (
    AgentPayload,
    OCPRouter,
    OllamaBackend,
    PaidContext,
    RoutingFailed,
    Tier,
)
from ocp_router.backends.anthropic import AnthropicBackend
from tests.fakes import FakeAnthropic, FakeOllama

AWS_KEY = "AKIA" + "Q7Z3X5C1V9B2N4M6"
PASSWORD = "Wq7" + "-pLm2!Zr9x"
HARD = "refactor auth across all files"


def paid_bodies(fake: FakeAnthropic) -> str:
    return json.dumps(fake.message_requests())


class Context:
    """A ContextProvider that records its calls."""

    def __init__(self, prompt: str = "") -> None:
        self.calls: list[str] = []
        self.prompt = prompt

    async def paid_context(self, payload: AgentPayload) -> PaidContext:
        self.calls.append(payload.user_turn)
        return PaidContext(self.prompt or f"CONTEXT\n{payload.user_turn}", ("a.py:1-2",), 7)


async def test_the_router_used_as_a_library_redacts_what_it_sends_to_a_paid_model(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    request = f"{HARD}; creds: aws_access_key_id={AWS_KEY} and DB_PASSWORD={PASSWORD}"
    result = await router.route(request)
    assert result.tier.paid
    body = paid_bodies(fake_anthropic)
    assert AWS_KEY not in body and PASSWORD not in body
    assert "[REDACTED:aws_access_key]" in body and "[REDACTED:password_assignment]" in body
    assert result.paid is not None
    assert result.paid.redactions == {"aws_access_key": 1, "password_assignment": 1}


async def test_system_prompt_earlier_turns_and_tool_results_are_redacted_too(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    payload = {
        "system": f"Deploy with AWS key {AWS_KEY}.",
        "messages": [
            {"role": "user", "content": f"the .env says DB_PASSWORD={PASSWORD}"},
            {"role": "assistant", "content": "Noted."},
            {"role": "user", "content": f"{HARD}; login fails with {PASSWORD} since Monday"},
        ],
    }
    result = await router.route(payload, force="mid")
    body = paid_bodies(fake_anthropic)
    assert AWS_KEY not in body and PASSWORD not in body
    assert result.paid is not None and result.paid.hidden == 3  # key, password, its echo


async def test_a_local_request_that_escalates_gets_context_and_redaction(
    refused_url: str, fake_anthropic: FakeAnthropic
) -> None:
    fake_anthropic.reply = "paid answer"
    router = OCPRouter(
        local=OllamaBackend(base_url=refused_url),
        paid=AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0),
    )
    context = Context(prompt=f"## Workspace context\nDB_PASSWORD={PASSWORD}\n## Request\nexplain")
    result = await router.route(f"explain this function; key {AWS_KEY}", context=context)
    await router.aclose()
    assert result.decision.tier is Tier.LOCAL and result.tier.paid and result.escalated
    assert len(context.calls) == 1
    body = paid_bodies(fake_anthropic)
    assert "## Workspace context" in body
    assert AWS_KEY not in body and PASSWORD not in body
    assert result.paid is not None and result.paid.context is not None
    assert result.paid.context.citations == ("a.py:1-2",)


async def test_the_context_provider_is_never_called_for_a_request_that_stays_local(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    context = Context()
    result = await router.route("explain the auth middleware", context=context)
    assert result.tier is Tier.LOCAL and result.paid is None
    assert context.calls == [] and fake_anthropic.message_requests() == []


async def test_the_local_model_gets_the_raw_request(
    router: OCPRouter, fake_ollama: FakeOllama
) -> None:
    await router.route(f"explain why DB_PASSWORD={PASSWORD} fails", force="local")
    sent = fake_ollama.requests_to("/api/chat")[0].body["messages"][-1]["content"]
    assert PASSWORD in sent  # private: it never leaves the machine


async def test_a_failing_context_provider_costs_the_context_not_the_redaction(
    router: OCPRouter, fake_anthropic: FakeAnthropic
) -> None:
    class Broken:
        async def paid_context(self, payload: AgentPayload) -> PaidContext:
            raise OSError("database is locked")

    result = await router.route(f"{HARD} with DB_PASSWORD={PASSWORD}", context=Broken())
    assert result.tier.paid and PASSWORD not in paid_bodies(fake_anthropic)
    assert any(n.startswith("context: the provider failed (OSError)") for n in result.notes)


async def test_a_failed_route_still_reports_what_was_redacted(
    fake_anthropic: FakeAnthropic,
) -> None:
    router = OCPRouter(
        local=None,
        paid=AnthropicBackend(api_key="sk-ant-bad", base_url=fake_anthropic.url, max_retries=0),
    )
    with pytest.raises(RoutingFailed) as failed:
        await router.route(f"{HARD} DB_PASSWORD={PASSWORD}")
    await router.aclose()
    assert failed.value.paid is not None
    assert failed.value.paid.redactions == {"password_assignment": 1}


async def test_redaction_can_be_turned_off_explicitly(fake_anthropic: FakeAnthropic) -> None:
    fake_anthropic.reply = "ok"
    router = OCPRouter(
        local=None,
        paid=AnthropicBackend(api_key="sk-ant-test", base_url=fake_anthropic.url, max_retries=0),
        redact_paid=False,
    )
    result = await router.route(f"{HARD} DB_PASSWORD={PASSWORD}")
    await router.aclose()
    assert PASSWORD in paid_bodies(fake_anthropic)
    assert result.paid is not None and not result.paid.redacted


def test_a_text_known_clean_is_not_redacted_alone_but_still_hides_a_secret_found_elsewhere() -> (
    None
):
    from ocp_router.boundary import redact_all
    from ocp_router.redact import redact

    env = f"AWS_ACCESS_KEY_ID={AWS_KEY}\n"
    quoted = f"the key {AWS_KEY} again"
    assert redact(quoted).redactions  # on its own, redaction finds it
    # Declared clean, a text is not redacted on its own (the caller vouches for it)...
    alone = redact_all([quoted], [True])
    assert alone[0].text == quoted and not alone[0].redactions
    # ...and a secret found in another text is still hidden in it.
    results = redact_all([env, quoted, "plain text"], [False, True, True])
    assert AWS_KEY not in results[0].text and AWS_KEY not in results[1].text
    assert results[2].text == "plain text"
