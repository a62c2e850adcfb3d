"""The workspace bench_secrets.py plants: secrets in key files with ordinary names, dotenv
files, the files tools keep logins in, names in odd cases, inline in code, config, scripts and
docs; symlinks and a hard link to them; and a file renamed to a secret name once indexed."""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
NEEDED = (string.digits, string.ascii_uppercase, string.ascii_lowercase)

RENAMED_MARK = "handoffmarker"
RENAMED_VALUE = "quietorchardlantern"  # no secret to redaction: only the name `.env…` says so


def rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    """Random characters with a digit and an upper-case letter when the alphabet has them."""
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if all(not set(cls) & set(alphabet) or set(cls) & set(s) for cls in NEEDED):
            return s


@dataclass
class Planted:
    files: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)  # value -> where it was planted
    names: dict[str, str] = field(default_factory=dict)  # value -> an identifier near it

    def add(self, path: str, text: str, *values: tuple[str, str]) -> None:
        self.files[path] = text
        for value, name in values:
            self.secrets[value] = path
            self.names[value] = name


def pem(rng: random.Random, label: str) -> tuple[str, str]:
    body = "\n".join(rand(rng, 64, ALNUM + "+/") for _ in range(6))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n", body.split("\n")[2]


def plant(rng: random.Random) -> Planted:
    p = Planted()

    def pw(n: int = 14) -> str:
        return rand(rng, n, ALNUM + "!#%*-_")

    db, stripe, aws = pw(), "sk_live_" + rand(rng, 24), rand(rng, 40, ALNUM + "/+")
    p.add(
        ".env",
        f"DB_PASSWORD={db}\nSTRIPE_KEY={stripe}\nAWS_SECRET_ACCESS_KEY={aws}\n",
        (db, "DB_PASSWORD"),
        (stripe, "STRIPE_KEY"),
        (aws, "AWS_SECRET_ACCESS_KEY"),
    )
    a, b = pw(), "ghp_" + rand(rng, 36)
    p.add(
        ".env.production",
        f"REDIS_PASSWORD={a}\nGITHUB_TOKEN={b}\n",
        (a, "REDIS_PASSWORD"),
        (b, "GITHUB_TOKEN"),
    )
    c = pw()
    p.add("config/.ENV", f"SMTP_PASSWORD={c}\n", (c, "SMTP_PASSWORD"))
    d = rand(rng, 32)
    p.add("Credentials.json", json.dumps({"client_secret": d}), (d, "client_secret"))
    key, line = pem(rng, "RSA PRIVATE KEY")
    p.add("certs/server.PEM", key, (line, "server.PEM"))
    key, line = pem(rng, "OPENSSH PRIVATE KEY")
    p.add("deploy/deploy_key", key, (line, "deploy_key"))
    key, line = pem(rng, "PRIVATE KEY")
    p.add("keys/AuthKey_ABC123.p8", key, (line, "AuthKey"))
    for name in ("gcp-key.json", "acme-prod-1a2b3c4d5e6f.json"):
        key, line = pem(rng, "PRIVATE KEY")
        sa = {"type": "service_account", "project_id": "acme-prod", "private_key": key}
        p.add(name, json.dumps(sa, indent=2), (line, "service_account"))
    t1, t2 = rand(rng, 48), rand(rng, 48)
    kube = "apiVersion: v1\nkind: Config\nusers:\n- name: admin\n  user:\n    token: {}\n"
    p.add("ops/kubeconfig.yaml", kube.format(t1), (t1, "kubeconfig"))
    p.add("ops/cluster-admin.yaml", kube.format(t2), (t2, "cluster-admin"))
    e, f = pw(), "xoxb-" + rand(rng, 12, string.digits) + "-" + rand(rng, 24)
    p.add(
        "env/production",
        f"DB_PASSWORD={e}\nSLACK_TOKEN={f}\n",
        (e, "production"),
        (f, "SLACK_TOKEN"),
    )
    g = "ghp_" + rand(rng, 36)
    p.add(
        ".git/config",
        f'[remote "origin"]\n\turl = https://deploy:{g}@github.com/acme/app\n',
        (g, "remote origin"),
    )
    # secrets inline in ordinary files: indexed, redacted whenever they are handed out
    h, i, j = "django-insecure-" + rand(rng, 50), pw(), pw()
    p.add(
        "src/settings.py",
        f'SECRET_KEY = "{h}"\nDATABASES = {{"default": {{"PASSWORD": "{i}"}}}}\n'
        f'EMAIL_HOST_PASSWORD = "{j}"\n',
        (h, "SECRET_KEY"),
        (i, "DATABASES"),
        (j, "EMAIL_HOST_PASSWORD"),
    )
    k = pw()
    p.add("src/db.php", f"<?php\ndefine('DB_PASSWORD', '{k}');\n", (k, "DB_PASSWORD"))
    m, n = rand(rng, 32), pw()
    p.add(
        "config/Web.config",
        f'<appSettings>\n  <add key="ApiKey" value="{m}" />\n'
        f'  <add key="DbPassword" value="{n}" />\n</appSettings>\n',
        (m, "ApiKey"),
        (n, "DbPassword"),
    )
    o = pw()
    disc = "M" + rand(rng, 25) + "." + rand(rng, 6) + "." + rand(rng, 38)
    p.add(
        "cmd/main.go",
        f'package main\n\nfunc connect() {{\n\tpw := "{o}"\n\tdg, _ := discordgo.New("Bot " + '
        f'"{disc}")\n\t_ = dg\n}}\n',
        (o, "connect"),
        (disc, "discordgo"),
    )
    q = pw()
    p.add(
        "src/Main.java",
        f'class Main {{ void init() {{ ds.setPassword("{q}"); }} }}\n',
        (q, "setPassword"),
    )
    r, s = pw(), rand(rng, 8) + "#" + rand(rng, 8)
    p.add(
        "docker-compose.yml",
        f"services:\n  db:\n    environment:\n      - POSTGRES_PASSWORD={r}\n"
        f"  app:\n    environment:\n      - DATABASE_URL=postgres://app:{s}@db:5432/app\n",
        (r, "POSTGRES_PASSWORD"),
        (s, "DATABASE_URL"),
    )
    t = rand(rng, 12, string.ascii_letters)
    p.add(
        "k8s/deployment.yaml",
        f"containers:\n  - name: app\n    env:\n      - name: DB_PASSWORD\n        value: {t}\n",
        (t, "deployment"),
    )
    u, v, w = pw(), pw(), pw()
    p.add(
        "scripts/backup.sh",
        f"#!/bin/sh\nmysqldump -u root -p{u} app > app.sql\n"
        f"sshpass -p {v} scp app.sql backup@vault:/srv\n"
        f"docker login -u ci -p {w} registry.example.com\n",
        (u, "mysqldump"),
        (v, "sshpass"),
        (w, "docker login"),
    )
    x = pw()
    p.add(
        "docs/runbook.md",
        f"# Runbook\n\nFYI the prod db password is {x} until rotation.\n",
        (x, "runbook"),
    )
    y = pw()
    p.add("ops/pgpass_backup", f"db.internal:5432:app:app:{y}\n", (y, "pgpass"))
    z, zz = rand(rng, 12, string.ascii_letters), pw()
    p.add(
        "config/app.yaml",
        f"database:\n  host: db.internal\n  password: {z}\nmigrate:\n"
        f"  command: flyway --password {zz} migrate\n",
        (z, "app.yaml"),
        (zz, "flyway"),
    )
    hook = rand(rng, 40)
    p.add("src/webhooks.py", f'HOOKS = {{"endpoint": "/hook", "k": "{hook}"}}\n', (hook, "HOOKS"))
    tfp, tfk = pw(), "AKIA" + rand(rng, 16, string.ascii_uppercase + string.digits)
    p.add(
        "infra/main.tf",
        f'resource "aws_db_instance" "db" {{\n  password = "{tfp}"\n}}\n'
        f'provider "aws" {{\n  access_key = "{tfk}"\n}}\n',
        (tfp, "aws_db_instance"),
        (tfk, "provider aws"),
    )
    cu, bt = pw(), rand(rng, 40)
    p.add(
        ".github/workflows/deploy.yml",
        f"jobs:\n  deploy:\n    steps:\n      - run: curl -u admin:{cu} https://ci.example.com\n"
        f"      - run: curl -H 'Authorization: Bearer {bt}' https://api.example.com\n",
        (cu, "deploy workflow"),
        (bt, "Authorization"),
    )
    # files whose purpose is a login, named as the tools that read them name them
    wp, salt = pw(), rand(rng, 40, ALNUM + "!#%*-_|{}<>[]+")
    p.add(
        "wp-config.php",
        f"<?php\ndefine( 'DB_PASSWORD', '{wp}' );\ndefine( 'AUTH_KEY', '{salt}' );\n",
        (wp, "wp-config"),
        (salt, "AUTH_KEY"),
    )
    rt, cs = "1//0g" + rand(rng, 40, ALNUM + "-_"), "GOCSPX-" + rand(rng, 28, ALNUM + "-_")
    p.add(
        "token.json",
        json.dumps({"token": "ya29." + rand(rng, 40), "refresh_token": rt, "client_secret": cs}),
        (rt, "refresh_token"),
        (cs, "client_secret"),
    )
    yarn = "npm_" + rand(rng, 36)
    p.add(".yarnrc.yml", f'npmAuthToken: "{yarn}"\n', (yarn, "npmAuthToken"))
    kt = rand(rng, 48)
    p.add(
        "deploy/.kube/config",
        f"apiVersion: v1\nusers:\n- name: admin\n  user:\n    token: {kt}\n",
        (kt, "kube config"),
    )
    ak = rand(rng, 86, ALNUM + "+/") + "=="
    p.add(
        "local.settings.json",
        json.dumps({"Values": {"AzureWebJobsStorage": f"AccountName=acme;AccountKey={ak}"}}),
        (ak, "AzureWebJobsStorage"),
    )
    my, rc, dv = pw(), rand(rng, 40, ALNUM + "/+"), pw()
    p.add(".my.cnf", f"[client]\nuser=root\npassword={my}\n", (my, "my.cnf"))
    p.add("rclone.conf", f"[s3]\ntype = s3\nsecret_access_key = {rc}\n", (rc, "rclone"))
    p.add(".dev.vars", f"API_SECRET={dv}\n", (dv, "API_SECRET"))
    p.files["src/app.py"] = (
        "from settings import DATABASES\n\n\ndef main():\n    return DATABASES\n"
    )
    p.files["README.md"] = "# acme\n\nSee docs/runbook.md and src/settings.py.\n"
    p.files["docs/handoff.txt"] = f"{RENAMED_MARK}: {RENAMED_VALUE}\n"
    return p


def build(base: Path, planted: Planted, git: bool) -> Path:
    ws = base / ("git" if git else "plain")
    for rel, text in planted.files.items():
        (ws / rel).parent.mkdir(parents=True, exist_ok=True)
        (ws / rel).write_text(text)
    os.symlink(".env", ws / "settings.txt")
    os.symlink(".git/config", ws / "repo_config.txt")
    os.link(ws / ".env.production", ws / "defaults.py")  # one file, two names
    if git:
        config = (ws / ".git" / "config").read_text()
        (ws / ".git" / "config").unlink()
        subprocess.run(["git", "init", "-q"], cwd=ws, check=True)
        with (ws / ".git" / "config").open("a") as fh:
            fh.write(config)
        subprocess.run(["git", "add", "-A"], cwd=ws, check=True)
        subprocess.run(
            ["git", "-c", "user.email=b@x", "-c", "user.name=b", "commit", "-qm", "init"],
            cwd=ws,
            check=True,
        )
    return ws
