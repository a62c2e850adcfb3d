"""Secret files as real projects hold them: the names tools give their logins, at any depth,
and the content of the ones whose names say nothing (`token.json`, `.yarnrc.yml`)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ocp_server.index import files, secret_files
from ocp_server.index.files import content_exclusion, list_workspace, path_exclusion
from ocp_server.index.workspace import WorkspaceIndex
from tests.workspace_fixture import git, settled

# Each one found in the wild holding a login; before, all of them were indexed, and the
# password in `define( 'DB_PASSWORD', 'plumtreewalk' )` came back from a search as it is.
LOGIN_FILES: dict[str, str] = {
    "wp-config.php": "<?php\ndefine( 'DB_PASSWORD', 'plumtreewalk' );\n"
    "define( 'AUTH_KEY', 'k|8zQ+u>w[x9 Pp0e{R]c3!VJ,2m' );\n",
    ".env-prod": "DATABASE_PASS=orangeriver\n",
    ".env_local": "DATABASE_PASS=orangeriver\n",
    ".envrc.local": "export DATABASE_PASS=orangeriver\n",
    ".dev.vars": "API_SECRET=bronzeanvil\n",  # Cloudflare wrangler's local secrets
    "local.settings.json": '{"Values": {"AzureWebJobsStorage": "AccountName=acme;'
    'AccountKey=copperkettle=="}}\n',
    ".my.cnf": "[client]\nuser=root\npassword=purplehaze\n",
    "rclone.conf": "[s3]\ntype = s3\nsecret_access_key = silverlining\n",
    ".htdigest": "admin:Restricted:5f4dcc3b5aa765d61d8327deb882cf99\n",
    ".vault_pass": "ironmountain\n",
    "ansible/vault_pass.txt": "ironmountain\n",
    "sftp-config.json": '{"type": "sftp", "password": "goldenpond"}\n',
    "terraform.tfvars.json": '{"db_password": "yellowhammer"}\n',
    "acme-firebase-adminsdk-x1y2z-0123456789.json": '{"private_key_id": "0123456789abcdef"}\n',
    # a tool's login folder below the root, not only at it
    "deploy/.kube/config": "users:\n- name: admin\n  user:\n    token: redsquirrel\n",
    "home/.docker/config.json": '{"auths": {"r": {"auth": "dXNlcjpzaWx2ZXJmb3g="}}}\n',
    "ops/.aws/credentials": "[default]\naws_secret_access_key = greyheron\n",
    "dotfiles/.config/gh/hosts.yml": "github.com:\n    oauth_token: whitestallion\n",
}

# Names alike that hold no login: they stay indexed.
ORDINARY_NAMES = (
    "wp-config-sample.php",
    "src/local_settings.py",
    "docs/rclone.md",
    "src/gh/hosts.ts",
    "deploy/kube/config.go",
    "infra/variables.tf",
    ".yarnrc.yml",
    "src/vault.py",
    "src/environment.ts",
)


@pytest.mark.parametrize("rel", sorted(LOGIN_FILES))
def test_files_that_hold_a_login_are_secret_by_name(rel: str) -> None:
    assert path_exclusion(rel) == "secret"


@pytest.mark.parametrize("rel", ORDINARY_NAMES)
def test_names_alike_that_hold_no_login_are_indexed(rel: str) -> None:
    assert path_exclusion(rel) is None


def _token_json() -> bytes:
    # as google-auth's Credentials.to_json() writes it (the quickstarts' token.json)
    return json.dumps(
        {
            "token": "ya29.a0AfH6SMBx",
            "refresh_token": "1//0gLq7Xk2mVp9RtWz-L9Ir",
            "token_uri": "https://oauth2.googleapis.com/token",
            "client_id": "123.apps.googleusercontent.com",
            "client_secret": "GOCSPX-Qm7sVb2XkLp9Rt4WnZc8",
            "scopes": ["https://www.googleapis.com/auth/drive"],
        }
    ).encode()


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("token.json", _token_json()),
        (
            ".yarnrc.yml",
            b'npmRegistryServer: "https://npm.acme.dev"\nnpmAuthToken: "whitestallion"\n',
        ),
        (".yarnrc.yml", b"npmScopes:\n  acme:\n    npmAuthIdent: dXNlcjpwYXNzd29yZA==\n"),
    ],
)
def test_logins_whose_names_say_nothing_are_secret_by_content(name: str, data: bytes) -> None:
    assert content_exclusion(data, name) == "secret_content"


@pytest.mark.parametrize(
    ("name", "data"),
    [
        # a reference to a token in the environment is no token
        (".yarnrc.yml", b'npmAuthToken: "${NPM_TOKEN}"\nnodeLinker: node-modules\n'),
        # an OAuth client library's test data without the client's secret
        ("fixtures/refresh.json", b'{"refresh_token": "1//0gLq7Xk2mVp9RtWz-L9Ir"}'),
        ("docs/schema.json", b'{"refresh_token": {"type": "string"}, "client_secret": "string"}'),
    ],
)
def test_files_that_only_mention_a_login_keep_their_content(name: str, data: bytes) -> None:
    assert content_exclusion(data, name.rsplit("/", 1)[-1]) is None


async def test_no_chunk_of_a_login_file_is_indexed(workspace: Path) -> None:
    for rel, text in {**LOGIN_FILES, "token.json": _token_json().decode()}.items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text(text)
    (workspace / "src" / "main.py").write_text("def main():\n    return 1\n")
    async with await WorkspaceIndex.open(workspace) as index:
        await index.update()
        rows = await index.db.execute_fetchall(
            "SELECT DISTINCT f.path FROM chunks c JOIN files f ON f.id = c.file_id"
        )
    indexed = {r[0] for r in rows}
    assert "src/main.py" in indexed
    assert indexed.isdisjoint({*LOGIN_FILES, "token.json"})


async def test_an_index_judged_under_older_file_rules_drops_what_a_new_content_rule_finds(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An upgrade that adds a content rule: the file it finds was indexed by the older server,
    # and has not changed since; before, it stayed indexed (and searchable) until it changed.
    (workspace / "token.json").write_bytes(_token_json())
    settled(workspace)  # not read again for being new
    with monkeypatch.context() as older:
        older.setattr(files, "secret_content", lambda data, name="": None)
        older.setattr(secret_files, "FILE_RULES_DIGEST", "older rules", raising=False)
        async with await WorkspaceIndex.open(workspace) as index:
            await index.update()
            assert "token.json" in await _indexed(index)
    async with await WorkspaceIndex.open(workspace) as index:
        summary = await index.update()
        assert summary is not None
        assert "token.json" not in await _indexed(index)
        assert summary.skipped.get("secret_content") == 1
        assert summary.chunks > 0  # the other files kept their chunks
        again = await index.update()  # judged with these rules now: nothing read again
        assert again is not None and again.scanned == 0


async def _indexed(index: WorkspaceIndex) -> set[str]:
    rows = await index.db.execute_fetchall(
        "SELECT DISTINCT f.path FROM chunks c JOIN files f ON f.id = c.file_id"
    )
    return {r[0] for r in rows}


@pytest.mark.parametrize("in_git", [True, False])
def test_a_hard_link_to_a_secret_file_is_a_secret_too(tmp_path: Path, in_git: bool) -> None:
    # One file, two names: `.env` (ignored by git, as it mostly is) and an ordinary one. Its
    # value is none redaction knows, and the content rules take a dotenv file for one only
    # when redaction finds a secret in it: before, `notes.txt` and `src/defaults.py` were
    # indexed with `SMTP_PASS=zincoxide` in them.
    ws = tmp_path / "ws"
    (ws / "src").mkdir(parents=True)
    (ws / "config").mkdir()
    (ws / ".gitignore").write_text(".env\n.env.*\n")
    (ws / ".env").write_text("SMTP_PASS=zincoxide\n")
    (ws / "config" / ".env.local").write_text("SMTP_PASS=zincoxide\n")
    os.link(ws / ".env", ws / "notes.txt")
    os.link(ws / ".env", ws / "src" / "defaults.py")
    os.link(ws / "config" / ".env.local", ws / "config" / "mail.cfg")
    (ws / "src" / "main.py").write_text("def main():\n    return 1\n")
    os.link(ws / "src" / "main.py", ws / "src" / "main_copy.py")  # linked, and no secret
    if in_git:
        git(ws, "init", "-q")
    listing = list_workspace(ws)
    found = {c.path for c in listing.candidates}
    assert found.isdisjoint({"notes.txt", "src/defaults.py", "config/mail.cfg"})
    assert {"src/main.py", "src/main_copy.py"} <= found
    assert listing.skipped["secret"] == 3  # the .gitignore applies outside git too


@pytest.mark.parametrize("in_git", [True, False])
def test_a_hard_link_to_a_secret_file_in_another_folder_is_a_secret_too(
    tmp_path: Path, in_git: bool
) -> None:
    # A service's own `.env` (not ignored: the project has no .gitignore for it) and a deploy
    # key, each linked from another folder, listed before the secret's name (docs/ sorts
    # before services/) and after it (zz/). Before, only a name in the link's own folder or at
    # the root was looked at, and the three links were indexed with the values in them.
    ws = tmp_path / "ws"
    for folder in ("services/api", "deploy/keys", "docs", "zz", "src"):
        (ws / folder).mkdir(parents=True)
    (ws / "services" / "api" / ".env").write_text("SMTP_PASS=zincoxide\n")
    (ws / "deploy" / "keys" / "id_ed25519").write_text("not a key, but named as one\n")
    os.link(ws / "services" / "api" / ".env", ws / "docs" / "api-settings.txt")
    os.link(ws / "services" / "api" / ".env", ws / "zz" / "mail.cfg")
    os.link(ws / "deploy" / "keys" / "id_ed25519", ws / "docs" / "deploy-key.txt")
    (ws / "src" / "main.py").write_text("def main():\n    return 1\n")
    os.link(ws / "src" / "main.py", ws / "docs" / "main_copy.py")  # linked, and no secret
    if in_git:
        git(ws, "init", "-q")
    listing = list_workspace(ws)
    found = {c.path for c in listing.candidates}
    assert found == {"src/main.py", "docs/main_copy.py"}
    # the two secret names and their three other names
    assert listing.skipped["secret"] == 5
