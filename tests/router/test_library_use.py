"""ocp_router used as a library, without the server: its hints name what the user set (the
backend's arguments), and its log lines stay off a program's stderr until it sets logging up.
Built from the settings (as the server and the proxy build it), the hints name those."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from typing import Any

import anthropic
import httpx2
import pytest

from ocp_router import (
    BackendAuthError,
    BackendError,
    Budget,
    GenerateRequest,
    MockBackend,
    OCPRouter,
    OllamaBackend,
    OpenAIBackend,
    PaidFallback,
    RouteMode,
    RouterSettings,
    RoutingFailed,
    make_router,
    parse_payload,
)
from ocp_router.backends.anthropic import AnthropicBackend
from ocp_router.backends.anthropic_sdk import translate
from ocp_router.config import build_local, build_paid
from tests.fakes import FakeOllama, FakeOpenAI

_REQUEST = httpx2.Request("POST", "https://api.anthropic.com/v1/messages")


def _anthropic_errors(backend: AnthropicBackend) -> dict[str, str]:
    """What a timeout, a rejected key and an unknown model tell the user of `backend`."""
    errors = {
        "timeout": anthropic.APITimeoutError(request=_REQUEST),
        "key": anthropic.AuthenticationError(
            "no", response=httpx2.Response(401, request=_REQUEST), body=None
        ),
        "model": anthropic.NotFoundError(
            "no", response=httpx2.Response(404, request=_REQUEST), body=None
        ),
    }
    return {kind: str(translate(exc, "m", None, backend.names)) for kind, exc in errors.items()}


def test_an_anthropic_backend_built_directly_is_told_of_its_arguments() -> None:
    told = _anthropic_errors(AnthropicBackend(api_key="sk-ant-test"))
    assert "raise the `timeout` argument" in told["timeout"]
    assert "Set the `api_key` argument" in told["key"]
    assert "check the `model` argument" in told["model"]
    with pytest.raises(BackendAuthError) as no_key:
        AnthropicBackend(api_key=None)
    for message in [*told.values(), str(no_key.value)]:
        assert "OCP_" not in message and ".mcp.json" not in message, message


def test_an_anthropic_backend_built_from_the_settings_is_told_of_them() -> None:
    backend = build_paid(RouterSettings.from_env({"ANTHROPIC_API_KEY": "sk-ant-test"}))
    assert isinstance(backend, AnthropicBackend)
    told = _anthropic_errors(backend)
    assert "raise OCP_PAID_TIMEOUT" in told["timeout"]
    assert "Set ANTHROPIC_API_KEY in the env block of .mcp.json (or your shell)" in told["key"]
    assert "check OCP_PAID_MODEL" in told["model"]


async def _unreachable(backend: OllamaBackend) -> str:
    try:
        await backend.generate(GenerateRequest(prompt="hi"))
    except Exception as exc:  # noqa: BLE001 - its message is what is checked
        return str(exc)
    finally:
        await backend.aclose()
    raise AssertionError("a refused connection answered")


@pytest.mark.usefixtures("ollama_installed")
async def test_an_ollama_backend_is_told_of_its_argument_or_of_the_setting(
    refused_url: str,
) -> None:
    direct = await _unreachable(OllamaBackend(base_url=refused_url))
    assert "set the `base_url` argument to where it runs" in direct and "OCP_" not in direct
    settings = RouterSettings.from_env({"OCP_OLLAMA_URL": refused_url})
    local = build_local(settings)
    assert isinstance(local, OllamaBackend)
    assert "set OCP_OLLAMA_URL to where it runs" in await _unreachable(local)


_FALLBACK_ANSWERS = """
import asyncio
from ocp_router import MockBackend, OCPRouter

def down(request):
    raise ConnectionError("the local model is down")

async def main():
    router = OCPRouter(local=MockBackend(down), paid=MockBackend(lambda r: "paid", model="p"))
    result = await router.route("explain this function")
    print(result.text, result.attempts[0].outcome)

