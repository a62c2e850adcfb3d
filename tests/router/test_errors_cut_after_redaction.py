"""Texts a backend or the local classifier says, kept to their first N characters in an
error, a decision's reason or a log line, are redacted whole, then cut: cut first, a token
straddling the cut matched no pattern and its head reached the trace and the agent's model."""

from __future__ import annotations

import json

import anthropic
import httpx
import httpx2
import pytest

from ocp_router.backends._http import error_text
from ocp_router.backends.anthropic_sdk import _api_message
from ocp_router.phase2 import parse_verdict
from ocp_router.redact_names import redact_name

TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"


def straddling(cut: int, into: int = 12) -> str:
    """Words, then the token starting `into` characters before `cut`."""
    words = ("the request was refused " * 40)[: cut - into - 1]
    return f"{words} {TOKEN} was not accepted"


def shown(text: str) -> str:
    """As the text leaves: redacted again, as every trace and tool answer is."""
    out = redact_name(text).text
    assert TOKEN[:8] not in out, out
    return out


@pytest.mark.parametrize(
    "body",
    [
        {"text": straddling(300)},
        {"json": {"error": {"message": straddling(300)}}},
        {"json": {"error": straddling(300)}},
    ],
)
def test_a_backends_error_body_is_redacted_before_it_is_cut(body: dict[str, object]) -> None:
    response = httpx.Response(500, **body)  # type: ignore[arg-type]
    shown(error_text(response))


def test_anthropics_error_message_is_redacted_before_it_is_cut() -> None:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/messages")  # the SDK's own httpx
    response = httpx2.Response(401, request=request)
    for body in ({"error": {"message": straddling(300)}}, None):
        exc = anthropic.APIStatusError(straddling(300), response=response, body=body)
        shown(_api_message(exc))


def test_the_local_classifiers_answer_is_redacted_before_it_is_cut() -> None:
    # the local model read the prompt unredacted: what it says may quote a secret
    with pytest.raises(ValueError, match="no JSON object") as err:
        parse_verdict(straddling(80))
    shown(str(err.value))
    _, reason = parse_verdict(json.dumps({"tier": "local", "reason": straddling(200)}))
    assert len(reason) <= 200
    shown(reason)
