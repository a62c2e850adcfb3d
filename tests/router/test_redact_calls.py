"""A secret passed with no name: a literal in the secret argument of a well-known call, or the
text of an element a key attribute names. No name rule saw these (the corpus measures them by
the thousand: tests/data/secret_corpus.py, smtp_login .. jdbc_get_connection, fernet_key)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocp_router import _redact_calls
from ocp_router._redact_calls import CALL_GATE, CALLS, calls_in
from ocp_router.redact import redact

PW = "Tr0ub4dor&3x"
KEY = "Xk9mQ2vLp8rT4wZ1"
FERNET = "ZmDfcTF7_60GrrY167zsiPd67pEvs0aGOv2oasOM1Pg="  # Fernet.generate_key()'s shape

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
    (f'f = Fernet(b"{FERNET}")', FERNET, "generic"),
    (f"cipher = fernet.Fernet('{FERNET}'.encode())", FERNET, "generic"),
    (f'Fernet (b"{FERNET}", backend=default_backend())', FERNET, "generic"),
    (
        f'conn = DriverManager.getConnection("jdbc:mysql://db:3306/app", "app", "{PW}");',
        PW,
        "password",
    ),
    (f'DriverManager.getConnection(url, user, "{PW}")', PW, "password"),
    # DataSource.getConnection(user, password)
    (f'Connection c = dataSource.getConnection("app", "{PW}");', PW, "password"),
    (f"ds.getConnection(username, '{PW}')", PW, "password"),
    # Google's app passwords (Gmail's SMTP and IMAP): 16 random lower-case letters, shown in
    # four groups; read as a phrase or a word by the rules for a password a person chose
    ('server.login("me@gmail.com", "xdfr jwax ctwq pzyg")', "xdfr jwax ctwq pzyg", "password"),
    ('imap.login(user, "nnsurloeftmspget")', "nnsurloeftmspget", "password"),
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
    "f = Fernet(key)\n",
    "f = Fernet(Fernet.generate_key())\n",
    'f = Fernet(b"your-32-url-safe-base64-key-here")\n',
    f'f = Fernet(b"{"A" * 43}=")\n',
    "DriverManager.getConnection(url, user, password);\n",
    'DriverManager.getConnection(url, "sa", "");\n',
    'DriverManager.getConnection(url, "sa", "${DB_PASSWORD}");\n',
    'DriverManager.getConnection("jdbc:h2:mem:test", "sa", "changeme");\n',
    'pool.getConnection("primary", "replica-2");\n',
    'pool.getConnection("sa", "");\n',
    "await cluster.getConnection('SLAVE*', 'ORDER');\n",
    'pool.getConnection("reports", "read_replica");\n',
    'ds.getConnection("app", "${DB_PASSWORD}");\n',
    'ds.getConnection("app", "changeme");\n',
    "ds.getConnection(user, password);\n",
    'pool.getConnection("reports", "jdbc/ReportsDS");\n',
    # no shape tells a person's lower-case password from a test's (all that local code holds:
    # "pass", "testpw", "doesnotexist"), nor a spaced one from what a page shows
    "imap.login('testuser', 'testpw')\n",
    "smtp.login('psu', 'doesnotexist')\n",
    'page.login(user, "this pass will fail")\n',
    'page.login(user, "what have they done")\n',
    'page.login(user, "aaaa aaaa aaaa aaaa")\n',
    'page.login(user, "thisisnotthepass")\n',  # two arguments: no password
)


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_calls_are_left_alone(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


# The calls are found in one pass (`CALL_GATE`, at each '(' whose characters before it may end
# a call's name), not a search for each name: it must find every call each head's own regex
# finds over the whole text, spaces before the '(' and around "auth="'s '=' included.
HEADS = (
    "jwt.sign",
    "JWT.Encode",
    "jwt.decode",
    "jwt.verify",
    "smtp.login",
    ".LOGIN",
    "HTTPBasicAuth",
    "requests.auth.HTTPDigestAuth",
    "ProxyAuth",
    "Fernet",
    "fernet.Fernet",
    "DriverManager.getConnection",
    "auth=",
    "auth =",
    "auth\t\t=",
    "auth      =",
    "hmac.new",
    "hmac.New",
    "hmac.digest",
    "hmac.HMAC",
    "crypto.createHmac",
    "Algorithm.HMAC256",
    "algorithm.hmac384",
    "Algorithm.HMAC512",
    "new SecretKeySpec",
)


def _lowered(text: str) -> str:
    lowered = text.lower()  # as redact does: the same offsets
    if len(lowered) != len(text):
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    return lowered


def _calls_by_regex(text: str) -> set[tuple[int, int]]:
    """What each call's head regex finds over the whole text: (call, index after its '(')."""
    lowered = _lowered(text)
    return {
        (n, m.end())
        for n, call in enumerate(CALLS)
        for m in call.head.finditer(lowered if call.lower else text)
    }


def _calls_by_gate(text: str) -> set[tuple[int, int]]:
    return {(CALLS.index(call), i) for call, i in calls_in(text, _lowered(text))}


@pytest.mark.parametrize("head", HEADS)
def test_the_one_pass_finds_every_call_each_heads_regex_finds(head: str) -> None:
    for before in ("", "x", "\n", "\n    ", "(", "= "):
        for space in ("", " ", "\t", "  ", " \t ", "        ", "\t" * 9, " " * 12, " " * 20):
            text = f'{before}{head}{space}("user", "Xk9mQ2vLp8rT4wZ1")\n'
            expected = _calls_by_regex(text)
            assert expected or before == "x" and head.startswith("auth"), text  # xauth=(: none
            assert _calls_by_gate(text) == expected, text


@settings(max_examples=600, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [*HEADS, "(", "(", " ", "\t", "  ", "=", "\n", "\n      ", "x", "function", "İ"]
            + ["encode", "auth", "sign", "nection", ".", ")", '"k"', ","]
        ),
        max_size=30,
    )
)
def test_the_one_pass_finds_what_the_heads_regexes_find_in_any_text(parts: list[str]) -> None:
    text = "".join(parts)
    assert _calls_by_gate(text) == _calls_by_regex(text)


