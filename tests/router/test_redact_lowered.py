"""A long text is lower-cased a window at a time, into what one `lower()` gives."""

from __future__ import annotations

import random

import pytest

from ocp_router import _redact_scan
from ocp_router.redact import redact

WINDOW = 16

# Greek capital sigma lower-cases by what surrounds it (final or not), past case-ignorable
# characters; İ lower-cases to two characters.
ATOMS = ["Σ", "ΑΣ", "Σ.", ".Σ", "'", ":", "^", "`", ".", "a", "B", " ", "\n", "é", "İ", "日"]


@pytest.fixture(autouse=True)
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_redact_scan, "GATE_WINDOW", WINDOW)


def test_texts_of_every_mix_lower_as_one_call() -> None:
    rng = random.Random(47)
    for _ in range(20_000):
        text = "".join(rng.choice(ATOMS) for _ in range(rng.randrange(0, 80)))
        assert _redact_scan.lowered(text) == text.lower(), text


def test_a_sigma_at_every_offset_across_a_window_end_lowers_as_one_call() -> None:
    for context in ("AΣ b", "AΣb", "A.Σ.b", "AΣ'", "Σ", "ΣΣ", "a:Σ"):
        for before in range(3 * WINDOW):
            for filler in ("x", " ", "'", "日"):
                text = filler * before + context + filler * (2 * WINDOW)
                assert _redact_scan.lowered(text) == text.lower(), (before, context, filler)


def test_redaction_of_a_long_text_lowered_in_windows_finds_its_secret() -> None:
    text = "ΣΟΦΙΑ wrote, in a config: password = 'Hunter2-Zq9x!'\n" + "Lorem ipsum. " * 9
    found = redact(text)
    assert "Hunter2-Zq9x!" not in found.text and found.counts
