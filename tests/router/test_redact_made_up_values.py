"""Values a reader takes for made up, which redaction hid as secrets (the test files of the
development corpora held most of bench_secrets' false positives): a value that names what it
stands for (`'hono-password-a'`, `'callback-pass'`, `"proxy-token-123456"`, `sk-live-123`),
one that says it is wrong (`password=nogood`), letters and digits in sequence
(`'abcdefg12345-._~+/='`, `ghp_abcdefghijklmnopqrstuvwxyz0123456789`), AWS's documented example
key (`AKIAIOSFODNN7EXAMPLE`, the allowlist gitleaks keeps too), `pw` as a connection string's
password, and a Basic credential whose base64 holds such a password. Realistic values in the
same places are still hidden, in test files too: the value decides, never the path."""

from __future__ import annotations

import base64

import pytest

from ocp_router.redact import redact


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


@pytest.mark.parametrize(
    "text",
    [
        "const password = 'hono-password-a'\n",
        "const passwordB = 'hono-password-b'\n",
        "const password = 'callback-pass'\n",
        'TOKEN = "proxy-token-123456"\n',
        "API_KEY=sk-live-123\n",
        'headers = {"Authorization": "Bearer sk-ant-test"}\n',
        ".send('username=tj&password=nogood')\n",
        'password = "wrong"\n',
        "const token = 'abcdefg12345-._~+/='\n",
        "req.headers.set('Authorization', 'Bearer abcdefg12345-._~+/=')\n",
        'key = "sk-echoed-0123456789abcdefghij"\n',
        'block = ["ghp_abcdefghijklmnopqrstuvwxyz0123456789"]\n',
        "aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n",
        'text = f"{SIMPLE} token AKIAIOSFODNN7EXAMPLE"\n',
        "the cache at `redis://:pw@cache:6379` is local\n",
        f"const credential = '{_b64('hono-user-a:hono-password-a')}'\n",
        f"Authorization: Basic {_b64('admin:password')}\n",
    ],
)
def test_a_made_up_value_is_left(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("const password = 'amber-falcon-quartz'\n", "amber-falcon-quartz"),
        ("const password = 'ahotproject'\n", "ahotproject"),
        ("const password = 'Hono-Password-7x!'\n", "Hono-Password-7x!"),
        ('password = "Amber1234!"\n', "Amber1234!"),
        ('TOKEN = "proxy-token-Xk9mQ2vLp8rT"\n', "proxy-token-Xk9mQ2vLp8rT"),
        ("API_KEY=sk-live-Xk9mQ2vLp8rT4wZ1\n", "sk-live-Xk9mQ2vLp8rT4wZ1"),
        ("aws_access_key_id = AKIA" + "Q3EGQ7W2EXAMPLEZ\n", "AKIA" + "Q3EGQ7W2EXAMPLEZ"),
        ("Bearer " + "abcdefg" + "Xk9mQ2vLp8rT4wZ1\n", "abcdefgXk9mQ2vLp8rT4wZ1"),
        (f"const credential = '{_b64('hono:ahotproject')}'\n", _b64("hono:ahotproject")),
        (f"Authorization: Basic {_b64('admin:Xk9mQ2vLp8')}\n", _b64("admin:Xk9mQ2vLp8")),
        ("url = 'redis://:pw7Xk9mQ2@cache:6379'\n", "pw7Xk9mQ2"),
    ],
)
def test_a_realistic_value_in_the_same_place_is_still_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert secret not in result.text, result.text
