"""A trace keeps the first REQUEST_CHARS of its request, redacted (trace_store.py): only
about that much is read (redact_names.redact_name_head), and a secret straddling the cut is hidden
as a whole text's redaction hides it.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from ocp_router import redact_names
from ocp_router.redact import RedactionResult, named_values
from ocp_router.redact_names import HEAD_MARGIN
from ocp_server import at_rest
from ocp_server.argument_errors import _SECRET_SPAN, ECHO_CHARS, clip
from ocp_server.at_rest import redacted, redacted_head
from ocp_server.route_record import REQUEST_CHARS
from ocp_server.trace_store import TraceRecord
from tests.server.route_records import route_record

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = "ghp_" + BODY
AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"
AIZA = "AIza" + "Sy" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5U"
JWT = "eyJ" + "Qm7sVb2XkLp9Rt4W" * 10 + "." + "nZc8Yd3Fg6Hj1Ka5" * 13 + "." + "Ue0x" * 40
GHS = "ghs_" + "12345678_" + JWT  # a GitHub App's installation token, over 500 characters
PEM = (
    "-----BEGIN "
    + "PRIVATE KEY-----\n"
    + ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n" * 30)
    + "-----END "
    + "PRIVATE KEY-----"
)
# Decoys: a prefix glued to a word with a digit after it, each read in vain as a name.
DECOYS = "".join(f"xghp_{n}abc " for n in range(40_000))


def test_a_long_request_is_read_only_as_far_as_the_trace_keeps_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: list[int] = []
    real = redact_names.redact_name

    def spy(text: str) -> RedactionResult:
        read.append(len(text))
        return real(text)

    monkeypatch.setattr(redact_names, "redact_name", spy)
    monkeypatch.setattr(at_rest, "redact_name", spy)
    request = f"use {AKIA} here\n{DECOYS}"
    assert len(request) > 400_000
    row = TraceRecord.of(route_record(request=request), trace_json="{}")
    assert AKIA not in row.request and len(row.request) == REQUEST_CHARS
    assert read and max(read) <= REQUEST_CHARS + HEAD_MARGIN


def test_a_text_of_secrets_one_after_another_is_read_no_further_than_a_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # All of it markers: the kept part never reached its length, and the cut doubled to the
    # end of the text (750 KB at up to 60 µs a character: a trace's head, or an error quoting
    # a value too long, held the event loop for a minute). What is kept is still redacted.
    read: list[int] = []
    redacted_to: dict[int, str] = {}  # each read's length: what it was redacted to
    real = redact_names.redact_name

    def spy(text: str, known: Mapping[str, str] | None = None) -> RedactionResult:
        read.append(len(text))
        result = real(text, known)
        redacted_to[len(text)] = result.text
        return result

    named_read: list[int] = []
    real_named = named_values

    def named_spy(text: str) -> dict[str, str]:
        named_read.append(len(text))
        return real_named(text)

    monkeypatch.setattr(redact_names, "redact_name", spy)
    monkeypatch.setattr(redact_names, "named_values", named_spy)
    # The bound is the factor's, whatever it is: 2 reads 18 KB here, not 8's 91 KB, of a text
    # five times as long as the bound (these runs redact at 0.25 ms a character at load 9: 750
    # KB of them and the factor 8 took over 120 s at load 20)
    monkeypatch.setattr(redact_names, "HEAD_READ_FACTOR", 2)
    request = f"password=x{AKIA}" * 2_000
    stored = redacted_head(request, REQUEST_CHARS)
    bound = redact_names.HEAD_READ_FACTOR * (REQUEST_CHARS + HEAD_MARGIN)
    assert max(read) <= bound and AKIA not in stored
    # the values named past the cut are looked for further (the work is linear: counted
    # in tests/router/test_redact_dense.py)
    assert max(named_read) <= redact_names.HEAD_NAMED_READ
    # the kept part is the head of the longest read's redaction (redacted again here, it
    # cost as much as the rest)
    assert max(redacted_to) == bound and stored and redacted_to[bound].startswith(stored)
    read.clear()
    named_read.clear()
    shown = clip(request)
    assert max(read) <= 2 * _SECRET_SPAN and AKIA not in shown and "(60,000 characters)" in shown
    # an error's echo is read on the event loop: named values no further than it redacts
    assert max(named_read) <= 2 * _SECRET_SPAN


@pytest.mark.parametrize("secret", [GHP, AKIA, GHS, PEM, f"cfg{GHP}x.json"])
@pytest.mark.parametrize("before_cut", [1, 10, 30, 200])
def test_a_secret_straddling_the_cut_is_hidden_whole(secret: str, before_cut: int) -> None:
    head = "prose " * (REQUEST_CHARS // 6)
    request = head[: REQUEST_CHARS - before_cut] + " " + secret + " tail " + head
    stored = redacted_head(request, REQUEST_CHARS)
    assert stored == redacted(request)[:REQUEST_CHARS]
    if before_cut > 8:  # what of the secret would fit before the cut, were it not whole
        assert secret[: before_cut - 1] not in stored


def test_markers_shorter_than_their_secrets_make_it_read_further() -> None:
    # each PEM block of ~1,000 characters becomes a 24-character marker: the kept 2,000
    # characters reach far past the first cut, which must grow to keep them right
    request = "\n".join([PEM] * 40) + f"\nthen x{GHP}y.txt and the rest\n" + DECOYS[:6_000]
    assert redacted_head(request, REQUEST_CHARS) == redacted(request)[:REQUEST_CHARS]
    assert GHP not in redacted_head(request, REQUEST_CHARS)


def test_a_short_request_is_kept_as_redacted_whole() -> None:
    request = f"deploy with {AKIA} and keys{GHP}x.txt"
    assert redacted_head(request, REQUEST_CHARS) == redacted(request)


def test_an_error_echo_whose_markers_shrink_it_still_hides_a_token_at_its_cut() -> None:
    # PEM blocks shown as short markers: the 80 characters shown reach near the first cut,
    # where a Google API key (fixed length) cut short would match no pattern
    line = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n"
    pem = PEM.replace(line * 30, line * 19)  # ~680 characters
    pems = "\n".join([pem] * 3)
    assert ECHO_CHARS + _SECRET_SPAN - 60 < len(pems) < ECHO_CHARS + _SECRET_SPAN - 20
    value = f"{pems} {AIZA} end"
    assert len(pems) + 1 + len(AIZA) > ECHO_CHARS + _SECRET_SPAN  # it straddles that cut
    shown = clip(value)
    assert "AIza" not in shown, shown
    assert shown.startswith(redact_names.redact_name(value).text[:ECHO_CHARS] + "…")


@pytest.mark.parametrize(
    "named",
    [
        'DB_PASSWORD = "{v}"',
        "postgres://app:{v}@db.internal:5432/app",
        "Authorization: Bearer {v}",
    ],
)
def test_a_value_named_only_past_the_cut_is_hidden_where_it_repeats_before(named: str) -> None:
    # whole, the text's redaction hides every repeat of a value it found by its name; read
    # only to the cut, the repeat in the kept head had nothing to tell it by
    value = "Zq9kLm2xW7pR4t"
    head = f"connect with {value} first\n" + "prose " * (REQUEST_CHARS // 6)
    request = head + "filler line\n" * 2_000 + named.replace("{v}", value) + "\n"
    assert len(request) > REQUEST_CHARS + HEAD_MARGIN
    stored = redacted_head(request, REQUEST_CHARS)
    assert value not in stored
    assert stored == redacted(request)[:REQUEST_CHARS]


@pytest.mark.parametrize("named", ['DB_PASSWORD = "{v}"', "postgres://app:{v}@db.internal/app"])
def test_a_value_named_only_past_the_read_bound_is_hidden_where_it_repeats_before(
    named: str,
) -> None:
    # past HEAD_READ_FACTOR times what is kept, the text is not redacted, but the values it
    # names are still found (linear work, bench/redact_dense.py)
    value = "Zq9kLm2xW7pR4t"
    bound = redact_names.HEAD_READ_FACTOR * (REQUEST_CHARS + HEAD_MARGIN)
    request = f"connect with {value} first\n" + "filler line\n" * (bound // 6)
    request += named.replace("{v}", value) + "\n"
    assert request.index(named[:8]) > 2 * bound
    stored = redacted_head(request, REQUEST_CHARS)
    assert value not in stored and stored == redacted(request)[:REQUEST_CHARS]
    # an error's echo (on the event loop) reads no further than it redacts: the value named
    # that far shows; the echo quotes the caller's own argument back to it
    shown = clip(request, 40)
    assert value in shown


def test_a_word_like_value_named_past_the_cut_does_not_hide_that_word_before() -> None:
    # as whole-text redaction: a password made of a word is not hidden in prose elsewhere
    request = "the sunshine today\n" + "x " * 5_000 + 'DB_PASSWORD = "sunshine"\n'
    assert redacted_head(request, REQUEST_CHARS) == redacted(request)[:REQUEST_CHARS]
    assert "sunshine" in redacted_head(request, REQUEST_CHARS)
