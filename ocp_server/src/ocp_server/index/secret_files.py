"""Which files hold secrets: by name (SECRET_PATTERNS) and by content, whatever their name.

A file that is secret by either rule is never indexed (files.py asks here): no chunk of it can
come back from a search or reach a paid prompt, whatever redaction would miss. The names are
matched without regard to case (`.ENV`, `server.PEM`); the content rules find private keys
(PEM, PuTTY, age), GCP service-account and OAuth client JSON, saved OAuth user tokens
(`token.json`: a refresh token with its client secret), kubeconfigs with user credentials,
dotenv files holding a secret (`env/production`), netrc, pgpass, git-credentials, htpasswd,
docker and npm auth (`.npmrc`, Yarn's `.yarnrc.yml`), AWS credential files, Terraform state
and Kubernetes Secrets, and key material in other forms: .NET's RSA XML keys, OpenVPN static
keys, WireGuard interfaces, keypair files of 64 random bytes as JSON, and a value alone in a
file named after a password, token or key (a Docker secret, `secrets/db_password.txt`).
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pathspec

from ocp_router.redact import finds_secret, may_hold_token, redact
from ocp_router.redact_names import glued_tokens

__all__ = [
    "FILE_RULES_DIGEST",
    "SECRET_PATTERNS",
    "secret_content",
    "secret_content_of_link",
    "secret_name",
]

#: These rules as this process imported them (this module's source): an index whose files were
#: judged under other ones reads every file again, so that one a new content rule finds leaves
#: it (indexer.py); the names are judged again at every listing and search anyway. With them,
#: source_text.py's, which decides the text they read: a UTF-16 file an older server skipped as
#: binary is read again.
FILE_RULES_DIGEST = hashlib.blake2b(
    Path(__file__).read_bytes() + Path(__file__).with_name("source_text.py").read_bytes(),
    digest_size=12,
).hexdigest()

SECRET_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    ".env-*",
    ".env_*",
    "*.env",
    ".envrc",
    ".envrc.*",
    ".dev.vars",
    ".dev.vars.*",
    "*.pem",
    "*.key",
    "*.crt",
    "*.cer",
    "*.der",
    "*.p12",
    "*.pfx",
    "*.jks",
    "*.keystore",
    "*.asc",
    "*.gpg",
    "*.kdbx",
    "*.ovpn",
    "id_rsa*",
    "id_dsa*",
    "id_ecdsa*",
    "id_ed25519*",
    "*.ppk",
    "*.p8",
    "*.keytab",
    "*.jceks",
    "*.bks",
    "*.pkcs12",
    "*.kubeconfig",
    "kubeconfig",
    "kubeconfig.*",
    "client_secret*.json",
    "application_default_credentials.json",
    ".s3cfg",
    ".boto",
    ".databrickscfg",
    ".vault-token",
    ".terraformrc",
    "terraform.rc",
    ".dockercfg",
    "htpasswd",
    "credentials",
    "credentials.*",
    "*credentials*.json",
    "*credentials*.yml",
    "*credentials*.yaml",
    "secrets.*",
    "secret.*",
    "*.secret",
    "*.secrets",
    "*secrets*.json",
    "*secrets*.yml",
    "*secrets*.yaml",
    "service-account*.json",
    "*serviceaccount*.json",
    ".npmrc",
    ".pypirc",
    ".netrc",
    "_netrc",
    ".htpasswd",
    ".git-credentials",
    ".pgpass",
    "*.tfstate",
    "*.tfstate.*",
    "*.tfvars",
    "*.tfvars.json",
    # Files whose purpose is a login: WordPress's (database password, salts), Azure Functions'
    # local settings (storage account keys), MySQL's client options, rclone's remotes, Apache
    # digest logins, Ansible Vault's password, editors' SFTP/FTP deploy settings.
    "wp-config.php",
    "local.settings.json",
    ".my.cnf",
    ".mylogin.cnf",
    "rclone.conf",
    ".rclone.conf",
    "htdigest",
    ".htdigest",
    ".vault_pass*",
    ".vault-pass*",
    "vault_pass*.txt",
    "vault-pass*.txt",
    "sftp-config.json",
    ".ftpconfig",
    ".remote-sync.json",
    "*firebase-adminsdk*.json",
    "msal_token_cache.*",
    # What a shell or a database client kept of what was typed, passwords on a command line
    # among them (`sudo -S <<< 'pw'`): a home folder or a dotfiles repository holds them.
    ".*_history",
    ".histfile",
    "fish_history",
    # A tool's login in a home-like folder, at any depth (`deploy/.kube/config`), not only the
    # workspace root: a gitignore pattern with a slash is anchored unless it starts with `**/`.
    "**/.aws/credentials",
    "**/.aws/config",
    "**/.azure/accessTokens.json",
    "**/.docker/config.json",
    "**/.kube/config",
    "**/gh/hosts.yml",
)

# One combined regex for every secret pattern (they are all positive, so "any matches" is the
# gitignore verdict): matching 45 patterns one by one costs 40 µs a path. Case-insensitive:
# `.ENV` and `Credentials.json` hold the same secrets (and are the same file on macOS).
_SECRET_RE = re.compile(
    "|".join(
        "(?:" + re.sub(r"\(\?P<\w+>", "(?:", p.regex.pattern) + ")"
        for p in pathspec.GitIgnoreSpec.from_lines(SECRET_PATTERNS).patterns
        if p.include and p.regex is not None
    ),
    # DOTALL: a name may hold a newline (git tracks `a\nb/.env`), and `*` matches it as
    # gitignore's does; without it a secret under such a folder was listed
    re.IGNORECASE | re.DOTALL,
)
assert _SECRET_RE.pattern, "the secret patterns compiled to nothing"


def secret_name(rel: str) -> bool:
    """Whether a workspace path (relative, posix) is a secret file by its name, or holds a
    secret value in its name or a folder's (`backups/ghp_<token>.json`)."""
    return _named(rel) or _secret_in_path(rel)


