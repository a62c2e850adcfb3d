"""Letters and digits typed in order (_redact_sequences.py): a value made up by hand."""

from __future__ import annotations

import pytest

from ocp_router._redact_sequences import in_runs, sequential


@pytest.mark.parametrize(
    ("core", "least", "inside"),
    [
        ("1234321", 4, 7),  # a run that turns shares the character it turns at
        ("abcdxq9876", 4, 8),
        ("abcxyz", 4, 0),
        ("123", 3, 3),
        ("", 4, 0),
        ("a1b2c3d4", 3, 0),
    ],
)
def test_the_characters_in_runs_that_step_by_one_are_counted(
    core: str, least: int, inside: int
) -> None:
    assert in_runs(core, least) == inside


@pytest.mark.parametrize(
    ("core", "typed"),
    [
        ("0123456789abcdefghij", True),
        ("abcdefg12345", True),
        ("qwerty12345", False),
        ("k3x9v2lq7mz8", False),  # drawn: too few steps of one to hold runs
        ("abcd" + "k3x9v2lq7mz8wp", False),
    ],
)
def test_a_value_typed_in_order_is_told_from_one_drawn(core: str, typed: bool) -> None:
    assert sequential(core) is typed
