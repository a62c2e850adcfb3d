"""Which files get indexed: git's own listing, ignore rules, secrets and junk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from ocp_server.index import files
from ocp_server.index.files import content_exclusion, list_workspace, path_exclusion
from ocp_server.index.workspace import WorkspaceIndex
from ocp_server.status import index_report
from tests.workspace_fixture import git


def paths(ws: Path) -> set[str]:
    return {c.path for c in list_workspace(ws).candidates}


def test_git_listing_honours_gitignore_including_negations(workspace: Path) -> None:
    found = paths(workspace)
    assert {"src/auth.py", "web/billing.ts", "README.md", "keep.log", ".gitignore"} <= found
    assert "debug.log" not in found
    assert not any(p.startswith(("node_modules/", ".venv/")) for p in found)


def test_untracked_files_that_are_not_ignored_are_listed(workspace: Path) -> None:
    (workspace / "src" / "new.py").write_text("x = 1\n")
    assert "src/new.py" in paths(workspace)


def test_a_nested_repository_is_left_out_counted_and_named(workspace: Path) -> None:
    (workspace / "inner").mkdir()
    (workspace / "inner" / "x.py").write_text("x = 1\n")
    git(workspace / "inner", "init", "-q")
    listing = list_workspace(workspace)
    assert not any(c.path.startswith("inner") for c in listing.candidates)
    assert listing.skipped["nested_repository"] == 1
    assert listing.nested == ["inner"]


def _with_nested_repositories(ws: Path) -> None:
    """`main.py`, and two repositories inside: `tools/inner` (its own `.git` folder) and `sub`
    (a submodule's `.git` file)."""
    (ws / "tools" / "inner" / "pkg").mkdir(parents=True)
    (ws / "main.py").write_text("def outer_code():\n    pass\n")
    (ws / "tools" / "inner" / "x.py").write_text("def from_the_inner_repo():\n    pass\n")
    (ws / "tools" / "inner" / "pkg" / "y.py").write_text("def deeper_inside():\n    pass\n")
    git(ws / "tools" / "inner", "init", "-q")
    git(ws, "init", "-q", f"--separate-git-dir={ws.parent / 'sub.git'}", "sub")
    (ws / "sub" / "lib.py").write_text("def from_the_submodule():\n    pass\n")


def test_outside_git_a_nested_repository_is_left_out_counted_and_named_too(
    tmp_path: Path,
) -> None:
    # Outside git the walk went into a folder holding `.git` like any other: its files were
    # indexed, under its own ignore rules and HEAD, as git never lists them in a work tree.
    ws = tmp_path / "plain"
    _with_nested_repositories(ws)
    listing = list_workspace(ws)
    assert not listing.git
    assert {c.path for c in listing.candidates} == {"main.py"}
    assert listing.skipped["nested_repository"] == 2
    assert sorted(listing.nested) == ["sub", "tools/inner"]
    assert files.count_files(ws, 100) == 3  # main.py and one folder per repository, as git


@pytest.mark.parametrize("tracked", [True, False], ids=["git", "plain"])
async def test_a_search_says_how_many_nested_repositories_are_not_indexed(
    tmp_path: Path, tracked: bool
) -> None:
    ws = tmp_path / "ws"
    _with_nested_repositories(ws)
    if tracked:
        git(ws, "init", "-q")
    async with await WorkspaceIndex.open(ws, tmp_path / "ocp.db") as index:
        await index.update()
        response = await index.search("from_the_inner_repo from_the_submodule")
        report = await index_report(index)
    assert response.results == ()
    assert response.note == (
        "2 nested git repositories or submodules are not indexed (ocp-server status names them)"
    )
    assert report.nested_repositories == ["sub", "tools/inner"]


async def test_a_search_in_a_workspace_without_nested_repositories_has_no_note(
    workspace: Path, tmp_path: Path
) -> None:
    async with await WorkspaceIndex.open(workspace, tmp_path / "ocp.db") as index:
        await index.update()
        response = await index.search("verify_token")
    assert response.results and response.note is None


def test_secrets_lockfiles_minified_and_binaries_are_skipped_and_counted(workspace: Path) -> None:
    listing = list_workspace(workspace)
    found = {c.path for c in listing.candidates}
    for never in (".env", "secrets.json", "id_rsa", "package-lock.json", "app.min.js"):
        assert never not in found
    assert listing.skipped["secret"] == 3
    assert listing.skipped["lockfile"] == 1
    assert listing.skipped["minified"] == 1
    assert listing.git


def test_tracked_vendored_folders_are_skipped_even_when_committed(workspace: Path) -> None:
    vendor = workspace / "vendor" / "pkg"
    vendor.mkdir(parents=True)
    (vendor / "lib.go").write_text("package pkg\n")
    git(workspace, "add", "-A")
    assert "vendor/pkg/lib.go" not in paths(workspace)


def test_a_build_folder_is_indexed_where_git_tracks_it_and_skipped_where_it_is_output(
    workspace: Path,
) -> None:
    (workspace / "build").mkdir()
    (workspace / "build" / "build.ts").write_text("export const entry = 'src/index.ts'\n")
    git(workspace, "add", "build/build.ts")
    (workspace / "build" / "bundle.js").write_text("var out = 1;\n")  # untracked, not ignored
    found = paths(workspace)
    assert "build/build.ts" in found
    assert "build/bundle.js" not in found


@pytest.mark.parametrize(
    ("gitignore", "indexed"), [(None, False), ("*.log\n", True), ("build/\n", False)]
)
def test_outside_git_a_build_folder_is_indexed_only_below_a_gitignore_that_keeps_it(
    tmp_path: Path, gitignore: str | None, indexed: bool
) -> None:
    ws = tmp_path / "plain"
    (ws / "build").mkdir(parents=True)
    (ws / "build" / "build.ts").write_text("export const entry = 'src/index.ts'\n")
    if gitignore is not None:
        (ws / ".gitignore").write_text(gitignore)
    assert ("build/build.ts" in paths(ws)) is indexed
    assert files.count_files(ws, 100) == len(paths(ws))


def test_outside_git_nested_gitignore_rules_apply(tmp_path: Path) -> None:
    ws = tmp_path / "plain"
    (ws / "a" / "b").mkdir(parents=True)
    (ws / ".gitignore").write_text("*.tmp\n")
    (ws / "a" / ".gitignore").write_text("secret_dir/\n!important.tmp\n")
    (ws / "a" / "x.tmp").write_text("x")
    (ws / "a" / "important.tmp").write_text("x")
    (ws / "a" / "secret_dir").mkdir()
    (ws / "a" / "secret_dir" / "f.py").write_text("x")
    (ws / "a" / "b" / "code.py").write_text("x")
    (ws / "node_modules").mkdir()
    (ws / "node_modules" / "m.js").write_text("x")
    listing = list_workspace(ws)
    assert not listing.git
    assert {c.path for c in listing.candidates} == {
        ".gitignore",
        "a/.gitignore",
        "a/important.tmp",
        "a/b/code.py",
    }


def test_ocpignore_applies_on_top_of_git(workspace: Path) -> None:
    (workspace / ".ocpignore").write_text("web/\n")
    found = paths(workspace)
    assert "web/billing.ts" not in found and "src/auth.py" in found


def test_files_over_the_size_limit_are_skipped(workspace: Path) -> None:
    (workspace / "big.py").write_text("x = 1\n" * 1000)
    listing = list_workspace(workspace, max_file_bytes=1000)
    assert "big.py" not in {c.path for c in listing.candidates}
    assert listing.skipped["too_large"] >= 1


def test_symlinks_never_lead_outside_the_workspace(workspace: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.py"
    outside.write_text("SECRET = 1\n")
    os.symlink(outside, workspace / "link.py")
    os.symlink(workspace / "src" / "auth.py", workspace / "inside_link.py")
    listing = list_workspace(workspace)
    found = {c.path for c in listing.candidates}
    assert "link.py" not in found and "inside_link.py" in found
    assert listing.skipped["symlink_outside"] == 1


@pytest.mark.parametrize("tracked", [True, False], ids=["git", "plain"])
def test_a_symlink_loop_is_skipped_as_unreadable_and_the_rest_is_listed(
    tmp_path: Path, tracked: bool
) -> None:
    # A loop (a -> b -> a) is left behind by tools and half-finished renames; resolving it
    # raises instead of failing like a dangling link, and must not stop the whole listing.
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "main.py").write_text("x = 1\n")
    os.symlink("loop_b", ws / "loop_a")
    os.symlink("loop_a", ws / "loop_b")
    os.symlink("itself", ws / "itself")
    if tracked:
        git(ws, "init", "-q")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "init")
    listing = list_workspace(ws)
    assert {c.path for c in listing.candidates} == {"main.py"}
    assert listing.skipped["unreadable"] == 3


