"""A template in a URL's password position (a Jinja, Helm or Ansible `{{ password }}`, a
shell `${…}` or `$VAR`, Python's `%(name)s`, a doc's `<password>`) stands for a password and
is left, with the rest of its line: `{{ password }}@db.internal:5432/app` read as the prose
"password X", and everything after the field's name up to the closing quote was redacted.
A real password next to such a template is still found, and so is one between a templated
user and a templated host (`postgres://{{ user }}:<password>@{{ host }}/app`), which the rule
missed: it took only a literal user and a literal host (and, later, Python's `{host}`, ERB's
`<%= host %>` and Ruby's `#{host}`).

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

TEMPLATES = [
    "{{ password }}",
    "{{password}}",
    "{{ .Values.db.password }}",
    "{{- .Values.password -}}",
    "{{ .Values.postgresql.auth.password | quote }}",
    "{{ password | urlencode }}",
    "${password}",
    "${DB_PASSWORD}",
    "$DB_PASSWORD",
    "%(password)s",
    "<password>",
    "<%= password %>",
]
URLS = [
    "postgres://app:{pw}@db.internal:5432/app",
    'DATABASE_URL="postgres://app:{pw}@db.internal:5432/app" # the app\'s database\n',
    'database_url: "postgres://app:{pw}@db.internal:5432/app"\n',
    "  url: mysql://root:{pw}@db.internal:3306/app?charset=utf8 from the chart\n",
    "REDIS_URL=redis://default:{pw}@cache.internal:6379/0\n",
    "broker_url = 'amqp://guest:{pw}@rabbit.internal:5672/vhost', other = 1\n",
    "MONGO_URI=mongodb+srv://admin:{pw}@cluster0.abcde.mongodb.net/db?retryWrites=true\n",
    "jdbc:postgresql://db.internal:5432/app?user=app&password={pw}&ssl=true\n",
    "Server=db.internal;User Id=app;Password={pw};Database=app\n",
    "DB_PASSWORD={pw}\n",
    'password: "{pw}"\n',
]


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("template", TEMPLATES)
def test_a_template_in_a_password_position_is_left_with_its_line(url: str, template: str) -> None:
    text = url.replace("{pw}", template)
    assert redact(text).text == text


def test_a_template_named_password_leaves_the_prose_after_it() -> None:
    text = "the password {{ password }} is set by helm at deploy time\n"
    assert redact(text).text == text


def test_a_real_password_beside_templates_is_still_redacted() -> None:
    pw = "Xk9#mQ2v" + "!Lp7"
    for text in [
        f"primary: postgres://app:{pw}@db.internal:5432/app replica: {{{{ replica_url }}}}\n",
        f"DB_PASSWORD={{{{ password }}}}\nBACKUP_DB_PASSWORD={pw}\n",
        f"url: postgres://app:{{{{ password }}}}@db/app  # the password is {pw}\n",
    ]:
        out = redact(text).text
        assert pw not in out, out
        assert marker("connection_string_password") in out or marker("password_assignment") in out


USER_TEMPLATES = ["{{ user }}", "{{user}}", "{{ .Values.db.user }}", "${DB_USER}", "$USER"]
USER_TEMPLATES += ["%(user)s", "<user>", "{user}", "{cfg.user}", "<%= user %>", "#{user}"]
HOST_TEMPLATES = ["{{ host }}", "{{host}}", "${DB_HOST}", "$DB_HOST", "%(host)s", "<host>"]
HOST_TEMPLATES += ["{{ host }}:{{ port }}", "${DB_HOST}:${DB_PORT}", "<host>:5432"]
# Python's str.format and f-strings, ERB, Ruby: the host was read only as a literal or the
# templates above, so a password before `@{host}` was left
HOST_TEMPLATES += ["{host}", "{host}:{port}", "{cfg.host}", "<%= host %>", "#{host}"]
SCHEMES = ["postgres", "postgresql", "mysql", "redis", "rediss", "amqp", "mongodb+srv"]


@pytest.mark.parametrize("scheme", SCHEMES)
@pytest.mark.parametrize("host", [*HOST_TEMPLATES, "db.internal"])
@pytest.mark.parametrize("user", [*USER_TEMPLATES, "app"])
def test_a_real_password_between_a_templated_user_and_host_is_redacted(
    scheme: str, host: str, user: str
) -> None:
    pw = "Xk9#mQ2v" + "!Lp7"
    text = f'  url: "{scheme}://{user}:{pw}@{host}/app"\n'
    out = redact(text).text
    assert pw not in out, out
    assert out == text.replace(pw, marker("connection_string_password"))


@pytest.mark.parametrize("host", HOST_TEMPLATES[::2])
@pytest.mark.parametrize("user", USER_TEMPLATES[::2])
@pytest.mark.parametrize("template", TEMPLATES)
def test_a_templated_password_between_a_templated_user_and_host_is_left(
    template: str, host: str, user: str
) -> None:
    text = f"DATABASE_URL=postgres://{user}:{template}@{host}/app\n"
    assert redact(text).text == text


def test_templated_urls_without_a_password_are_left() -> None:
    for text in [
        "ssh://{{ user }}@{{ host }}:{{ port }}/srv/app\n",
        "git clone https://{{ host }}:8443/{{ group }}/app.git\n",
        "url: https://${HOST}:${PORT}/api/v1/users/{{ id }}@{{ domain }}\n",
        "postgres://{{ user }}@{{ host }}/app\n",
        "http://<host>:<port>/path\n",
        "redis://:{{ password }}@{{ host }}:6379/0\n",
    ]:
        assert redact(text).text == text, text
