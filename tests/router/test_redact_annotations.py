"""A class body's annotations (`password: SecretStr`, `password: Optional[str]`) are types, not
values: they open a line as a YAML key does and no '{', '(' or ',' ends the line before, so
they were read as YAML values, and the type was then hidden wherever it recurs (every
`Optional[str]` in a file)."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact


@pytest.mark.parametrize(
    "text",
    [
        "class User(BaseModel):\n    username: str\n    password: SecretStr\n",
        "class Parts(TypedDict, total=False):\n    user: Optional[str]\n"
        "    password: Optional[str]\n    host: str\n",
        "class Creds(BaseModel):\n    password: SecretBytes\n",
        "class Settings(BaseSettings):\n    db_password: Optional[SecretStr]\n",
        "@dataclass\nclass Login:\n    password: str\n",
    ],
)
def test_annotations_are_left(text: str) -> None:
    result = redact(text)
    assert result.redactions == (), [text[r.start : r.end] for r in result.redactions]


@pytest.mark.parametrize(
    "text, secret",
    [
        ("database:\n  password: Str0ngPassw0rd!\n", "Str0ngPassw0rd!"),
        ("database:\n  password: Optional9x\n", "Optional9x"),
        ("Password: Anyway-7-Quartz\n", "Anyway-7-Quartz"),
    ],
)
def test_yaml_values_that_start_like_a_type_are_redacted(text: str, secret: str) -> None:
    assert secret not in redact(text).text, text
