"""A PHP `define()` of a secret's constant (wp-config.php and the copies made of it) holds a
literal: a password there is one though it reads as a word (`plumtreewalk`), and WordPress's
keys (AUTH_KEY, LOGGED_IN_KEY, NONCE_KEY...) are 64 random characters that may hold spaces.
The sample file's placeholders and a lookup (`getenv('DB_PASSWORD')`) stay visible."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("define('DB_PASSWORD', 'plumtreewalk');\n", "plumtreewalk"),
        ("define( 'DB_PASSWORD', \"plumtreewalk\" );\n", "plumtreewalk"),
        ("<?php\ndefine('SMTP_PASS', 'silverlining');\n", "silverlining"),
        (
            "define( 'AUTH_KEY', 'G^&Ue|;T4+x:8]Zb Y!w@K3fR#q`9Lm<2dP/sV~' );\n",
            "G^&Ue|;T4+x:8]Zb Y!w@K3fR#q`9Lm<2dP/sV~",
        ),
        (
            "define( 'LOGGED_IN_KEY', 'k>9Fz=Q;uW|x2@Lm5 #pT!rB(7vN)cH' );\n",
            "k>9Fz=Q;uW|x2@Lm5 #pT!rB(7vN)cH",
        ),
        ("define('NONCE_KEY', 'aB3$dE6^gH9*jK2&mN5%pQ8!rS1');\n", "aB3$dE6^gH9*jK2&mN5%pQ8!rS1"),
    ],
)
def test_a_secret_in_a_php_define_is_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "define( 'AUTH_KEY',         'put your unique phrase here' );\n",
        "define( 'NONCE_KEY',        'put your unique phrase here' );\n",
        "define( 'DB_PASSWORD', 'password_here' );\n",
        "define('DB_PASSWORD', getenv('DB_PASSWORD'));\n",
        "define('DB_PASSWORD', $_ENV['DB_PASSWORD']);\n",
        "define('API_SECRET', 'your-secret');\n",
        "define('DB_PASSWORD', 'changeme');\n",
        "define('DB_PASSWORD', '');\n",
        "define('NONCE_KEY', 'nonce');\n",
        "$rules = array('password', 'required');\n",
    ],
)
def test_php_placeholders_lookups_and_code_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
