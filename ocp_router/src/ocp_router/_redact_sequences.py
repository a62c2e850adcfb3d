"""Letters and digits typed in order (abcdefg, 12345, 9876): a value made up by hand, not drawn.

Judged on every value a name is assigned, up to 1,024 characters each: in a text of names
inside each other's values (`password=password=…`) that is most of the work, so the steps
between characters are taken in one C-level pass and a value with too few steps of one to
hold enough runs is let go without walking it.
"""

from __future__ import annotations

from itertools import groupby
from operator import sub

__all__ = ["in_runs", "sequential"]

_RUN_MIN = 4  # a run of letters or digits in sequence (abcd, 6543) at least this long...
_SEQUENCE_SHARE = 0.6  # ...covering this share of a value of 8+ letters and digits: typed


def _steps(core: str) -> list[int]:
    codes = list(map(ord, core))
    return list(map(sub, codes[1:], codes))


def in_runs(core: str, least: int, steps: list[int] | None = None) -> int:
    """How many characters of `core` lie in runs of `least`+ that step by one (abcdefg, 12345,
    9876); a run that turns (`1234321`) is two, sharing the character it turns at."""
    if steps is None:
        steps = _steps(core)
    total = pos = 0
    last_end = -1
    for step, group in groupby(steps):
        count = sum(1 for _ in group)
        if (step == 1 or step == -1) and count + 1 >= least:
            total += count + (last_end != pos)  # the turn's character is counted once
            last_end = pos + count
        pos += count
    return total


def sequential(core: str) -> bool:
    """Letters and digits typed in order ("abcdefg12345", "0123456789abcdefghij"), not drawn."""
    if len(core) < 8:
        return False
    steps = _steps(core)
    ones = steps.count(1) + steps.count(-1)
    # a run of n >= _RUN_MIN characters takes n - 1 steps of one: at most this many inside
    if ones * _RUN_MIN < _SEQUENCE_SHARE * len(core) * (_RUN_MIN - 1):
        return False
    return in_runs(core, _RUN_MIN, steps) >= _SEQUENCE_SHARE * len(core)
