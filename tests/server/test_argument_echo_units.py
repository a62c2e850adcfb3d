"""An argument error's echo of a long value says how long it is in the value's own unit: a
string's characters, a list's or object's items, a number's digits (a 101-digit `k` was
"101 items")."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

import ocp_wire as wire
from ocp_server.argument_errors import argument_error


def _error(arguments: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        wire.SearchArgs.model_validate(arguments)
    return argument_error(caught.value)


def test_a_long_integer_is_counted_in_digits() -> None:
    text = _error({"query": "verify", "k": 10**100})
    assert text.endswith("… (101 digits))"), text


def test_a_long_negative_integer_counts_its_digits_not_its_sign() -> None:
    text = _error({"query": "verify", "k": -(10**100)})
    assert text.endswith("… (101 digits))"), text


def test_a_long_string_is_counted_in_characters_and_a_list_in_items() -> None:
    assert _error({"query": "q" * 25_000}).endswith("… (25,000 characters))")
    assert _error({"query": ["verify"] * 30}).endswith("… (30 items))")
