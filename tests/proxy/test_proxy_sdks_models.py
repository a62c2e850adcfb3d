"""Models listed and retrieved in each dialect through the SDKs, the upstream's list or the local
model alone, and count_tokens answered by the upstream or estimated."""

from __future__ import annotations

from collections.abc import Callable

import anthropic
import httpx
import openai
import pytest

from tests.fakes._http import closed_port
from tests.fakes.anthropic import FakeAnthropic
from tests.fakes.openai import FakeOpenAI
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD
from tests.proxy.sdk_clients import (
    anthropic_client,
    close_clients,  # noqa: F401 - autouse, closes the SDK clients a test opened
    openai_client,
)


def test_models_are_listed_in_each_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> None:
    fake_openai.models = ["gpt-4o", "gpt-4o-mini"]
    proxy = start_proxy(proxy_env)
    names = [m.id for m in anthropic_client(proxy).models.list()]
    assert names == ["claude-sonnet-5-5", "claude-opus-5-5", "llama3.2"]
    assert fake_anthropic.requests == []  # the paid backend's dialect: the proxy's own list
    # An OpenAI client's paid requests go to its upstream with the model they name: it was
    # listed the Claude models, which that upstream refuses; it is listed that upstream's.
    assert [m.id for m in openai_client(proxy).models.list()] == ["gpt-4o", "gpt-4o-mini"]
    (asked,) = fake_openai.requests_to("/v1/models")
    assert asked.headers["authorization"] == "Bearer sk-openai"  # the client's own key


def test_a_listed_model_is_retrieved_and_another_is_not_found_in_each_dialect(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
    fake_openai: FakeOpenAI,
) -> None:
    # Both APIs serve GET /v1/models/{id} (the SDKs' models.retrieve); the proxy said 404.
    fake_openai.models = ["gpt-4o"]
    proxy = start_proxy(proxy_env)
    claude, gpt = anthropic_client(proxy), openai_client(proxy)
    for name in ("claude-opus-5-5", "llama3.2"):
        assert claude.models.retrieve(name).id == name
    assert gpt.models.retrieve("gpt-4o").id == "gpt-4o"
    # an Ollama model's name may hold slashes
    slashed = start_proxy(proxy_env | {"OCP_LOCAL_MODEL": "hf.co/org/model:Q4"})
    retrieved = anthropic_client(slashed).models.retrieve("hf.co/org/model:Q4")
    assert retrieved.id == "hf.co/org/model:Q4"
    with pytest.raises(anthropic.NotFoundError) as refused:
        claude.models.retrieve("claude-unknown-1")
    assert refused.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "model: claude-unknown-1"},
    }
    assert fake_anthropic.requests == []
    for name in ("gpt-unknown", "claude-opus-5-5"):  # the OpenAI upstream's own answer
        with pytest.raises(openai.NotFoundError) as missing:
            gpt.models.retrieve(name)
        assert missing.value.code == "model_not_found" and f"`{name}`" in missing.value.message


def test_an_openai_client_without_credentials_is_listed_the_local_model_alone(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_openai: FakeOpenAI,
) -> None:
    # No key to ask its upstream with, none in the environment: only the local model answers.
    proxy = start_proxy(proxy_env)
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        listed = http.get("/v1/models").json()
        assert [m["id"] for m in listed["data"]] == ["llama3.2"]
        assert http.get("/v1/models/claude-opus-5-5").status_code == 404
    assert fake_openai.requests == []


def test_an_anthropic_client_is_listed_its_upstreams_models_when_the_paid_backend_is_openai(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    fake_anthropic.models = ["claude-haiku-5-5"]
    env = proxy_env | {
        "OCP_PAID_BACKEND": "openai",
        "OCP_PAID_MODEL": "gpt-4o-mini",
        "OCP_PAID_TOP_MODEL": "gpt-4o",
    }
    proxy = start_proxy(env)
    assert [m.id for m in anthropic_client(proxy).models.list()] == ["claude-haiku-5-5"]
    listed = [m.id for m in openai_client(proxy).models.list()]
    assert listed == ["gpt-4o-mini", "gpt-4o", "llama3.2"]


def test_an_unreachable_upstream_asked_for_its_models_is_a_502_naming_it(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str]
) -> None:
    upstream = f"http://127.0.0.1:{closed_port()}/v1"
    proxy = start_proxy(proxy_env | {"OCP_PROXY_OPENAI_UPSTREAM": upstream})
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        answer = http.get("/v1/models", headers={"authorization": "Bearer sk-openai"})
    said = answer.json()["error"]["message"]
    assert answer.status_code == 502, said
    assert f"at {upstream}/models did not answer" in said and "OCP_PROXY_OPENAI_UPSTREAM" in said


def test_the_local_model_asked_for_on_a_paid_tier_is_sent_as_the_tiers_model(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    # It is listed; a hard request for it went to Anthropic as "llama3.2", which has no such model.
    proxy = start_proxy(proxy_env)
    anthropic_client(proxy).messages.create(
        model="llama3.2", max_tokens=50, messages=[{"role": "user", "content": HARD}]
    )
    (sent,) = fake_anthropic.requests_to("/v1/messages")
    assert sent.body["model"] == "claude-opus-5-5"


def test_count_tokens_is_answered_by_the_upstream_with_credentials_else_estimated(
    start_proxy: Callable[..., RunningProxy],
    proxy_env: dict[str, str],
    fake_anthropic: FakeAnthropic,
) -> None:
    proxy = start_proxy(proxy_env)
    counted = anthropic_client(proxy).messages.count_tokens(
        model="claude-opus-5-5", messages=[{"role": "user", "content": HARD}]
    )
    assert counted.input_tokens > 0
    assert len(fake_anthropic.requests_to("/v1/messages/count_tokens")) == 1
    with httpx.Client(base_url=proxy.url, timeout=20) as http:
        body = {"model": "claude-opus-5-5", "messages": [{"role": "user", "content": HARD}]}
        estimated = http.post("/v1/messages/count_tokens", json=body).json()
    assert estimated["input_tokens"] > 10
    assert len(fake_anthropic.requests_to("/v1/messages/count_tokens")) == 1
