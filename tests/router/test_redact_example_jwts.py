"""A JWT whose own content shows it is an example is no secret: jwt.io's famous token, and a
test's token whose claims are plain test data ({"user":"test"}, {"message":"hello world"}) were
hidden, hono's tests full of them. Tokens with a real-looking claim (an id, a UUID, an address
at a real host, a claim named as a secret) or no sign of a test stay hidden (_redact_jwt.py)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from ocp_router.redact import redact

# jwt.io's example: {"sub":"1234567890","name":"John Doe","iat":1516239022}, your-256-bit-secret
JWT_IO = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwia"
    "WF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
KEY = b"k9Qm2xLr7TzPv4WsN8bYc3HdF6gJ1aE5"  # a key nobody published


def _segment(value: object) -> str:
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token(claims: dict[str, object], key: bytes = KEY) -> str:
    signed = _segment({"alg": "HS256", "typ": "JWT"}) + "." + _segment(claims)
    mac = hmac.new(key, signed.encode(), hashlib.sha256).digest()
    return signed + "." + base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


REAL_CLAIMS: dict[str, object] = {
    "sub": "3f2c9a1e-8b7d-4c6e-9f10-2a3b4c5d6e7f",
    "email": "ops@acme-corp.io",
}

EXAMPLES = {
    "jwt.io": JWT_IO,
    "user test": token({"user": "test"}),
    "hello world": token({"message": "hello world"}),
    "example issuer": token(
        {"iss": "https://issuer.example", "aud": ["correct-audience", "other"], "iat": 1}
    ),
    "test words and times": token(
        {"sub": "1234567890", "name": "Jane Doe", "iat": 1633046400, "exp": 1633050000}
    ),
    "supabase's demo key": token({"iss": "supabase-demo", "role": "anon", "exp": 1983812996}),
    "signed with jwt.io's secret": token(REAL_CLAIMS, b"your-256-bit-secret"),
    "filler signature": token(REAL_CLAIMS).rsplit(".", 1)[0] + "." + "x" * 43,
}

REAL = {
    "uuid subject": token({"sub": REAL_CLAIMS["sub"], "name": "John Doe"}),
    "address at a real host": token({"sub": "1234567890", "email": "jane.doe@acme-corp.io"}),
    "real issuer": token({"iss": "https://auth.acme-corp.io", "user": "test"}),
    "numeric id": token({"user_id": 48213, "name": "test"}),
    "a person's name": token({"name": "John Smith", "username": "jsmith", "iat": 1700001234}),
    "random letters and digits": token({"sub": "k2j4h5g6f7", "name": "test"}),
    "random letters": token({"sub": "qzxkvbnmwp", "name": "test"}),
    "mixed-case id": token({"sub": "aBcDxQ", "name": "test"}),
    "no sign of a test": token({"role": "service_role", "iss": "supabase", "iat": 1641769200}),
    "a claim named as a secret": token({"user": "test", "password": "hello"}),
    "payload not JSON": "eyJhbGciOiJIUzI1NiJ9.eyJQm7sVb2XkLp9Rt4WnZc8Yd3F." + "Qm7sVb2XkLp9Rt4Wn",
}

CONTEXTS = [
    "{t}\n",
    'const token = "{t}";\n',
    "headers = {{'Authorization': 'Bearer {t}'}}\n",
    "curl -H 'Authorization: Bearer {t}' https://api.acme-corp.io/me\n",
    "JWT_TOKEN={t}\n",
]


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("jwt", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_an_example_jwt_is_left_in_every_context(jwt: str, context: str) -> None:
    text = context.format(t=jwt)
    assert redact(text).redactions == (), text


@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("jwt", REAL.values(), ids=REAL.keys())
def test_a_real_looking_jwt_is_still_hidden(jwt: str, context: str) -> None:
    text = context.format(t=jwt)
    assert jwt not in redact(text).text, text


def test_an_example_beside_a_real_token_leaves_only_the_real_one_hidden() -> None:
    real = REAL["uuid subject"]
    text = f"ok = '{JWT_IO}'\nbad = '{real}'\n"
    out = redact(text).text
    assert JWT_IO in out
    assert real not in out


# After an escape (`\n` in a JSON string or a log line, `%22` in a URL) the token stands
# alone: the escape rule finds it there, so the example rule must see it there too.
ESCAPED = [
    '{{"log": "issued\\n{t}\\n"}}\n',
    '"cell": "x = 1\\n{t}"\n',
    "msg='header\\t{t}'\n",
    "https://app.example.com/cb?state=%22{t}%22\n",
]


@pytest.mark.parametrize("context", ESCAPED)
@pytest.mark.parametrize("jwt", EXAMPLES.values(), ids=EXAMPLES.keys())
def test_an_example_jwt_right_after_an_escape_is_left(jwt: str, context: str) -> None:
    text = context.format(t=jwt)
    assert redact(text).redactions == (), text


@pytest.mark.parametrize("context", ESCAPED)
@pytest.mark.parametrize("jwt", REAL.values(), ids=REAL.keys())
def test_a_real_looking_jwt_right_after_an_escape_is_still_hidden(jwt: str, context: str) -> None:
    text = context.format(t=jwt)
    assert jwt not in redact(text).text, text