def _named(rel: str) -> bool:
    """Whether a secret pattern matches the path. _NAMES judges each of its names as _SECRET_RE
    does the whole path where the two agree: ASCII (lower() is then exactly IGNORECASE), no
    newline (`$` matches before one) and no leading `/` (`(?:.+/)?` needs
    a character before it)."""
    if rel.isascii() and "\n" not in rel and rel[:1] != "/":
        return _NAMES.match(rel.lower().split("/"))
    return _SECRET_RE.match(rel) is not None


class _NameRules:
    """SECRET_PATTERNS sorted by shape, matched against a path's lower-cased names: a set for
    exact names, one `endswith` and one `startswith` for `*.pem` and `id_rsa*`, a set of name
    pairs for `**/.aws/credentials`, one regex for the few others. A pattern without a slash
    matches any of a path's names (a folder `.env/` holds secrets too), as in gitignore. The
    one regex over the whole path ran every pattern from every `/`: a quarter of a listing."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        exact: set[str] = set()
        suffixes: list[str] = []
        prefixes: list[str] = []
        pairs: set[tuple[str, ...]] = set()
        others: list[str] = []
        for pattern in (p.lower() for p in patterns):
            if pattern.startswith("**/") and "*" not in pattern[3:] and pattern.count("/") == 2:
                pairs.add(tuple(pattern[3:].split("/")))
                continue
            if "/" in pattern or "**" in pattern or any(c in pattern for c in "?[]\\!# "):
                raise ValueError(f"secret pattern {pattern!r}: no shape _NameRules matches")
            pieces = pattern.split("*")
            if len(pieces) == 1:
                exact.add(pattern)
            elif len(pieces) == 2 and not pieces[0]:
                suffixes.append(pieces[1])
            elif len(pieces) == 2 and not pieces[1]:
                prefixes.append(pieces[0])
            else:
                others.append("[^/]*".join(map(re.escape, pieces)))
        self.exact = frozenset(exact)
        self.suffixes = tuple(suffixes)
        self.prefixes = tuple(prefixes)
        self.pairs = frozenset(pairs)
        self.others = re.compile("|".join(others) or "(?!)")

    def match(self, names: list[str]) -> bool:
        """Whether a pattern matches one of `names` (lower-cased), or a pair one after the other."""
        if not self.exact.isdisjoint(names):
            return True
        for name in names:
            if (
                name.endswith(self.suffixes)
                or name.startswith(self.prefixes)
                or self.others.fullmatch(name) is not None
            ):
                return True
        return any(pair in self.pairs for pair in zip(names, names[1:], strict=False))


_NAMES = _NameRules(SECRET_PATTERNS)


# A path goes out unredacted with every hit and citation. Token shapes are looked for in runs
# of token characters, also after each `-`, `_` or `.` (`report-<JWT>.md`, `key_AKIA...`:
# glued to a word, which in text would be no token) and after a distinctive prefix glued to a
# letter (`backupghp_<token>.json`, `keysAKIA....txt`: redact_names.py); `user:password@host`
# as a folder is a mount named with its login. The token gates turn nearly every path away in
# a few µs.
_TOKEN_RUN_RE = re.compile(r"[A-Za-z0-9+=_.-]{16,}")
_USERINFO_RE = re.compile(r"(?:^|/)[^/:@]+:[^/:@]+@[^/@]+/")
_GLUE = "-_."


def _secret_in_path(rel: str) -> bool:
    if "@" in rel and _USERINFO_RE.search(rel):
        return True
    if not may_hold_token(rel):
        return False
    for m in _TOKEN_RUN_RE.finditer(rel):
        run = m.group()
        starts = [0, *(i + 1 for i, c in enumerate(run) if c in _GLUE)]
        if any(finds_secret(run[i:]) for i in starts[:8] if len(run) - i >= 16):
            return True
    return bool(glued_tokens(rel))


# ---- by content ------------------------------------------------------------------------------
# Each rule is a cheap byte test first (`in` runs at memory speed), then a regex. A file matching
# any of them holds key material or credentials as its purpose: it is not indexed at all, so no
# chunk of it can come back from a search or reach a paid prompt, whatever redaction would miss.

# A private key block with a real body: the header, then (within a few lines, after PEM headers,
# string quotes or escaped newlines) a run of base64. A header alone is code that parses keys.
_PEM_KEY_RE = re.compile(
    rb"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)?-----[\s\S]{0,300}?[A-Za-z0-9+/]{40}"
)
_PPK_RE = re.compile(rb"PuTTY-User-Key-File-\d+: [\s\S]{0,2000}?Private-Lines: \d+")
_AGE_RE = re.compile(rb"AGE-SECRET-KEY-1[0-9A-Z]{50,}")
_GCP_TYPE_RE = re.compile(rb'"type"\s*:\s*"(?:service_account|authorized_user|external_account)"')
_GCP_SECRET_RE = re.compile(
    rb'"private_key"\s*:\s*"-----BEGIN [A-Z ]{0,20}PRIVATE KEY-----(?:\\n|\n)[A-Za-z0-9+/]{40}'
    rb'|"(?:refresh_token|client_secret)"\s*:\s*"[A-Za-z0-9._/+=-]{16,}"'
)
_OAUTH_CLIENT_RE = re.compile(
    rb'"(?:installed|web)"\s*:\s*\{[^}]{0,2000}"client_secret"\s*:\s*"[A-Za-z0-9_-]{16,}"'
)
_KUBE_KIND_RE = re.compile(rb"""(?m)^["']?kind["']?\s*:\s*["']?Config\b""")
_KUBE_CRED_RE = re.compile(
    rb"""(?m)^\s*["']?(?:token|client-key-data|password|id-token|refresh-token|access-token)"""
    rb"""["']?\s*:\s*["']?[A-Za-z0-9+/=._~-]{8,}"""
)
_AWS_FILE_RE = re.compile(rb"(?mi)^[ \t]*aws_secret_access_key[ \t]*=[ \t]*[A-Za-z0-9/+]{40}\b")
_NETRC_RE = re.compile(
    rb"(?m)^[ \t]*(?:machine[ \t]+\S+|default)\b[^\n]*(?:\n[^\n]*){0,3}?[ \t]password[ \t]+\S+"
)
_DOCKER_AUTH_RE = re.compile(rb'"auths"\s*:\s*\{[\s\S]{0,4000}?"auth"\s*:\s*"[A-Za-z0-9+/=]{12,}"')
_NPM_AUTH_RE = re.compile(
    rb"(?m)^[ \t]*(?://\S*:)?_(?:authToken|auth|password)[ \t]*=[ \t]*"
    rb"[A-Za-z0-9._~+/=-]{16,}[ \t]*\r?$"
)
# Yarn 2+'s .yarnrc.yml with a literal token (`${NPM_TOKEN}` is a reference, and no secret).
_YARN_AUTH_RE = re.compile(
    rb"""(?m)^[ \t]*npmAuth(?:Token|Ident)[ \t]*:[ \t]*["']?(?!\$\{)[A-Za-z0-9._~+/=:-]{8,}"""
)
# An OAuth user's token as Google's client libraries save it (`token.json`: no "type", so not
# the service-account rule's): a refresh token with the client secret it is used with.
_OAUTH_REFRESH_RE = re.compile(rb'"refresh_token"\s*:\s*"[^"\s]{16,}"')
_OAUTH_SECRET_RE = re.compile(rb'"client_secret"\s*:\s*"[^"\s]{8,}"')
_PYPIRC_RE = re.compile(
    rb"(?m)^\[(?:pypi|testpypi|distutils)\][\s\S]{0,2000}?^password[ \t]*[=:][ \t]*\S{8,}"
)
# Key material in other forms: .NET's RSA key as XML with its private exponent (<D>), an
# OpenVPN static key (tls-auth, tls-crypt), a WireGuard interface's private key, a Solana
# keypair file (the whole file a JSON array of 64 bytes).
_RSA_XML_RE = re.compile(rb"<D>\s*[A-Za-z0-9+/=\s]{40,}</D>")
_OPENVPN_KEY_RE = re.compile(rb"-----BEGIN OpenVPN Static key V1-----\s*(?:[0-9a-fA-F]{32}\s*){4}")
_WIREGUARD_RE = re.compile(
    rb"(?m)^\[Interface\][ \t]*\r?$[\s\S]{0,2000}?^[ \t]*PrivateKey[ \t]*=[ \t]*"
    rb"[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=[ \t]*\r?$"
)
_KEYPAIR_RE = re.compile(
    rb"\s*\[\s*(?:(?:25[0-5]|2[0-4]\d|1?\d{1,2})\s*,\s*){63}(?:25[0-5]|2[0-4]\d|1?\d{1,2})\s*\]\s*"
)
_TFSTATE_RE = re.compile(rb'"terraform_version"\s*:[\s\S]{0,400}"lineage"\s*:')
# A Kubernetes Secret with a literal value under data/stringData (YAML, or JSON as kubectl
# writes it); one whose values are Helm templates (`{{ ... }}`) or refs holds none.
_K8S_SECRET_KIND_RE = re.compile(
    rb"""(?m)(?:^|[{,])[ \t]*["']?kind["']?[ \t]*:[ \t]*["']?Secret\b"""
)
_K8S_SECRET_DATA_RE = re.compile(
    rb"""(?m)["']?(?:data|stringData)["']?[ \t]*:[ \t]*\{?[ \t]*\r?\n?[ \t]*"""
    rb"""["']?[\w.-]+["']?[ \t]*:[ \t]*["']?(?![{$<])[^\s"'{}]{8,}"""
)
# Whole-file line formats: every meaningful line has the shape.
_LINE_FORMATS: tuple[tuple[str, re.Pattern[bytes]], ...] = (
    ("pgpass", re.compile(rb"[^:\s#][^:\s]*:(?:\d+|\*):[^:\s]+:[^:\s]+:\S+")),
    ("git_credentials", re.compile(rb"[a-z][a-z0-9+.-]*://[^:/@\s]+:[^@\s]+@\S+")),
    ("htpasswd", re.compile(rb"[^:\s#]+:(?:\$apr1\$|\$2[aby]\$|\{SHA\}|\$[156]\$)\S{8,}")),
)
_DOTENV_LINE_RE = re.compile(rb"(?:export[ \t]+)?[A-Za-z_][A-Za-z0-9_.]*=\S")
# dotenv files carry no extension of their own (env/production, .env.local is a name rule) or an
# environment's name; `.properties`, `.ini` and code keep their text and are redacted instead.
_DOTENV_SUFFIXES = frozenset(
    ".txt .local .prod .production .staging .stage .dev .development .test .testing .live".split()
)
_DOTENV_MAX_BYTES = 64_000


