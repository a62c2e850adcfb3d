"""A secret's name in a list of strings (a lexer's keywords, a Literal's choices) is not paired
with the string after it: ("cache_mgr", "cachemgr_passwd", "cache_peer", ...) hid 'cache_peer'
as a password. In a list, the string after the name counts only when it is what a person
picks as a password or machine-made; a pair's value alone before ')' is judged as before."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        'KEYWORDS = ("cache_mgr", "cachemgr_passwd", "cache_peer", "cache_peer_access")\n',
        'KEYWORDS = (\n    "cache_mgr", "cachemgr_passwd", "cache_peer",\n'
        '    "cache_peer_access",\n)\n',
        'assessment: Optional[Literal["fail", "pass", "unknown", "warn"]] = None\n',
        "words = ['pwd', 're_syntax', 'read', 'refchan']\n",
        "_shortened_many('pwd$', 're$read', 'res$et')\n",
    ],
)
def test_a_name_in_a_list_of_strings_is_left(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    "text, secret",
    [
        ('r.hset("user:1", "password", "Xk9mQ2vLp8", "host", "db")\n', "Xk9mQ2vLp8"),
        ('args = ["password", "Amber123!", "user", "app"]\n', "Amber123!"),
        ('os.environ.setdefault("DB_PASSWORD", "jpoKfCiSxxg")\n', "jpoKfCiSxxg"),
        ('config.set("db", "password", "tiger42")\n', "tiger42"),
    ],
)
def test_a_password_paired_with_its_name_is_still_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text).text, text
