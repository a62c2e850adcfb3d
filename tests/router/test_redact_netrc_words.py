"""A .netrc entry's password (`machine HOST login USER password X`) is one even when it reads
as a word: the entry's shape names it. A line that only says `login … password word` (prose
can) still needs a password that reads as one; placeholders and variables are left.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact


@pytest.mark.parametrize("pw", ["tayei" + "apbu", "rasp" + "berry"])
@pytest.mark.parametrize(
    "entry",
    [
        "machine api.example.com login deploy password {pw}\n",
        "machine git.internal login ci password {pw} machine other.host login x\n",
    ],
)
def test_a_netrc_password_that_reads_as_a_word_is_redacted(entry: str, pw: str) -> None:
    out = redact(entry.replace("{pw}", pw)).text
    assert pw not in out
    assert marker("password_assignment") in out, out


@pytest.mark.parametrize(
    "text",
    [
        "machine api.example.com login deploy password changeme\n",
        "machine api.example.com login deploy password $NETRC_PASSWORD\n",
        "login with password authentication\n",
    ],
)
def test_a_netrc_placeholder_or_a_sentence_is_left(text: str) -> None:
    assert redact(text).text == text