# A file of one value alone, named after what it is: a Docker secret (Compose mounts each as a
# file of the bare value: `secrets/db_password.txt`), a key kept for a script. Nothing in the
# value tells a password from a word, so the name decides; a text or code file so named holds
# more than one word.
_LONE_MAX_BYTES = 1024
_LONE_RE = re.compile(rb"\s*[^\s#]\S{5,}\s*")
_LONE_NAME_RE = re.compile(
    r"passw(?:or)?d|passwd|secret|token|api[_.-]?key|private[_.-]?key|credential|\bpin\b"
)


def _meaningful_lines(data: bytes) -> list[bytes]:
    return [
        line.strip()
        for line in data.splitlines()
        if line.strip() and not line.lstrip().startswith((b"#", b";", b"//"))
    ]


def _dotenv_with_secret(data: bytes, name: str) -> bool:
    suffix = name[name.rfind(".") :] if "." in name.lstrip(".") else ""
    if suffix and suffix not in _DOTENV_SUFFIXES or len(data) > _DOTENV_MAX_BYTES:
        return False
    return _dotenv_lines(data) and bool(redact(data.decode("utf-8", "replace")).redactions)


def _dotenv_lines(data: bytes) -> bool:
    """Most meaningful lines are a dotenv file's `NAME=value` (no space around the `=`)."""
    if len(data) > _DOTENV_MAX_BYTES:
        return False
    lines = _meaningful_lines(data)
    return bool(lines) and sum(bool(_DOTENV_LINE_RE.match(ln)) for ln in lines) >= 0.8 * len(lines)