def test_path_rules_name_the_reason() -> None:
    assert path_exclusion("config/.env.production") == "secret"
    assert path_exclusion("deploy/server.pem") == "secret"
    assert path_exclusion("keys/id_ed25519.pub") == "secret"
    assert path_exclusion("gcp/service-account-prod.json") == "secret"
    assert path_exclusion("web/node_modules/x/index.js") == "vendored"
    assert path_exclusion("Cargo.lock") == "lockfile"
    assert path_exclusion("api/user_pb2.py") == "generated"
    assert path_exclusion("src/environment.py") is None
    assert path_exclusion("docs/keyboard.md") is None


# ---- secret files by name (any case), by content, and through symlinks ----------------------

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


@pytest.mark.parametrize("refusal", ["dubious ownership", "safe.bareRepository"])
def test_a_repository_git_refuses_is_listed_without_git_and_said_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, refusal: str
) -> None:
    # Git refuses a repository another user owns ("detected dubious ownership", unless
    # safe.directory names it) and, under safe.bareRepository=explicit, one found bare: the
    # files were listed without git and nothing said why git's rules (info/exclude, the global
    # excludes file) no longer applied, nor that the recent commits were not read.
    if refusal == "dubious ownership":
        ws = tmp_path / "theirs"
        ws.mkdir()
        git(ws, "init", "-q")
        (ws / "app.py").write_text("def serve():\n    return 1\n")
        (ws / ".gitignore").write_text("build.py\n")
        (ws / "build.py").write_text("x = 1\n")
        git(ws, "add", "-A")
        git(ws, "commit", "-qm", "first")
        # git's own switch for its ownership check (as a repository chowned to another user)
        monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
        said = "detected dubious ownership in repository at"
        hint = f"git config --global --add safe.directory {ws}"
    else:
        ws = tmp_path / "bare.git"
        git(tmp_path, "init", "-q", "--bare", str(ws))
        (ws / "app.py").write_text("def serve():\n    return 1\n")
        config = tmp_path / "gitconfig"
        config.write_text("[safe]\n\tbareRepository = explicit\n")
        monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(config))
        said = f"cannot use bare repository '{ws}' (safe.bareRepository is 'explicit')"
        hint = ""
    with caplog.at_level("INFO", logger=files.__name__):
        listing = list_workspace(ws)
        list_workspace(ws)  # said once
    listed = {c.path for c in listing.candidates}
    assert "app.py" in listed and not listing.git
    assert "build.py" not in listed  # the .gitignore still applies
    told = [r.getMessage() for r in caplog.records if "listed without git" in r.getMessage()]
    assert len(told) == 1, told
    assert f"git refuses the repository of {ws}: {said}" in told[0]
    assert hint in told[0] and "recent commits are not read" in told[0]


