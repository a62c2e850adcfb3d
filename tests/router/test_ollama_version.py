"""A `prompt_eval_count` far under OCP's estimate of the prompt means a silently cut prompt
only on an Ollama older than v0.12.4 (it ignores `truncate: false`). Later builds refuse an
over-long prompt instead, and some (on llama-server, until mid-2026: ollama/ollama#16428)
count only the prompt tokens the cache did not hold, so a cache hit reads low. The backend
asks `GET /api/version` once, the first time a count reads low, and remembers the answer; a
server that gives no readable version is taken as one that may cut."""

from __future__ import annotations

import pytest

from ocp_router import GenerateRequest, OllamaBackend
from ocp_router.backends.ollama_version import parse_version
from ocp_router.errors import BackendContextExceeded
from tests.fakes import FakeOllama

LONG = "explain this log line by line: " + "error at line 42 of parser.py " * 40  # ~240 tokens
VERSION = "/api/version"


async def _ask_twice(fake: FakeOllama, times: int = 2) -> list[str | BaseException]:
    """The same prompt `times` times over one backend: each answer's text, or its error."""
    backend = OllamaBackend("llama3.2", base_url=fake.url, timeout=5)
    out: list[str | BaseException] = []
    try:
        for _ in range(times):
            try:
                out.append((await backend.generate(GenerateRequest(LONG))).text)
            except BackendContextExceeded as exc:
                out.append(exc)
    finally:
        await backend.aclose()
    return out


async def test_a_cache_hit_on_a_current_ollama_is_answered_not_taken_for_a_cut() -> None:
    with FakeOllama(counts_cached_prompt=False) as fake:
        first, again = await _ask_twice(fake)
    assert isinstance(again, str) and again.startswith("local answer")
    assert first == again


async def test_the_version_is_asked_once_and_only_when_a_count_reads_low() -> None:
    with FakeOllama(counts_cached_prompt=False) as fake:
        answers = await _ask_twice(fake, times=5)  # the 2nd to 5th are cache hits
        asked = len(fake.requests_to(VERSION))
    with FakeOllama() as whole:
        await _ask_twice(whole, times=3)
        never = len(whole.requests_to(VERSION))
    assert all(isinstance(a, str) for a in answers)
    assert (asked, never) == (1, 0)


async def test_an_ollama_older_than_0_12_4_that_read_low_has_cut_the_prompt() -> None:
    with FakeOllama(default_num_ctx=64, version="0.12.3") as fake:
        [cut] = await _ask_twice(fake, times=1)
        asked = len(fake.requests_to(VERSION))
    assert isinstance(cut, BackendContextExceeded) and asked == 1
    assert "read 64 of about" in str(cut) and "0.12.3" in str(cut)


@pytest.mark.parametrize("failure", ["500", "dropped", "not a version", "a source build"])
async def test_a_server_that_gives_no_readable_version_is_taken_as_one_that_may_cut(
    failure: str,
) -> None:
    # Its age is unknown (a source build says "0.0.0"): a missed cut is a wrong answer, a
    # cache hit taken for one costs a paid call. The answer is remembered: asked once.
    with FakeOllama(counts_cached_prompt=False) as fake:
        if failure == "500":
            fake.fail_next(500, path=VERSION)
        elif failure == "dropped":
            fake.drop_next(path=VERSION)
        else:
            fake.version = "0.0.0" if failure == "a source build" else "nightly"
        first, again, third = await _ask_twice(fake, times=3)
        asked = len(fake.requests_to(VERSION))
    assert isinstance(first, str)
    assert isinstance(again, BackendContextExceeded) and isinstance(third, BackendContextExceeded)
    assert asked == 1


def test_versions_are_read_as_ollama_reports_them() -> None:
    assert parse_version("0.12.4") == (0, 12, 4)
    assert parse_version("0.32.15") == (0, 32, 15)
    assert parse_version("v0.12.3") == (0, 12, 3)
    assert parse_version("0.12.4-rc1") == (0, 12, 4)  # a release candidate of that release
    assert parse_version("0.0.0") is None  # a build from source: says nothing
    assert parse_version("nightly") is None
    assert parse_version(12) is None
