"""make_router() and RouterSettings: env names, defaults, fail-fast validation."""

from __future__ import annotations

import pytest

from ocp_router import (
    ConfigError,
    OllamaBackend,
    OpenAIBackend,
    RouteMode,
    RouterSettings,
    RoutingFailed,
    make_router,
)
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.calibration import Calibration
from ocp_router.classifier import TaskClassifier
from ocp_router.phase1 import LocalProfile
from ocp_router.phase2 import LLMClassifier
from ocp_router.pins import SessionPins
from tests.fakes import FakeAnthropic, FakeOllama, FakeOpenAI


def test_defaults_match_the_seed_release_notes() -> None:
    s = RouterSettings.from_env({})
    assert (s.local_model, s.ollama_url, s.paid_backend, s.paid_model, s.route_threshold) == (
        "llama3.2",
        "http://localhost:11434",
        "anthropic",
        "claude-sonnet-4-6",
        0.5,
    )
    assert s.route_mode is RouteMode.AUTO and s.local_backend == "ollama"


async def test_an_openai_paid_backend_without_ocp_paid_model_is_refused_naming_it() -> None:
    # Was: Anthropic's claude-sonnet-4-6 sent to the OpenAI-compatible endpoint, a 404 at
    # every paid call (doctor: "not found"), each then answered by the local model.
    env = {"OCP_PAID_BACKEND": "openai", "OPENAI_API_KEY": "sk-o"}
    with pytest.raises(ConfigError) as refused:
        await make_router(env)
    message = str(refused.value)
    assert message.startswith("OCP_PAID_MODEL is unset: with OCP_PAID_BACKEND=openai it must ")
    assert "claude-sonnet-4-6, is Anthropic's id" in message
    named = RouterSettings.from_env(env | {"OCP_PAID_MODEL": "claude-sonnet-4-6"})
    assert named.paid_model == "claude-sonnet-4-6"  # an endpoint serving Claude, named
    # with no key there is no paid backend, and nothing to name
    assert RouterSettings.from_env({"OCP_PAID_BACKEND": "openai"}).paid_configured is False
    # a reader that does not route (stats) keeps going, the variables named
    read = RouterSettings.read_env(env)
    assert read.error == message and "OCP_PAID_MODEL" in read.invalid


async def test_make_router_builds_ollama_and_anthropic_from_env() -> None:
    router = await make_router(
        {
            "ANTHROPIC_API_KEY": "sk-ant-x",
            "OCP_LOCAL_MODEL": "qwen3:4b",
            "OCP_ROUTE_THRESHOLD": "0.4",
        }
    )
    assert isinstance(router.local, OllamaBackend) and router.local.model == "qwen3:4b"
    assert isinstance(router.paid, AnthropicBackend)
    assert router.classifier.threshold == 0.4
    assert "sk-ant-x" not in repr(router.paid)
    await router.aclose()


async def test_without_a_key_there_is_no_paid_backend() -> None:
    router = await make_router({})
    assert router.paid is None
    await router.aclose()


