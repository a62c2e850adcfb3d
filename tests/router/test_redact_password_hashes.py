"""A line of an htpasswd, htdigest or shadow file copied anywhere holds a password's hash,
from which a weak password is found: the hash is hidden, the user name stays. A hash that is
no such line (a checksum, a hash in code) is left to the other rules."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("user:$apr1$abc12345$Xy7sLmQ2r9TbVw3KzP1qf/\n", "$apr1$abc12345$Xy7sLmQ2r9TbVw3KzP1qf/"),
        ("user:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="),
        (
            "bob:$2y$10$Ke9wQ1uZ3nV7bR2mT5xYpO8sL4cD6fG0hJ1kA9zX3vB7nM2qW5eR6\n",
            "$2y$10$Ke9wQ1uZ3nV7bR2mT5xYpO8sL4cD6fG0hJ1kA9zX3vB7nM2qW5eR6",
        ),
        (
            "root:$6$Zk3x9Q$Jf8sK2mN5pQ7rT1vW4yZ6bC9dF3gH0jL2nP5sU8wX1zA4cE7:19000:0:99999:7:::\n",
            "$6$Zk3x9Q$Jf8sK2mN5pQ7rT1vW4yZ6bC9dF3gH0jL2nP5sU8wX1zA4cE7",
        ),
    ],
)
def test_a_password_hash_on_a_password_file_line_is_redacted(text: str, secret: str) -> None:
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [secret], result.text


@pytest.mark.parametrize(
    "text",
    [
        "checksum:md5:9e107d9d372bb6826bd81d3542a419d6\n",
        "commit 9e107d9d372bb6826bd81d3542a419d6e1f8a2b3\n",
        "    etag: 9e107d9d372bb6826bd81d3542a419d6\n",
        "cost = 12  # $2y$ hashes take 12 rounds\n",
        "price:$100\n",
        "url: http://example.com:8080/9e107d9d372bb6826bd81d3542a419d6\n",
        "ubuntu-24.04.iso:md5:9e107d9d372bb6826bd81d3542a419d6\n",
        # a longer record's last field, a cache key's parts, a hex that does not end its line
        "cache:users:page:9e107d9d372bb6826bd81d3542a419d6\n",
        "session:9e107d9d372bb6826bd81d3542a419d6\n",
        "cache:page:9e107d9d372bb6826bd81d3542a419d6 hit\n",
        "key = f'user:{uid}:9e107d9d372bb6826bd81d3542a419d6'\n",
    ],
)
def test_checksums_and_prices_stay_visible(text: str) -> None:
    assert redact(text).redactions == (), redact(text).text


# htdigest writes md5(user:realm:password) after the user and the realm; before, the digest of
# a weak password was handed out as it is (a dictionary finds the password from it).
@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "admin:Restricted Area:5f4dcc3b5aa765d61d8327deb882cf99\n",
            "5f4dcc3b5aa765d61d8327deb882cf99",
        ),
        (
            "# /etc/apache2/.htdigest\nalice:example.com:0cc175b9c0f1b6a831c399e269772661\n"
            "bob:example.com:92eb5ffee6ae2fec3ad71c777531578f",
            "0cc175b9c0f1b6a831c399e269772661 92eb5ffee6ae2fec3ad71c777531578f",
        ),
        (
            "```\n$ htdigest -c /etc/nginx/.htdigest 'Private' deploy\n$ cat /etc/nginx/.htdigest\n"
            "deploy:Private:e99a18c428cb38d5f260853678922e03\r\n```\n",
            "e99a18c428cb38d5f260853678922e03",
        ),
    ],
)
def test_an_htdigest_line_hides_its_digest_and_keeps_the_user_and_realm(
    text: str, secret: str
) -> None:
    result = redact(text)
    assert " ".join(text[r.start : r.end] for r in result.redactions) == secret, result.text
    assert {r.kind for r in result.redactions} == {"password_assignment"}
