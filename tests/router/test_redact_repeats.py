"""Many distinct secrets in one text (a fixture of 20,000 `.env` passwords): each one's
repeats were searched for through the whole text, their number times its length (6.6 µs a
character in 580 KB). One pass finds them all now (_redact_repeats.py). The work is counted
here, not timed; bench/redact_ab.py checks the output is unchanged.

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

from typing import SupportsIndex

from ocp_router._redact_repeats import occurrences
from ocp_router.redact import redact


class _Counted(str):
    """A text that counts the characters its searches pass over, and its other reads."""

    work = 0

    def find(self, sub: str, start: SupportsIndex | None = None, *args: object) -> int:
        at = 0 if start is None else int(start)
        _Counted.work += max(0, len(self) - at)
        return super().find(sub, start, *args)  # type: ignore[arg-type]

    def startswith(self, prefix: object, *args: object) -> bool:
        _Counted.work += 1
        return super().startswith(prefix, *args)  # type: ignore[arg-type]

    def __getitem__(self, key: SupportsIndex | slice) -> str:
        _Counted.work += 1
        return super().__getitem__(key)


def _env(n: int) -> tuple[str, list[str]]:
    values = [f"pw{i:05d}" + "x!Q7zK" for i in range(n)]
    assigned = "".join(f"SERVICE_{i}_PASSWORD={v}\n" for i, v in enumerate(values))
    repeated = "".join(f'connect("svc{i}", "{v}")\n' for i, v in enumerate(values))
    return assigned + repeated, values


def test_the_repeats_of_many_distinct_secrets_are_found_in_one_pass() -> None:
    text, values = _env(2_000)
    _Counted.work = 0
    result = redact(_Counted(text))
    assert all(v not in result.text for v in values)
    assert len(result.redactions) == 2 * len(values)  # each assigned, and each repeat
    # a search of the whole text for each value would pass over ~2,000 times its length
    assert _Counted.work < 20 * len(text), _Counted.work / len(text)


def test_a_pass_finds_what_a_search_for_each_finds_overlapping_and_nested() -> None:
    values = [f"ab{i:02d}abab" for i in range(40)] + ["abababab", "bababa", "ab00ababab"]
    text = "x".join(values) + "abababababab" + "ab07ababab07"
    expected = {(i, v) for v in values for i in range(len(text)) if text.startswith(v, i)}
    assert set(occurrences(text, values)) == expected
    assert set(occurrences(text, values[:5])) == {(i, v) for i, v in expected if v in values[:5]}