asyncio.run(main())
"""


def test_a_program_without_logging_set_up_sees_no_router_log_on_stderr() -> None:
    # The router logs a WARNING for each failed attempt; with no handler anywhere, Python's
    # last-resort handler printed it on stderr, though the fallback answered.
    done = subprocess.run(
        [sys.executable, "-c", _FALLBACK_ANSWERS], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["paid", "error"]
    assert done.stderr == ""


async def _openai_told(backend: OpenAIBackend) -> str:
    try:
        await backend.generate(GenerateRequest(prompt="hi"))
    except BackendError as exc:
        return str(exc)
    finally:
        await backend.aclose()
    raise AssertionError("the request answered")


async def test_an_openai_backend_built_directly_is_told_of_its_arguments(
    refused_url: str,
) -> None:
    # Its hints named OPENAI_BASE_URL and OPENAI_API_KEY, which a library user never set.
    with FakeOpenAI(api_key="sk-right") as fake:
        key = await _openai_told(OpenAIBackend("m", base_url=fake.base_url, api_key="sk-wrong"))
        keyless = await _openai_told(OpenAIBackend("m", base_url=fake.base_url))
    unreachable = await _openai_told(OpenAIBackend("m", base_url=refused_url))
    assert key.endswith("Set the `api_key` argument.")
    assert keyless.endswith("Set the `api_key` argument.")
    assert unreachable.endswith("Check the `base_url` argument and that the server is running.")
    for message in (key, keyless, unreachable):
        assert "OPENAI_" not in message and "OCP_" not in message, message


async def test_an_openai_backend_built_from_the_settings_is_told_of_them(
    refused_url: str,
) -> None:
    with FakeOpenAI(api_key="sk-right") as fake:
        env = {"OCP_PAID_BACKEND": "openai", "OPENAI_API_KEY": "sk-wrong", "OCP_PAID_MODEL": "m"}
        paid = build_paid(RouterSettings.from_env(env | {"OPENAI_BASE_URL": fake.base_url}))
        local = build_local(
            RouterSettings.from_env(
                {"OCP_LOCAL_BACKEND": "openai", "OCP_LOCAL_BASE_URL": fake.base_url}
            )
        )
        assert isinstance(paid, OpenAIBackend) and isinstance(local, OpenAIBackend)
        assert (await _openai_told(paid)).endswith(
            "Set OPENAI_API_KEY in the environment the server runs in."
        )
        assert (await _openai_told(local)).endswith("Set OCP_LOCAL_API_KEY.")
    paid = build_paid(RouterSettings.from_env(env | {"OPENAI_BASE_URL": refused_url}))
    assert isinstance(paid, OpenAIBackend)
    told = await _openai_told(paid)
    assert told.endswith("Check OPENAI_BASE_URL and that the server is running.")


async def test_an_openai_backend_that_times_out_says_which_timeout_to_raise() -> None:
    # It said only "<url> gave no answer within 0.2s.", where Ollama's and Anthropic's name
    # the argument or the setting to raise.
    with FakeOpenAI(delay=5.0) as slow:
        url = slow.base_url
        direct = await _openai_told(OpenAIBackend("m", base_url=url, timeout=0.2))
        env = {
            "OCP_PAID_BACKEND": "openai",
            "OCP_PAID_MODEL": "m",
            "OPENAI_API_KEY": "sk-test",
            "OPENAI_BASE_URL": url,
        }
        paid = build_paid(RouterSettings.from_env(env | {"OCP_PAID_TIMEOUT": "0.2"}))
        local = build_local(
            RouterSettings.from_env(
                {
                    "OCP_LOCAL_BACKEND": "openai",
                    "OCP_LOCAL_BASE_URL": url,
                    "OCP_LOCAL_TIMEOUT": "0.2",
                }
            )
        )
        assert isinstance(paid, OpenAIBackend) and isinstance(local, OpenAIBackend)
        told_paid, told_local = await _openai_told(paid), await _openai_told(local)
    assert "within 0.2s; raise the `timeout` argument" in direct and "OCP_" not in direct
    assert "within 0.2s; raise OCP_PAID_TIMEOUT" in told_paid
    assert "within 0.2s; raise OCP_LOCAL_TIMEOUT" in told_local


async def test_a_router_in_async_with_closes_its_backends_on_the_way_out() -> None:
    # The backends close with `async with`, the router only had aclose(): a program that
    # routed through make_router() left its HTTP connections open (asyncio's "unclosed
    # transport" ResourceWarning).
    with FakeOllama() as fake:
        env = {"OCP_OLLAMA_URL": fake.url, "OCP_PAID_BACKEND": "none"}
        async with await make_router(env) as router:
            assert (await router.route("explain this function")).text.startswith("local answer")
        local = router.local
        assert isinstance(local, OllamaBackend)
        with pytest.raises(RuntimeError, match="client has been closed"):
            await local.generate(GenerateRequest(prompt="hi"))


async def test_a_route_out_of_time_names_the_limit_that_ran_out() -> None:
    # "the router's total time limit of 0.2s ran out" named neither the argument nor the
    # setting that set it.
    async def slow(request: GenerateRequest) -> str:
        await asyncio.sleep(30)
        return "late"

    direct = OCPRouter(local=MockBackend(slow), paid=None, total_timeout=0.2)
    with pytest.raises(RoutingFailed) as caught:
        await direct.route("explain this function")
    assert "total time limit of 0.2s ran out (the `total_timeout` argument)" in str(caught.value)
    with FakeOllama(delay=30.0) as fake:
        env = {"OCP_OLLAMA_URL": fake.url, "OCP_PAID_BACKEND": "none", "OCP_ROUTE_TIMEOUT": "0.2"}
        async with await make_router(env) as built:
            with pytest.raises(RoutingFailed) as caught:
                await built.route("explain this function")
    assert "total time limit of 0.2s ran out (OCP_ROUTE_TIMEOUT)" in str(caught.value)


_TOP_WORTHY = (
    "refactor the auth module across all files to use a new session store and migrate the "
    "database schema"
)


async def test_a_top_decision_with_no_top_model_says_it_goes_to_mid_and_what_would_set_one() -> (
    None
):
    # decided_by read "phase 1: PAID (0.95) → top: ..." on a decision whose tier was mid.
    paid = MockBackend(lambda r: "paid", model="gpt-4o")
    router = OCPRouter(local=MockBackend(lambda r: "local"), paid=paid, top_model=None)
    assert router.assess(parse_payload(_TOP_WORTHY)).tier.value == "top"
    decision = await router.plan(parse_payload(_TOP_WORTHY))
    assert decision.tier.value == "mid"
    assert decision.reason.endswith("; mid: no top model is set (the `top_model` argument)")
    with FakeOpenAI() as fake:
        env = {"OCP_PAID_BACKEND": "openai", "OPENAI_API_KEY": "sk-test", "OCP_PAID_MODEL": "m"}
        async with await make_router(env | {"OPENAI_BASE_URL": fake.base_url}) as built:
            result = await built.route(_TOP_WORTHY)
    assert result.tier.value == "mid"
    assert result.decided_by.endswith("; mid: no top model is set (OCP_PAID_TOP_MODEL)")


_HARD = "refactor the auth module across all files, then migrate the schema and fix every caller"


def _paid(model: str = "claude-sonnet-4-6") -> MockBackend:
    return MockBackend(lambda r: "paid", model=model)


async def _router_told(router: OCPRouter) -> dict[str, str]:
    """What `router` says of a forced mode, a missing paid tier, a missing price, both budgets
    and the local model's context limit."""
    told: dict[str, str] = {}
    forced = replace_router(router, mode=RouteMode.PAID, paid=_paid())
    told["mode"] = (await forced.route("explain this function")).decided_by
    no_paid = replace_router(router, paid=None)
    told["note"] = " ".join((await no_paid.route(_HARD)).notes)
    failing = replace_router(router, paid=None, paid_fallback=PaidFallback.ERROR)
    with pytest.raises(RoutingFailed) as caught:
        await failing.route(_HARD)
    told["error"] = str(caught.value)
    unpriced = replace_router(router, paid=_paid("no-such-model"), budget=Budget(daily_usd=1))
    told["prices"] = " ".join((await unpriced.route(_HARD)).notes)
    per_request = replace_router(router, paid=_paid(), budget=Budget(max_request_usd=0.0001))
    told["max_request"] = " ".join((await per_request.route(_HARD)).notes)
    daily = replace_router(router, paid=_paid(), budget=Budget(daily_usd=0.0))
    told["daily"] = " ".join((await daily.route(_HARD)).notes)
    long = "please summarise this log\n" + "INFO all good\n" * 3000
    told["context"] = " ".join(router.assess(parse_payload(long)).forced)
    return told