def test_a_git_workspace_removed_while_it_is_served_is_said_to_be_gone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # git says "cannot change to '<ws>'" when the folder is gone: the log said that git
    # refused the repository, and to list its files without git, of a folder that is no more.
    ws = tmp_path / "ws"
    ws.mkdir()
    git(ws, "init", "-q")
    (ws / "app.py").write_text("def serve():\n    return 1\n")
    git(ws, "add", "-A")
    git(ws, "commit", "-qm", "first")
    shutil.rmtree(ws)
    with caplog.at_level("INFO", logger=files.__name__):
        assert not list_workspace(ws).candidates
        list_workspace(ws)  # said once
    told = [r.getMessage() for r in caplog.records]
    gone = f"the workspace {ws} is gone (its folder was removed or moved): no file to list"
    assert told == [gone]


@pytest.mark.parametrize("repository", [False, True])
def test_git_is_read_in_english_whatever_the_users_language(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    repository: bool,
) -> None:
    # OCP reads git's messages ("not a git repository", "dubious ownership"): in a German
    # desktop's environment git wrote "Schwerwiegend: Kein Git-Repository", and every folder
    # outside git was logged as a repository git refused (the safe.directory line missing too).
    ws = tmp_path / "ws"
    ws.mkdir()
    (ws / "app.py").write_text("def serve():\n    return 1\n")
    if repository:
        git(ws, "init", "-q")
        monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    monkeypatch.setenv("LANGUAGE", "de")
    monkeypatch.setenv("LANG", "C.UTF-8")
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    said = subprocess.run(["git", "-C", str(ws), "ls-files"], capture_output=True).stderr
    if b"fatal:" in said:
        pytest.skip("git shows no German messages here (no translations installed)")
    with caplog.at_level("INFO", logger=files.__name__):
        listing = list_workspace(ws)
    assert "app.py" in {c.path for c in listing.candidates}
    told = [r.getMessage() for r in caplog.records if "git refuses" in r.getMessage()]
    if repository:
        assert len(told) == 1, told
        assert f"safe.directory {ws}" in told[0], told
    else:
        assert not told, told


