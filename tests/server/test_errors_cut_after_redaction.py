"""A caller's or an upstream's text quoted in an error only so far is redacted whole, then
cut: cut first, a token straddling the cut matched no pattern and its head stayed in the text
the agent's model reads (every answer is redacted again on its way out, too late)."""

from __future__ import annotations

import json

import mcp_types
import pytest

from ocp_router.redact_names import redact_name
from ocp_server.citations.lines import diff_summary
from ocp_server.errors import InputError
from ocp_server.index.globs import glob_matcher
from ocp_server.jsonrpc_line import Refusal, check_line
from ocp_server.proxy.openai import local_cannot
from ocp_server.proxy.whole_body import error_too_long

TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"


def straddling(cut: int, into: int = 12, filler: str = "the request was refused ") -> str:
    """`filler` repeated, then the token starting `into` characters before `cut`."""
    return f"{(filler * 80)[: cut - into - 1]} {TOKEN} was not accepted"


def shown(text: str) -> str:
    out = redact_name(text).text
    assert TOKEN[:8] not in out, out
    return out


def test_an_unreadable_message_quotes_its_validation_error_redacted_then_cut(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Quoting:
        """A validator whose error quotes the input (the first line is what is shown)."""

        @staticmethod
        def validate_json(text: str, by_name: bool = False) -> object:
            raise ValueError(straddling(200 - len("Invalid request: ")) + "\nmore")

        model_validate_json = validate_json

    monkeypatch.setattr(mcp_types, "jsonrpc_message_adapter", Quoting)
    monkeypatch.setattr(mcp_types, "JSONRPCRequest", Quoting)
    line = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {}})
    refusal = check_line(line.encode())
    assert isinstance(refusal, Refusal)
    shown(refusal.error.message)


def test_a_glob_with_too_many_alternatives_is_quoted_redacted_then_cut() -> None:
    glob = straddling(100, filler="src/") + "{a,b}" * 9
    with pytest.raises(InputError, match="alternatives") as err:
        glob_matcher(glob)
    shown(str(err.value))


def test_an_upstream_error_too_long_to_relay_is_quoted_redacted_then_cut() -> None:
    shown(error_too_long("anthropic", 401, 65_536, straddling(200).encode()))


def test_a_response_format_a_local_answer_cannot_follow_is_quoted_redacted_then_cut() -> None:
    said = local_cannot({"response_format": {"type": straddling(40, into=8, filler="x ")}})
    assert said is not None
    shown(said)


def test_a_changed_line_is_redacted_before_it_is_cut() -> None:
    # the line is shown to 69 characters: the token starts 12 before
    shown(diff_summary("key = 1", f"key = 1 # {straddling(69 - len('key = 1 # '))}"))
