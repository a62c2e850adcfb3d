"""HTTP credentials (bearer tokens, basic auth) and connection strings and DSNs lose their secret
and keep the header name, user and host."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact
from tests.router.fake_secrets import JWT, PASSWORD, TOKEN_40_HEX, assert_redacted, assert_untouched
from tests.router.token_text import B64, URLSAFE, fake


def test_a_curl_command_loses_its_bearer_token_and_keeps_the_header_name() -> None:
    token = fake(40, URLSAFE, 80)
    text = f'curl -s -H "Authorization: Bearer {token}" -H "Accept: application/json" https://api.acme.dev/v1/me'
    result = redact(text)
    assert result.text == (
        'curl -s -H "Authorization: Bearer [REDACTED:bearer_token]" '
        '-H "Accept: application/json" https://api.acme.dev/v1/me'
    )


def test_a_bearer_jwt_is_one_redaction_of_the_more_specific_kind() -> None:
    text = f"headers = {{'Authorization': 'Bearer {JWT}'}}"
    result = redact(text)
    assert result.text == "headers = {'Authorization': 'Bearer [REDACTED:jwt]'}"
    assert len(result.redactions) == 1


def test_an_authorization_token_header_in_a_log_line_is_redacted() -> None:
    text = f"2024-05-01 12:00:00,113 DEBUG > Authorization: Token {TOKEN_40_HEX}\n"
    assert_redacted(text, TOKEN_40_HEX, "bearer_token")


def test_basic_auth_credentials_are_redacted_and_the_curl_user_is_kept() -> None:
    creds = "YWRtaW46" + fake(16, B64, 81) + "=="
    result = redact(
        f"Authorization: Basic {creds}\ncurl -u deploy:{PASSWORD} https://ci.acme.dev\n"
    )
    assert result.text == (
        "Authorization: Basic [REDACTED:basic_auth]\n"
        "curl -u deploy:[REDACTED:basic_auth] https://ci.acme.dev\n"
    )


@pytest.mark.parametrize(
    "text",
    [
        'headers["Authorization"] = f"Bearer {token}"',
        'headers = {"Authorization": "Bearer " + access_token}',
        'curl -H "Authorization: Bearer $API_TOKEN" https://api.acme.dev',
        "curl -H 'Authorization: Bearer <token>' https://api.acme.dev",
        "Use the Bearer authentication scheme with an OAuth token.",
        'token = request.headers["Authorization"]',
        "auth = request.headers.get('Authorization', '')",
    ],
)
def test_authorization_headers_built_from_variables_are_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "postgres://user:k9pass@host",
            "postgres://user:[REDACTED:connection_string_password]@host",
        ),
        ("postgres://user:pass@host", "postgres://user:pass@host"),  # documentation's filler
        (
            f"DATABASE_URL=postgresql://app_rw:{PASSWORD}@db.internal:5432/app?sslmode=require",
            "DATABASE_URL=postgresql://app_rw:[REDACTED:connection_string_password]"
            "@db.internal:5432/app?sslmode=require",
        ),
        (
            f'MONGO_URI = "mongodb+srv://svc:{PASSWORD}@cluster0.ab1cd.mongodb.net/prod"',
            'MONGO_URI = "mongodb+srv://svc:[REDACTED:connection_string_password]'
            '@cluster0.ab1cd.mongodb.net/prod"',
        ),
        (
            "cache:\n  url: redis://:Zq8wV3tLp0@cache:6379/0\n",
            "cache:\n  url: redis://:[REDACTED:connection_string_password]@cache:6379/0\n",
        ),
        (
            "jdbc:mysql://db:3306/app?user=svc&password=Wq7zP2kL9x&useSSL=true",
            "jdbc:mysql://db:3306/app?user=svc&password=[REDACTED:connection_string_password]"
            "&useSSL=true",
        ),
        (
            "Server=tcp:db.acme.net,1433;Database=app;User Id=svc;Password=Wq7zP2kL9x!;",
            "Server=tcp:db.acme.net,1433;Database=app;User Id=svc;"
            "Password=[REDACTED:connection_string_password];",
        ),
        (
            "2024-05-01 WARN retrying amqp://worker:Wq7zP2kL9x@rabbit:5672/ in 5s",
            "2024-05-01 WARN retrying amqp://worker:[REDACTED:connection_string_password]"
            "@rabbit:5672/ in 5s",
        ),
    ],
)
def test_connection_strings_keep_the_user_and_host_and_lose_the_password(
    text: str, expected: str
) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        'url = f"postgres://{user}:{password}@{host}:5432/{db}"',
        "DATABASE_URL=postgres://app:${DB_PASSWORD}@db:5432/app",
        "postgres://app:<password>@localhost/app",
        "redis://cache:6379/0",
        "ssh://git@github.com/acme/app.git",
        "see http://localhost:8080/admin for the dashboard",
    ],
)
def test_connection_strings_without_a_literal_password_are_left_alone(text: str) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "db:\n  password: |\n    Winter2024x\n  host: db\n",
            "db:\n  password: |\n    [REDACTED:password_assignment]\n  host: db\n",
        ),
        (
            "auth:\n  api_token: >-\n    q8ZrT2mXv9LpK4sWc7YhN1jD5gF3aE6u\n",
            "auth:\n  api_token: >-\n    [REDACTED:generic_secret_assignment]\n",
        ),
        (
            '[database]\npassword = """\nWinter2024x\n"""\n',
            '[database]\npassword = """\n[REDACTED:password_assignment]\n"""\n',
        ),
        (
            "DB_PASSWORD = '''Winter2024x'''\n",
            "DB_PASSWORD = '''[REDACTED:password_assignment]'''\n",
        ),
    ],
)
def test_a_value_in_a_block_scalar_or_a_triple_quoted_string_is_redacted(
    text: str, expected: str
) -> None:
    # YAML's `password: |` puts the value on the next line; TOML and Python quote it thrice
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "password: |\n    Use the one from the vault, never a literal.\n",
        "script:\n  token: |\n    ${CI_JOB_TOKEN}\n",
        'HELP_PASSWORD = """\nThe password of the admin user.\n"""\n',
        'password = """"""\n',
    ],
)
def test_block_scalars_and_triple_quotes_holding_prose_or_references_are_left_alone(
    text: str,
) -> None:
    assert_untouched(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            'db, err := sql.Open("mysql", "root:Wq7zP2kL9x@tcp(127.0.0.1:3306)/app")',
            'db, err := sql.Open("mysql", "root:[REDACTED:connection_string_password]'
            '@tcp(127.0.0.1:3306)/app")',
        ),
        (
            "MYSQL_DSN=app:Winter2024x@unix(/var/run/mysqld/mysqld.sock)/app?parseTime=true",
            "MYSQL_DSN=app:[REDACTED:connection_string_password]"
            "@unix(/var/run/mysqld/mysqld.sock)/app?parseTime=true",
        ),
    ],
)
def test_a_go_mysql_dsn_loses_its_password(text: str, expected: str) -> None:
    # go-sql-driver/mysql's DSN has no scheme: user:password@tcp(host:port)/db
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        'dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", user, pass, host, db)',
        'dsn := "root:@tcp(127.0.0.1:3306)/app"',  # no password
        'cfg := "user:${DB_PASSWORD}@tcp(db:3306)/app"',
        "// connects as root@tcp(localhost)",
    ],
)
def test_a_go_dsn_without_a_literal_password_is_left_alone(text: str) -> None:
    assert_untouched(text)
