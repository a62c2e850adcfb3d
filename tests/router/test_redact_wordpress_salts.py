"""WordPress's keys and salts outside wp-config.php (itself a secret file, never indexed): the
salts API's define() lines pasted into docs and plugins, Bedrock's .env, the official image's
`WORDPRESS_AUTH_SALT` in a compose file, a deploy script's `wp config set`. Each value is 64
random characters with symbols and spaces; before, a salt's name (AUTH_SALT...) named no
secret, and a key's value with a space in it was kept outside define().

Values are assembled at run time from pieces, so this file holds no literal secret."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

# as wp_generate_password(64, true, true) makes them
SALT = "Xq3;zH~p8:Lw!R%K#dN(F[v*Oy" + "C#=<M^J9?u-ck+@TbE)f S/W$a|7Gj2mY&hP_Q"
UNSPACED = SALT.replace(" ", "")  # a .env value unquoted
KEY = "k>9Fz=Q;uW|x2@Lm5 #pT!rB(7vN)" + "cH8a]J{w$3e-Y+gD<tV0?oM*qZ&sE_Xr"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        # the salts API's output, pasted into a plugin's install docs
        (f"define('AUTH_SALT',        '{SALT}');\n", SALT),
        (f"define( 'SECURE_AUTH_SALT', '{SALT}' );\n", SALT),
        (f"define('LOGGED_IN_SALT',   '{SALT}');\n", SALT),
        (f"define('NONCE_SALT',       '{SALT}');\n", SALT),
        # Bedrock's .env
        (f"WP_HOME='https://acme.test'\nAUTH_SALT='{SALT}'\n", SALT),
        (f"LOGGED_IN_KEY='{KEY}'\n", KEY),
        (f'export NONCE_SALT="{SALT}"\n', SALT),
        # the official image's settings in a compose file
        (f"    environment:\n      WORDPRESS_AUTH_SALT: '{SALT}'\n", SALT),
        (f"    environment:\n      WORDPRESS_NONCE_KEY: '{KEY}'\n", KEY),
        (f"      - WORDPRESS_SECURE_AUTH_SALT={UNSPACED}\n", UNSPACED),
        # a deploy script
        (f"wp config set AUTH_SALT '{SALT}' --type=constant\n", SALT),
        # a PHP array of them
        (f"    'auth_salt' => '{SALT}',\n", SALT),
        (f'{{"NONCE_SALT": "{SALT}"}}\n', SALT),
    ],
)
def test_a_wordpress_key_or_salt_is_redacted_wherever_it_is_copied(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text
    assert result.redactions[0].kind == "generic_secret_assignment"


@pytest.mark.parametrize(
    "text",
    [
        "define( 'AUTH_SALT',        'put your unique phrase here' );\n",
        "define('NONCE_SALT', wp_generate_password(64, true, true));\n",
        "AUTH_SALT='generateme'\n",  # Bedrock's .env.example
        "      WORDPRESS_AUTH_SALT: ${WORDPRESS_AUTH_SALT}\n",
        "AUTH_SALT=${AUTH_SALT:-$(openssl rand -base64 48)}\n",
        "$salt = wp_salt('auth');\n",
        "'auth_salt' => $this->auth_salt,\n",
        'wp config set AUTH_SALT "$(openssl rand -base64 48)"\n',
        # a password hash's salt is stored beside it, no secret
        "salt = bcrypt.gensalt()\n",
        "SALT = 'a8f5f167f44f4964e6c998dee827110c'\n",
        "user.salt = 'Xq3;zH~p8:Lw!R%K#dN(F[v*OyC#=<M^J9?u-ck'\n",
    ],
)
def test_salt_placeholders_lookups_and_other_salts_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