def test_the_safe_directory_line_names_a_path_with_at_in_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # The path was taken after the message's last " at ": "look at me" gave `safe.directory
    # me`, and a path with a space must be quoted for the shell.
    ws = tmp_path / "look at me"
    ws.mkdir()
    git(ws, "init", "-q")
    (ws / "app.py").write_text("x = 1\n")
    monkeypatch.setenv("GIT_TEST_ASSUME_DIFFERENT_OWNER", "1")
    with caplog.at_level("INFO", logger=files.__name__):
        list_workspace(ws)
    told = [r.getMessage() for r in caplog.records if "git refuses" in r.getMessage()]
    assert len(told) == 1, told
    assert told[0].endswith(f"git config --global --add safe.directory '{ws}'"), told


def test_git_not_listing_the_files_in_time_is_said_once_and_they_are_listed_without_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A git that never answers (a pipe it waits on that the listing cannot see): each update
    # waited OCP's 60 s for it before listing the files without git, and nothing said why.
    def hung(ws: Path) -> bytes:
        raise subprocess.TimeoutExpired(["git", "ls-files"], 60)

    monkeypatch.setattr(files, "ls_files", hung)
    with caplog.at_level("WARNING", logger=files.__name__):
        for _ in range(2):
            listing = list_workspace(workspace, max_file_bytes=1_000_000)
            assert "src/auth.py" in {c.path for c in listing.candidates}
    told = [r.getMessage() for r in caplog.records if "within 60 s" in r.getMessage()]
    assert len(told) == 1 and "listed without git" in told[0], told


def test_every_path_of_a_workspace_under_the_file_limit_keeps_its_judgement_between_listings(
    tmp_path: Path,
) -> None:
    # Each update judges every listed path in the same order: an LRU smaller than the
    # workspace evicted each path before its next turn (100,000 files: no hit at all).
    from ocp_server.settings import DEFAULT_MAX_FILES

    assert files.PATHS_JUDGED >= DEFAULT_MAX_FILES
    info = files._builtin_exclusion.cache_info()
    assert info.maxsize == files.PATHS_JUDGED
    ws = tmp_path / "ws"
    ws.mkdir()
    for n in range(20):
        (ws / f"judged_once_{n}.py").write_text("x = 1\n")
    list_workspace(ws, max_file_bytes=1000)
    before = files._builtin_exclusion.cache_info()
    list_workspace(ws, max_file_bytes=1000)
    after = files._builtin_exclusion.cache_info()
    assert after.misses == before.misses and after.hits >= before.hits + 20