def replace_router(router: OCPRouter, **changes: Any) -> OCPRouter:
    """A router like `router` (its names, its local model) with `changes` to its arguments."""
    arguments: dict[str, Any] = {"local": router.local, "paid": router.paid, "names": router.names}
    return OCPRouter(**(arguments | changes))


async def test_a_router_built_directly_is_told_of_its_arguments() -> None:
    # Its messages named OCP_ROUTE_MODE, OCP_PAID_FALLBACK, OCP_PRICES and the budget
    # variables, which a library user never set.
    told = await _router_told(OCPRouter(local=MockBackend(lambda r: "local"), paid=None))
    assert told["mode"] == "mode=paid"
    assert "no paid backend is configured (pass OCPRouter a `paid` backend)" in told["note"]
    assert "(pass OCPRouter a `paid` backend); or pass paid_fallback='local'." in told["error"]
    assert "so the budget cannot be checked (the `prices` argument)" in told["prices"]
    assert "over Budget.max_request_usd=$0.0001" in told["max_request"]
    assert "over Budget.daily_usd=$0" in told["daily"]
    assert "chars > LocalProfile.context_chars" in told["context"]
    for message in told.values():
        assert "OCP_" not in message and "ANTHROPIC_" not in message, message


async def test_a_router_built_from_the_settings_is_told_of_them() -> None:
    router = await make_router({})
    router = replace_router(router, local=MockBackend(lambda r: "local"))
    told = await _router_told(router)
    assert told["mode"] == "OCP_ROUTE_MODE=paid"
    assert (
        "(set ANTHROPIC_API_KEY, or OCP_PAID_BACKEND=openai with OPENAI_API_KEY and "
        "OCP_PAID_MODEL); "
        "or set OCP_PAID_FALLBACK=local." in told["error"]
    )
    assert "no paid backend is configured (set ANTHROPIC_API_KEY" in told["note"]
    assert "so the budget cannot be checked (OCP_PRICES)" in told["prices"]
    assert "over OCP_MAX_REQUEST_USD=$0.0001" in told["max_request"]
    assert "over OCP_DAILY_BUDGET_USD=$0" in told["daily"]
    assert "chars > OCP_LOCAL_CONTEXT_CHAR_LIMIT" in told["context"]


