"""A corpus of secrets in the formats people actually write them in, for measuring redaction.

`FORMATS` holds one entry per format (a template with `{s}` where the secret goes, and a
generator of secrets of that shape); `PASSWORD_CONTEXTS` is the subset where the secret is a
password a person chose, tried with `passwords(n)`: generated passwords of six styles (random
printable, random alphanumeric, identifier-like letters, memorable words with digits,
passphrases, machine hex/base64). Every secret is generated from a seeded RNG at run time:
nothing here is a real credential, and the source holds no literal token.

A sample is recalled when every occurrence of its secret lies inside redacted spans (a
partly redacted secret counts as a miss: `P@ss#word` redacted up to the `#` leaks the rest).
"""

from __future__ import annotations

import base64
import html
import json
import random
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from urllib.parse import quote

from ocp_router.redact import RedactionResult, redact

Gen = Callable[[random.Random], str]

ALNUM = string.ascii_letters + string.digits
UPPER_DIGITS = string.ascii_uppercase + string.digits
HEX = "0123456789abcdef"
URLSAFE = ALNUM + "-_"
B64 = ALNUM + "+/"
# Symbols people put in passwords; quotes, backslashes and spaces are left out (every format
# would need its own escaping for them).
SYMBOLS = "!@#$%^&*()-_=+[]{};:,.<>?/~|"
WORDS = """amber anchor apple autumn badger banjo beacon canyon cedar cobalt comet coral
dragon ember falcon fern forest galaxy garnet glacier harbor hazel indigo island jasper
kettle lantern lemon maple marble meadow nectar nickel ocean onyx orbit pepper pixel
quartz raven river saffron silver spruce summer tiger timber tulip velvet walnut willow
winter zephyr""".split()


def chars(alphabet: str, n: int) -> Gen:
    return lambda rng: "".join(rng.choice(alphabet) for _ in range(n))


def mixed(alphabet: str, n: int) -> Gen:
    """Random characters with a lower, an upper and a digit where the alphabet has them (a
    token without them looks like a word and is not what services issue)."""

    def gen(rng: random.Random) -> str:
        while True:
            s = "".join(rng.choice(alphabet) for _ in range(n))
            classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
            if all(not set(c) & set(alphabet) or set(c) & set(s) for c in classes):
                return s

    return gen


def prefixed(prefix: str, body: Gen) -> Gen:
    return lambda rng: prefix + body(rng)


# ---- passwords -------------------------------------------------------------------------------


def password(rng: random.Random) -> str:
    """One password in one of six styles, chosen at random."""
    style = rng.randrange(6)
    n = rng.randint(10, 24)
    if style == 0:  # a password manager's, with symbols
        return mixed(ALNUM + SYMBOLS, n)(rng)
    if style == 1:  # random letters and digits
        return mixed(ALNUM, n)(rng)
    if style == 2:  # letters only: looks like an identifier
        letters = string.ascii_letters if rng.random() < 0.5 else string.ascii_lowercase
        return "".join(rng.choice(letters) for _ in range(rng.randint(8, 16)))
    if style == 3:  # memorable: Word + digits + symbol
        word = rng.choice(WORDS).capitalize()
        return f"{word}{rng.randint(1, 9999)}{rng.choice('!@#$%&*?.')}"
    if style == 4:  # a passphrase
        sep = rng.choice("-_.")
        return sep.join(rng.choice(WORDS) for _ in range(rng.randint(3, 5)))
    return (  # openssl rand -hex / -base64
        chars(HEX, 32)(rng) if rng.random() < 0.5 else base64.b64encode(rng.randbytes(18)).decode()
    )


def chosen(rng: random.Random) -> str:
    """A password a person chose for a note: a password manager's or Word1234! (the styles
    a sentence can be told to hold; an identifier-like or all-words one reads as prose)."""
    if rng.random() < 0.5:
        return mixed(ALNUM + SYMBOLS, rng.randint(10, 24))(rng)
    return f"{rng.choice(WORDS).capitalize()}{rng.randint(1, 9999)}{rng.choice('!@#$%&*?.')}"


