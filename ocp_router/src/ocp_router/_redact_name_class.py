"""Which names hold passwords or secrets: a name's words, their class (password, secret,
generic) and the names whose values are published or digests (a public key's, a checksum's).
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "NAME_WORD_RE",
    "classify_name",
    "documented_class",
    "documented_name",
    "words_of_name",
]

NAME_WORD_RE = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_FILLER_WORDS = frozenset(
    "value val str string b64 base64 hex raw plain plaintext literal data bytes text".split()
)
_PASSWORD_HEADS = frozenset("password passwd pwd pass passphrase passcode pw pword".split())
_SECRET_HEADS = frozenset("secret token apikey credential credentials creds cred".split())
# A name ending in key is a credential's name with one of these before it (api_key,
# SECRET_KEY, session_key); other keys (cache_key, sort_key) only hold high-entropy secrets.
_KEY_QUALIFIERS = frozenset(
    """api secret access private auth client signing sign encryption encrypt master hmac jwt
    aes crypto cipher license subscription webhook consumer deploy storage shared root admin
    bot app application service account session cookie nonce""".split()
)
_GENERIC_WORDS = frozenset({"key", "keys", "secrets", "tokens"})
# A name ending in one of these holds a digest of its other words' value.
_DIGEST_WORDS = frozenset("sha md5 digest checksum fingerprint crc".split())


# "pass" names a password after one of these (DB_PASS, ansible_become_pass, rootPass); alone
# it is as often a pass of something (first_pass, test_pass, render_pass).
_PASS_QUALIFIERS = frozenset(
    """db database user admin root mysql postgres pg redis smtp mail email ftp sftp ssh ldap
    api app auth login become sudo vault keystore store trust service account bind rabbitmq
    amqp mongo wifi proxy http basic client server master super default new old current
    confirm sa my web site git registry docker""".split()
)
# keytool's and Ant's one-word options (-storepass, keypass="…", -srcstorepass, -destkeypass).
_GLUED_PASS = frozenset(
    "storepass keypass srcstorepass deststorepass srckeypass destkeypass keystorepass".split()
)


def _head_class(word: str, before: str | None = None) -> str | None:
    if word == "pass" and before is not None and before not in _PASS_QUALIFIERS:
        return None
    if (
        word in _PASSWORD_HEADS
        or word in _GLUED_PASS
        or word.endswith(("password", "passwd", "passphrase"))
    ):
        return "password"
    if word in _SECRET_HEADS or word.endswith(
        ("secret", "token", "apikey", "secretkey", "accesskey", "privatekey")
    ):
        return "secret"
    return None


@lru_cache(maxsize=4096)
def words_of_name(name: str) -> tuple[str, ...]:
    words = [w.lower() for w in NAME_WORD_RE.findall(name) if not w.isdigit()]
    while words and words[-1] in _FILLER_WORDS:
        words.pop()
    return tuple(words)


@lru_cache(maxsize=4096)
def documented_name(words: tuple[str, ...]) -> bool:
    """A public key's name (.NET's PublicKeyToken, public_key_id), or a key's digest
    (key_sha256, signing_key_fingerprint): what it holds is published or random, no secret.
    A password's digest (password_sha256) is not: a weak password is found from it; nor a
    name that says more after the public key (public_key_api_token, public_key_private_key)
    or names a secret beside it (client_secret_public_key)."""
    for i in range(len(words) - 1):
        if words[i] == "public" and words[i + 1] == "key":
            if any(w in ("secret", "private") or _head_class(w) == "password" for w in words):
                return False
            after = words[i + 2 :]
            # nothing after the pair names a secret, but .NET's PublicKeyToken
            return after == ("token",) or not any(_head_class(w) for w in after)
    return words[-1] in _DIGEST_WORDS and not any(_head_class(w) == "password" for w in words[:-1])


@lru_cache(maxsize=4096)
def classify_name(name: str) -> str | None:
    """password or secret (by the last word), generic (a secret word elsewhere), or None;
    None for a documented name too (a public key's, a digest's: `documented_name`)."""
    words = words_of_name(name)
    if not words or documented_name(words):
        return None
    return _class_of(words)


def documented_class(name: str) -> str | None:
    """The class a documented name's words give, None for any other (see `assignment_kind`)."""
    words = words_of_name(name)
    return _class_of(words) if words and documented_name(words) else None


def _class_of(words: tuple[str, ...]) -> str | None:
    head = _head_class(words[-1], words[-2] if len(words) >= 2 else None)
    if head:
        return head
    if words[-1] == "key" and len(words) >= 2 and words[-2] in _KEY_QUALIFIERS:
        return "secret"
    if any(w in _GENERIC_WORDS or _head_class(w) for w in words):
        return "generic"
    return None
