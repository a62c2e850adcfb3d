"""A secret passed with no name: a literal in the secret argument of a well-known call, or the
text of an element a key attribute names. No name rule saw these (the corpus measures them by
the thousand: tests/data/secret_corpus.py, smtp_login .. hmac_new)."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PW = "Tr0ub4dor&3x"
KEY = "Xk9mQ2vLp8rT4wZ1"

SECRETS: tuple[tuple[str, str, str], ...] = (
    (f'token = jwt.sign(payload, "{KEY}")', KEY, "generic_secret_assignment"),
    (f"jwt.sign({{ id: user.id,\n  role }}, '{KEY}', {{ expiresIn: '1h' }})", KEY, "generic"),
    (f"token = jwt.encode(payload, '{KEY}', algorithm='HS256')", KEY, "generic"),
    (f'claims = jwt.decode(token, "{KEY}", algorithms=["HS256"])', KEY, "generic"),
    (f'Algorithm algorithm = Algorithm.HMAC256("{KEY}");', KEY, "generic"),
    (f'smtp.login("me@example.com", "{PW}")', PW, "password_assignment"),
    (f"server.login(user, '{PW}')", PW, "password"),
    (f'auth = HTTPBasicAuth("admin", "{PW}")', PW, "password"),
    (f'auth = aiohttp.BasicAuth("admin", "{PW}")', PW, "password"),
    (f'req.SetBasicAuth("admin", "{PW}")', PW, "password"),
    (f'r = requests.get(url, auth=("user", "{PW}"), timeout=5)', PW, "password"),
    (f'h = hmac.new(b"{KEY}", msg, hashlib.sha256)', KEY, "generic"),
    (f'h = hmac.new("{KEY}".encode(), msg, "sha256")', KEY, "generic"),
    (f'mac := hmac.New(sha256.New, []byte("{KEY}"))', KEY, "generic"),
    (f"crypto.createHmac('sha256', '{KEY}').update(body)", KEY, "generic"),
    (f'new SecretKeySpec("{KEY}".getBytes(), "HmacSHA256")', KEY, "generic"),
    (f'<entry key="password">{PW}</entry>', PW, "password"),
    (f'<entry key="db.password">{PW}</entry>', PW, "password"),
    (f'<add key="Password" value="{PW}"/>', PW, "password"),
    ('smtp.login(u, "$Pf|>aIDlf7")', "$Pf|>aIDlf7", "password"),
)


@pytest.mark.parametrize(("text", "secret", "kind"), SECRETS)
def test_a_literal_in_a_calls_secret_argument_is_redacted(
    text: str, secret: str, kind: str
) -> None:
    result = redact(text)
    assert secret not in result.text, result.text
    assert any(r.kind.startswith(kind) for r in result.redactions), result.redactions


# Calls with no secret literal where one goes, and literals that are not secrets.
ORDINARY: tuple[str, ...] = (
    "smtp.login(user, password)\n",
    'smtp.login(user, os.environ["SMTP_PASSWORD"])\n',
    'smtp.login(user, "changeme")\n',
    'smtp.login(user, "${SMTP_PASSWORD}")\n',
    'smtp.login(user, "$SMTP_PASSWORD")\n',
    "imap.login('user', 'pass')\n",
    'client.login("admin", "admin")\n',
    "login(request, 'registration/login.html')\n",
    'page.login("Sign in", "Welcome back to the app")\n',
    'client.login("only-one-argument-9f8e7d")\n',
    'HTTPBasicAuth("admin", "<password>")\n',
    "HTTPBasicAuth(username, password or '')\n",
    'requests.get(url, auth=("api", os.environ["API_KEY"]))\n',
    "auth = (user, password)\n",
    "jwt.encode(payload, key, algorithm='HS256')\n",
    "jwt.sign(payload, process.env.JWT_SECRET)\n",
    "jwt.sign(payload, 'shhhhh')\n",
    'jwt.decode(token, "secret", algorithms=["HS256"])\n',
    'jwt.decode(token, options={"verify_signature": False})\n',
    'jwt.encode("utf-8")\n',
    "jwt.sign(payload, `${prefix}${secret}`)\n",
    'h1 = hmac.new(b"key", digestmod="sha256")\n',
    'hmac.new(key, b"message-2024", hashlib.sha256)\n',
    "crypto.createHmac('sha256', secret).update(body)\n",
    'new SecretKeySpec(keyBytes, "HmacSHA256")\n',
    '<entry key="username">admin</entry>\n',
    '<entry key="password">${db.password}</entry>\n',
    '<entry key="comment">the password is kept in the vault</entry>\n',
    '<param name="token">{{ token }}</param>\n',
)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_calls_are_left_alone(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]
