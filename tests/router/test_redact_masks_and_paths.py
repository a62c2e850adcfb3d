"""What is no secret though it stands where one does: a password a log has masked already
(kombu and Celery print `amqp://guest:**@host`), and a file's path under a key's or a token's
name (`signing_key: keys/jwt_rs256.pem`, a citation `("verify_token", "src/auth.py:19-20")`)."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        "consumer: Cannot connect to amqp://guest:**@localhost:5672//: [Errno 111]\n",
        "Cannot connect to postgresql://app:**@db:5432/app: connection failed\n",
        'url = "redis://:*@cache:6379/0"\n',
        "signing_key: keys/jwt_rs256.pem\n",
        'await repo.decide("verify_token", "src/auth.py:19-20")\n',
        'CLIENT_SECRET = "config/oauth/client_secret_2.json"\n',
    ],
)
def test_masked_passwords_and_paths_are_left(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    "text, secret",
    [
        ("amqp://guest:Xk9#mP2qL@localhost:5672//\n", "Xk9#mP2qL"),
        ('url = "redis://:a*@cache:6379/0"\n', "a*"),
        ('api_token = "ab12Cd/ef34.gh"\n', "ab12Cd/ef34.gh"),
        ('api_token = "qm7sVb2XkLp9Rt4WnZc8Yd3/Fg6Hj1Ka5Ue0.b64"\n', "Ue0.b64"),
        ("signing_key: keys/Jwt2024Rs256.pem\n", "Jwt2024Rs256"),
    ],
)
def test_random_values_in_those_places_are_still_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text).text, text


@pytest.mark.parametrize(
    "text, secret",
    [
        ("git remote add origin https://u:p1@x.io/acme/app.git\n", "p1"),
        ('url = "redis://:42@cache:6379/0"\n', "42"),
        ("DATABASE_URL=postgres://root:k@db:5432/app\n", "k"),
    ],
)
def test_a_url_password_of_one_or_two_characters_is_hidden(text: str, secret: str) -> None:
    """A short password is still one (a dev database's, a local cache's): no length lets it
    out. The six benchmark repositories and site-packages hold no URL password of 1-3
    characters, so this costs their code nothing; docs' stand-ins are placeholders (below)."""
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "https://user:pass@proxy.example.com:8080\n",
        "the cache at redis://:pw@cache:6379 is local\n",
        "amqp://guest:**@localhost:5672//\n",
    ],
)
def test_a_short_url_placeholder_or_mask_is_left(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
