"""Values holding `;`, `@` and other symbols next to a secret's name.

- A URL's password with a raw `@` and a `;` (`postgres://app:P@ss;w0rd@db/x`): the password
  ends at the last `@` a host follows, as URL parsers split. Before, a host `ss` ended by `;`
  was read after the first `@`: a leet placeholder (`P@ss;w0rd`) had its `P` reported as a
  secret, and a real password (`p@ssw0rd;Kj8s2Lq`) lost only its first letter, the rest going
  out. JDBC's `://host:port;user=…;password=…` is no user:password@host at all.
- Leet placeholders with a `;` inside (`p4ss;w0rd`, `P@ss;w0rd!`) stay visible wherever a
  password would be hidden, and a real password around such a word is hidden whole.
- A secret or token a person chose with a symbol (`JWT_SECRET=kettle82#falcon2494`,
  `token: Ocean6389!`, `secret: "4qUy}P0,)h&^,S$x"`): before, only words and digits were
  taken for one (and a password manager's value needed 60% letters and digits), so about two
  in three went out; and a YAML value ending in `;` (`token: Marble1372;`) was read as code.

Values are assembled at run time from pieces, so this file holds no literal secret."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

AT_SEMI = "p@ssw0rd" + ";Kj8s2Lq"
AT_BANG = "P@ss" + "!Xk9"
PLACEHOLDERS = ("p4ss;w0rd", "P@ss;w0rd", "p@$$;w0rd", "P@ss;w0rd!", "s3cr3t;", "ch4ng3m3;")


@pytest.mark.parametrize("pw", [AT_SEMI, AT_BANG, "Xk9@mQ" + ";v2Lp"])
@pytest.mark.parametrize(
    "template",
    [
        "postgres://app:{pw}@db.internal:5432/shop\n",
        "redis://:{pw}@cache:6379/0\n",
        "DATABASE_URL=amqp://app:{pw}@mq:5672/\n",
    ],
)
def test_a_url_password_with_a_raw_at_and_semicolon_is_hidden_whole(template: str, pw: str) -> None:
    text = template.format(pw=pw)
    result = redact(text)
    assert len(result.redactions) == 1, result.text
    r = result.redactions[0]
    assert text[r.start : r.end] == pw
    assert r.kind == "connection_string_password"


@pytest.mark.parametrize("pw", PLACEHOLDERS)
@pytest.mark.parametrize(
    "template",
    [
        "postgres://app:{pw}@db:5432/app\n",
        "redis://:{pw}@cache:6379/0\n",
        "user:{pw}@tcp(db:3306)/app\n",
        "jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={pw};encrypt=true\n",
        "Server=db;Password={pw};Database=app\n",
        "DB_PASSWORD={pw}\n",
        'password = "{pw}"\n',
        "password: {pw}\n",
        "define('DB_PASSWORD', '{pw}');\n",
    ],
)
def test_a_leet_placeholder_with_a_semicolon_is_no_secret_anywhere(template: str, pw: str) -> None:
    text = template.format(pw=pw)
    assert redact(text).redactions == (), redact(text).text


def test_a_jdbc_url_keeps_its_host_and_hides_its_password_field() -> None:
    pw = "Xk9@mQ2" + ";v2Lp"
    text = f"jdbc:sqlserver://db:1433;databaseName=app;user=sa;password={pw};encrypt=true\n"
    result = redact(text)
    assert pw not in result.text and "v2Lp" not in result.text, result.text
    assert result.text.startswith("jdbc:sqlserver://db:1433;databaseName=app;user=sa;password=")


@pytest.mark.parametrize(
    "value",
    [
        "kettle82" + "#falcon2494",
        "Ocean" + "6389!",
        "raven70" + ";cedar177",
        "4qUy}P0" + ",)h&^,S$x",
    ],
)
@pytest.mark.parametrize(
    "template",
    [
        "JWT_SECRET={v}\n",
        "export API_TOKEN='{v}'\n",
        "config: token={v}\n",
        "slack:\n  token: {v}\n",
        "[auth]\nsecret = {v}\n",
        'session:\n  secret: "{v}"\n',
        'api_secret = "{v}"\n',
    ],
)
def test_a_secret_a_person_chose_with_a_symbol_is_hidden(template: str, value: str) -> None:
    text = template.format(v=value)
    result = redact(text)
    assert value not in result.text, result.text
    assert result.redactions and result.redactions[0].kind == "generic_secret_assignment"


@pytest.mark.parametrize("template", ["slack:\n  token: {v}\n", "password: {v}\n"])
def test_a_yaml_value_a_person_chose_ending_in_a_semicolon_is_hidden(template: str) -> None:
    value = "Marble" + "1372;"
    result = redact(template.format(v=value))
    assert "Marble1372" not in result.text, result.text


@pytest.mark.parametrize(
    "text",
    [
        # h11's token grammar: a character class, no secret
        'token = r"[-!#$%&\'*+.^_`|~0-9a-zA-Z]+"\n',
        'token_re = "(?P<token>\\\\w+)"\n',
        "TOKEN=v1.2.3\n",
        'secret = "secret1!"\n',
        "session:\n  secret: ${SESSION_SECRET}\n",
        "class A {\n  password: hashed1;\n}\n",
        "interface Creds {\n  token: string;\n}\n",
        # a URL whose host a ';' ends, and a list of URLs
        "export DATABASE_URL=postgres://app:@db; run\n",
    ],
)
def test_symbols_that_make_no_chosen_secret_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text
