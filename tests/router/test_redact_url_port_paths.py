"""A URL with a port, then a path holding an `@` (`https://example.com:8080/users/@alice`,
a Mastodon handle, Vite's `/@vite/client`), was read as `user:password@host`: the port and the
path up to the `@` were redacted as a password. A port's digits followed by `/` open a path;
a password in user-info is still found, `/` in it included.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact


@pytest.mark.parametrize(
    "text",
    [
        "https://example.com:8080/users/@alice\n",
        "profile: https://mastodon.social:443/@alice\n",
        'fetch("http://localhost:5173/@vite/client")\n',
        "see https://gitlab.example.com:8443/group/@user/x for the page\n",
        "  url: http://10.0.0.5:9000/files/@latest/app.tar.gz\n",
    ],
)
def test_a_port_then_a_path_with_an_at_sign_is_left(text: str) -> None:
    assert redact(text).text == text


@pytest.mark.parametrize(
    "pw", ["Xk9#mQ2v" + "!Lp7", "4Kz9/" + "QpL2wT", "Zr8" + "%2FqL7m", "8080" + "abcXY7q"]
)
def test_a_password_in_user_info_is_still_redacted(pw: str) -> None:
    text = f"DATABASE_URL=postgres://app:{pw}@db.internal:5432/app\n"
    assert redact(text).text == text.replace(pw, marker("connection_string_password"))
