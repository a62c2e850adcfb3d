"""The id a broken line is answered under is the id it was sent with, or null: never a part
of a longer number (a client would take the answer for another request's), and a line that
is valid JSON is not told it is not."""

from __future__ import annotations

import sys

import pytest

from ocp_server.jsonrpc_line import PARSE_ERROR, Refusal, check_line


def _refusal(line: str) -> Refusal:
    got = check_line(line.encode())
    assert isinstance(got, Refusal), got
    return got


@pytest.mark.parametrize(
    "sent_id",
    ["1234567890123456789012", "12345678901234567890.5", "-1234567890123456789", "1.5", "7e3"],
)
def test_a_broken_line_whose_id_is_no_integer_of_up_to_18_digits_is_answered_under_null(
    sent_id: str,
) -> None:
    refusal = _refusal('{"jsonrpc":"2.0","id":' + sent_id + ',"method":"tools/list"')
    assert refusal.id is None, refusal


@pytest.mark.parametrize("sent_id", ["1", "-42", "123456789012345678", '"abc"'])
def test_a_broken_line_keeps_an_id_it_shows_whole(sent_id: str) -> None:
    refusal = _refusal('{"jsonrpc":"2.0","id":' + sent_id + ',"method":"tools/list"')
    assert refusal.id == (sent_id.strip('"') if sent_id.startswith('"') else int(sent_id))


def test_a_number_longer_than_python_reads_is_refused_as_such_not_as_broken_json() -> None:
    digits = sys.get_int_max_str_digits() + 1
    line = (
        '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"ocp_context_search",'
        '"arguments":{"query":"verify","k":' + "9" * digits + "}}}"
    )
    refusal = _refusal(line)
    assert refusal.id == 5
    assert refusal.error.code == PARSE_ERROR
    message = refusal.error.message
    assert "not valid JSON" not in message, message
    assert f"{sys.get_int_max_str_digits():,} digits" in message, message