def passwords(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(f"passwords:{seed}")
    return [password(rng) for _ in range(n)]


# ---- how a context writes a value ------------------------------------------------------------

_SHELL_SPECIAL = set("$!&;()<>|*?[]{}~#`^")
_YAML_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def shell(v: str) -> str:
    """As a person types it in a shell: single-quoted when the shell would interpret it."""
    return f"'{v}'" if _SHELL_SPECIAL & set(v) else v


def yaml_scalar(v: str) -> str:
    """A YAML plain scalar when it can be one, else double-quoted."""
    if v[0] in _YAML_INDICATORS or ": " in v or " #" in v or v.endswith(":"):
        return json.dumps(v)
    return v


def url_part(v: str) -> str:
    """Percent-encoded as URL user-info requires, except `#`, which people paste raw."""
    return quote(v, safe="!#$&'()*+,;=-._~")


def query_value(v: str) -> str:
    """A URL query parameter's value: fully percent-encoded."""
    return quote(v, safe="")


def xml_text(v: str) -> str:
    """Escaped as XML requires in text and attribute values."""
    return html.escape(v, quote=True)


def no(chars_: str) -> Callable[[str], str]:
    """Leaves out characters the format cannot hold unescaped (pgpass's ':', ADO's ';')."""
    return lambda v: "".join(c if c not in chars_ else "x" for c in v)


def same(v: str) -> str:
    return v


def shell_word(v: str) -> str:
    """As a person writes it unquoted in a shell, the characters the shell would read left
    out (D1@rY@4!Nm -> D1@rY@4Nm)."""
    return "".join(c for c in v if c not in _SHELL_SPECIAL)


def make_recipe(v: str) -> str:
    """In a Makefile's recipe: `$` doubled for make, then quoted for the shell."""
    return shell(v.replace("$", "$$"))


def cmd_arg(v: str) -> str:
    """As typed in Windows' cmd: double-quoted when cmd would interpret it (or when it starts
    with `/` or `*`, which `net use` reads as a switch or as "ask")."""
    return f'"{v}"' if set(v) & set("&|<>^%") or v[0] in "/*" else v


def oracle(v: str) -> str:
    """SQL*Plus's `user/X`: double-quoted unless Oracle reads it as a name (a letter, then
    letters, digits, `_`, `$`, `#`), as Oracle's documentation asks."""
    ok = v[0].isascii() and v[0].isalpha() and all(c.isalnum() or c in "_$#" for c in v)
    return v if ok else f'"{v}"'


@dataclass(frozen=True, slots=True)
class Format:
    name: str
    template: str
    secret: Gen = password
    render: Callable[[str], str] = same  # how the format writes the secret

    def sample(self, rng: random.Random) -> tuple[str, str]:
        """(text, secret as it appears in the text)."""
        written = self.render(self.secret(rng))
        return self.template.replace("{s}", written), written.strip("'\"")

    def with_secret(self, secret: str) -> tuple[str, str]:
        written = self.render(secret)
        return self.template.replace("{s}", written), written.strip("'\"")


def covered(text: str, secret: str, result: RedactionResult) -> bool:
    """Every occurrence of `secret` in `text` lies inside redacted spans."""
    spans = [(r.start, r.end) for r in result.redactions]
    i = text.find(secret)
    if i < 0:
        raise ValueError(f"the secret is not in the text: {secret!r} / {text!r}")
    while i >= 0:
        start, end = i, i + len(secret)
        pos = start
        for s, e in sorted(spans):
            if s <= pos < e:
                pos = e
        if pos < end:
            return False
        i = text.find(secret, i + 1)
    return True


def recalled(text: str, secret: str) -> bool:
    return covered(text, secret, redact(text))


# ---- the formats -----------------------------------------------------------------------------

PASSWORD_CONTEXTS: tuple[Format, ...] = (
    Format("yaml", "database:\n  host: db.internal\n  password: {s}\n", render=yaml_scalar),
    Format("yaml_quoted", 'database:\n  password: "{s}"\n'),
    Format("cli_flag", "mysqladmin --user root --password {s} status\n", render=shell),
    Format("cli_flag_eq", "pg_dump --password={s} app > dump.sql\n", render=shell),
    Format("dotenv", "DB_HOST=db.internal\nDB_PASSWORD={s}\nDEBUG=false\n"),
    Format("export", "export DB_PASSWORD={s}\n", render=shell),
    Format("json", '{"user": "app", "password": "{s}", "port": 5432}'),
    Format("python", 'DATABASE_PASSWORD = "{s}"\n'),
    Format("python_kwargs", 'conn = psycopg2.connect(host="db", user="app", password="{s}")\n'),
    Format("url", "DATABASE_URL = 'postgres://app:{s}@db.internal:5432/app'\n", render=url_part),
    Format("php_define", "define('DB_PASSWORD', '{s}');\n"),
    Format("php_putenv", "putenv('DB_PASSWORD={s}');\n"),
    # set by a call, as define() does: the literal is the value, `$` and spaces too
    Format("go_setenv", 'os.Setenv("DB_PASSWORD", "{s}")\n'),
    Format("rust_set_var", 'std::env::set_var("DB_PASSWORD", "{s}");\n'),
    Format(
        "dotnet_config", '<appSettings>\n  <add key="DbPassword" value="{s}" />\n', render=xml_text
    ),
    Format("go_short", 'pw := "{s}"\n'),
    Format("java_setter", 'dataSource.setPassword("{s}");\n'),
    Format("mysql_p", "mysql -u root -p{s} app < schema.sql\n", render=shell),
    Format("sshpass", "sshpass -p {s} ssh deploy@web1\n", render=shell),
    Format("docker_login", "docker login -u ci -p {s} registry.example.com\n", render=shell),
    Format(
        "k8s_env",
        "env:\n  - name: DB_USER\n    value: app\n  - name: DB_PASSWORD\n    value: {s}\n",
        render=yaml_scalar,
    ),
    Format("pgpass", "db.internal:5432:app:app:{s}\n", render=no(":\\")),
    # an IPv6 host, its colons escaped as .pgpass requires
    Format("pgpass_ipv6", "fe80\\:\\:1:5432:app:app:{s}\n", render=no(":\\")),
    Format("environ_setdefault", 'os.environ.setdefault("DB_PASSWORD", "{s}")\n'),
    Format("prose", "fyi the prod db password is {s} until friday\n"),
    Format("prose_for", "the password for the staging db: {s} until friday\n"),
    Format("ini", "[database]\nhost = db.internal\npassword = {s}\n"),
    Format("properties", "spring.datasource.password={s}\n"),
    Format(
        "xml_element", "<connection>\n  <password>{s}</password>\n</connection>\n", render=xml_text
    ),
    Format("js_object", "const config = { user: 'app', password: '{s}' };\n"),
    Format("ruby_hash", "ActiveRecord::Base.establish_connection(password: '{s}')\n"),
    Format("ado", 'var cs = "Server=db;User Id=app;Password={s};";\n', render=no(';"')),
    Format("curl_user", "curl -u admin:{s} https://api.example.com/v1\n", render=shell),
    Format("compose_env", "    environment:\n      - POSTGRES_PASSWORD={s}\n"),
    Format("dockerfile_env", "ENV DB_PASSWORD={s}\n"),
    Format("env_prefix", "PGPASSWORD={s} psql -h db app\n", render=shell),
    Format("git_url", "git clone https://deploy:{s}@github.com/acme/app.git\n", render=url_part),
    Format("jdbc", "jdbc:mysql://db:3306/app?user=app&password={s}\n", render=query_value),
    Format("log_line", "2024-05-01 12:00:03 INFO login ok user=app password={s}\n"),
    # After a log or config line's label, or between a command's words: fields, not code.
    Format("log_label", "2026-01-02 12:00:03 db: password={s}\n"),
    Format("config_label", "config: password={s}\n"),
    Format("make_var", "make deploy password={s} target=prod\n", render=shell),
    # ... with the next field after it: a comma, or a space (logfmt).
    Format("log_label_fields", "2026-01-02 12:00:03 db: password={s}, user=app\n"),
    Format("logfmt_fields", "level=info msg=login user=app password={s} retry=3\n"),
    Format("sql", "CREATE USER app WITH PASSWORD '{s}';\n"),
    Format("sql_identified", "ALTER USER 'app'@'%' IDENTIFIED BY '{s}';\n"),
    Format("ansible", "ansible_user: deploy\nansible_become_pass: {s}\n", render=yaml_scalar),
    Format("django", "DATABASES = {'default': {'USER': 'app', 'PASSWORD': '{s}'}}\n"),
    Format("netrc", "machine api.example.com login deploy password {s}\n"),
    Format("docker_run", "docker run -e MYSQL_ROOT_PASSWORD={s} mysql:8\n", render=shell),
    Format(
        "spring_yaml",
        "spring:\n  datasource:\n    username: app\n    password: {s}\n",
        render=yaml_scalar,
    ),
    Format("markdown_label", "Staging login\n\nUser: admin\nPassword: {s}\n"),
    Format("go_struct", 'cfg := Config{User: "app", Password: "{s}"}\n'),
    Format("rust", 'let password = "{s}";\n'),
    Format("powershell", '$pw = ConvertTo-SecureString "{s}" -AsPlainText -Force\n'),
    Format(
        "mongodb_uri", "MONGO_URI=mongodb+srv://admin:{s}@cluster0.example.net/\n", render=url_part
    ),
    Format("redis_url", "REDIS_URL=redis://:{s}@cache:6379/0\n", render=url_part),
    Format("amqp_url", "broker_url = 'amqp://guest:{s}@rabbit:5672//'\n", render=url_part),
    # A real password between a templated user and host: a chart's, a .env's, an f-string's.
    Format(
        "url_templated_jinja",
        '  url: "postgres://{{ user }}:{s}@{{ host }}:{{ port }}/app"\n',
        render=url_part,
    ),
    Format(
        "url_templated_env",
        "DATABASE_URL=postgres://${DB_USER}:{s}@${DB_HOST}:${DB_PORT}/app\n",
        render=url_part,
    ),
    Format("url_templated_fstring", 'dsn = f"mysql://{user}:{s}@{host}/app"\n', render=url_part),
    Format(
        "url_templated_erb",
        "url: postgres://<%= ENV['DB_USER'] %>:{s}@<%= ENV['DB_HOST'] %>/app\n",
        render=url_part,
    ),
    Format("smtp", 'EMAIL_HOST_PASSWORD = "{s}"\n'),
    Format("k8s_secret", "kind: Secret\nstringData:\n  password: {s}\n", render=yaml_scalar),
    Format("helm_values", "auth:\n  rootPassword: {s}\n", render=yaml_scalar),
    Format("toml", '[database]\npassword = "{s}"\n'),
    Format("typescript", "export const dbPassword: string = '{s}';\n"),
    Format("redis_cli", "redis-cli -h cache -a {s} ping\n", render=shell),
    Format(
        "go_mysql_dsn",
        'db, err := sql.Open("mysql", "app:{s}@tcp(db:3306)/app")\n',
        render=no("\"\\%`'"),
    ),
    Format("yaml_block_scalar", "database:\n  password: |\n    {s}\n  host: db\n"),
    Format("toml_multiline", '[database]\npassword = """\n{s}\n"""\n', render=no('"\\')),
    # A literal inside a conversion, after a type, or as the fallback of an environment read.
    Format("go_bytes", 'var dbPassword = []byte("{s}")\n'),
    Format("go_typed_var", 'var dbPassword string = "{s}"\n'),
    Format("rust_const", 'const DB_PASSWORD: &str = "{s}";\n'),
    Format("rust_string_from", 'let password = String::from("{s}");\n'),
    Format("node_env_fallback", "const password = process.env.DB_PASSWORD || '{s}';\n"),
    Format("python_env_or", 'password = os.getenv("DB_PASSWORD") or "{s}"\n'),
    # No name: the secret argument of a well-known call, or an element a key attribute names.
    Format("smtp_login", 'server.login("alerts@example.com", "{s}")\n'),
    Format("http_basic_auth", 'auth = HTTPBasicAuth("admin", "{s}")\n'),
    Format("requests_auth_tuple", 'r = requests.get(url, auth=("api", "{s}"))\n'),
    Format("java_xml_properties", '<entry key="db.password">{s}</entry>\n', render=xml_text),
    Format("jwt_sign", 'const token = jwt.sign({ sub: user.id }, "{s}", { expiresIn: "1h" });\n'),
    Format("jwt_encode", 'token = jwt.encode(payload, "{s}", algorithm="HS256")\n'),
    Format("hmac_new", 'mac = hmac.new(b"{s}", body, hashlib.sha256).hexdigest()\n'),
    Format(
        "jdbc_get_connection",
        'Connection conn = DriverManager.getConnection("jdbc:postgresql://db:5432/app", "app",'
        ' "{s}");\n',
    ),
    Format(
        "datasource_get_connection", 'Connection conn = dataSource.getConnection("app", "{s}");\n'
    ),
    # Commands' own password forms as they are written in shell scripts, CI YAML, Dockerfiles,
    # Makefiles, READMEs and Windows batch files. Written by us for this corpus (no sample is
    # taken from a repository); the passwords are the generated ones, as everywhere above.
    Format(
        "keytool_storepass_script",
        "keytool -importcert -noprompt -alias corp-ca -file ca.pem -keystore truststore.jks"
        " -storepass {s}\n",
        render=shell,
    ),
    Format(
        "keytool_keypass_ci",
        "      - run: keytool -genkeypair -alias app -keyalg RSA -keystore app.jks"
        ' -storepass {s} -keypass {s} -dname "CN=app"\n',
        render=shell,
    ),
    Format(
        "keytool_storepass_dockerfile",
        "RUN keytool -import -trustcacerts -cacerts -storepass {s} -noprompt -alias corp"
        " -file /tmp/corp.crt\n",
        render=shell,
    ),
    Format(
        "openssl_passin_script",
        "openssl pkcs12 -in client.p12 -out client.pem -nodes -passin pass:{s}\n",
        render=shell,
    ),
    Format(
        "openssl_passout_makefile",
        "key:\n\topenssl genrsa -aes256 -passout pass:{s} -out server.key 4096\n",
        render=make_recipe,
    ),
    Format(
        "openssl_passin_ci",
        "  script:\n    - openssl rsa -in deploy.key.enc -out deploy.key -passin 'pass:{s}'\n",
    ),
    Format(
        "smbclient_user_script",
        "smbclient //fileserver/backups -U 'backup%{s}' -c 'put db.tar.gz'\n",
    ),
    Format(
        "smbclient_user_dockerfile",
        "RUN smbclient //nas/tools -W CORP -U 'svc_build%{s}' -c 'get toolchain.zip'\n",
    ),
    Format(
        "smbclient_user_readme",
        "List the shares with `smbclient -L //nas.local -U guest%{s}`.\n",
        render=shell_word,
    ),
    Format(
        "xfreerdp_script",
        "xfreerdp /v:10.0.0.5 /u:Administrator /p:{s} /cert:ignore /dynamic-resolution\n",
        render=shell,
    ),
    Format(
        "xfreerdp_readme",
        "Connect with:\n\n```sh\nxfreerdp /u:admin /p:{s} /v:win-build-01\n```\n",
        render=shell,
    ),
    Format(
        "htpasswd_batch_script", "htpasswd -b -c /etc/nginx/.htpasswd admin {s}\n", render=shell
    ),
    Format(
        "htpasswd_batch_dockerfile",
        "RUN htpasswd -Bbn admin {s} > /etc/nginx/.htpasswd\n",
        render=shell,
    ),
    Format(
        "htpasswd_batch_makefile",
        "auth:\n\thtpasswd -bB -C 10 registry/htpasswd ci {s}\n",
        render=make_recipe,
    ),
    Format(
        "ldapsearch_script",
        'ldapsearch -x -H ldap://ldap.corp -D "cn=admin,dc=corp,dc=com" -w {s}'
        ' -b "dc=corp,dc=com" "(uid=jdoe)"\n',
        render=shell,
    ),
    Format(
        "ldapsearch_ci",
        "  script:\n    - ldapsearch -x -D cn=reader,dc=example,dc=org -w {s}"
        " -b dc=example,dc=org uid=ci\n",
        render=shell,
    ),
    Format(
        "ldapadd_dockerfile",
        'RUN ldapadd -x -D "cn=admin,dc=example,dc=org" -w {s} -f /seed/users.ldif\n',
        render=shell,
    ),
    Format(
        "sqlcmd_script",
        'sqlcmd -S localhost -U sa -P {s} -Q "SELECT name FROM sys.databases"\n',
        render=shell,
    ),
    Format(
        "sqlcmd_dockerfile",
        "RUN /opt/mssql-tools18/bin/sqlcmd -S db -U sa -P {s} -C -i /init/schema.sql\n",
        render=shell,
    ),
    Format(
        "sqlcmd_compose_healthcheck",
        "    healthcheck:\n      test: /opt/mssql-tools/bin/sqlcmd -S localhost -U sa -P {s}"
        ' -Q "SELECT 1"\n',
        render=shell,
    ),
    Format("7z_script", "7z a -p{s} -mhe=on backup.7z /srv/data\n", render=shell),
    Format("7z_ci", "      - run: 7z x -p{s} secrets.7z -o./config\n", render=shell),
    Format("7z_makefile", "dist:\n\t7z a -tzip -p{s} dist/app.zip build/*\n", render=make_recipe),
    Format("rar_headers_script", "rar a -hp{s} -r archive.rar docs/\n", render=shell),
    Format(
        "rar_headers_makefile", "release:\n\trar a -hp{s} release.rar dist\n", render=make_recipe
    ),
    Format(
        "wget_password_script",
        "wget --user=deploy --password {s} https://artifacts.example.com/app.tar.gz\n",
        render=shell,
    ),
    Format(
        "wget_password_dockerfile",
        "RUN wget -q --user ci --password {s} -O /tmp/pkg.deb https://repo.corp/pkg.deb\n",
        render=shell,
    ),
    Format(
        "docker_login_password_ci",
        "      - run: docker login --username ci --password {s} registry.example.com\n",
        render=shell,
    ),
    Format(
        "docker_login_password_makefile",
        "push:\n\tdocker login -u $(REGISTRY_USER) --password {s} $(REGISTRY)\n",
        render=make_recipe,
    ),
    Format("az_login_script", "az login -u ops@contoso.com -p {s}\n", render=shell),
    Format(
        "az_login_service_principal_ci",
        "    - az login --service-principal -u $AZ_APP_ID -p {s} --tenant $AZ_TENANT\n",
        render=shell,
    ),
    Format("sqlplus_script", "sqlplus -s 'scott/{s}@orcl' @migrate.sql\n", render=oracle),
    Format(
        "sqlplus_dockerfile",
        "RUN echo exit | sqlplus -s 'system/{s}@//localhost:1521/XEPDB1' @/setup/init.sql\n",
        render=oracle,
    ),
    Format("sqlplus_readme", "Then run:\n\n    sqlplus 'app_owner/{s}@PRODDB'\n", render=oracle),
    Format(
        "net_use_batch",
        "net use Z: \\\\fileserver\\builds {s} /user:CORP\\builder /persistent:no\n",
        render=cmd_arg,
    ),
    Format(
        "net_use_batch_upper",
        "NET USE \\\\backup01\\share {s} /USER:backup\n",
        render=cmd_arg,
    ),
    Format(
        "net_use_ci",
        "      - run: net use \\\\nas\\drops /user:ci {s}\n        shell: cmd\n",
        render=cmd_arg,
    ),
    Format("set_password_salt_java", 'user.setPassword("{s}", salt);\n'),
    Format("set_password_salt_kotlin", '    account.setPassword("{s}", generateSalt())\n'),
)

_AWS_SECRET = mixed(B64, 40)
_CRYPT64 = ALNUM + "./"
# Apache's htpasswd lines (MD5-crypt, bcrypt, {SHA}): a hash a password is found from


def _apr1(r: random.Random) -> str:
    return f"$apr1${chars(_CRYPT64, 8)(r)}${chars(_CRYPT64, 22)(r)}"


def _bcrypt(r: random.Random) -> str:
    return f"$2y$10${chars(_CRYPT64, 53)(r)}"


def _sha1_b64(r: random.Random) -> str:
    return "{SHA}" + base64.b64encode(r.randbytes(20)).decode()


# wp_generate_password(64, true, true): WordPress's keys and salts, spaces among the symbols
_WORDPRESS_KEY = mixed(ALNUM + "!@#$%^&*()-_ []{}<>~`+=,.;:/?|", 64)


def chosen_token(r: random.Random) -> str:
    """A token or secret a person chose: words and digits (amber7comet2024)."""
    return f"{r.choice(WORDS)}{r.randint(1, 99)}{r.choice(WORDS)}{r.randint(10, 9999)}"


def chosen_token_symbol(r: random.Random) -> str:
    """A token or secret a person chose with a symbol: kettle82#falcon2494, Ocean6389!."""
    if r.random() < 0.5:
        return f"{r.choice(WORDS).capitalize()}{r.randint(1, 9999)}{r.choice('!#$%&*?@^~;')}"
    sym = r.choice("!#%&*@^~;")
    return f"{r.choice(WORDS)}{r.randint(1, 99)}{sym}{r.choice(WORDS)}{r.randint(10, 9999)}"


def chosen_token_dotted(r: random.Random) -> str:
    """A token or secret a person chose with a dot between its words and digits
    (apple89.dragon7053): no host (a host's last label holds no digits), no version."""
    return f"{r.choice(WORDS)}{r.randint(1, 99)}.{r.choice(WORDS)}{r.randint(10, 9999)}"


def chosen_with_space(r: random.Random) -> str:
    """Word1234! with a space typed inside the word: W illow8241., Emb er3335?."""
    word = r.choice(WORDS).capitalize()
    cut = r.randint(1, len(word) - 1)
    return f"{word[:cut]} {word[cut:]}{r.randint(1, 9999)}{r.choice('!@#$%&*?.')}"


def chosen_words(r: random.Random) -> str:
    """A secret a person chose from words alone (bronzeanvil), 8+ letters."""
    while len(v := r.choice(WORDS) + r.choice(WORDS)) < 8:
        pass
    return v


# Provider tokens that more than one format writes (in another context, or glued after an
# underscore): each generated by one definition.
_ANTHROPIC = prefixed("sk-ant-api03-", mixed(URLSAFE, 93))
_GITHUB_CLASSIC = prefixed("ghp_", mixed(ALNUM, 36))
_GITHUB_FINE_GRAINED = prefixed("github_pat_", mixed(ALNUM + "_", 82))
_GITLAB = prefixed("glpat-", mixed(URLSAFE, 20))
_GOOGLE_API_KEY = prefixed("AIza", mixed(URLSAFE, 35))
_HUGGINGFACE = prefixed("hf_", mixed(ALNUM, 34))
_NPM = prefixed("npm_", mixed(ALNUM, 36))


_STRIPE_LIVE = prefixed("sk_live_", mixed(ALNUM, 24))
_TWILIO_API_KEY = prefixed("SK", chars(HEX, 32))


def _slack_bot(r: random.Random) -> str:
    digits = chars(string.digits, 12)(r) + "-" + chars(string.digits, 13)(r)
    return "xoxb-" + digits + "-" + mixed(ALNUM, 24)(r)


TOKEN_FORMATS: tuple[Format, ...] = (
    Format(
        "aws_access_key_id", "aws_access_key_id = {s}\n", prefixed("AKIA", mixed(UPPER_DIGITS, 16))
    ),
    Format("aws_secret_access_key", "aws_secret_access_key = {s}\n", _AWS_SECRET),
    Format("aws_secret_env", "export AWS_SECRET_ACCESS_KEY={s}\n", _AWS_SECRET),
    Format("dotenv_chosen_words", "API_SECRET={s}\nDEBUG=false\n", chosen_words),
    Format("ini_chosen_words", "[default]\naws_secret_access_key = {s}\n", chosen_words),
    Format("htpasswd_apr1", "admin:{s}\n", _apr1),
    Format("htpasswd_bcrypt", "deploy:{s}\n", _bcrypt),
    Format("htpasswd_sha", "# .htpasswd\nalice:{s}\n", _sha1_b64),
    # a `;` inside a connection string's password, unquoted (the format wants quotes)
    Format(
        "ado_semicolon",
        'var cs = "Server=db;User Id=app;Password={s};Database=shop";\n',
        lambda r: f"{mixed(ALNUM, 6)(r)}{r.choice('!#$%^*')};{mixed(ALNUM, 5)(r)}",
    ),
    Format("htdigest", "# .htdigest\nadmin:Restricted Area:{s}\n", chars(HEX, 32)),
    Format("wordpress_auth_key", "define( 'AUTH_KEY',         '{s}' );\n", _WORDPRESS_KEY),
    Format("wordpress_logged_in_key", "define( 'LOGGED_IN_KEY', '{s}' );\n", _WORDPRESS_KEY),
    Format("wordpress_nonce_key", "define('NONCE_KEY', '{s}');\n", _WORDPRESS_KEY),
    # the salts come with the keys (the eight are made and copied together): a key's line
    # first, its value another sample's
    Format(
        "wordpress_auth_salt",
        "define( 'NONCE_KEY',        'put your unique phrase here' );\n"
        "define( 'AUTH_SALT',        '{s}' );\n",
        _WORDPRESS_KEY,
    ),
    Format(
        "wordpress_nonce_salt",
        "define('AUTH_KEY', getenv('AUTH_KEY'));\ndefine('NONCE_SALT', '{s}');\n",
        _WORDPRESS_KEY,
    ),
    Format("wordpress_salt_bedrock_env", "AUTH_KEY='x'\nSECURE_AUTH_SALT='{s}'\n", _WORDPRESS_KEY),
    Format(
        "wordpress_salt_compose",
        "    environment:\n      WORDPRESS_LOGGED_IN_KEY: ${LOGGED_IN_KEY}\n"
        "      WORDPRESS_LOGGED_IN_SALT: '{s}'\n",
        _WORDPRESS_KEY,
    ),
    Format(
        "wordpress_salt_wp_cli",
        'wp config set AUTH_KEY "$(openssl rand -base64 48)"\n'
        "wp config set AUTH_SALT '{s}' --type=constant\n",
        _WORDPRESS_KEY,
    ),
    # a salt with no key named in the text: a line pasted alone, one set by `openssl rand`
    Format("wordpress_salt_alone", "define('LOGGED_IN_SALT',   '{s}');\n", _WORDPRESS_KEY),
    Format("wordpress_salt_hex_env", "NONCE_SALT={s}\n", chars(HEX, 64)),
    # set for the process (PHP's putenv): the literal is the variable's line, spaces and all
    Format("wordpress_salt_putenv", "putenv('AUTH_SALT={s}');\n", _WORDPRESS_KEY),
    Format("wordpress_salt_environ", "os.environ['AUTH_SALT'] = '{s}'\n", _WORDPRESS_KEY),
    Format("wordpress_salt_process_env", "process.env.NONCE_SALT = '{s}';\n", _WORDPRESS_KEY),
    # a generator's value (a WordPress key's shape) made a password, set by a call
    Format(
        "generated_password_setenv", 'monkeypatch.setenv("DB_PASSWORD", "{s}")\n', _WORDPRESS_KEY
    ),
    # ... and in an ordinary assignment under a password's or a token's name: the whole quoted
    # literal is the value, `${`, `$L` and spaces too
    Format("generated_password_assigned", "DB_PASSWORD = '{s}'\n", _WORDPRESS_KEY),
    Format("generated_password_environ", 'os.environ["DB_PASSWORD"] = "{s}"\n', _WORDPRESS_KEY),
    Format("generated_password_export", "export DB_PASSWORD='{s}'\n", _WORDPRESS_KEY),
    Format("generated_password_process_env", 'process.env.DB_PASSWORD = "{s}";\n', _WORDPRESS_KEY),
    Format("generated_token_assigned", "API_TOKEN = '{s}'\n", _WORDPRESS_KEY),
    # a password a person chose with a space typed into it (W illow8241.)
    Format("spaced_password_assigned", "DB_PASSWORD = '{s}'\n", chosen_with_space),
    Format("spaced_password_environ", 'os.environ["DB_PASSWORD"] = "{s}"\n', chosen_with_space),
    Format("spaced_password_export", 'export DB_PASSWORD="{s}"\n', chosen_with_space),
    Format("spaced_password_process_env", 'process.env.DB_PASSWORD = "{s}";\n', chosen_with_space),
    Format("spaced_token_assigned", 'API_TOKEN = "{s}"\n', chosen_with_space),
    Format("github_pat_classic", "token: {s}\n", _GITHUB_CLASSIC),
    Format("github_oauth", "GH_TOKEN={s}\n", prefixed("gho_", mixed(ALNUM, 36))),
    Format("github_fine_grained", 'auth = "{s}"\n', _GITHUB_FINE_GRAINED),
    Format("gitlab", "GITLAB_TOKEN={s}\n", _GITLAB),
    Format(
        "slack_bot",
        'client = WebClient(token="{s}")\n',
        _slack_bot,
    ),
    Format(
        "slack_webhook",
        "url: https://hooks.slack.com/services/{s}\n",
        lambda r: (
            "T"
            + mixed(UPPER_DIGITS, 8)(r)
            + "/B"
            + mixed(UPPER_DIGITS, 10)(r)
            + "/"
            + mixed(ALNUM, 24)(r)
        ),
    ),
    Format("stripe_live", "stripe.api_key = '{s}'\n", _STRIPE_LIVE),
    Format("stripe_restricted", "STRIPE_KEY={s}\n", prefixed("rk_live_", mixed(ALNUM, 24))),
    Format("stripe_webhook", "endpoint_secret = '{s}'\n", prefixed("whsec_", mixed(ALNUM, 32))),
    Format("google_api_key", "const key = '{s}';\n", _GOOGLE_API_KEY),
    Format(
        "google_oauth_client",
        'flow = Flow.from_client_config(cfg, "{s}")\n',
        prefixed("GOCSPX-", mixed(URLSAFE, 28)),
    ),
    Format(
        "google_access_token",
        "creds = Credentials('{s}')\n",
        prefixed("ya29.a0", mixed(URLSAFE, 150)),
    ),
    Format(
        "sendgrid",
        "SENDGRID_API_KEY={s}\n",
        lambda r: "SG." + mixed(URLSAFE, 22)(r) + "." + mixed(URLSAFE, 43)(r),
    ),
    Format("openai", "OPENAI_API_KEY={s}\n", prefixed("sk-proj-", mixed(URLSAFE, 48))),
    Format(
        "anthropic",
        "client = Anthropic(api_key='{s}')\n",
        _ANTHROPIC,
    ),
    Format("huggingface", "HF_TOKEN={s}\n", _HUGGINGFACE),
    Format("npm_token", "//registry.npmjs.org/:_authToken={s}\n", _NPM),
    Format("pypi_token", "password = {s}\n", prefixed("pypi-AgEIcHlwaS5vcmc", mixed(URLSAFE, 60))),
    Format("discord_bot", 'client.run("{s}")\n', lambda r: rng_discord(r)),
    Format(
        "telegram_bot",
        "TELEGRAM_BOT_TOKEN = '{s}'\n",
        lambda r: chars(string.digits, 10)(r) + ":AA" + mixed(URLSAFE, 33)(r),
    ),
    Format(
        "telegram_bot_long_id",
        "bot = Bot('{s}')\n",
        lambda r: chars(string.digits, 12)(r) + ":AA" + mixed(URLSAFE, 33)(r),
    ),
    Format(
        "github_app_installation",
        'gh = Github("{s}")\n',
        lambda r: (
            "ghs_"
            + chars(string.digits, 7)(r)
            + "_eyJ"
            + mixed(URLSAFE, 33)(r)
            + "."
            + mixed(URLSAFE, 300)(r)
            + "."
            + mixed(URLSAFE, 43)(r)
        ),
    ),
    Format(
        "gitlab_routable",
        'gl = gitlab.Gitlab(url, "{s}")\n',
        lambda r: (
            "glpat-"
            + mixed(URLSAFE, 27)(r)
            + ".01"  # the token format's version, then 7 base-36 characters of checksum
            + chars("0123456789abcdefghijklmnopqrstuvwxyz", 7)(r)
        ),
    ),
    Format("gitlab_runner", 'runner.register("{s}")\n', prefixed("glrt-", mixed(URLSAFE, 20))),
    Format("gitlab_deploy", 'repo.clone_with("{s}")\n', prefixed("gldt-", mixed(URLSAFE, 20))),
    Format(
        "slack_session",
        "SLACK_XOXC={s}\n",
        lambda r: (
            "xoxc-"
            + chars(string.digits, 12)(r)
            + "-"
            + chars(string.digits, 12)(r)
            + "-"
            + chars(string.digits, 13)(r)
            + "-"
            + chars(HEX, 64)(r)
        ),
    ),
    Format(
        "slack_d_cookie",
        "cookies = {{'d': '{s}'}}\n",
        lambda r: "xoxd-" + mixed(ALNUM, 60)(r) + "%2F" + mixed(ALNUM, 40)(r) + "%3D",
    ),
    Format("doppler_personal", 'doppler = Doppler("{s}")\n', prefixed("dp.pt.", mixed(ALNUM, 43))),
    Format(
        "doppler_service_config", 'cli.setup("{s}")\n', prefixed("dp.st.prd.", mixed(ALNUM, 40))
    ),
    Format("twilio_auth", "TWILIO_AUTH_TOKEN={s}\n", mixed(HEX, 32)),
    Format("twilio_api_key", "api_key_sid = '{s}'\n", _TWILIO_API_KEY),
    Format("mailgun", "MAILGUN_API_KEY = '{s}'\n", prefixed("key-", chars(HEX, 32))),
    Format(
        "mailchimp",
        "mc = Client('{s}')\n",
        lambda r: chars(HEX, 32)(r) + "-us" + str(r.randint(1, 20)),
    ),
    Format("shopify", "X-Shopify-Access-Token: {s}\n", prefixed("shpat_", chars(HEX, 32))),
    Format("digitalocean", "DIGITALOCEAN_TOKEN={s}\n", prefixed("dop_v1_", chars(HEX, 64))),
    Format("databricks", "token = {s}\n", prefixed("dapi", chars(HEX, 32))),
    Format("vault", "VAULT_TOKEN={s}\n", prefixed("hvs.", mixed(URLSAFE, 90))),
    Format("new_relic", "NEW_RELIC_API_KEY={s}\n", prefixed("NRAK-", mixed(UPPER_DIGITS, 27))),
    Format("linear", "LINEAR_API_KEY={s}\n", prefixed("lin_api_", mixed(ALNUM, 40))),
    # Provider tokens where nothing around them names a secret: only their shape tells them.
    Format(
        "newrelic_insert_neutral",
        'nr = Insights(account, "{s}")\n',
        prefixed("NRII-", mixed(URLSAFE, 32)),
    ),
    Format("newrelic_rest_neutral", 'RestClient("{s}")\n', prefixed("NRRA-", chars(HEX, 42))),
    Format(
        "newrelic_license_neutral",
        "INFO agent connected with {s} to collector.newrelic.com\n",
        lambda r: chars(HEX, 32)(r) + "FFFFNRAL",
    ),
    Format("newrelic_browser_neutral", 'init(NREUM, "{s}")\n', prefixed("NRJS-", chars(HEX, 19))),
    Format(
        "databricks_oauth_neutral",
        'sp = ServicePrincipal(client_id, "{s}")\n',
        prefixed("dose", chars(HEX, 32)),
    ),
    Format(
        "huggingface_org_neutral",
        'hub.login("{s}")\n',
        prefixed("api_org_", mixed(string.ascii_letters, 34)),
    ),
    Format(
        "stripe_prod_neutral",
        'stripe.StripeClient("{s}")\n',
        prefixed("sk_prod_", mixed(ALNUM, 99)),
    ),
    Format("groq_neutral", "client = Groq('{s}')\n", prefixed("gsk_", mixed(ALNUM, 52))),
    Format(
        "xai_neutral", "DEBUG request failed for {s}: 401\n", prefixed("xai-", mixed(ALNUM, 80))
    ),
    Format("perplexity_neutral", "pplx = Perplexity('{s}')\n", prefixed("pplx-", mixed(ALNUM, 48))),
    Format("replicate_neutral", "replicate.Client('{s}')\n", prefixed("r8_", mixed(ALNUM, 37))),
    Format("pulumi_neutral", "INFO whoami: {s} ok\n", prefixed("pul-", chars(HEX, 40))),
    Format(
        "atlassian_neutral",
        'jira = JIRA(server, (user, "{s}"))\n',
        lambda r: "ATATT3" + mixed(URLSAFE, 177)(r) + "=" + chars("0123456789ABCDEF", 8)(r),
    ),
    Format(
        "grafana_neutral",
        'gf = GrafanaApi.from_url(url, "{s}")\n',
        lambda r: "glsa_" + mixed(ALNUM, 32)(r) + "_" + chars(HEX, 8)(r),
    ),
    Format("sentry_neutral", 'cli = SentryCli("{s}")\n', prefixed("sntryu_", chars(HEX, 64))),
    Format(
        "onepassword_neutral",
        'client = await Client.authenticate("{s}", "app", "v1")\n',
        lambda r: "ops_eyJ" + mixed(B64, 320)(r) + "=",
    ),
    Format(
        "langsmith_neutral",
        'ls = LangSmith("{s}")\n',
        lambda r: "lsv2_pt_" + chars(HEX, 32)(r) + "_" + chars(HEX, 10)(r),
    ),
    Format(
        "bedrock_neutral",
        'brt = BedrockRuntime(region, "{s}")\n',
        lambda r: "ABSK" + mixed(B64, 130)(r) + "=",
    ),
    Format("elevenlabs_neutral", "tts = ElevenLabs('{s}')\n", prefixed("sk_", chars(HEX, 48))),
    Format(
        "pinecone_neutral",
        "pc = Pinecone('{s}')\n",
        lambda r: "pcsk_" + mixed(ALNUM, 5)(r) + "_" + mixed(ALNUM, 63)(r),
    ),
    Format(
        "twilio_api_key_neutral",
        'client = Client("{s}", secret, account_sid)\n',
        _TWILIO_API_KEY,
    ),
    # Shapes added after the round above, also where nothing names a secret; and the kinds
    # with a prefix no identifier holds, glued to a name by `_` (key_ghp_...).
    Format(
        "openrouter_neutral",
        'llm = ChatOpenRouter("anthropic/claude-sonnet-4", "{s}")\n',
        prefixed("sk-or-v1-", chars(HEX, 64)),
    ),
    Format(
        "mailgun_neutral",
        "mg = Mailgun(domain, '{s}')\n",
        lambda r: chars(HEX, 32)(r) + "-" + chars(HEX, 8)(r) + "-" + chars(HEX, 8)(r),
    ),
    Format(
        "onepassword_secret_key_neutral",
        "INFO signing in to my.1password.com with {s}\n",
        lambda r: "A3-" + "-".join(mixed(UPPER_DIGITS, n)(r) for n in (6, 6, 5, 5, 5, 5)),
    ),
    Format("grafana_legacy_neutral", 'gf = GrafanaFace(url, "{s}")\n', lambda r: grafana_legacy(r)),
    Format(
        "planetscale_neutral",
        "db = MySQLdb.connect(host, user, '{s}', 'app')\n",
        prefixed("pscale_pw_", mixed(ALNUM + "_", 43)),
    ),
    Format(
        "planetscale_token_neutral",
        "INFO rotated {s} for org acme\n",
        prefixed("pscale_tkn_", mixed(ALNUM + "_", 43)),
    ),
    Format("prefect_neutral", "prefect cloud login -k {s}\n", prefixed("pnu_", mixed(ALNUM, 36))),
    Format("rubygems_neutral", 'Gems::Client.new("{s}")\n', prefixed("rubygems_", chars(HEX, 48))),
    Format("flyio_org_neutral", 'fly = Fly("{s}")\n', prefixed("fo1_", mixed(URLSAFE, 43))),
    Format(
        "flyio_macaroon_neutral",
        "curl -H 'Authorization: FlyV1 {s}' https://api.machines.dev/v1/apps\n",
        lambda r: "fm2_" + mixed(B64, 160)(r) + "=,fm2_" + mixed(B64, 120)(r),
    ),
    Format(
        "sourcegraph_neutral",
        'src = Sourcegraph(endpoint, "{s}")\n',
        lambda r: "sgp_" + chars(HEX, 16)(r) + "_" + chars(HEX, 40)(r),
    ),
    Format("sourcegraph_v2_neutral", "INFO search as {s} ok\n", prefixed("sgp_", chars(HEX, 40))),
    Format("sourcegraph_v1_named", 'src = Sourcegraph(endpoint, "{s}")\n', chars(HEX, 40)),
    Format(
        "newrelic_license_legacy",
        "newrelic-admin generate-config {s} newrelic.ini\n",
        chars(HEX, 40),
    ),
    Format(
        "newrelic_user_mixed_case",
        'nr = NerdGraph("{s}")\n',
        prefixed("NRAK-", mixed(ALNUM, 27)),
    ),
    Format(
        "github_after_underscore",
        "INFO cloned with key_{s}\n",
        _GITHUB_CLASSIC,
    ),
    Format(
        "github_pat_after_underscore",
        'repo = Repo(url, "x_{s}")\n',
        _GITHUB_FINE_GRAINED,
    ),
    Format(
        "gitlab_after_underscore",
        "INFO runner ci_{s} registered\n",
        _GITLAB,
    ),
    Format(
        "anthropic_after_underscore",
        'client = Client("prod_{s}")\n',
        _ANTHROPIC,
    ),
    Format(
        "slack_after_underscore",
        "DEBUG posting as bot_{s}\n",
        _slack_bot,
    ),
    Format(
        "huggingface_after_underscore",
        "INFO pulled with key_{s}\n",
        _HUGGINGFACE,
    ),
    Format("npm_after_underscore", 'reg = Registry("x_{s}")\n', _NPM),
    Format(
        "google_after_underscore",
        "INFO geocoded with x_{s}\n",
        _GOOGLE_API_KEY,
    ),
    Format(
        "stripe_after_underscore",
        'charge = stripe.Charge.create(idem, "prod_{s}")\n',
        _STRIPE_LIVE,
    ),
    Format(
        "postman",
        "POSTMAN_API_KEY={s}\n",
        lambda r: "PMAK-" + chars(HEX, 24)(r) + "-" + chars(HEX, 34)(r),
    ),
    Format(
        "heroku",
        "HEROKU_API_KEY={s}\n",
        lambda r: "-".join(chars(HEX, n)(r) for n in (8, 4, 4, 4, 12)),
    ),
    Format("datadog", "DD_API_KEY={s}\n", mixed(HEX, 32)),
    Format(
        "jwt",
        "Authorization: Bearer {s}\n",
        lambda r: "eyJhbGciOiJIUzI1NiJ9.eyJ" + mixed(URLSAFE, 60)(r) + "." + mixed(URLSAFE, 43)(r),
    ),
    Format(
        "bearer_header",
        "curl -H 'Authorization: Bearer {s}' https://api.example.com\n",
        mixed(URLSAFE, 40),
    ),
    Format(
        "basic_header",
        "Authorization: Basic {s}\n",
        lambda r: base64.b64encode(f"admin:{mixed(ALNUM, 14)(r)}".encode()).decode(),
    ),
    Format(
        "azure_storage",
        "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net\n",
        lambda r: mixed(B64, 86)(r) + "==",
    ),
    Format(
        "azure_sas",
        "https://acme.blob.core.windows.net/c?sv=2022-11-02&sp=r&sig={s}\n",
        lambda r: mixed(ALNUM, 43)(r) + "%3D",
    ),
    Format(
        "azure_client_secret",
        "AZURE_CLIENT_SECRET={s}\n",
        lambda r: mixed(ALNUM, 3)(r) + "8Q~" + mixed(ALNUM, 34)(r),
    ),
    Format(
        "age_key",
        "{s}\n",
        prefixed("AGE-SECRET-KEY-1", chars("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L", 58)),
    ),
    Format(
        "private_key_pem",
        "-----BEGIN RSA PRIVATE KEY-----\n{s}\n-----END RSA PRIVATE KEY-----\n",
        lambda r: "\n".join(mixed(B64, 64)(r) for _ in range(6)),
    ),
    Format(
        "gcp_private_key_json",
        '{"type": "service_account", "private_key_id": "{s}", "client_email": "x@p.iam.gsa.com"}',
        chars(HEX, 40),
    ),
    Format(
        "neutral_key_json", '{"endpoint": "https://api.example.com", "k": "{s}"}', mixed(ALNUM, 32)
    ),
    Format("neutral_key_yaml", "webhook:\n  signing: {s}\n", mixed(ALNUM, 40)),
    Format("neutral_key_code", 'HOOK_SEED = "{s}"\n', mixed(ALNUM + "+/", 44)),
    Format("cookie", "Cookie: sessionid={s}; csrftoken=abc\n", mixed(ALNUM, 32)),
    Format("x_api_key", "curl -H 'X-API-Key: {s}' https://api.example.com\n", mixed(ALNUM, 32)),
    Format("api_key_query", "GET /v1/data?api_key={s}&limit=10\n", mixed(ALNUM, 32)),
    Format("client_secret", "OAUTH_CLIENT_SECRET={s}\n", mixed(URLSAFE, 40)),
    Format(
        "secret_key_django",
        "SECRET_KEY = '{s}'\n",
        lambda r: "django-insecure-" + mixed(ALNUM + "!@#%^&*(-_=+)", 50)(r),
    ),
    Format(
        "encryption_key",
        'ENCRYPTION_KEY: "{s}"\n',
        lambda r: base64.b64encode(r.randbytes(32)).decode(),
    ),
    Format("prose_api_key", "fyi the staging api key is {s} until we rotate it\n", chars(HEX, 32)),
    Format("prose_token", "Our deploy token was {s}, ask ops for the new one.\n", mixed(ALNUM, 40)),
    Format("spaced_name", "webhook: api_key {s} (rotated monthly)\n", chars(HEX, 32)),
    # notes and summaries agents write
    Format("note_password_bare", "user admin, password {s} for the demo box\n", chosen),
    Format("note_password_to", "Reset the admin password to {s} and told the team.\n", chosen),
    Format("note_password_now", "Note: the staging password is now {s} (changed today)\n", chosen),
    Format("note_password_label", "- staging password: {s} (until Friday)\n", chosen),
    Format("note_env_password_to", "Set DB_PASSWORD to {s} on staging\n", chosen),
    Format("note_creds_pair", "DB creds are admin / {s} for now\n", chosen),
    Format("note_token_to", "Set MY_SERVICE_TOKEN to {s} in CI\n", chars(HEX, 32)),
    Format("note_secret_paren", "the webhook secret ({s}) is in vault\n", chars(HEX, 32)),
    Format("note_api_key_quoted", "Use API key `{s}` in the header.\n", mixed(ALNUM, 32)),
    Format("note_token_label", "- api token: {s}\n", chars(HEX, 40)),
    Format(
        "note_secret_for",
        "The secret for the webhook is {s}, rotate it monthly.\n",
        mixed(URLSAFE, 40),
    ),
    Format("note_login_pair", "Outcome: login with admin:{s} works on staging\n", chosen),
    Format("note_sign_in_pair", "Sign in as ops / {s} to check the dashboard.\n", chosen),
    Format("note_logged_in_pair", "Outcome: logged in as deploy:{s} on staging\n", chosen),
    Format("note_signed_in_pair", "Signed in with ops / {s} and checked the logs.\n", chosen),
    Format("note_password_set_to", "the DB password was set to {s} yesterday\n", chosen),
    Format("note_token_set_to", "API_TOKEN was set to {s} in CI\n", chars(HEX, 32)),
    Format("note_bare_key_hex", "- use key {s} for the staging API\n", chars(HEX, 32)),
    Format(
        "table_token_column",
        "| service | token |\n|---|---|\n| billing | {s} |\n",
        mixed(ALNUM, 32),
    ),
    Format(
        "table_key_value_row",
        "| key | value |\n|---|---|\n| STRIPE_SECRET_KEY | `{s}` |\n",
        mixed(ALNUM, 32),
    ),
    Format(
        "table_key_value_neutral",
        "| key | value |\n|---|---|\n| region | eu-west-1 |\n| stripe | {s} |\n",
        mixed(ALNUM, 32),
    ),
    Format(
        "table_password_column",
        "| user | password |\n|---|---|\n| admin | {s} |\n",
        chosen,
        render=no("|"),
    ),
    # No name: a Google app password given to smtplib, as Google shows it (spaced) or not.
    Format(
        "gmail_app_password",
        'server.login("alerts@gmail.com", "{s}")\n',
        lambda r: (" " if r.random() < 0.5 else "").join(
            chars(string.ascii_lowercase, 4)(r) for _ in range(4)
        ),
    ),
    # A secret someone chose, words and digits (amber7comet2024), on a .env or config line.
    Format("dotenv_chosen_secret", "APP_SECRET={s}\n", chosen_token),
    Format("config_label_chosen_token", "config: token={s}\n", chosen_token),
    # ... and in YAML or INI, which have no variables either.
    Format("yaml_chosen_token", "github:\n  token: {s}\n", chosen_token),
    Format("ini_chosen_secret", "[auth]\nsecret = {s}\n", chosen_token),
    # ... with a symbol no name holds (kettle82#falcon2494, Ocean6389!), or a password
    # manager's random characters with symbols, as a session or JWT secret
    Format("dotenv_chosen_secret_symbol", "JWT_SECRET={s}\nDEBUG=false\n", chosen_token_symbol),
    Format("yaml_token_symbol", "slack:\n  token: {s}\n", chosen_token_symbol),
    Format("dotenv_chosen_secret_dotted", "APP_SECRET={s}\n", chosen_token_dotted),
    Format("yaml_chosen_token_dotted", "github:\n  token: {s}\n", chosen_token_dotted),
    Format("code_api_token_dotted", 'API_TOKEN = "{s}"\n', chosen_token_dotted),
    Format(
        "yaml_secret_password_manager",
        'session:\n  secret: "{s}"\n',
        mixed(ALNUM + SYMBOLS.replace('"', ""), 16),
    ),
    Format("code_api_secret_chosen", 'api_secret = "{s}"\n', chosen),
    # user:password@host with '@' and ';' in the password, unencoded (the parser takes the
    # last '@' before the path)
    Format(
        "url_at_semicolon_password",
        "DATABASE_URL=postgres://app:{s}@db.internal:5432/shop\n",
        lambda r: f"{mixed(ALNUM, 5)(r)}@{mixed(ALNUM, 4)(r)};{mixed(ALNUM, 5)(r)}",
    ),
    # A setter's bare argument in a note (letters and digits, as code would hold unquoted
    # only a name): written by us, as the commands' forms in PASSWORD_CONTEXTS are.
    Format(
        "set_password_bare_salt_note",
        "- reset it with `user.setPassword({s}, salt)` on staging\n",
        lambda r: mixed(ALNUM, r.randint(8, 16))(r),
    ),
    # No name: a key passed to cryptography's Fernet, as Fernet.generate_key() writes it.
    Format(
        "fernet_key",
        'cipher = Fernet(b"{s}")\n',
        lambda r: base64.urlsafe_b64encode(r.randbytes(32)).decode(),
    ),
)


def grafana_legacy(r: random.Random) -> str:
    """A Grafana API key of the legacy kind: base64 of {"k":"<key>","n":"<name>","id":<org>}."""
    fields = {"k": mixed(ALNUM, 32)(r), "n": r.choice(WORDS), "id": r.randint(1, 99)}
    return base64.b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode()


def rng_discord(r: random.Random) -> str:
    return "M" + mixed(ALNUM, 25)(r) + "." + mixed(URLSAFE, 6)(r) + "." + mixed(URLSAFE, 38)(r)


FORMATS: tuple[Format, ...] = PASSWORD_CONTEXTS + TOKEN_FORMATS


def samples(fmt: Format, n: int, seed: int = 0) -> Iterator[tuple[str, str]]:
    rng = random.Random(f"{fmt.name}:{seed}")
    for _ in range(n):
        yield fmt.sample(rng)
