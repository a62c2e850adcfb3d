"""Secrets copied out of their own files, as a search over stdio hands them to the agent: a
WordPress salt in a deploy script, an htdigest line in the docs, a connection string whose
password holds a `;`, and a hard link to a service's `.env` from another folder. Before, the
salt, the digest and the password's tail came back as they were, and the link was indexed.

Secrets are assembled at run time, so this file holds no literal secret."""

from __future__ import annotations

import json
import os
from pathlib import Path

from ocp_client import OCPClient
from tests.fakes import FakeOllama
from tests.server.stdio_env import server_env, wait_for_index

SALT = "Xq3;zH~p8:Lw!R%K#dN(F[v*Oy" + "C#=<M^J9?u-ck+@TbE)f S/W$a|7Gj2mY&hP_Q"
DIGEST = "5f4dcc3b5aa765d6" + "1d8327deb882cf99"
TAIL = "v2Lp" + "Qz"
PASSWORD = f"Xk9#mQ;{TAIL}"

DEPLOY_SH = f"""#!/bin/sh
# configure_wordpress: the staging site's constants
wp config set DB_HOST db.internal
wp config set AUTH_KEY "$(openssl rand -base64 48)"
wp config set AUTH_SALT '{SALT}' --type=constant
"""
AUTH_MD = f"""# Staging basic auth

The staging site asks for a login (htdigest, realm "Restricted Area"):

    admin:Restricted Area:{DIGEST}
"""
DB_CS = f"""public static class ShopDatabase
{{
    public const string ShopConnection =
        "Server=db;User Id=shop;Password={PASSWORD};Database=shop";
}}
"""


async def test_a_search_hands_out_no_copied_secret(
    workspace: Path, fake_ollama: FakeOllama
) -> None:
    (workspace / "deploy").mkdir()
    (workspace / "deploy" / "configure_wordpress.sh").write_text(DEPLOY_SH)
    (workspace / "docs").mkdir()
    (workspace / "docs" / "staging_auth.md").write_text(AUTH_MD)
    (workspace / "src" / "ShopDatabase.cs").write_text(DB_CS)
    (workspace / "services" / "mail").mkdir(parents=True)
    (workspace / "services" / "mail" / ".env").write_text("SMTP_RELAY=zincoxide.internal\n")
    os.link(workspace / "services" / "mail" / ".env", workspace / "docs" / "mail_relay.txt")
    async with OCPClient(env=server_env(workspace, fake_ollama)) as client:
        await wait_for_index(client, "verify token")
        answers = {
            query: await client.search(query, k=3)
            for query in (
                "configure_wordpress",
                "staging basic auth",
                "ShopConnection",
                "SMTP_RELAY",
            )
        }
    paths = {q: [r.path for r in a.results] for q, a in answers.items()}
    assert "deploy/configure_wordpress.sh" in paths["configure_wordpress"]
    assert "docs/staging_auth.md" in paths["staging basic auth"]
    assert "src/ShopDatabase.cs" in paths["ShopConnection"]
    assert "docs/mail_relay.txt" not in paths["SMTP_RELAY"]  # a secret file by its other name
    dumped = json.dumps([r.model_dump(mode="json") for a in answers.values() for r in a.results])
    for secret in (SALT, SALT.split(" ")[1], DIGEST, TAIL, "zincoxide"):
        assert secret not in dumped, secret
    assert "Restricted Area:[REDACTED:" in dumped  # the user and the realm stay
