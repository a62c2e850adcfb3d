"""The secret scanner that runs on everything OCP sends to a paid model provider: the result type,
and how detections merge, repeat and stay idempotent."""

from __future__ import annotations

import pytest

from ocp_router.redact import KINDS, Redaction, RedactionResult, marker, redact
from tests.router.fake_secrets import (
    ANTHROPIC,
    AWS_KEY_ID,
    AWS_SECRET,
    GITHUB,
    OPENAI,
    PASSWORD,
    STRIPE,
    assert_untouched,
    pem,
    src,
)
from tests.router.token_text import UPPER_DIGITS, URLSAFE, fake

# ---------------------------------------------------------------------------------------------
# The result type
# ---------------------------------------------------------------------------------------------


def test_text_without_secrets_comes_back_unchanged_with_no_redactions() -> None:
    text = "def add(a: int, b: int) -> int:\n    return a + b\n"
    result = redact(text)
    assert result == RedactionResult(text, ())
    assert result.counts == {}


def test_empty_text_is_fine() -> None:
    assert redact("") == RedactionResult("", ())


def test_each_secret_is_replaced_by_a_marker_naming_its_kind() -> None:
    assert marker("github_token") == "[REDACTED:github_token]"
    result = redact(f"token: {GITHUB}\n")
    assert result.text == "token: [REDACTED:github_token]\n"


def test_redactions_give_offsets_into_the_original_text() -> None:
    text = f"a = 1\nGITHUB_TOKEN={GITHUB}\nb = 2  # {AWS_KEY_ID}\n"
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [GITHUB, AWS_KEY_ID]
    assert [r.kind for r in result.redactions] == ["github_token", "aws_access_key"]


def test_the_redacted_text_is_the_original_with_each_span_replaced_by_its_marker() -> None:
    text = f"x = '{OPENAI}'; y = \"{STRIPE}\"; url = 'postgres://app:{PASSWORD}@db/app'"
    result = redact(text)
    rebuilt, pos = [], 0
    for r in result.redactions:
        rebuilt += [text[pos : r.start], marker(r.kind)]
        pos = r.end
    rebuilt.append(text[pos:])
    assert "".join(rebuilt) == result.text


def test_counts_tally_redactions_by_kind() -> None:
    text = src(
        f"""
        AWS_ACCESS_KEY_ID={AWS_KEY_ID}
        aws_secret_access_key = {AWS_SECRET}
        backup_key_id: {"AKIA" + fake(16, UPPER_DIGITS, 99)}
        DB_PASSWORD={PASSWORD}
        """
    )
    result = redact(text)
    assert result.counts == {"aws_access_key": 2, "aws_secret_key": 1, "password_assignment": 1}
    assert sum(result.counts.values()) == len(result.redactions)


def test_redaction_and_its_result_are_immutable() -> None:
    result = redact(f"key={GITHUB}")
    with pytest.raises(AttributeError):
        result.text = "x"  # type: ignore[misc]  # frozen: the assignment is the test
    with pytest.raises(AttributeError):
        result.redactions[0].kind = "x"  # type: ignore[misc]  # frozen: as above
    assert isinstance(result.redactions, tuple) and isinstance(result.redactions[0], Redaction)


def test_every_kind_has_a_distinct_name() -> None:
    assert len(set(KINDS)) == len(KINDS)
    assert {"private_key", "jwt", "password_assignment", "generic_secret_assignment"} <= set(KINDS)


# ---------------------------------------------------------------------------------------------
# Merging, repeats, idempotence
# ---------------------------------------------------------------------------------------------


def test_overlapping_detections_are_merged_into_one_redaction_of_the_most_specific_kind() -> None:
    result = redact(f'OPENAI_API_KEY="{OPENAI}"\nauth = "Bearer {OPENAI}"')
    assert result.counts == {"openai_key": 2}
    assert (
        result.text
        == 'OPENAI_API_KEY="[REDACTED:openai_key]"\nauth = "Bearer [REDACTED:openai_key]"'
    )
    spans = [(r.start, r.end) for r in result.redactions]
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))


def test_a_token_inside_a_connection_string_user_and_password_is_redacted_once_each() -> None:
    text = f"https://{GITHUB}:x-oauth-basic@github.com/acme/app.git"
    result = redact(text)
    assert result.text == (
        "https://[REDACTED:github_token]:[REDACTED:connection_string_password]"
        "@github.com/acme/app.git"
    )


def test_a_secret_found_once_is_redacted_wherever_else_it_appears() -> None:
    text = f"DB_PASSWORD={PASSWORD}\n...\nERROR login failed for app with {PASSWORD!r}\n"
    result = redact(text)
    assert PASSWORD not in result.text
    assert result.counts == {"password_assignment": 2}


def test_a_word_like_password_is_not_hunted_down_elsewhere_in_the_text() -> None:
    result = redact('session_password = "messages"\nprint(messages)\n')
    assert result.text == 'session_password = "[REDACTED:password_assignment]"\nprint(messages)\n'


def test_redacting_redacted_text_changes_nothing() -> None:
    text = src(
        f"""
        password = "{PASSWORD}"
        DB_PASSWORD={PASSWORD}x
        url: postgres://app:{PASSWORD}@db/app
        token = '{GITHUB}'
        Authorization: Bearer {fake(40, URLSAFE, 99)}
        {pem("RSA PRIVATE KEY")}
        """
    )
    once = redact(text)
    twice = redact(once.text)
    assert twice.text == once.text and twice.redactions == ()


def test_markers_already_in_the_text_are_not_redacted_again() -> None:
    text = (
        'password = "[REDACTED:password_assignment]"\nDB_PASSWORD=[REDACTED:password_assignment]\n'
    )
    assert_untouched(text)


def test_a_secret_hidden_right_after_another_is_found_too() -> None:
    # The Anthropic pattern wants no "-" right before "sk-ant-"; the END line of the key in
    # front hides it until that key has been replaced by a marker.
    key = pem("RSA PRIVATE KEY")
    text = key + ANTHROPIC
    result = redact(text)
    assert result.text == "[REDACTED:private_key][REDACTED:anthropic_key]"
    assert [text[r.start : r.end] for r in result.redactions] == [key, ANTHROPIC]


def test_offsets_stay_right_when_lower_casing_changes_the_length_of_the_text() -> None:
    text = f"İstanbul İzmir: password = '{PASSWORD}'"
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [PASSWORD]
    assert result.text == "İstanbul İzmir: password = '[REDACTED:password_assignment]'"