def test_ordinary_parentheses_are_turned_away_by_the_one_pass() -> None:
    code = "def f(x):\n    print(len(x), str(y))\n    return get(x) or function (a)\n"
    code += "        (a, b) = (1, 2)\n    design(x); encode(y); auth(z); jwt.sign(p, k)\n"
    code += "  --flag    (default: off)\n  x  (y)\n"  # spaces after what ends no name
    assert [m.start() for m in CALL_GATE.finditer(code.lower())] == [code.index("jwt.sign(") + 8]


def test_spaces_after_what_ends_no_name_are_turned_away_by_the_one_pass() -> None:
    # A name's last character, 2 to 8 spaces, '(': each such '(' was sent to `calls_in`
    # (20,000 in 100 KB cost three times ordinary code); only a whole name lets one through.
    text = "".join(f"{c}{' ' * n}(" for c in "engtwh=c6" for n in range(2, 9)) * 20
    text += "x.sign  (p, k) getconnection        (a)"
    assert [m.start() for m in CALL_GATE.finditer(text.lower())] == [
        text.index("getconnection") + 21
    ]


def test_parens_after_nine_spaces_or_more_reach_python_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A lookbehind has a fixed width, so the one pass cannot see the name before 9 spaces or
    # more: each such '(' (not indenting a line) was sent to `calls_in` (9,000 in 100 KB cost
    # ten times the one pass). Only the first is now; the rest are read in the text reversed.
    unit = "e" + " " * 9 + "(" + "x = 1;" + " " * 20 + "(" + "\n" + " " * 30 + "("
    text = unit * 300 + "jwt.sign" + " " * 12 + '(p, "k") ' + unit * 300 + "x.login\t" * 10 + "("
    expected = _calls_by_regex(text)
    assert len(expected) == 2
    gate = CALL_GATE
    seen: list[int] = []

    class Counted:
        def finditer(self, s: str, *args: int) -> Iterator[re.Match[str]]:
            for m in gate.finditer(s, *args):
                seen.append(m.start())
                yield m

    monkeypatch.setattr(_redact_calls, "CALL_GATE", Counted())
    assert _calls_by_gate(text) == expected
    assert len(seen) <= 1, len(seen)


def test_deep_indentation_before_a_paren_is_turned_away_by_the_one_pass() -> None:
    text = "".join("\n" + " " * n + "(a)" for n in range(9, 41))
    text += "".join("\n" + "\t" * n + "(a)" for n in range(9, 41))
    assert list(CALL_GATE.finditer(text)) == []
