"""Password hashes on the lines of Apache's htpasswd files and /etc/shadow, wherever they
were copied: `user:$apr1$…`, `user:{SHA}…`, `user:$2y$…`. A weak password is found from its
hash, so the hash is hidden as the password would be; the user name stays. Only on a line
that starts with the user: a hash in code or a test vector (`hash = "$2b$…"`) is judged by
the name it is assigned to."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocp_router._redact_base import PRIORITY, Hit

__all__ = ["password_hash_hits"]

# htpasswd and shadow's MD5-crypt ($apr1$, $1$), SHA-crypt ($5$, $6$), bcrypt ($2y$) and
# yescrypt ($y$); Apache's {SHA} (base64 of 20 bytes) and LDAP's {SSHA}. Each regex starts
# with a literal the regex engine skips to (`$` and `{S` are rarer than the colon before
# them); the colon and the user before it are checked after. htdigest's
# md5(user:realm:password) is not looked for: a bare hex digest after a colon costs a look
# at every colon of every text (+1-3% of redaction time), and is as often a checksum.
_CRYPT_RE = re.compile(r"\$(?:apr1|1|5|6|2[abxy]|y)\$[./0-9A-Za-z$=]{20,200}(?=[:\s]|$)")
_BRACED_RE = re.compile(
    r"\{S(?:HA\}[A-Za-z0-9+/]{27}=|SHA\}[A-Za-z0-9+/]{24,200}={0,2})(?=[:\s]|$)"
)
_USER_RE = re.compile(r"[ \t]*[\w.@+-]{1,64}:")


def password_hash_hits(text: str) -> Iterator[Hit]:
    prio = PRIORITY["password_assignment"]
    # `"$" in text` is a memchr; the regex's own search for `$` is four times slower
    for regex in (_CRYPT_RE, _BRACED_RE) if "$" in text else (_BRACED_RE,):
        for m in regex.finditer(text):
            line = text.rfind("\n", 0, m.start()) + 1
            if _USER_RE.fullmatch(text, line, m.start()):
                yield m.start(), m.end(), prio