def test_every_backend_and_what_its_methods_return_is_public() -> None:
    # A class a user builds, subclasses or gets back belongs to the top level, where the
    # other backends are: `from ocp_router import AnthropicBackend` failed.
    import importlib
    import inspect
    import pkgutil

    import ocp_router
    import ocp_router.backends

    found = set()
    for info in pkgutil.iter_modules(ocp_router.backends.__path__):
        module = importlib.import_module(f"ocp_router.backends.{info.name}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and not name.startswith("_")
                and (name.endswith("Backend") or name in ("ModelProbe", "Probing"))
            ):
                found.add(name)
    assert {"AnthropicBackend", "ClosingBackend", "ModelProbe", "Probing"} <= found
    assert sorted(found - set(ocp_router.__all__)) == []
    assert ocp_router.AnthropicBackend is AnthropicBackend


def _classes(annotation: Any) -> set[type]:
    import typing

    found = {annotation} if isinstance(annotation, type) else set()
    for argument in typing.get_args(annotation):
        found |= _classes(argument)
    return found


def _private_types_in_public_signatures() -> dict[str, list[str]]:
    """ocp_router's own types that a public name's signature, fields or properties take or
    give, by where they appear, and that the top level does not export."""
    import inspect
    import typing

    import ocp_router

    where: dict[str, list[str]] = {}
    for name in ocp_router.__all__:
        value = getattr(ocp_router, name)
        hinted: list[tuple[str, Any]] = []
        if inspect.isfunction(value):
            hinted.append((name, value))
        elif inspect.isclass(value):
            hinted.append((name, value))
            for attribute, member in vars(value).items():
                if attribute.startswith("_") and attribute != "__init__":
                    continue
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    hinted.append((f"{name}.{attribute}", member))
        for label, holder in hinted:
            try:
                hints = typing.get_type_hints(holder)
            except NameError:  # pydantic's own deprecated methods
                continue
            for annotation in hints.values():
                for cls in _classes(annotation):
                    if cls.__module__.startswith("ocp_router") and (
                        cls.__name__ not in ocp_router.__all__
                    ):
                        where.setdefault(cls.__name__, []).append(label)
    return where


def test_every_type_a_public_signature_takes_or_gives_is_public() -> None:
    # OCPRouter(prices=..., sticky=...) took a dict of Price and a Sticky that only
    # `ocp_router.prices` and `ocp_router.sticky` exported.
    assert _private_types_in_public_signatures() == {}


def test_the_error_hierarchy_a_caller_reads_lists_every_error_the_router_raises() -> None:
    # errors.py's tree left out RoutingFailed, BudgetExceeded and PayloadError: what route()
    # raises when nothing answers, or for a malformed request.
    import inspect

    import ocp_router
    import ocp_router.errors

    raised = {
        name
        for name in ocp_router.__all__
        if inspect.isclass(value := getattr(ocp_router, name))
        and issubclass(value, ocp_router.RouterError)
    }
    listed = set(
        re.findall(r"\+-- (\w+)|^    (RouterError)", ocp_router.errors.__doc__ or "", re.M)
    )
    assert raised == {a or b for a, b in listed}


def test_without_the_anthropic_extra_its_backend_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['anthropic'] = None\n"
        "import ocp_router\n"
        "assert ocp_router.OllamaBackend.name == 'ollama'\n"
        "exec('from ocp_router import *')  # what it can import\n"
        "assert 'AnthropicBackend' not in dir(ocp_router)\n"
        "try:\n"
        "    from ocp_router import AnthropicBackend\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == (
        "ocp_router.AnthropicBackend needs the anthropic SDK: pip install 'ocp-router[anthropic]'"
    )
