"""The judgements `redact` remembers keep values no longer than MEMO_MAX_CHARS: a long value
(a quoted string of 4,096 characters, a `putenv` line) is judged afresh, not held."""

from __future__ import annotations

import gc
import random
import string
import tracemalloc
from collections.abc import Callable

from ocp_router._redact_memo import MEMO_MAX_CHARS, forget
from ocp_router._redact_values import assignment_kind, is_placeholder

LONG = 2 * MEMO_MAX_CHARS
VALUES = 300  # distinct long values: 660 KB of text if each were kept


def _retained_after_judging(judge: Callable[[str], object]) -> int:
    """Bytes still allocated after `judge` read VALUES distinct long values, all dropped."""
    rng = random.Random(55)
    forget()
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(VALUES):
            value = "".join(rng.choices(string.ascii_letters + string.digits, k=LONG))
            judge(value)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
        forget()


def test_a_long_value_assigned_to_a_secrets_name_is_not_remembered() -> None:
    retained = _retained_after_judging(lambda v: assignment_kind("secret", v, True, ("api", "key")))
    assert retained < VALUES * LONG // 10, retained


def test_a_long_value_asked_whether_a_placeholder_is_not_remembered() -> None:
    retained = _retained_after_judging(lambda v: is_placeholder(v, ("password",)))
    assert retained < VALUES * LONG // 10, retained
