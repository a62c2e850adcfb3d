"""Password hashes on the lines of Apache's htpasswd and htdigest files and /etc/shadow,
wherever they were copied: `user:$apr1$…`, `user:{SHA}…`, `user:$2y$…`, `user:realm:<md5>`.
A weak password is found from its hash, so the hash is hidden as the password would be; the
user name (and realm) stays. Only on a line that starts with the user: a hash in code or a test
vector (`hash = "$2b$…"`) is judged by the name it is assigned to."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router._redact_base import PRIORITY, Hit

__all__ = ["DIGEST_HINT", "digest_hits", "password_hash_hits"]

# htpasswd and shadow's MD5-crypt ($apr1$, $1$), SHA-crypt ($5$, $6$), bcrypt ($2y$) and
# yescrypt ($y$); Apache's {SHA} (base64 of 20 bytes) and LDAP's {SSHA}. Each regex starts
# with a literal the regex engine skips to (`$` and `{S` are rarer than the colon before
# them); the colon and the user before it are checked after.
_CRYPT_RE = re.compile(r"\$(?:apr1|1|5|6|2[abxy]|y)\$[./0-9A-Za-z$=]{20,200}(?=[:\s]|$)")
_BRACED_RE = re.compile(
    r"\{S(?:HA\}[A-Za-z0-9+/]{27}=|SHA\}[A-Za-z0-9+/]{24,200}={0,2})(?=[:\s]|$)"
)
_USER_RE = re.compile(r"[ \t]*[\w.@+-]{1,64}:")
# htdigest's md5(user:realm:password): 32 lower-case hex characters ending a line after a colon.
# A regex looking for that alone would stop at every colon of every text (+1-3% of redaction
# time): this branch joins the .pgpass hint's (_redact_phrases), which already does, and
# `digest_hits` runs only where that hint matched.
DIGEST_HINT = r"[0-9a-f]{32}(?![^\r\n])"
_DIGEST_RE = re.compile(":" + DIGEST_HINT)
# Before the digest: the user at the line's start and the realm, exactly two colons in all
# (not a longer record: `a:b:c:<hex>`, a cache key's parts).
_USER_REALM_RE = re.compile(r"[ \t]*(?P<user>[\w.@+-]{1,64}):(?P<realm>[^:\n]{1,128})")
# Fields that say the hex is a checksum (`checksum:md5:<hex>`, `file.iso:md5:<hex>`)
_CHECKSUM_WORDS = frozenset("md5 md5sum hash checksum digest etag sum".split())


def password_hash_hits(text: str) -> Iterator[Hit]:
    prio = PRIORITY["password_assignment"]
    # `"$" in text` is a memchr; the regex's own search for `$` is four times slower
    for regex in (_CRYPT_RE, _BRACED_RE) if "$" in text else (_BRACED_RE,):
        for m in regex.finditer(text):
            line = text.rfind("\n", 0, m.start()) + 1
            if _USER_RE.fullmatch(text, line, m.start()):
                yield m.start(), m.end(), prio


def digest_hits(text: str) -> Iterator[Hit]:
    """htdigest's hashes (`admin:Restricted Area:5f4d…`), the user and the realm kept."""
    prio = PRIORITY["password_assignment"]
    for m in _DIGEST_RE.finditer(text):
        line = text.rfind("\n", 0, m.start()) + 1
        fields = _USER_REALM_RE.fullmatch(text, line, m.start())
        if fields is not None and not _CHECKSUM_WORDS.intersection(
            (fields["user"].lower(), fields["realm"].strip().lower())
        ):
            yield m.start() + 1, m.end(), prio
