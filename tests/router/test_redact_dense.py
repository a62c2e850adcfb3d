"""Text dense with secrets' names (`password=password=…`): each name's value holds the names
after it, and judged one by one each value (up to 1,024 characters) was read again, about
1,000 times the work of ordinary text (a 1 MB file of it held an index worker a minute). The
work is counted here, not timed (bench/redact_dense.py times it): past a budget, the rest of
such a run is hidden whole, unjudged, which hides more, never less.

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import re

import pytest

from ocp_router import _redact_assignments
from ocp_router.redact import _redact, named_values

CHOSEN = "Xk9v" + "2Lq7!mZ"
SLACK = 4096  # values judged past twice a run's length (_redact_assignments.DENSE_SLACK)
LAST = 1024  # and the run's last value, judged when it ends (a value is read up to this far)

DENSE = {
    "unquoted": "password=" * 20_000,
    "names of keys": "api_key=" * 20_000,
    "secrets": "client_secret=" * 12_000,
    "values between": f"password=a{CHOSEN}" * 8_000,
    "colons": "token:" * 20_000,
    "flags": "--password=" * 15_000,
}


def _judged(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every value judged by the name it is assigned to, as it is judged."""
    judged: list[int] = []
    real = _redact_assignments._assignment_value

    def counting(text: str, m: re.Match[str], *args: str) -> object:
        judged.append(len(m.group("value")))
        return real(text, m, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(_redact_assignments, "_assignment_value", counting)
    return judged


@pytest.mark.parametrize("name", list(DENSE))
def test_the_values_judged_add_up_to_about_the_texts_length(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = DENSE[name]
    judged = _judged(monkeypatch)
    _redact(text, None)
    # redaction scans its output again (_MAX_PASSES); each pass is bounded alike
    assert sum(judged) <= 3 * (2 * len(text) + SLACK + LAST), name
    judged.clear()
    named_values(text)
    assert sum(judged) <= 2 * len(text) + SLACK + LAST, name


def test_a_run_hidden_whole_hides_every_value_judging_would() -> None:
    text = f"password=a{CHOSEN}" * 400 + "\nthen the rest, as it was\n"
    assert len(text) > 2 * SLACK
    result = _redact(text, None)
    assert CHOSEN not in result.text
    assert result.text.endswith("\nthen the rest, as it was\n")


def test_a_repeat_elsewhere_of_a_value_judged_before_the_run_is_hidden() -> None:
    text = f'DB_PASSWORD = "{CHOSEN}"\n' + "password=" * 2_000 + f"\nlogin({CHOSEN})\n"
    assert CHOSEN not in _redact(text, None).text


@pytest.mark.parametrize(
    "text",
    [
        f'self.token = token = "{CHOSEN}"\n',  # a chain in code: each value is judged
        "token: token: token: token: token: token: token: token:\n",  # short values
    ],
)
def test_names_in_each_others_values_with_short_values_are_judged_one_by_one(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    judged = _judged(monkeypatch)
    found = _redact(text, None)
    names = len(re.findall(r"token|password", text))
    assert len(judged) >= names - 1  # none was left to the run's conservative hiding
    assert "[REDACTED" not in found.text or CHOSEN in text


def test_the_value_a_run_hidden_whole_names_last_is_hidden_where_it_recurs() -> None:
    # judged one by one, the last name of the run names the value: hidden where it repeats
    # (in this text, and in a file's other chunks through named_values)
    value = f"a{CHOSEN}q"
    text = "password=" * 1_000 + f"{value}\n\nconnect(user, '{value}')\n"
    assert value not in _redact(text, None).text
    assert value in named_values(text)
