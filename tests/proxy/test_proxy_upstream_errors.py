"""An upstream's error relayed to the client: the proxy may have called with the environment's
key (the client sent none), and a provider's error can quote the key it refused. What the
client reads reaches its agent's model: the error is relayed redacted.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx

from ocp_server.proxy.upstream import Outcome, _scan
from tests.fakes._http import Request, Response
from tests.fakes.anthropic import FakeAnthropic
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import messages_body

ENV_KEY = "sk-ant-api03-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2


def _quoting_the_key(fake: FakeAnthropic) -> None:
    def refuse(req: Request) -> Response | None:
        return fake.error_response(401, f"invalid x-api-key: {req.headers.get('x-api-key')}")

    fake._check_auth = refuse  # type: ignore[method-assign]


def test_an_upstream_error_quoting_the_environment_key_is_relayed_redacted(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    _quoting_the_key(fake_anthropic)
    proxy = start_proxy(proxy_env | {"ANTHROPIC_API_KEY": ENV_KEY}, store=False)
    body = messages_body(max_tokens=50)
    headers = {"anthropic-version": "2023-06-01"}
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        sent = http.post("/v1/messages", json=body, headers=headers)
        counted = http.post("/v1/messages/count_tokens", json=body, headers=headers)
    for answer in (sent, counted):
        assert answer.status_code == 401
        assert ENV_KEY not in answer.text
        error = answer.json()["error"]
        assert error["type"] == "authentication_error"
        assert error["message"] == "invalid x-api-key: [REDACTED:anthropic_key]"
    assert [r.headers["x-api-key"] for r in fake_anthropic.requests_to("/v1/messages")] == [ENV_KEY]
    assert ENV_KEY not in json.dumps(proxy.call(_stats))


async def _stats(proxy: object) -> object:
    return proxy.recorder.summary({})  # type: ignore[attr-defined]


def test_an_upstream_error_cut_short_inside_the_key_it_quotes_keeps_none_of_it(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # the row keeps the error's first 300 characters: cut there first, the key's first 20
    # characters would match no pattern (sk-ant- needs 20 more) and stay in the row, which
    # the dashboard and the stored trace show
    said = "refused "
    empty = json.dumps({"type": "error", "error": {"type": "authentication_error", "message": ""}})
    pad = 300 - (empty.index('"message": ""') + len('"message": "')) - len(said) - 20

    def refuse(req: Request) -> Response | None:
        key = req.headers.get("x-api-key")
        return fake_anthropic.error_response(401, f"{'x' * (pad - 1)} {said}{key} here")

    fake_anthropic._check_auth = refuse  # type: ignore[method-assign]
    proxy = start_proxy(proxy_env | {"ANTHROPIC_API_KEY": ENV_KEY}, store=False)
    body = messages_body(max_tokens=50)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        sent = http.post("/v1/messages", json=body, headers={"anthropic-version": "2023-06-01"})
    assert sent.status_code == 401
    assert ENV_KEY not in sent.text
    shown = json.dumps(proxy.call(_stats))
    assert "sk-ant-api03-" not in shown, shown


def test_an_in_stream_error_is_redacted_before_it_is_cut() -> None:
    # an error event mid-stream quoting a key that straddles the 300 characters kept
    message = "x" * 280 + " refused " + ENV_KEY + " here"
    event = json.dumps({"type": "error", "error": {"type": "api_error", "message": message}})
    outcome = Outcome()
    _scan(f"data: {event}\n".encode(), outcome, lambda data, usage: usage)
    assert outcome.error is not None and len(outcome.error) == 300
    assert "sk-ant-" not in outcome.error and ENV_KEY[13:20] not in outcome.error
