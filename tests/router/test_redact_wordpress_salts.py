"""WordPress's keys and salts outside wp-config.php (itself a secret file, never indexed): the
salts API's define() lines pasted into docs and plugins, Bedrock's .env, the official image's
`WORDPRESS_*_SALT` in a compose file, a deploy script's `wp config set`. Each value is 64
random characters with symbols and spaces; before, a salt's name (AUTH_SALT...) named no
secret, and a key's value with a space in it was kept outside define().

The eight are made and copied together: salts are looked for where one of the keys is named
(a pass over every other text spared). Values are generated at run time from a seeded RNG, so
this file holds no literal secret."""

from __future__ import annotations

import random

import pytest

from ocp_router.redact import named_values, redact

NAMES = (
    "AUTH_KEY",
    "SECURE_AUTH_KEY",
    "LOGGED_IN_KEY",
    "NONCE_KEY",
    "AUTH_SALT",
    "SECURE_AUTH_SALT",
    "LOGGED_IN_SALT",
    "NONCE_SALT",
)
_ALPHABET = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!@#$%^&*()-_ []{}<>~`+=,.;:/?|"
)


def _values(seed: int, spaces: bool = True) -> list[str]:
    """Eight values as wp_generate_password(64, true, true) makes them (a space in each); or,
    for a value left unquoted, without the characters a shell or YAML reads."""
    rng = random.Random(seed)
    alphabet = _ALPHABET if spaces else _ALPHABET.translate(str.maketrans("", "", " `$#{}[]"))
    values = []
    for _ in NAMES:
        v = "".join(rng.choice(alphabet) for _ in range(64))
        values.append(v[:20] + " " + v[21:] if spaces else v)
    return values


def _salts_api(vs: list[str]) -> str:  # https://api.wordpress.org/secret-key/1.1/salt/
    return "".join(
        f"define('{n}',{' ' * (17 - len(n))}'{v}');\n" for n, v in zip(NAMES, vs, strict=True)
    )


def _bedrock_env(vs: list[str]) -> str:
    head = "DB_NAME='wp'\nWP_ENV='staging'\nWP_HOME='https://staging.acme.test'\n\n"
    return head + "".join(f"{n}='{v}'\n" for n, v in zip(NAMES, vs, strict=True))


def _compose(vs: list[str]) -> str:
    head = "services:\n  wordpress:\n    image: wordpress:6.5\n    environment:\n"
    return head + "".join(f"      WORDPRESS_{n}: '{v}'\n" for n, v in zip(NAMES, vs, strict=True))


def _compose_list(vs: list[str]) -> str:
    head = "services:\n  wordpress:\n    environment:\n"
    return head + "".join(f"      - WORDPRESS_{n}={v}\n" for n, v in zip(NAMES, vs, strict=True))


def _wp_cli(vs: list[str]) -> str:
    head = "#!/bin/sh\nset -e\nwp config set DB_HOST db.internal\n"
    return head + "".join(
        f"wp config set {n} '{v}' --type=constant\n" for n, v in zip(NAMES, vs, strict=True)
    )


def _php_array(vs: list[str]) -> str:
    body = "".join(f"    '{n}' => '{v}',\n" for n, v in zip(NAMES, vs, strict=True))
    return f"<?php\nreturn [\n{body}];\n"


@pytest.mark.parametrize(
    ("render", "spaces"),
    [
        (_salts_api, True),
        (_bedrock_env, True),
        (_compose, True),
        (_compose_list, False),  # unquoted: no space
        (_wp_cli, True),
        (_php_array, True),
    ],
)
def test_wordpress_keys_and_salts_are_redacted_wherever_they_are_copied(
    render: object, spaces: bool
) -> None:
    assert callable(render)
    values = _values(7, spaces)
    text = render(values)
    result = redact(text)
    assert sorted(text[r.start : r.end] for r in result.redactions) == sorted(values), result.text
    assert {r.kind for r in result.redactions} == {"generic_secret_assignment"}


