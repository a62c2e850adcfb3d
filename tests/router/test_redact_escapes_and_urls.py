"""Secrets an adversarial hunt found left in place: a token right after an escape (`\\n` in
JSON and log lines, `%22` in a URL), whose pattern sees the escape's letter or digit before
it, and a URL password whose host is followed by a mark that is not `/`, `?` or a space
(`redis://:pw@cache:6379]`, `...@host&y=1`).

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import pytest

from ocp_router.redact import finds_secret, marker, redact

BODY = "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0x8Lr4"
TOKENS = [
    ("huggingface_token", "hf_" + BODY[:34]),
    ("npm_token", "npm_" + BODY[:36]),
    # {"sub":"3f2c9a1e-8b7d"}: an id, no test data ({"sub":"1234567890"} is an example's)
    ("jwt", "eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiIzZjJjOWExZS04YjdkIn0." + BODY),
    ("github_token", "ghp_" + BODY[:36]),
    ("openai_key", "sk-" + "proj-" + BODY + BODY),
    # its pattern shared a regex with GOCSPX-'s, indexed by G: after an escape it was not tried
    ("google_oauth", "ya29." + "a0" + BODY),
]


@pytest.mark.parametrize(("kind", "token"), TOKENS, ids=[k for k, _ in TOKENS])
@pytest.mark.parametrize(
    "template",
    [
        '{"log": "loaded\\n{t}\\n"}',  # a JSON string: the newline is the two characters \n
        '"cell": "x = 1\\n{t}"',
        "GET /hook?payload=%22{t}%22 HTTP/1.1",
        "cols\\t{t}\\tend",
    ],
)
def test_a_token_right_after_an_escape_is_redacted(kind: str, token: str, template: str) -> None:
    text = template.replace("{t}", token)
    assert token not in redact(text).text
    assert marker(kind) in redact(text).text, redact(text).text
    assert finds_secret(text)


@pytest.mark.parametrize(
    "template",
    [
        "see [redis://:{p}@cache:6379].",
        "url=redis://:{p}@cache:6379&db=0",
        "{{redis://app:{p}@cache}}",
        "REDIS_URL=redis://:{p}@cache:6379|tail",
        "it is at redis://:{p}@cache:6379.",
    ],
)
def test_a_url_password_before_a_host_and_any_mark_is_redacted(template: str) -> None:
    password = "p4ss" + "W0rdXyz7"
    text = template.format(p=password)
    assert password not in redact(text).text, redact(text).text


@pytest.mark.parametrize(
    "text",
    [
        "print('a\\nb')  # the \\n escape, then a word: sk-learn is a library\\nhf_hub",
        "see %2Fhome%2Fuser and \\nAKIAValidator",
        "user@host:port/path and git@github.com:org/repo.git",
        "https://example.com/a@b:c and mailto:x@y.z",
    ],
)
def test_escapes_and_at_signs_without_secrets_are_left_alone(text: str) -> None:
    assert redact(text).text == text
