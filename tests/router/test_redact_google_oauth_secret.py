"""A Google OAuth client secret (GOCSPX- and 28 URL-safe characters) is one whatever its body
reads as: no identifier starts with that prefix, so only filler (GOCSPX-xxxx…) is left. The
word test the shorter prefixes need (`ya29.`) missed one secret in a few hundred whose body
happened to read as words (`…ODNORCEowAunZ0HNmo`).

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

PREFIX = "GOCSPX" + "-"


@pytest.mark.parametrize(
    "body",
    ["41GmOmmaxyODNORCEowAunZ0HNmo", "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj"],
)
def test_a_client_secret_is_redacted_whatever_its_body_reads_as(body: str) -> None:
    secret = PREFIX + body
    out = redact(f'flow = Flow.from_client_config(cfg, "{secret}")\n').text
    assert secret not in out
    assert marker("google_oauth") in out, out


@pytest.mark.parametrize("body", ["x" * 28, "X" * 28, "0" * 28, "abcdefghijklmnopqrstuvwxyz12"])
def test_a_filler_client_secret_is_left(body: str) -> None:
    text = f'client_secret_hint = "{PREFIX}{body}"\n'
    assert marker("google_oauth") not in redact(text).text
