"""Judging a request costs time in proportion to its size, whatever it holds: adversarial text
(thousands of unclosed tags, one unbroken token, endless lines) must not make a regex rescan the
text from every position. The bounds are 20-100x what the work takes on a laptop; the
quadratic versions took minutes. The time counted is this thread's CPU time: on a machine
whose cores other processes share, the wall-clock time was ten times that (2.6 s of 3)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import ParamSpec

import pytest

from ocp_router import TaskClassifier, parse_payload
from ocp_router.classifier import JUDGED_CHARS
from ocp_router.payload import user_words
from ocp_router.phase1 import assess

P = ParamSpec("P")

ADVERSARIAL = {
    "unclosed reminder tags": "<context>" * 40_000,
    "unclosed tags with attributes": "<context " * 40_000,
    "unclosed request tags": "<task>" * 60_000,
    "nested openings": "<system-reminder><user_query>" * 12_000,
    "only angle brackets": "<" * 400_000,
    "one unbroken token": "a" * 400_000,
    "endless short lines": "a;\n" * 130_000,
    "one long indented line": "\t" * 399_999 + "\n",
    "digits": "1" * 400_000,
}


def _seconds(fn: Callable[P, object], *args: P.args, **kwargs: P.kwargs) -> float:
    """The CPU seconds `fn` takes in this thread (the work, not the waits for a core)."""
    started = time.thread_time()
    fn(*args, **kwargs)
    return time.thread_time() - started


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_reading_the_users_words_is_linear(name: str) -> None:
    assert _seconds(user_words, ADVERSARIAL[name]) < 2.0, name


@pytest.mark.parametrize("name", list(ADVERSARIAL))
def test_phase_one_judges_a_huge_adversarial_request_quickly(name: str) -> None:
    classifier = TaskClassifier(cache_size=0)
    payload = parse_payload(ADVERSARIAL[name])
    assert _seconds(assess, payload, classifier) < 3.0, name


def test_tag_stripping_keeps_its_meaning() -> None:
    text = (
        "<system-reminder>be brief <task>not this</task></system-reminder>"
        "<Task a='1'>fix the login bug</TASK> and <context>ignored</context><task>also this</task>"
    )
    assert user_words(text) == "fix the login bug\nalso this"
    assert user_words("<context>never closed, so kept") == "<context>never closed, so kept"
    assert user_words("a <contextual> tag is not <context>x</context> a reminder") == (
        "a <contextual> tag is not  a reminder"
    )


def test_a_request_longer_than_the_judged_part_is_judged_on_its_start() -> None:
    classifier = TaskClassifier(cache_size=0)
    filler = "lorem ipsum dolor sit amet\n" * (JUDGED_CHARS // 5)
    result = classifier.classify("review the token handling for security issues\n" + filler)
    assert "security" in result.families
    assert result.estimated_tokens > JUDGED_CHARS // 4  # the size still counts whole
