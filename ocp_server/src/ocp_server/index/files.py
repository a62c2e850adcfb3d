"""Which files of a workspace get indexed, and why the others do not.

In a git work tree the file list comes from git itself (tracked plus untracked-not-ignored),
which gets .gitignore exactly right, negations and nested files included. Outside git, every
.gitignore on the way down is applied with pathspec. An `.ocpignore` (gitignore syntax) at the
workspace root applies on top, in both cases.

Never indexed, whatever the ignore files say:

- secret files by name: SECRET_PATTERNS below (.env*, *.pem, *.key, id_rsa*, *.p12, *.p8,
  credentials…), matched without regard to case (`.ENV`, `server.PEM`);
- secret files by content, whatever their name (`secret_content`): private keys (PEM, PuTTY,
  age), GCP service-account and OAuth client JSON, kubeconfigs with user credentials, dotenv
  files holding a secret (`env/production`), netrc, pgpass, git-credentials, htpasswd, docker
  and npm auth, AWS credential files, Terraform state;
- vendored and build folders (VENDORED_DIRS), lockfiles (LOCKFILES); a folder named like
  BUILD_DIRS only when git's rules do not keep it (see there);
- binaries (a NUL byte in the first 8 KB), files over OCP_MAX_FILE_BYTES (default 1 MB);
- minified or generated files (by name, a generated-code header, or very long lines);
- symlinks that lead outside the workspace, or whose target is excluded by the rules above
  (`settings.txt -> .env` is a secret, `x -> .git/config` is vendored), a symlinked folder
  on a file's way included (git lists `docs/a.md` after `docs` became a link).
- file names that are not valid UTF-8 (counted as `undecodable_name`: the database stores
  text, and one such name must not fail the batch it is in);
- nested git repositories and submodules (counted and named, see nested.py).

The path rules are checked again at search time, so a file that became secret or ignored after
it was indexed never comes back in results.
"""

from __future__ import annotations

import os
import re
import stat
import subprocess
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path, PurePosixPath

import pathspec

from ocp_router.redact import redact
from ocp_server.index.limits import DEFAULT_MAX_FILE_BYTES
from ocp_server.index.nested import NESTED_REASON
from ocp_server.index.real_paths import RealFolders

SECRET_PATTERNS: tuple[str, ...] = (
    ".env",
    ".env.*",
    "*.env",
    ".envrc",
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
    ".aws/credentials",
    ".aws/config",
    ".docker/config.json",
    ".kube/config",
)
LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "uv.lock",
        "pipfile.lock",
        "pdm.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "mix.lock",
        "flake.lock",
        "packages.lock.json",
        "podfile.lock",
        "pubspec.lock",
        "gradle.lockfile",
    }
)
VENDORED_DIRS = frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".ocp",
        "node_modules",
        "bower_components",
        "jspm_packages",
        "vendor",
        "third_party",
        "third-party",
        "thirdparty",
        ".venv",
        "venv",
        "site-packages",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".eggs",
        "dist",
        "target",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".gradle",
        ".idea",
        ".vscode",
        "coverage",
        "htmlcov",
        ".terraform",
        ".cache",
        "Pods",
        "DerivedData",
    }
)
#: A build's output, or its own source (hono's `build/build.ts`): indexed only where git's rules
#: keep them (tracked in a git work tree; outside git, below a .gitignore that does not ignore
#: them), else skipped as vendored folders are.
BUILD_DIRS = frozenset({"build"})
_MINIFIED_SUFFIXES = (".min.js", ".min.css", ".min.mjs", ".bundle.js", ".chunk.js", ".map")
_GENERATED_SUFFIXES = (
    "_pb2.py",
    "_pb2_grpc.py",
    ".pb.go",
    ".pb.cc",
    ".pb.h",
    ".g.dart",
    ".designer.cs",
    ".generated.ts",
    ".generated.js",
    ".gen.go",
)
_GENERATED_MARKERS = (
    b"@generated",
    b"do not edit",
    b"auto-generated",
    b"autogenerated",
    b"generated by",
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
    re.IGNORECASE,
)
assert _SECRET_RE.pattern, "the secret patterns compiled to nothing"


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str  # relative, posix
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Listing:
    candidates: list[Candidate] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    git: bool = False
    nested: list[str] = field(default_factory=list)  # nested repositories git listed

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def path_exclusion(rel: str, ocpignore: pathspec.GitIgnoreSpec | None = None) -> str | None:
    """Why a path is never indexed by its name alone (None: it may be)."""
    reason = _builtin_exclusion(rel)
    if reason is None and ocpignore is not None and ocpignore.match_file(rel):
        return "ocpignore"
    return reason


