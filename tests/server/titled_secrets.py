"""Decisions whose titles name a secret: ones whose values are secrets (redacted at rest and
when restored) and ones whose values are plain (kept as given)."""

from __future__ import annotations

PASSWORD = "Hunter2-" + "Quebec-77"
PASSPHRASE = "plumorbit" + "tandemquartz"  # (xkcd's is a placeholder since 90f20ea)


API_KEY = "7f3a9c2b1e4d6f8a" + "0b2c4d6e8f0a1b3c"
DEPLOY_TOKEN = "dGhpc2lzYXNlY3JldHZh" + "bHVlMTIzNDU2Nzg5MA"
SECRETS = (PASSWORD, PASSPHRASE, API_KEY, DEPLOY_TOKEN)


DECISIONS = [
    {"title": "DB password", "decision": PASSWORD},
    {"title": "password", "decision": PASSPHRASE},
    {"title": "staging API key", "decision": API_KEY},
    {"title": "The deploy token", "decision": "kept in the vault", "rationale": DEPLOY_TOKEN},
]


# Titles that name a secret over decisions that are no value: kept as they were given.
PLAIN = [
    {"title": "Password hashing", "decision": "use Argon2id with 64 MiB of memory"},
    {"title": "API key rotation", "decision": "rotate every 90 days", "rationale": "policy"},
    {"title": "DB password", "decision": "stored in Vault at secret/db"},
]