async def test_openai_compatible_local_slot_uses_the_local_base_url() -> None:
    router = await make_router(
        {
            "OCP_LOCAL_BACKEND": "openai",
            "OCP_LOCAL_BASE_URL": "http://127.0.0.1:9999/v1",
            "OCP_PAID_BACKEND": "openai",
            "OCP_PAID_MODEL": "gpt-4.1",
            "OPENAI_API_KEY": "sk-o",
        }
    )
    assert isinstance(router.local, OpenAIBackend)
    assert router.local.base_url == "http://127.0.0.1:9999/v1"
    assert (
        isinstance(router.paid, OpenAIBackend)
        and router.paid.base_url == "https://api.openai.com/v1"
    )
    await router.aclose()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"OCP_ROUTE_THRESHOLD": "1.5"}, "OCP_ROUTE_THRESHOLD='1.5' is invalid"),
        ({"OCP_ROUTE_THRESHOLD": "high"}, "OCP_ROUTE_THRESHOLD='high' is invalid"),
        (
            {"OCP_ROUTE_MODE": "cloud"},
            "OCP_ROUTE_MODE='cloud' is invalid: expected one of 'auto', 'local' or 'paid'",
        ),
        ({"OCP_PAID_BACKEND": "gemini"}, "OCP_PAID_BACKEND='gemini' is invalid: expected one of"),
        ({"OCP_LOCAL_TIMEOUT": "-1"}, "OCP_LOCAL_TIMEOUT='-1' is invalid"),
        ({"OCP_OLLAMA_URL": "localhost:11434"}, "OCP_OLLAMA_URL='localhost:11434' is invalid"),
    ],
)
def test_invalid_values_fail_fast_naming_the_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        RouterSettings.from_env(env)
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"OCP_LOCAL_TIMEOUT": "abc"},
            "OCP_LOCAL_TIMEOUT='abc' is invalid: should be a valid number",
        ),
        (
            {"OCP_LOCAL_TIMEOUT": "-1"},
            "OCP_LOCAL_TIMEOUT='-1' is invalid: should be greater than 0",
        ),
        # A timeout never reached, or a comparison always false, is no setting.
        ({"OCP_PAID_TIMEOUT": "inf"}, "OCP_PAID_TIMEOUT='inf' is invalid: should be a finite"),
        ({"OCP_ROUTE_TIMEOUT": "nan"}, "OCP_ROUTE_TIMEOUT='nan' is invalid: should be a finite"),
        (
            {"OCP_PIN_SOFT_SECONDS": "60"},
            "OCP_PIN_SOFT_SECONDS=60 is invalid: should be at least OCP_PIN_HARD_SECONDS (300)",
        ),
        (
            {"OCP_PIN_HARD_SECONDS": "900", "OCP_PIN_SOFT_SECONDS": "600"},
            "OCP_PIN_SOFT_SECONDS=600 is invalid: should be at least OCP_PIN_HARD_SECONDS (900)",
        ),
        (
            {"OCP_PIN_HARD_SECONDS": "3600"},
            "OCP_PIN_SOFT_SECONDS=1800 (its default) is invalid: should be at least "
            "OCP_PIN_HARD_SECONDS (3600)",
        ),
    ],
)
def test_an_invalid_value_reads_as_one_sentence(env: dict[str, str], message: str) -> None:
    # Not "expected Input should be ...": pydantic's message joined to ours.
    with pytest.raises(ConfigError) as info:
        RouterSettings.from_env(env)
    assert str(info.value).startswith(message)


def test_pin_windows_that_agree_are_accepted() -> None:
    settings = RouterSettings.from_env({"OCP_PIN_HARD_SECONDS": "0", "OCP_PIN_SOFT_SECONDS": "0"})
    assert (settings.pin_hard_seconds, settings.pin_soft_seconds) == (0, 0)
    settings = RouterSettings.from_env({"OCP_PIN_HARD_SECONDS": "1800"})
    assert settings.pin_soft_seconds == 1800


def test_unexpanded_placeholders_count_as_unset() -> None:
    s = RouterSettings.from_env(
        {"OCP_LOCAL_MODEL": "${OCP_LOCAL_MODEL}", "ANTHROPIC_API_KEY": "${ANTHROPIC_API_KEY}"}
    )
    assert s.local_model == "llama3.2" and not s.paid_configured


def test_api_keys_never_appear_in_the_settings_repr() -> None:
    s = RouterSettings.from_env({"ANTHROPIC_API_KEY": "sk-ant-secret", "OPENAI_API_KEY": "sk-o"})
    assert "sk-ant-secret" not in repr(s) and "sk-o" not in repr(s)


async def test_local_answers_are_always_capped(fake_ollama: FakeOllama) -> None:
    router = await make_router({"OCP_OLLAMA_URL": fake_ollama.url})
    await router.route("explain this function")
    body = fake_ollama.requests_to("/api/chat")[0].body
    assert body["options"]["num_predict"] == 1024
    await router.aclose()


@pytest.mark.parametrize("process_value", ["${ANTHROPIC_BASE_URL}", "http://127.0.0.1:9/stale"])
async def test_the_anthropic_endpoint_comes_from_the_settings_alone(
    monkeypatch: pytest.MonkeyPatch, process_value: str
) -> None:
    # The SDK reads ANTHROPIC_BASE_URL from the process's environment when it is given no
    # base URL: an unexpanded `${ANTHROPIC_BASE_URL}` the settings count as unset, or a value
    # outside the environment make_router was given, became the endpoint behind their back.
    monkeypatch.setenv("ANTHROPIC_BASE_URL", process_value)
    router = await make_router({"ANTHROPIC_API_KEY": "sk-ant-x"})
    try:
        assert isinstance(router.paid, AnthropicBackend)
        assert str(router.paid._client.base_url) == "https://api.anthropic.com"
    finally:
        await router.aclose()