@lru_cache(maxsize=65536)
def _builtin_exclusion(rel: str) -> str | None:
    parts = PurePosixPath(rel).parts
    if any(p in VENDORED_DIRS for p in parts[:-1]):
        return "vendored"
    name = parts[-1].lower() if parts else ""
    if _SECRET_RE.match(rel):
        return "secret"
    if name in LOCKFILES:
        return "lockfile"
    if name.endswith(_MINIFIED_SUFFIXES):
        return "minified"
    if name.endswith(_GENERATED_SUFFIXES):
        return "generated"
    return None


def content_exclusion(data: bytes, name: str) -> str | None:
    """Why a file is not indexed by its content (None: it may be). `data` is the whole file:
    the secret rules look everywhere, the others at the first 8 KB."""
    head = data[:8192]
    if b"\0" in head:
        return "binary"
    if secret_content(data, name) is not None:
        return "secret_content"
    first_lines = head[:600].lower()
    if any(marker in first_lines for marker in _GENERATED_MARKERS) and (
        b"do not edit" in first_lines or b"@generated" in first_lines
    ):
        return "generated"
    if name.endswith((".js", ".mjs", ".cjs", ".css", ".json", ".svg")):
        lines = head[:8192].split(b"\n")
        longest = max(len(line) for line in lines)
        if longest > 1000 and (len(head) / max(len(lines), 1)) > 300:
            return "minified"
    return None


# ---- secret files by content -----------------------------------------------------------------
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
_PYPIRC_RE = re.compile(
    rb"(?m)^\[(?:pypi|testpypi|distutils)\][\s\S]{0,2000}?^password[ \t]*[=:][ \t]*\S{8,}"
)
_TFSTATE_RE = re.compile(rb'"terraform_version"\s*:[\s\S]{0,400}"lineage"\s*:')
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
    lines = _meaningful_lines(data)
    if not lines or sum(bool(_DOTENV_LINE_RE.match(ln)) for ln in lines) < 0.8 * len(lines):
        return False
    return bool(redact(data.decode("utf-8", "replace")).redactions)


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
    if b"password" in data and b"[" in data and _PYPIRC_RE.search(data):
        return "pypirc"
    if b'"terraform_version"' in data and _TFSTATE_RE.search(data):
        return "terraform_state"
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
    return None


def _first_line(data: bytes) -> bytes | None:
    """The first line that is neither blank nor a comment."""
    for line in data[:4096].splitlines():
        line = line.strip()
        if line and not line.startswith((b"#", b";", b"//")):
            return line
    return None


def load_ocpignore(workspace: Path) -> pathspec.GitIgnoreSpec | None:
    ignore = workspace / ".ocpignore"
    try:
        return pathspec.GitIgnoreSpec.from_lines(ignore.read_text("utf-8").splitlines())
    except (OSError, UnicodeDecodeError):  # none, or not readable
        return None


