"""Secrets in Markdown tables: the cell a table ties to a secret's name, random values in key-value
tables, every secret of a column, and tables read once."""

from __future__ import annotations

from typing import Any

import pytest

from ocp_router.redact import redact
from tests.router.fake_secrets import HEX32, MADE, assert_redacted, assert_untouched


@pytest.mark.parametrize(
    ("text", "secret", "kind"),
    [
        (
            f"| key | value |\n|---|---|\n| STRIPE_KEY | {MADE} |\n",
            MADE,
            "generic_secret_assignment",
        ),
        (
            f"| API key | env |\n| --- | --- |\n| `{MADE}` | prod |\n",
            MADE,
            "generic_secret_assignment",
        ),
        (
            f"| service | token |\n|:--|:--|\n| billing | {HEX32} |\n",
            HEX32,
            "generic_secret_assignment",
        ),
        (
            "| user | password |\n|---|---|\n| admin | Hunter2#42 |\n",
            "Hunter2#42",
            "password_assignment",
        ),
        ("| DB_PASSWORD | Hunter2#42 |", "Hunter2#42", "password_assignment"),
        # an escaped pipe inside a cell before it does not shift the columns
        (
            f"| note | token |\n|---|---|\n| a \\| b | {HEX32} |\n",
            HEX32,
            "generic_secret_assignment",
        ),
        ("| a \\| b | DB_PASSWORD | Hunter2#42 |", "Hunter2#42", "password_assignment"),
    ],
)
def test_a_secret_a_markdown_table_ties_to_a_secrets_name_is_redacted(
    text: str, secret: str, kind: str
) -> None:
    assert_redacted(text, secret, kind)


@pytest.mark.parametrize(
    "text",
    [
        f"| key | value |\n|---|---|\n| stripe | {MADE} |\n",
        f"| Key | Value |\n| :-- | :-- |\n| timeout | 30s |\n| stripe | `{MADE}` |\n",
        f"| keys | values |\n|---|---|\n| webhook | {MADE} |\n",
    ],
)
def test_a_random_value_in_a_key_value_table_is_redacted(text: str) -> None:
    assert_redacted(text, MADE, "high_entropy_string")


@pytest.mark.parametrize(
    "text",
    [
        # values that are no secret, or random by nature (the row says so)
        "| key | value |\n|---|---|\n| timeout | 30s |\n| region | eu-west-1 |\n",
        f"| key | value |\n|---|---|\n| sha256 | {MADE} |\n| commit id | {MADE} |\n",
        f"| key | value |\n|---|---|\n| stripe | {HEX32} |\n",  # lower-case hex: a digest
        "| key | value |\n|---|---|\n| path | /usr/lib/x86_64-linux-gnu/libQt5Core.so |\n",
        "| key | value |\n|---|---|\n| class | TFBertForSequenceClassification2 |\n",
        # a column that is not under "value", and a table without a separator
        f"| key | note | value |\n|---|---|---|\n| stripe | {MADE} | 3 |\n",
        f"| key | value |\n| stripe | {MADE} |\n",
    ],
)
def test_a_key_value_table_without_a_random_value_is_left_alone(text: str) -> None:
    assert_untouched(text)


def test_every_secret_in_a_markdown_tables_column_is_redacted() -> None:
    rows = "".join(f"| svc{i} | {HEX32[i:]}{HEX32[:i]} |\n" for i in range(12))
    result = redact(f"| service | token |\n|---|---|\n{rows}")
    assert len(result.redactions) == 12


def test_a_table_of_many_headers_is_read_once_not_once_a_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each `| API key |` over `|---|` read its column to the table's end: 2,000 of them one
    # after the other were 2,000,000 cells (57 s of CPU a 100 KB note). A header's column
    # ends where another header starts; the cells examined are counted here, not timed.
    from ocp_router import _redact_tables

    seen: list[int] = []
    cell_hit = _redact_tables._table_cell_hit

    def counted(text: str, row_start: int, *rest: Any) -> Any:
        seen.append(row_start)
        return cell_hit(text, row_start, *rest)

    monkeypatch.setattr(_redact_tables, "_table_cell_hit", counted)
    rows = f"| svc | {HEX32} |\n"
    redact("| API key |\n|---|\n" * 2_000 + f"| service | token |\n|---|---|\n{rows}")
    assert len(seen) < 10_000
    assert redact(f"| service | token |\n|---|---|\n{rows}").redactions  # a column still is


@pytest.mark.parametrize(
    "text",
    [
        "| Name | Type | Description |\n|---|---|---|\n| password | string | The password |\n",
        "| token | kind |\n|---|---|\n| IDENT | keyword |\n| NUMBER | literal |\n",
        "| Key | Action |\n|:--|--:|\n| Ctrl-C | quit |\n",
        f"| cache key | size |\n|---|---|\n| {HEX32} | 12 |\n",
        "| OPENAI_API_KEY | Your OpenAI key |",
        f"| token | notes |\n|---|---|\n\n| other | {MADE} |\n",  # a new table
    ],
)
def test_a_markdown_table_about_secrets_without_one_is_left_alone(text: str) -> None:
    assert_untouched(text)