async def test_a_local_openai_compatible_server_that_needs_a_key_gets_ocp_local_api_key(
    fake_openai: FakeOpenAI,
) -> None:
    # vLLM, llama.cpp (--api-key) and LM Studio can require one; OCP sent the local tier none,
    # so every local route failed with 401 and went paid.
    fake_openai.api_key = "local-key-8a7f3c"
    env = {
        "OCP_LOCAL_BACKEND": "openai",
        "OCP_LOCAL_BASE_URL": fake_openai.base_url,
        "OCP_LOCAL_API_KEY": "local-key-8a7f3c",
        "OCP_PAID_BACKEND": "none",
    }
    assert "local-key" not in repr(RouterSettings.from_env(env))
    router = await make_router(env)
    try:
        result = await router.route("explain this function", force="local")
    finally:
        await router.aclose()
    assert result.tier.value == "local" and result.text, result
    sent = fake_openai.requests_to("/v1/chat/completions")[0]
    assert sent.headers["authorization"] == "Bearer local-key-8a7f3c"


async def test_a_rejected_local_key_names_ocp_local_api_key(fake_openai: FakeOpenAI) -> None:
    fake_openai.api_key = "the-right-key-1234"
    env = {
        "OCP_LOCAL_BACKEND": "openai",
        "OCP_LOCAL_BASE_URL": fake_openai.base_url,
        "OCP_LOCAL_API_KEY": "a-wrong-key-5678",
        "OCP_PAID_BACKEND": "none",
    }
    router = await make_router(env)
    try:
        with pytest.raises(RoutingFailed) as failed:
            await router.route("explain this function", force="local")
    finally:
        await router.aclose()
    said = str(failed.value)
    assert "Set OCP_LOCAL_API_KEY" in said and "a-wrong-key-5678" not in said, said


def test_a_router_built_from_no_settings_has_the_parts_the_library_builds_by_default() -> None:
    # Each default is one value: the library's argument default, which the setting takes too.
    s = RouterSettings.from_env({})
    ollama = OllamaBackend()
    anthropic = AnthropicBackend(api_key="sk-ant-x")
    assert (s.local_model, s.local_timeout) == (ollama.model, ollama.timeout)
    assert (s.paid_model, s.paid_timeout, s.paid_max_tokens) == (
        anthropic.model,
        anthropic.timeout,
        anthropic.max_tokens,
    )
    assert OpenAIBackend("m").timeout == s.paid_timeout
    local = LocalProfile()
    assert (s.local_context_chars, s.local_max_turns) == (local.context_chars, local.max_turns)
    classifier = LLMClassifier(ollama)
    assert (s.classifier_timeout, s.classifier_cache_size) == (
        classifier.timeout,
        classifier.cache_size,
    )
    pins = SessionPins()
    assert (s.pin_hard_seconds, s.pin_soft_seconds) == (pins.hard_seconds, pins.soft_seconds)
    assert s.route_threshold == TaskClassifier().threshold == Calibration().base_threshold


async def test_paid_anthropic_calls_carry_no_headers_from_the_process_environment(
    monkeypatch: pytest.MonkeyPatch, fake_anthropic: FakeAnthropic
) -> None:
    # Claude Code users put OCP's proxy token in ANTHROPIC_CUSTOM_HEADERS (README), and an
    # ocp-server Claude Code starts inherits it: the SDK, reading it itself, sent the token
    # (and any other header there) to the paid provider on every route.
    monkeypatch.setenv(
        "ANTHROPIC_CUSTOM_HEADERS", "x-ocp-proxy-token: proxy-token-5f1e9a\nx-team: blue"
    )
    router = await make_router(
        {"ANTHROPIC_API_KEY": "sk-ant-test", "ANTHROPIC_BASE_URL": fake_anthropic.url}
    )
    try:
        result = await router.route("design a distributed lock", force="top")
    finally:
        await router.aclose()
    assert result.tier.value == "top" and result.text, result
    sent = fake_anthropic.requests_to("/v1/messages")[0].headers
    assert "x-ocp-proxy-token" not in sent and "x-team" not in sent, sent
    assert not any("proxy-token-5f1e9a" in v for v in sent.values())