def secret_content(data: bytes, name: str = "") -> str | None:
    """Which kind of secret file this content is (None: an ordinary file). `name` is the
    lower-cased file name."""
    if b"PRIVATE KEY" in data and _PEM_KEY_RE.search(data):
        return "private_key"
    if b"PuTTY-User-Key-File-" in data and _PPK_RE.search(data):
        return "putty_key"
    if b"AGE-SECRET-KEY-1" in data and _AGE_RE.search(data):
        return "age_key"
    if b'"type"' in data and _GCP_TYPE_RE.search(data) and _GCP_SECRET_RE.search(data):
        return "gcp_credentials"
    if b'"client_secret"' in data and _OAUTH_CLIENT_RE.search(data):
        return "oauth_client_secret"
    if b'"refresh_token"' in data and _OAUTH_REFRESH_RE.search(data):
        if _OAUTH_SECRET_RE.search(data):
            return "oauth_token"
    if b"Config" in data and b"users:" in data and _KUBE_KIND_RE.search(data):
        if _KUBE_CRED_RE.search(data):
            return "kubeconfig"
    if (b"_secret_access_key" in data or b"_SECRET_ACCESS_KEY" in data) and _AWS_FILE_RE.search(
        data
    ):
        return "aws_credentials"
    if b"password" in data and (b"machine" in data or b"default" in data):
        if _NETRC_RE.search(data):
            return "netrc"
    if b'"auths"' in data and _DOCKER_AUTH_RE.search(data):
        return "docker_auth"
    if b"_auth" in data or b"_password=" in data:
        if _NPM_AUTH_RE.search(data):
            return "npm_auth"
    if b"npmAuth" in data and _YARN_AUTH_RE.search(data):
        return "npm_auth"
    if b"password" in data and b"[" in data and _PYPIRC_RE.search(data):
        return "pypirc"
    if b"<RSAKeyValue>" in data and _RSA_XML_RE.search(data):
        return "rsa_xml_key"
    if b"OpenVPN Static key V1" in data and _OPENVPN_KEY_RE.search(data):
        return "openvpn_static_key"
    if b"PrivateKey" in data and b"[Interface]" in data and _WIREGUARD_RE.search(data):
        return "wireguard_key"
    if len(data) < 1000 and data.lstrip()[:1] == b"[" and _random_bytes_json(data):
        return "keypair_json"
    if b'"terraform_version"' in data and _TFSTATE_RE.search(data):
        return "terraform_state"
    if b"Secret" in data and _K8S_SECRET_KIND_RE.search(data):
        if _K8S_SECRET_DATA_RE.search(data):
            return "kubernetes_secret"
    if len(data) <= _DOTENV_MAX_BYTES:
        first = _first_line(data)
        formats = [(k, r) for k, r in _LINE_FORMATS if first and r.fullmatch(first)]
        if formats:
            lines = _meaningful_lines(data)
            for kind, line_re in formats:
                if all(line_re.fullmatch(ln) for ln in lines):
                    return kind
        if first and _DOTENV_LINE_RE.match(first) and _dotenv_with_secret(data, name):
            return "dotenv"
    if len(data) <= _LONE_MAX_BYTES and _LONE_NAME_RE.search(name) and _LONE_RE.fullmatch(data):
        return "lone_value"
    return None


def secret_content_of_link(data: bytes) -> str | None:
    """Which kind of secret a hard link's content is when the file has names outside the
    workspace (`ln ~/app/.env defaults.py`): the name it has there is unknown, so it is judged
    as a file of no name is, and a dotenv file's lines are one whatever values they hold
    (`ADMIN_PIN=4821`, a value no redaction rule knows): its other name is most likely the
    `.env` its values were kept in, a name that would keep it out."""
    if kind := secret_content(data, ""):
        return kind
    return "dotenv" if _dotenv_lines(data) else None


def _random_bytes_json(data: bytes) -> bool:
    """The file is a JSON array of 64 bytes that read as random (a keypair), not a table of
    small numbers (`range(64)`) or one value repeated."""
    if not _KEYPAIR_RE.fullmatch(data):
        return False
    values = [int(v) for v in re.findall(rb"\d+", data)]
    return len(set(values)) >= 40 and sum(v >= 128 for v in values) >= 16


def _first_line(data: bytes) -> bytes | None:
    """The first line that is neither blank nor a comment."""
    for line in data[:4096].splitlines():
        line = line.strip()
        if line and not line.startswith((b"#", b";", b"//")):
            return line
    return None
