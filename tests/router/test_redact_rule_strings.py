"""A validation rule string (Laravel's 'required|min:8') under a password's name is no
password: it stays visible, and a password in the same call is still hidden. A base64
`user:password` under npm's and Yarn's auth keys (`_auth`, `npmAuthIdent`) is hidden."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        "validate('password', 'required|min:8')",
        "$request->validate(['password' => 'required|string|min:8|confirmed'])",
        "'password' => 'nullable|min:12|max:255',",
    ],
)
def test_a_validation_rule_string_under_a_password_name_stays_visible(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("check('password', 'Xk9mQ2vLp7')", "Xk9mQ2vLp7"),
        ("'password' => 'required|Xk9mQ2vLp7',", "required|Xk9mQ2vLp7"),
        ("validate('password', 'min:8|Zq4!rT7wK')", "min:8|Zq4!rT7wK"),
    ],
)
def test_a_password_in_a_rule_like_call_is_still_hidden(text: str, secret: str) -> None:
    assert secret not in redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        'npmAuthIdent: "dXNlcjpRbTdzVmIyWGtMcDlSdDRX"\n',
        "_auth=dXNlcjpRbTdzVmIyWGtMcDlSdDRX\n",
        "//registry.example.com/:_auth = dXNlcjpRbTdzVmIyWGtMcDlSdDRX\n",
    ],
)
def test_base64_user_and_password_under_npm_auth_keys_is_hidden(text: str) -> None:
    assert "dXNlcjpRbTdzVmIyWGtMcDlSdDRX" not in redact(text).text