def git_files(workspace: Path) -> list[str] | None:
    """Tracked plus untracked-not-ignored files, or None when this is not a git work tree.
    Below a BUILD_DIRS folder, tracked files only."""
    try:
        out = subprocess.run(
            [
                "git",
                "-C",
                str(workspace),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
                "--full-name",
                "-t",  # tags each path: "? " untracked, others tracked
            ],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        top = subprocess.run(
            ["git", "-C", str(workspace), "rev-parse", "--show-prefix"],
            capture_output=True,
            check=True,
            timeout=10,
            text=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    entries = out.decode("utf-8", "surrogateescape").split("\0")
    # untracked below a build folder: the build's output
    paths = sorted(
        {
            e[2:]
            for e in entries
            if e and (e[0] != "?" or BUILD_DIRS.isdisjoint(e[2:].split("/")[:-1]))
        }
    )
    if top:  # the workspace is a sub-folder of the repository
        paths = [p[len(top) :] for p in paths if p.startswith(top)]
    return paths


def _ignored(specs: list[tuple[str, pathspec.GitIgnoreSpec]], rel: str) -> bool:
    """Git's rule: the last matching pattern wins, deeper .gitignore files last."""
    ignored = False
    for folder, spec in specs:
        verdict = spec.check_file(rel[len(folder) :]).include
        if verdict is not None:
            ignored = verdict
    return ignored


def _iter_walk_with_gitignore(
    workspace: Path, unreadable: Callable[[OSError], None] | None = None
) -> Iterator[str]:
    """Every file below the workspace, honouring nested .gitignore files (no git needed).
    `unreadable` is told of each folder whose entries could not be read."""
    specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []
    for dirpath, dirnames, filenames in os.walk(workspace, onerror=unreadable):
        rel_dir = os.path.relpath(dirpath, workspace).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        specs = [(d, s) for d, s in specs if rel_dir.startswith(d)]
        if ".gitignore" in filenames:
            try:
                lines = (Path(dirpath) / ".gitignore").read_text("utf-8").splitlines()
                specs.append((rel_dir, pathspec.GitIgnoreSpec.from_lines(lines)))
            except (OSError, UnicodeDecodeError):
                pass

        skip = VENDORED_DIRS if specs else VENDORED_DIRS | BUILD_DIRS  # nothing says what is output
        dirnames[:] = sorted(
            d for d in dirnames if d not in skip and not _ignored(specs, rel_dir + d + "/")
        )
        yield from (rel_dir + f for f in sorted(filenames) if not _ignored(specs, rel_dir + f))


def count_files(workspace: Path, limit: int) -> int:
    """How many files the index would consider by their paths (ignore files and the path
    rules applied, nothing read), counting no further than `limit` + 1: a first run can
    refuse a huge folder before it walks all of it."""
    workspace = workspace.resolve()
    paths: Iterable[str] | None = git_files(workspace)
    if paths is None:
        paths = _iter_walk_with_gitignore(workspace)
    ocpignore = load_ocpignore(workspace)
    count = 0
    for rel in paths:
        if path_exclusion(rel, ocpignore) is None:
            count += 1
            if count > limit:
                break
    return count


def list_workspace(
    workspace: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    own_files: Collection[str] = (),
) -> Listing:
    """The files to index, with a count of everything skipped by reason. `own_files` (OCP's
    database, when OCP_DB_PATH puts it in the workspace) are left out unread and uncounted:
    opening them here would drop this process's SQLite locks on them."""
    workspace = workspace.resolve()
    listing = Listing()
    paths = git_files(workspace)
    listing.git = paths is not None
    if paths is None:
        # A folder that cannot be read is counted, like a file (git lists tracked files in
        # it, and each one's stat fails).
        paths = list(_iter_walk_with_gitignore(workspace, lambda _: listing.skip("unreadable")))
    ocpignore = load_ocpignore(workspace)
    root = str(workspace)
    folders = RealFolders(workspace)
    for rel in paths:
        if rel in own_files:
            continue
        if not _decodable(rel):
            listing.skip("undecodable_name")
            continue
        if reason := path_exclusion(rel, ocpignore):
            listing.skip(reason)
            continue
        real = folders.real(rel)  # a folder on the way may be a symlink now (git lists it)
        if real is None:
            listing.skip("symlink_outside")
            continue
        if real != rel and (reason := path_exclusion(real, ocpignore)):
            listing.skip(reason)
            continue
        full = os.path.join(root, rel)
        try:
            st = os.lstat(full)  # one stat per file: this loop runs on every update
            if stat.S_ISLNK(st.st_mode):
                target = Path(full).resolve()
                if not target.is_relative_to(workspace):
                    listing.skip("symlink_outside")
                    continue
                # Judged by what it points at too: settings.txt -> .env is a secret.
                if reason := path_exclusion(target.relative_to(workspace).as_posix(), ocpignore):
                    listing.skip(reason)
                    continue
                st = os.stat(full)
        except FileNotFoundError:
            continue  # tracked, and deleted from the work tree: simply not there
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
            listing.skip("unreadable")
            continue
        # git lists a submodule or nested repository as one folder (a symlink to one is not)
        if stat.S_ISDIR(st.st_mode) and not os.path.islink(full):
            listing.skip(NESTED_REASON)
            listing.nested.append(rel.rstrip("/"))
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_size > max_file_bytes:
            listing.skip("too_large")
            continue
        listing.candidates.append(Candidate(rel, st.st_size, st.st_mtime_ns))
    return listing


def read_regular(path: Path, max_bytes: int | None = None) -> bytes:
    """The bytes of a regular file, at most `max_bytes` + 1 of them (more than `max_bytes`:
    the file grew past the limit since the listing's stat). Anything else now at the path (a
    FIFO or a device swapped in since that stat) raises OSError instead of blocking for ever
    on the read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # opening a FIFO does not wait for a writer
    with open(fd, "rb") as file:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path} is not a regular file")
        return file.read() if max_bytes is None else file.read(max_bytes + 1)


def _decodable(rel: str) -> bool:
    """Names that were not UTF-8 on disk reach us with surrogate escapes (os.walk, and git's
    output decoded with surrogateescape); SQLite text cannot hold them."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
