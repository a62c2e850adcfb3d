"""A file that holds one value alone, named after what it is (`secrets/db_password.txt`, a
Docker secret: Compose mounts each as a file of the bare value), is a secret file by its
content and name: no redaction rule can read a lone `Zq8vR2mLp4Tx` as a password, and the
file's name is the only sign. Before, such files were indexed and their value handed to the
agent with every hit. A text about passwords, code handling tokens, and a one-word file whose
name says nothing of a secret stay indexed.

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from ocp_server.index.files import content_exclusion
from ocp_server.index.workspace import WorkspaceIndex

VALUE = "Zq8vR2m" + "Lp4Tx"

LONE_VALUES = {
    "secrets/db_password.txt": f"{VALUE}\n",
    "run/secrets/postgres_password": VALUE,
    "docker/secrets/API_TOKEN.txt": f"\n{VALUE}\n\n",
    "deploy/jwt_secret": f"{VALUE}{VALUE}\n",
    "config/stripe-api-key.txt": f"{VALUE}\r\n",
    "ops/admin.passwd": f"{VALUE}\n",
}
ORDINARY = {
    "docs/password_policy.txt": "Passwords need 12 characters and a symbol.\n",
    "src/token.py": "def token():\n    return 1\n",
    "src/tokens.txt": "IDENT\nNUMBER\nSTRING\n",
    "VERSION": "4.2.1\n",
    "notes/secret_santa.md": "Ann gives to Bob\n",
}


@pytest.mark.parametrize("rel", sorted(LONE_VALUES))
def test_a_lone_value_named_as_a_secret_is_secret_content(rel: str) -> None:
    name = rel.rsplit("/", 1)[-1].lower()
    assert content_exclusion(LONE_VALUES[rel].encode(), name) == "secret_content"


@pytest.mark.parametrize("rel", sorted(ORDINARY))
def test_ordinary_files_so_named_are_no_secret(rel: str) -> None:
    name = rel.rsplit("/", 1)[-1].lower()
    assert content_exclusion(ORDINARY[rel].encode(), name) is None


async def test_docker_secrets_are_not_indexed(tmp_path: Path) -> None:
    for rel, text in {**LONE_VALUES, **ORDINARY}.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    async with await WorkspaceIndex.open(tmp_path) as index:
        summary = await index.update()
        assert summary is not None and summary.skipped["secret_content"] == len(LONE_VALUES)
        rows = await index.db.execute_fetchall(
            "SELECT f.path FROM chunks c JOIN files f ON f.id = c.file_id"
        )
    assert {r[0] for r in rows} == set(ORDINARY)
