"""Files that are secrets (by name, by a secret value in the path, or by content) are not indexed,
through symlinks too."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ocp_server.index import files
from ocp_server.index.files import content_exclusion, list_workspace, path_exclusion
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.listed_paths import paths


def test_secrets_lockfiles_minified_and_binaries_are_skipped_and_counted(workspace: Path) -> None:
    listing = list_workspace(workspace)
    found = {c.path for c in listing.candidates}
    for never in (".env", "secrets.json", "id_rsa", "package-lock.json", "app.min.js"):
        assert never not in found
    assert listing.skipped["secret"] == 3
    assert listing.skipped["lockfile"] == 1
    assert listing.skipped["minified"] == 1
    assert listing.git


B64_LINE = "MIIEowIBAAKCAQEA" + "q7Vx3kPz9RmT2wYc" * 3  # 64 base64 characters, not a real key


def _pem(label: str) -> str:
    return f"-----BEGIN {label}-----\n" + f"{B64_LINE}\n" * 5 + f"-----END {label}-----\n"


def test_secret_names_match_in_any_case(workspace: Path) -> None:
    for name in ("Credentials.json", "server.PEM", ".ENV", "Secrets.YAML", "ID_RSA"):
        (workspace / name).write_text("x = 1\n")
    found = paths(workspace)
    for name in ("Credentials.json", "server.PEM", ".ENV", "Secrets.YAML", "ID_RSA"):
        assert name not in found, name
    assert path_exclusion("keys/AuthKey_ABC123.p8") == "secret"
    assert path_exclusion("ops/Kubeconfig.YAML") == "secret"


# A path is handed out with every search hit and citation, unredacted (a citation must stay
# usable): a file whose name or folder holds a secret value is not indexed at all.
GHP = "ghp_" + "Xk29dLq7" * 4 + "Ab3Z"


JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9." + "Qm7xTz2KpL9vR4sWc8YhN1jD5gF3aE6uB0oI-_Zx"


@pytest.mark.parametrize(
    "rel",
    [
        f"backups/{GHP}.json",
        f"exports/report-{JWT}.md",
        "keys/AKIAQW7B3PDKHX4PY8GP_backup.csv",
        f"tokens/token_{GHP}/readme.md",
        "mnt/admin:nmr0mtJHwWWY@db.internal/readme.md",  # a mount named with its login
        # glued to a word, with no `-`, `_` or `.` before the token
        f"backups/backup{GHP}.json",
        "keys/keysAKIAQW7B3PDKHX4PY8GP.txt",
        f"exports/report{JWT}.md",
        f"tokens/prod{GHP}/readme.md",
    ],
)
def test_a_path_holding_a_secret_value_is_a_secret(rel: str) -> None:
    assert path_exclusion(rel) == "secret"


@pytest.mark.parametrize(
    "rel",
    [
        "src/tokenizer/github_token_test.py",
        "docs/2024-01-15-release-notes_v1.2.3.md",
        "assets/fonts/NotoSansJP-Regular-subset-A1B2C3.woff2",
        "node_pkg/sha512-AbCdEf0123456789abcdef.json",
        "mail/user@example.com/notes.md",
        "src/eyJ_parser.py",
        # a token's prefix glued to a word, with no token's body after it
        "src/graphql/ghp_client.py",
        "lib/aws/AKIAValidator.java",
        "models/loadhf_QwenForCausalLM_weights.py",
        "src/disk-ant-colony-simulation-runner.py",
        "pkg/xoxb-handler/README.md",
    ],
)
def test_ordinary_paths_are_no_secret(rel: str) -> None:
    assert path_exclusion(rel) is None


def test_a_file_named_with_a_token_is_not_listed(workspace: Path) -> None:
    (workspace / "backups").mkdir()
    (workspace / "backups" / f"{GHP}.json").write_text('{"rows": []}\n')
    assert not any(GHP in p for p in paths(workspace))


K8S_SECRET = "Sec" + "ret"


# What the issue planted: key files with ordinary names, each one excluded by its content.
KEY_FILES: dict[str, str] = {
    "deploy/deploy_key": _pem("OPENSSH PRIVATE KEY"),
    "certs/AuthKey_ABC123.p8x": _pem("PRIVATE KEY"),
    "src/embedded_key.py": 'KEY = """' + _pem("RSA PRIVATE KEY") + '"""\n',
    "gcp-key.json": json.dumps(
        {
            "type": "service_account",
            "project_id": "acme-prod",
            "private_key_id": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b",
            "private_key": _pem("PRIVATE KEY"),
            "client_email": "ci@acme-prod.iam.gserviceaccount.com",
        },
        indent=2,
    ),
    "acme-prod-1a2b3c4d5e6f.json": json.dumps(
        {"type": "service_account", "private_key": "-----BEGIN PRIVATE KEY-----\n" + B64_LINE}
    ),
    "oauth/client.json": json.dumps(
        {"installed": {"client_id": "123.apps.example", "client_secret": "GOCSPX-" + "k3yZ" * 6}}
    ),
    "ops/cluster-admin.yaml": (
        "apiVersion: v1\nkind: Config\nclusters:\n- name: prod\n  cluster:\n"
        "    server: https://10.0.0.1\nusers:\n- name: admin\n  user:\n"
        "    token: eyJhbGciOiJSUzI1NiIsImtpZCI6IjEyMyJ9.k8sTok3nBody9x\n"
    ),
    "env/production": "DATABASE_URL=postgres://app:Zq8vR2mLp4Tx@db.internal/app\n"
    "STRIPE_KEY=sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc" + "\nDEBUG=false\n",
    "ops/ppk": "PuTTY-User-Key-" + "File-3: ssh-ed25519\nEncryption: none\nPublic-Lines: 2\n"
    "AAAA\nAAAA\nPrivate-Lines: 1\nAAAAIB\n",
    "ops/age.txt": "# created: 2024\nAGE-SECRET-KEY-1"
    + "QYQ9J8ZC3N7D5XW0EFGHJKLMNPQRSTUVWXYZ023456789ACDEFGH"
    + "\n",
    "ops/netrc_copy": "machine api.example.com\n  login deploy\n  password Zq8vR2mLp4Tx\n",
    "ops/pgpass_copy": "db.internal:5432:app:app:Zq8vR2mLp4Tx\n*:*:*:ro:R3ad0nly!\n",
    "ops/git_creds": "https://deploy:ghp_" + "a1B2c3D4" * 4 + "e5F6@github.com\n",
    "ops/npmrc_copy": "//registry.npmjs.org/:_authToken=npm_" + "a1B2c3D4e5" * 4 + "\n",
    "ops/docker.json": json.dumps({"auths": {"registry.example.com": {"auth": "ZGVwbG95" * 3}}}),
    "ops/aws.ini": "[default]\naws_access_key_id = AKIA"
    + "Q" * 4
    + "7Z3X5C1V9B2N\naws_secret_access_key = "
    + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYz8Kq2mR4vT"
    + "\n",
    "infra/prod-state.json": json.dumps(
        dict(version=4, terraform_version="1.7.0", serial=3, lineage="a1b2", resources=[])
    ),
    # a Kubernetes Secret: its values are base64 or plain under any names (DB_URL, api); the
    # kind is joined at run time so that this file is no Secret manifest itself
    "k8s/db.yaml": f"apiVersion: v1\nkind: {K8S_SECRET}\nmetadata:\n  name: db\ndata:\n"
    "  DB_URL: cG9zdGdyZXM6Ly9hcHA6V2ludGVyMjAyNHhAZGI6NTQzMi9hcHA=\n",
    "k8s/app.yaml": "apiVersion: apps/v1\nkind: Deployment\n---\napiVersion: v1\n"
    f"kind: {K8S_SECRET}\n"
    "metadata:\n  name: app\nstringData:\n  DATABASE_URL: postgres://app:Winter2024x@db/app\n",
    "k8s/api-token.json": json.dumps(
        {"apiVersion": "v1", "kind": K8S_SECRET, "data": {"token": "cTh6clQybVh2OUxwSzRz"}}
    ),
    # key material in other forms: .NET's RSA key as XML (<D> is the private exponent), an
    # OpenVPN static key inline in a .conf, a WireGuard interface, a Solana keypair file
    "keys/signing.xml": "<RSAKeyValue><Modulus>" + B64_LINE + "</Modulus><Exponent>AQAB"
    "</Exponent><P>" + B64_LINE + "</P><Q>" + B64_LINE + "</Q><D>" + B64_LINE * 2 + "</D>"
    "</RSAKeyValue>\n",
    "vpn/client.conf": "client\nremote vpn.example.com 1194\n<tls-crypt>\n-----BEGIN OpenVPN "
    "Static key V1-----\n" + "6acef03f62675b4b1bbd03e53b187727\n" * 16 + "-----END OpenVPN "
    "Static key V1-----\n</tls-crypt>\n",
    "vpn/wg0.conf": "[Interface]\nAddress = 10.0.0.1/24\nPrivateKey = "
    "yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\nListenPort = 51820\n",
    "wallet/deployer.json": json.dumps([(i * 37 + 11) % 256 for i in range(64)]),
}


ORDINARY_FILES: dict[str, str] = {
    # Code that handles keys is not a key.
    "src/pem.py": 'HEADER = "-----BEGIN RSA PRIVATE KEY-----"\n'
    "def is_key(text):\n    return text.startswith(HEADER)\n",
    "docs/kube.md": "A kubeconfig has `kind: Config` and a `users:` list; put no token here.\n",
    "Makefile": "CC=gcc\nCFLAGS=-O2\n",
    "env/staging.example": "DATABASE_URL=postgres://user:${DB_PASSWORD}@localhost/app\n",
    "config/app.properties": "db.user=app\ndb.password=Zq8vR2mLp4Tx\n",  # redacted on output
    # a Secret templated by Helm, or one that only refers to secrets, holds none
    "chart/templates/db.yaml": f"apiVersion: v1\nkind: {K8S_SECRET}\nmetadata:\n  name: db\n"
    "data:\n  password: {{ .Values.password | b64enc | quote }}\n",
    "k8s/pod.yaml": "kind: Pod\nspec:\n  containers:\n  - env:\n    - valueFrom:\n"
    "        secretKeyRef:\n          name: db\n          key: password\n",
    # code and docs that name these forms, a WireGuard peer's public side, a list of numbers
    "src/xmlkey.cs": 'if (xml.Contains("<RSAKeyValue>") && xml.Contains("<D>")) return true;\n',
    "docs/vpn.md": "Paste the block that starts `-----BEGIN OpenVPN Static key V1-----` here.\n",
    "vpn/peer.conf": "[Peer]\nPublicKey = xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=\n",
    "vpn/template.conf": "[Interface]\nPrivateKey = <your private key>\n",
    "data/numbers.json": json.dumps(list(range(2, 66))),
    "data/sizes.json": json.dumps([1024] * 64),
}


def test_key_files_with_ordinary_names_are_excluded_by_content(workspace: Path) -> None:
    for rel, text in {**KEY_FILES, **ORDINARY_FILES}.items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text(text)
    for rel in KEY_FILES:
        data = (workspace / rel).read_bytes()
        assert content_exclusion(data, rel.rsplit("/", 1)[-1]) == "secret_content", rel
    for rel in ORDINARY_FILES:
        data = (workspace / rel).read_bytes()
        assert content_exclusion(data, rel.rsplit("/", 1)[-1]) is None, rel


async def test_the_indexer_counts_secret_content_as_a_skip_reason(workspace: Path) -> None:
    for rel, text in KEY_FILES.items():
        (workspace / rel).parent.mkdir(parents=True, exist_ok=True)
        (workspace / rel).write_text(text)
    async with await WorkspaceIndex.open(workspace) as index:
        summary = await index.update()
        assert summary is not None
        assert summary.skipped["secret_content"] == len(KEY_FILES)
        rows = await index.db.execute_fetchall(
            "SELECT f.path FROM chunks c JOIN files f ON f.id = c.file_id"
        )
        indexed = {r[0] for r in rows}
    assert not indexed & set(KEY_FILES)


def test_symlinks_are_judged_by_their_target_too(workspace: Path) -> None:
    (workspace / ".git" / "config").write_text(
        '[remote "origin"]\n\turl = https://deploy:tok@github.com/acme/app\n'
    )
    os.symlink(".env", workspace / "settings.txt")
    os.symlink(".git/config", workspace / "repo_config.txt")
    os.symlink("id_rsa", workspace / "notes.md")
    os.symlink("src/auth.py", workspace / "auth_link.py")
    listing = list_workspace(workspace)
    found = {c.path for c in listing.candidates}
    assert {"settings.txt", "repo_config.txt", "notes.md"}.isdisjoint(found)
    assert "auth_link.py" in found
    assert listing.skipped["secret"] == 3 + 2  # .env, secrets.json, id_rsa and two links


def test_symlinks_to_secrets_are_excluded_outside_git_too(tmp_path: Path) -> None:
    ws = tmp_path / "plain"
    ws.mkdir()
    (ws / ".env").write_text("API_KEY=sk-live-123\n")
    (ws / "main.py").write_text("x = 1\n")
    os.symlink(".env", ws / "settings.txt")
    assert paths(ws) == {"main.py"}


async def test_an_index_built_before_the_content_rules_drops_key_files(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "deploy").mkdir()
    (workspace / "deploy" / "deploy_key").write_text(KEY_FILES["deploy/deploy_key"])
    with monkeypatch.context() as old_rules:
        old_rules.setattr(files, "secret_content", lambda data, name="": None)
        async with await WorkspaceIndex.open(workspace) as index:
            await index.update()
            await index.db.execute("DELETE FROM _migrations WHERE name = 'm007_secrets'")
    async with await WorkspaceIndex.open(workspace) as index:  # migrates again
        summary = await index.update()
        assert summary is not None and summary.skipped.get("secret_content") == 1
        rows = await index.db.execute_fetchall(
            "SELECT 1 FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.path = ?",
            ("deploy/deploy_key",),
        )
        assert not list(rows)