def test_a_salt_in_a_chunk_of_its_own_is_hidden_by_the_files_named_values() -> None:
    # a search result cut from the file between the keys and the salts: the index hands its
    # redaction the values the whole file names (index/file_secrets.py)
    values = _values(11)
    whole = _salts_api(values)
    tail = whole[whole.index("define('AUTH_SALT'") :]
    result = redact(tail, named_values(whole))
    assert all(v not in result.text for v in values[4:]), result.text


@pytest.mark.parametrize(
    "text",
    [
        "".join(f"define( '{n}', 'put your unique phrase here' );\n" for n in NAMES),
        "".join(f"define('{n}', wp_generate_password(64, true, true));\n" for n in NAMES),
        "".join(f"{n}='generateme'\n" for n in NAMES),  # Bedrock's .env.example
        "".join(f"      WORDPRESS_{n}: ${{WORDPRESS_{n}}}\n" for n in NAMES),
        "".join(f"Config::define('{n}', env('{n}'));\n" for n in NAMES),
        "AUTH_KEY=${AUTH_KEY:-$(openssl rand -base64 48)}\nwp config shuffle-salts\n",
        # a password hash's salt is stored beside it, no secret
        "salt = bcrypt.gensalt()\nhashed = bcrypt.hashpw(password, salt)\n",
        "SALT = 'a8f5f167f44f4964e6c998dee827110c'\ncache_key = 'k'\n",
        "user.salt = 'Xq3;zH~p8:Lw!R%K#dN(F[v*OyC#=<M^J9?u-ck'\n",
    ],
)
def test_salt_placeholders_lookups_and_other_salts_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text


SALTS = NAMES[4:]


def _hex(seed: int) -> str:  # openssl rand -hex 32
    return random.Random(seed).randbytes(32).hex()


def _base64(seed: int) -> str:  # openssl rand -base64 48
    import base64

    return base64.b64encode(random.Random(seed).randbytes(48)).decode()


@pytest.mark.parametrize(
    "render",
    [
        lambda n, v: f"define('{n}',{' ' * (17 - len(n))}'{v}');\n",  # one line of the API's
        lambda n, v: f"define( '{n}', \"{v.replace('$', '%')}\" );\n",
        lambda n, v: f"{n}='{v}'\n",  # Bedrock's .env, the keys kept elsewhere
        lambda n, v: f"    environment:\n      WORDPRESS_{n}: '{v}'\n",
        lambda n, v: f"wp config set {n} '{v}' --type=constant\n",
        lambda n, v: f"    '{n}' => '{v}',\n",
    ],
)
def test_a_salt_without_its_keys_is_hidden_when_its_value_is_machine_made(
    render: object,
) -> None:
    # Before, the salts were looked for only in a text naming one of WordPress's keys: a salt
    # line pasted alone (or a chunk holding only the salts of a file never read whole) went out.
    assert callable(render)
    for n, v in zip(SALTS, _values(23), strict=False):
        text = render(n, v.replace("'", "~").replace('"', "~").replace("\\", "~"))
        result = redact(text)
        assert len(result.redactions) == 1, result.text
        assert "[REDACTED:generic_secret_assignment]" in result.text
        assert text[result.redactions[0].start : result.redactions[0].end] in text


@pytest.mark.parametrize("value", [_hex(5), _base64(5)])
@pytest.mark.parametrize("name", SALTS)
def test_a_salt_alone_made_by_openssl_is_hidden(name: str, value: str) -> None:
    for text in (f"{name}={value}\n", f"define('{name}', '{value}');\n"):
        result = redact(text)
        assert value not in result.text, result.text


@pytest.mark.parametrize(
    "text",
    [
        "define( 'AUTH_SALT', 'put your unique phrase here' );\n",
        "NONCE_SALT='generateme'\n",
        "LOGGED_IN_SALT=changeme\n",
        'SECURE_AUTH_SALT = "secure-auth-salt-for-the-tests"\n',
        "define('NONCE_SALT', wp_generate_password(64, true, true));\n",
        "auth_salt_length = 64\nnonce_salt_bytes = 32\n",
        # OAuth's, no WordPress salt: the rule reads the four names only
        f"oauth_salt = '{_hex(9)[:32]}'\n",
    ],
)
def test_a_salt_alone_that_is_no_machine_made_value_stays_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
