"""Secrets written in prose: passwords a person chose, keys quoted in sentences, notes of
credentials and logins, and values a note says were set; the sentences about them without one
are left alone."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact
from tests.router.fake_secrets import HEX32, MADE, assert_redacted, assert_untouched


@pytest.mark.parametrize(
    "text",
    [
        "why: password=Hunter2Secret!x",
        "a password=Hunter2Secret!x",
        "password = Hunter2Secret!x;",
        "db_password = Winter2024#Sales",
    ],
)
def test_a_chosen_password_written_bare_after_other_words_is_redacted(text: str) -> None:
    # a digit and a symbol inside: no expression of names looks like that, a password does
    result = redact(text)
    assert [r.kind for r in result.redactions] == ["password_assignment"], result.text


@pytest.mark.parametrize(
    "text",
    ["pw = ConvertTo-SecureString", "password = a-b", "password = base64-2", "password = x!"],
)
def test_an_expression_of_names_after_a_password_name_is_still_left_alone(text: str) -> None:
    assert redact(text).redactions == ()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("The staging API key is 7f3a9c2e81b4d6f0a5e3c7b9d2f1e8a4 until Friday.", None),
        ("the api key for staging is 7f3a9c2e81b4d6f0a5e3c7b9d2f1e8a4", None),
        (f"Our deploy token was {MADE}, ask ops for the new one.", MADE),
        (f"note: the client secret is '{MADE}'", MADE),
        (f"the access token should be {MADE}.", MADE),
        (f"the key is {MADE}", MADE),
        ("api_key 7f3a9c2e81b4d6f0a5e3c7b9d2f1e8a4", None),  # a name, a space, a value
        (f"X-Api-Key {MADE}", MADE),
    ],
)
def test_a_key_token_or_secret_quoted_in_a_sentence_is_redacted(
    text: str, secret: str | None
) -> None:
    secret = secret or "7f3a9c2e81b4d6f0a5e3c7b9d2f1e8a4"
    assert_redacted(text, secret, "generic_secret_assignment")


@pytest.mark.parametrize(
    "text",
    [
        "the token is expired",
        "The key is unique per tenant.",
        "the sort key is created_at_2024_index",
        "the cache key is 9f86d081884c7d659a2feaa0c55ad015",  # a digest, under any key's name
        "the cache key is user:1234:profile:abcdef",
        "the secret is config.api_secret_value",
        "the key is settings.API_KEY_2",
        "the token is getToken(user2, scope)",
        "the token is <your-token-here-123456>",
        "the commit is 9f86d081884c7d659a2feaa0c55ad015",
        "cache_key 9f86d081884c7d659a2feaa0c55ad015",
        "token tokenizerConfigurationValue",
    ],
)
def test_a_sentence_about_a_key_or_token_without_a_machine_made_value_is_left_alone(
    text: str,
) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    "text",
    [
        "password for staging: Xk9vQ2!mP",
        "the password for the staging db: Xk9vQ2!mP",
        "the password for the db at db.internal:5432 is Xk9vQ2!mP",
    ],
)
def test_a_password_named_for_something_in_a_sentence_is_redacted(text: str) -> None:
    assert_redacted(text, "Xk9vQ2!mP", "password_assignment")


@pytest.mark.parametrize(
    "text",
    ["the password for the user: see the vault", "password for this account: changeme"],
)
def test_a_sentence_about_a_password_for_something_without_one_is_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("password Winter2024!", "Winter2024!"),  # the word, a space, a chosen password
        ("user admin, password Hunter2#42", "Hunter2#42"),
        ("ssh in as root with password Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("- staging password: Winter2024!", "Winter2024!"),  # a colon after other words
        ("username: admin password: Hunter2#42", "Hunter2#42"),
        ("Note: the admin password is now Winter2024! (changed today)", "Winter2024!"),
        ("Reset the admin password to Hunter2#42 and told Bob.", "Hunter2#42"),
        ("changed the db password to Blue-Falcon-77", "Blue-Falcon-77"),
        ("I set the Redis password to Tr0ub4dor&3.", "Tr0ub4dor&3"),
        ("Set DB_PASSWORD to Hunter2#42 on staging", "Hunter2#42"),
        ("user admin, password NdUM3etViY9M for the demo", "NdUM3etViY9M"),  # no symbol
        ("Set DB_PASSWORD to $s+O6i%$d@n0Rz on staging", "$s+O6i%$d@n0Rz"),  # not a $VAR
        ("Reset the admin password to Amber123. today", "Amber123."),
    ],
)
def test_a_password_a_person_chose_written_in_a_note_is_redacted(text: str, secret: str) -> None:
    assert_redacted(text, secret, "password_assignment")


@pytest.mark.parametrize(
    "text",
    [
        "password Winter is coming",
        "password field is hidden",
        "password hashing uses Argon2id",
        "password policy: min 12, upper, digit",
        "moved the password to 1Password",
        "Set the minimum password length to 128",
        "reset the password to the default",
        "Changed password to required in the schema",
        "I set the Redis password to the one in .env.",
        "docs: the 'password' parameter is deprecated",
        "def connect(user: str, password: str) -> None:",
        "new password: see the vault",
        "login(user, password: pw_input.value)",
        "db_password is None",
        "password $DB_PASSWORD",
        "Set DB_PASSWORD to ${PGPASSWORD} on staging",
        "password Argon2id",
        "upgrade the password to Django5",
    ],
)
def test_a_note_about_a_password_without_one_is_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (f"Set MY_SERVICE_TOKEN to {HEX32}", HEX32),
        (f"set GITHUB_TOKEN to {MADE} in the CI settings", MADE),
        (f"The secret for the webhook is {HEX32}.", HEX32),
        (f"the webhook secret ({HEX32}) is in vault", HEX32),
        (f"Auth token ({MADE}) expires in 30 days", MADE),
        (f"Use API key `{MADE}` in the header.", MADE),
        (f"the signing key {HEX32} is in the 1password vault", HEX32),
        (f"api token: {HEX32}", HEX32),
        (f"- prod webhook secret: {MADE}", MADE),
    ],
)
def test_a_machine_made_secret_named_in_a_note_is_redacted(text: str, secret: str) -> None:
    assert_redacted(text, secret, "generic_secret_assignment")


@pytest.mark.parametrize(
    "text",
    [
        "Set MY_SERVICE_TOKEN to the value from 1Password",
        "set the token to null after logout",
        "the webhook secret (stored in vault) is rotated monthly",
        "the secret (SECRET_KEY) is in vault",
        "The key (sort_key) is indexed",
        f"the cache key ({HEX32}) is stale",
        f"the commit key {HEX32} is stale",
        "Use key `id` for the lookup",
        "api token: see the vault",
        "  token: Optional[str] = None",
        "The secret for the webhook is rotated monthly.",
        "def refresh(token: str) -> str:",
    ],
)
def test_a_note_about_a_secret_without_a_machine_made_value_is_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("DB creds are admin / S3cr3t!Pass", "S3cr3t!Pass"),
        ("creds: deploy / Hunter2#42", "Hunter2#42"),
        ("staging credentials are deploy:Hunter2#42", "Hunter2#42"),
        ("Credentials for the CI bot: ci / Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("creds for the test tenant: qa-bot / Blue-Falcon-77", "Blue-Falcon-77"),
    ],
)
def test_a_user_and_chosen_password_after_creds_is_redacted(text: str, secret: str) -> None:
    result = assert_redacted(text, secret, "password_assignment")
    assert text.split(secret)[0] in result.text  # the user is kept


@pytest.mark.parametrize(
    "text",
    [
        "login with admin:admin is disabled",
        "DB creds are in the vault / ask ops",
        "login at 10:30 tomorrow",
        "login with user:password@host syntax",
        "credentials: client_id/client_secret",
        "login via https://sso.example.com/a1b2c3!",
        "credentials are read from ~/.aws/credentials",
        "login(user, pw)",
        "creds = load_creds(path)",
    ],
)
def test_words_about_creds_or_login_without_a_password_are_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("login with admin:Xk9#mP2qL", "Xk9#mP2qL"),
        ("sign in with ops / 0ps#Team9", "0ps#Team9"),
        ("log in as deploy:D3ploy#Now, then run the migration", "D3ploy#Now"),
        ("Login: admin / Tr0ub4dor&3", "Tr0ub4dor&3"),
    ],
)
def test_a_user_and_chosen_password_after_login_is_redacted(text: str, secret: str) -> None:
    result = assert_redacted(text, secret, "password_assignment")
    assert text.split(secret)[0] in result.text  # the user is kept


@pytest.mark.parametrize(
    "text",
    [
        "sign in with Google:OAuth2 flow",
        "login with email:password form",
        "the catalog in use: a/B2#x",  # "log in" inside a word
        "log in as root, then run sudo",
        "user_login = login(user, pw)",
    ],
)
def test_words_about_signing_in_without_a_password_are_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("logged in as deploy:Hunter2!x", "Hunter2!x"),
        ("signed in with ops / S3cr3t-pa55", "S3cr3t-pa55"),
        ("Logged in to staging as admin:Xk9#mP2qL and ran the migration", "Xk9#mP2qL"),
        ("Signed in as qa-bot / Blue-Falcon-77.", "Blue-Falcon-77"),
        ("Log in: admin / Tr0ub4dor&3", "Tr0ub4dor&3"),
    ],
)
def test_a_user_and_chosen_password_after_a_past_sign_in_is_redacted(
    text: str, secret: str
) -> None:
    result = assert_redacted(text, secret, "password_assignment")
    assert text.split(secret)[0] in result.text  # the user is kept


@pytest.mark.parametrize(
    "text",
    [
        "logged in as root, then ran sudo",
        "signed in with Google:OAuth2 flow",
        "logged in with email:password form",
        "the blogged in: a/B2#x post",  # "logged in" inside a word
        "redesigned in v2: a/B2#x",  # "signed in" inside a word
        "user_logged in as admin:Xk9#mP2qL",  # a name, not the verb
        "logged in as admin:admin",
        "signed in at 10:30 today",
    ],
)
def test_words_about_having_signed_in_without_a_password_are_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        ("the DB password was set to Winter2024!", "Winter2024!", "password_assignment"),
        (
            "the password has been changed to Blue-Falcon-77",
            "Blue-Falcon-77",
            "password_assignment",
        ),
        (f"API_TOKEN was set to {HEX32}", HEX32, "generic_secret_assignment"),
        (f"The Jenkins API token was set to {HEX32}.", HEX32, "generic_secret_assignment"),
        (f"the API key has been rotated to {MADE}", MADE, "generic_secret_assignment"),
    ],
)
def test_a_secret_a_note_says_was_set_to_is_redacted(text: str, secret: str, kind: str) -> None:
    assert_redacted(text, secret, kind)


@pytest.mark.parametrize(
    "text",
    [
        "the password was set to the default",
        "The token was set to expire after 1h",
        f"the cache key was set to {HEX32}",
        "password has been changed to required",
    ],
)
def test_a_note_that_something_was_set_without_a_secret_is_left_alone(text: str) -> None:
    assert_untouched(text)
