"""Values ordinary code and its docs hold under a secret's name that are no secret, told by the
value or by what the name says it holds (never by the file's path): a type annotation naming a
secret's class (cryptography's and typeshed's stubs: `private_key: rsa.RSAPrivateKey,`,
`passwd: HTTPPasswordMgr`), .NET's PublicKeyToken (published with every assembly), a key's
digest (`"key_sha256": "<hex>"`), words percent-encoded in a URL's password (httpx's docstring
`jo%40email.com:a%20secret@`) and base64 of a sentence (pydantic's docs). Each was hidden."""

from __future__ import annotations

import base64

import pytest

from ocp_router.redact import redact

HEX = "bb1636883c2707b51c5b7fc26c6927af4430f2e0785a8c7bc886337f919f9edf"
PROSE = base64.b64encode(b"These aren't the droids you're looking for").decode()


@pytest.mark.parametrize(
    "text",
    [
        "def decrypt_der(\n    data: bytes,\n    private_key: rsa.RSAPrivateKey,\n"
        ") -> bytes: ...\n",
        "    def __init__(\n        self,\n        x25519_key: x25519.X25519PrivateKey,\n"
        "    ) -> None: ...\n",
        "class AbstractBasicAuthHandler:\n    rx: ClassVar[Pattern[str]]\n"
        "    passwd: HTTPPasswordMgr\n",
        "signing_key: jwt.SigningKeyProvider\n",
        '<reference Include="System.Core, Version=3.5.0.0, Culture=neutral, '
        'PublicKeyToken=b77a5c561934e089" />\n',
        '<assemblyIdentity name="Microsoft.VC90.CRT" publicKeyToken="1fc8b3b9a1e18e3b" />\n',
        'PUBLIC_KEY_ID = "7Qm2xLr9TzPv4WsN8bYc3HdF6gJ1aE5k"\n',
        f'{{"initial": {{"key_sha256": "{HEX}", "pos": 9}}}}\n',
        f"signing_key_fingerprint = '{HEX}'\n",
        'url = httpx.URL("https://jo%40email.com:a%20secret@www.example.com")\n',
        "DATABASE_URL=postgres://app:hono-password-a@db:5432/app\n",
        f"m = Model(base64_str='{PROSE}')\n",
    ],
)
def test_a_documented_value_under_a_secrets_name_is_left(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    "text, secret",
    [
        ("    passwd: Password2024\n", "Password2024"),
        ("    private_key: rsa.Xk9mQ2vLp8rT\n", "Xk9mQ2vLp8rT"),
        ("db_password: BlueFalcon\n", "BlueFalcon"),
        ('PUBLIC_KEY_SECRET = "7Qm2xLr9TzPv4WsN8bYc3HdF6gJ1aE5k"\n', "7Qm2xLr9TzPv4WsN8bYc3HdF"),
        (f'password_sha256 = "{HEX}"\n', HEX),
        (f'api_key = "{HEX}"\n', HEX),
        ('url = "https://jo%40email.com:Xk9%23mP2qL@www.acme-corp.io"\n', "Xk9%23mP2qL"),
        ("DATABASE_URL=postgres://app:amber-falcon-quartz@db:5432/app\n", "amber-falcon-quartz"),
    ],
)
def test_a_secret_beside_those_is_still_hidden(text: str, secret: str) -> None:
    assert secret not in redact(text).text, text


@pytest.mark.parametrize(
    "raw",
    [bytes(range(7, 250, 9)), b"the password is Xk9mQ2vLp8rT4wZ1 for staging"],
    ids=["random bytes", "a sentence with a secret"],
)
def test_base64_of_random_bytes_or_of_a_sentence_with_a_secret_is_still_hidden(
    raw: bytes,
) -> None:
    value = base64.b64encode(raw).decode()
    text = f"m = Model(blob='{value}')\n"
    assert value not in redact(text).text, text


@pytest.mark.parametrize(
    "text, secret",
    [
        # the name says more after the public key, or names a private one beside it
        ("PUBLIC_KEY_API_TOKEN=Xy9kq2LmQ8rT4wZ1\n", "Xy9kq2LmQ8rT4wZ1"),
        ('public_key_private_key = "Xk9mQ2vLp8rT4wZ1aBcD"\n', "Xk9mQ2vLp8rT4wZ1aBcD"),
        # the value is no public key, token or digest: a password a person chose
        ("PUBLIC_KEY_TOKEN=Xy9$kq!2LmQ\n", "Xy9$kq!2LmQ"),
        ("<publicKeyToken>Xy9$kq!2LmQ</publicKeyToken>\n", "Xy9$kq!2LmQ"),
        ('key_sha256 = "Xk9$mQ2vLp8rT4wZ1aBcD!"\n', "Xk9$mQ2vLp8rT4wZ1aBcD!"),
        ("signing_key_fingerprint: Xk9$mQ2vLp8rT4wZ1aBcD!\n", "Xk9$mQ2vLp8rT4wZ1aBcD!"),
    ],
)
def test_a_name_that_merely_looks_documented_does_not_leave_a_secret(
    text: str, secret: str
) -> None:
    """The two rules judged by the name (a public key's, a key's digest) leave only what such
    a name holds: hex, base64 or base58, not words; a name saying more is judged as any."""
    assert secret not in redact(text).text, text


@pytest.mark.parametrize(
    "text",
    [
        "public_key: MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEb1Xy9kq2LmQ8rT4wZ1aBcD==\n",
        'host_key_fingerprint = "SHA256:nThbg6kXUpJWGl7E1IGOCspRomTxdCARLviKw6E5SY8"\n',
        "<publicKeyToken>b77a5c561934e089</publicKeyToken>\n",
        f"client_public_key_sha256: {HEX}\n",
        "the PublicKeyToken is b77a5c561934e089 for that assembly\n",
    ],
)
def test_a_public_key_or_digest_in_its_encoding_is_left(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
