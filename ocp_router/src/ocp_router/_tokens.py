"""Fast, offline estimate of how many BPE tokens a text costs.

``estimate_tokens`` runs on every routed request, so it is pure stdlib, keeps
no state, loads no vocabulary and never touches the network.  It approximates
OpenAI's ``cl100k_base`` BPE (GPT-4 class; ``o200k_base`` counts English, code
and data within a point or two of it) from a handful of cheap counts, instead
of plain ``len(text) / 4``.

How: the text is encoded to UTF-8 and ``bytes.translate`` turns every byte
into a byte of class bits (letter, punctuation, space, upper case, digit,
newline, UTF-8 lead byte).  That string is read as one big integer, so "where
does a run of letters start" is ``x & ~(x << 8)`` and each count is an
``int.bit_count()``: a few linear passes in C, no Python loop per character.
The estimate is a linear model of

    letters, runs of letters (~words), runs of digits, digits past the 3rd
    of a run, runs of punctuation, runs of 2+ spaces (indentation), newlines,
    camelCase steps, and non-ASCII characters per script (by UTF-8 lead byte).

The weights were fitted (non-negative least squares on the relative error per
file) to real ``cl100k_base`` counts on the calibration half of the corpora
that ``bench/bench_tokens.py`` collects on this machine.  Error per file on
the held-out half, in % of the real count (signed mean / mean absolute / p90
absolute), against ``cl100k_base``:

    corpus                                   estimate_tokens     len(text) / 4
    code: .py, .js, C headers (159 files)    -0.1 / 4.9 / 10.4   -0.4 / 10.9 / 22.3
    prose: docs, licenses, manuals (163)     -2.4 / 3.9 /  8.0   +4.2 /  9.6 / 18.6
    data: JSON, YAML, CSV, logs (59)         -0.7 / 6.0 / 14.9  -12.4 / 26.7 / 60.1
    translations: .mo, 28 languages (137)    -3.2 / 9.0 / 18.3  -45.9 / 46.5 / 78.2
    hand-written non-English (12)            +4.9 / 10.3 / 16.8 -52.4 / 52.4 / 75.4

Against ``o200k_base`` code, prose and data come out the same (-1.2 / 4.9,
-2.8 / 4.1, -0.8 / 5.7), but non-English text is over-counted by 55-80% on
average (3-4x for Georgian or Tamil): o200k spends far fewer tokens on it.
Erring high there is the safe side for context limits.  A single text can
still be off by 20% or more: simplified Chinese comes out 10-35% high and
traditional Chinese about 12% low, French 10-15% high, Finnish, Italian and
German 15-30% low, base64 about 30% low.

Speed on this 2-core machine (CPython 3.11, best of 7): about 1.2 us for 100
ASCII or CJK characters (2 us mixed), 0.45 ms for 100 KB of code or prose,
0.6 ms for 100 KB of mixed scripts, 4.6 ms per MB.  ``bench/bench_tokens.py``
re-measures all of this.
"""

from __future__ import annotations

import string
from typing import Final

__all__ = ["CHARS_PER_TOKEN", "estimate_tokens"]

# Characters a token takes where only a length is known (a pin's prompt, a local context
# given in characters): the plain len(text) / 4 the estimator above refines.
CHARS_PER_TOKEN: Final = 4

# ---------------------------------------------------------------------------
# The model: tokens ~= sum(weight * count).  The weights are tokens per counted
# item, fitted by ``bench/bench_tokens.py --fit`` (which prints these blocks).
# ---------------------------------------------------------------------------

#: Counts over the ASCII characters of a text.
ASCII_FEATURES: Final = (
    "letters",
    "digit_runs",
    "long_digits",  # digits after the 3rd of a run (BPE splits numbers every 3 digits)
    "newlines",
    "word_runs",  # runs of letters
    "punct_runs",  # runs of punctuation and symbols
    "space_runs",  # runs of 2+ spaces or tabs: indentation, alignment
    "camel_steps",  # a lower-case letter followed by a capital: "camelCase"
)

#: Non-ASCII characters, counted per script by their UTF-8 lead byte (Thai and
#: Vietnamese by their second byte).
SCRIPT_FEATURES: Final = (
    "latin_ext",  # U+0080-U+037F: accented Latin, IPA, combining marks
    "greek",  # U+0380-U+03FF
    "cyrillic",  # U+0400-U+053F
    "hebrew",  # U+0540-U+05FF (and Armenian)
    "arabic",  # U+0600-U+07FF (and Syriac, Thaana, NKo)
    "indic",  # U+0800-U+0FFF but Thai: Devanagari, Bengali, Tamil, ...
    "thai",  # U+0E00-U+0E7F
    "e1_other",  # U+1000-U+1FFF but Vietnamese: Georgian, Myanmar, ...
    "vietnamese",  # U+1E00-U+1EFF (Latin Extended Additional)
    "symbols",  # U+2000-U+2FFF: quotes, dashes, arrows, math, box drawing
    "cjk_punct",  # U+3000-U+3FFF, U+E000-U+FFFF: kana, CJK and fullwidth punctuation
    "cjk",  # U+4000-U+9FFF: CJK ideographs
    "hangul",  # U+A000-U+DFFF: Hangul syllables (and Yi, lone surrogates)
    "astral",  # U+10000 and up: emoji, rare CJK
)

FEATURE_NAMES: Final = ASCII_FEATURES + SCRIPT_FEATURES

ASCII_WEIGHTS: Final[tuple[float, ...]] = (
    0.093,  # letters
    1.738,  # digit_runs
    0.374,  # long_digits
    0.347,  # newlines
    0.678,  # word_runs
    0.582,  # punct_runs
    1.28,  # space_runs
    0.484,  # camel_steps
)

# Multiples of 1/16 from 0 to 4.4375 (see _script_sum).  Vietnamese letters
# come out free: each one already splits its word into two runs of letters.
SCRIPT_WEIGHTS: Final[tuple[float, ...]] = (
    2.25,  # latin_ext
    1.0625,  # greek
    0.5625,  # cyrillic
    1.25,  # hebrew
    0.9375,  # arabic
    1.375,  # indic
    1.0,  # thai
    2.125,  # e1_other
    0.0,  # vietnamese
    0.625,  # symbols
    1.0,  # cjk_punct
    1.3125,  # cjk
    1.3125,  # hangul
    2.8125,  # astral
)

# ---------------------------------------------------------------------------
# Byte classes
# ---------------------------------------------------------------------------

_LETTER: Final = 1
_PUNCT: Final = 2
_SPACE: Final = 4
_UPPER: Final = 8
_DIGIT: Final = 16
_NEWLINE: Final = 32


def _class_table() -> bytes:
    table = bytearray(256)
    for ch in range(0x80):
        # As in the BPE pre-tokenizer, whatever is not a letter, a digit or white
        # space (control characters too) groups with punctuation.
        table[ch] = _PUNCT
    for ch in string.ascii_lowercase.encode():
        table[ch] = _LETTER
    for ch in string.ascii_uppercase.encode():
        table[ch] = _LETTER | _UPPER
    for ch in string.digits.encode():
        table[ch] = _DIGIT
    for ch in b" \t\x0b\x0c":
        table[ch] = _SPACE
    table[ord("\n")] = _NEWLINE
    table[ord("\r")] = 0  # "\r\n" costs what "\n" does
    # Bytes of non-ASCII characters (0x80-0xFF) stay 0: no class, so they end
    # runs and count for nothing here (their scripts are weighed separately).
    return bytes(table)


_CLASSES: Final = _class_table()
_CONTINUATION: Final = bytes(range(0x80, 0xC0))
_NOT_LEAD: Final = bytes(range(0xC0))

# Long texts go in chunks, so that the masks below stay 64 KiB each.
_CHUNK: Final = 1 << 16


def _mask(bit: int) -> int:
    return int.from_bytes(bytes((bit,)) * _CHUNK, "little")


_M_LETTER: Final = _mask(_LETTER)
_M_PUNCT: Final = _mask(_PUNCT)
_M_SPACE: Final = _mask(_SPACE)
_M_UPPER: Final = _mask(_UPPER)
_M_DIGIT: Final = _mask(_DIGIT)
_M_NEWLINE: Final = _mask(_NEWLINE)


def _ascii_counts(classes: bytes) -> tuple[int, int, int, int, int, int, int, int]:
    """ASCII_FEATURES of one chunk of class bytes (at most _CHUNK of them)."""
    x = int.from_bytes(classes, "little")
    # Bit k of byte i is set in ``same`` iff bytes i-1 and i both have class bit k,
    # and in ``starts`` iff byte i has it and byte i-1 has not.
    same = x & (x << 8)
    starts = x ^ same
    return (
        (x & _M_LETTER).bit_count(),
        (starts & _M_DIGIT).bit_count(),
        # bytes i-3 .. i all digits
        (same & (same << 16) & _M_DIGIT).bit_count(),
        (x & _M_NEWLINE).bit_count(),
        (starts & _M_LETTER).bit_count(),
        (starts & _M_PUNCT).bit_count(),
        # a run of spaces starting at byte i that goes on at byte i+1
        (starts & (x >> 8) & _M_SPACE).bit_count(),
        # a run of capitals starting right after a (so lower-case) letter:
        # the letter bit of byte i-1 lands on the upper-case bit of byte i
        (starts & (x << 11) & _M_UPPER).bit_count(),
    )


def _structure(utf8: bytes) -> list[int]:
    """ASCII_FEATURES of a UTF-8 text (for calibration and tests)."""
    counts = [0] * len(ASCII_FEATURES)
    for start in range(0, len(utf8), _CHUNK):
        chunk = utf8[start : start + _CHUNK].translate(_CLASSES, _CONTINUATION)
        for i, n in enumerate(_ascii_counts(chunk)):
            counts[i] += n
    return counts


# Lead byte -> index of its script in SCRIPT_FEATURES.  Thai and Vietnamese
# share their lead bytes with other scripts and are told apart by the 2nd byte.
_SCRIPT_OF_LEAD: Final[tuple[tuple[range, int], ...]] = (
    (range(0xC0, 0xCE), 0),  # latin_ext
    (range(0xCE, 0xD0), 1),  # greek
    (range(0xD0, 0xD5), 2),  # cyrillic
    (range(0xD5, 0xD8), 3),  # hebrew
    (range(0xD8, 0xE0), 4),  # arabic
    (range(0xE0, 0xE1), 5),  # indic (and thai)
    (range(0xE1, 0xE2), 7),  # e1_other (and vietnamese)
    (range(0xE2, 0xE3), 9),  # symbols
    (range(0xE3, 0xE4), 10),  # cjk_punct
    (range(0xE4, 0xEA), 11),  # cjk
    (range(0xEA, 0xEE), 12),  # hangul
    (range(0xEE, 0xF0), 10),  # cjk_punct (private use, fullwidth forms)
    (range(0xF0, 0x100), 13),  # astral
)
_INDIC: Final = 5
_THAI: Final = 6
_E1: Final = 7
_VIET: Final = 8


def _thai_and_viet(utf8: bytes) -> tuple[int, int]:
    """Thai and Vietnamese letters (0xE0 and 0xE1 are only ever lead bytes)."""
    thai = utf8.count(b"\xe0\xb8") + utf8.count(b"\xe0\xb9") if 0xE0 in utf8 else 0
    viet = utf8.count(b"\xe1\xba") + utf8.count(b"\xe1\xbb") if 0xE1 in utf8 else 0
    return thai, viet


def _script_table() -> bytes:
    table = bytearray(256)
    for lead_range, script in _SCRIPT_OF_LEAD:
        for lead in lead_range:
            table[lead] = script + 1
    return bytes(table)


_SCRIPT: Final = _script_table()


def _scripts(utf8: bytes) -> list[int]:
    """SCRIPT_FEATURES of a UTF-8 text (for calibration and tests)."""
    scripts = utf8.translate(None, _NOT_LEAD).translate(_SCRIPT)
    counts = [scripts.count(s + 1) for s in range(len(SCRIPT_FEATURES))]
    counts[_THAI], counts[_VIET] = _thai_and_viet(utf8)
    counts[_INDIC] -= counts[_THAI]
    counts[_E1] -= counts[_VIET]
    return counts


def _features(text: str) -> tuple[int, ...]:
    """All counts of the model, in FEATURE_NAMES order."""
    utf8 = text.encode("utf-8", "surrogatepass")
    return (*_structure(utf8), *_scripts(utf8))


# ---------------------------------------------------------------------------
# The fast path
# ---------------------------------------------------------------------------


def _popcount_tables() -> tuple[bytes, bytes]:
    """Lead byte -> a byte with h bits set, and one with s bits set, where its
    script's weight is h / 2 + s / 16; every other byte -> 0."""
    halves, sixteenths = bytearray(256), bytearray(256)
    for lead_range, script in _SCRIPT_OF_LEAD:
        h, s = divmod(round(SCRIPT_WEIGHTS[script] * 16), 8)
        if h > 8 or SCRIPT_WEIGHTS[script] * 16 != h * 8 + s:
            raise ValueError(f"{SCRIPT_FEATURES[script]}: weight not a multiple of 1/16 <= 4.4")
        for lead in lead_range:
            halves[lead], sixteenths[lead] = (1 << h) - 1, (1 << s) - 1
    return bytes(halves), bytes(sixteenths)


_HALVES, _SIXTEENTHS = _popcount_tables()
_THAI_DELTA: Final = SCRIPT_WEIGHTS[_THAI] - SCRIPT_WEIGHTS[_INDIC]
_VIET_DELTA: Final = SCRIPT_WEIGHTS[_VIET] - SCRIPT_WEIGHTS[_E1]
(
    _W_LETTER,
    _W_DIGIT_RUN,
    _W_LONG_DIGIT,
    _W_NEWLINE,
    _W_WORD,
    _W_PUNCT_RUN,
    _W_SPACE_RUN,
    _W_CAMEL,
) = ASCII_WEIGHTS


def _ascii_sum(classes: bytes) -> float:
    """Weighted ASCII_FEATURES of one chunk: _ascii_counts, inlined for speed."""
    x = int.from_bytes(classes, "little")
    same = x & (x << 8)
    starts = x ^ same
    return (
        _W_LETTER * (x & _M_LETTER).bit_count()
        + _W_DIGIT_RUN * (starts & _M_DIGIT).bit_count()
        + _W_LONG_DIGIT * (same & (same << 16) & _M_DIGIT).bit_count()
        + _W_NEWLINE * (x & _M_NEWLINE).bit_count()
        + _W_WORD * (starts & _M_LETTER).bit_count()
        + _W_PUNCT_RUN * (starts & _M_PUNCT).bit_count()
        + _W_SPACE_RUN * (starts & (x >> 8) & _M_SPACE).bit_count()
        + _W_CAMEL * (starts & (x << 11) & _M_UPPER).bit_count()
    )


def _script_sum(leads: bytes) -> float:
    """Sum of the script weights of the lead bytes in ``leads`` (other bytes: 0)."""
    return (
        int.from_bytes(leads.translate(_HALVES), "little").bit_count() * 8
        + int.from_bytes(leads.translate(_SIXTEENTHS), "little").bit_count()
    ) / 16


def estimate_tokens(text: str) -> int:
    """Estimate how many tokens a GPT-4-class BPE tokenizer makes of ``text``.

    Deterministic, pure Python, no I/O.  0 for the empty string, else at least 1.
    """
    if not text:
        return 0
    if text.isascii():
        utf8 = text.encode()
        if len(utf8) <= _CHUNK:
            total = _ascii_sum(utf8.translate(_CLASSES))
        else:
            total = 0.0
            for i in range(0, len(utf8), _CHUNK):
                total += _ascii_sum(utf8[i : i + _CHUNK].translate(_CLASSES))
    else:
        utf8 = text.encode("utf-8", "surrogatepass")
        leads = utf8.translate(None, _NOT_LEAD)
        total = _script_sum(leads)
        if 0xE0 in leads or 0xE1 in leads:
            thai, viet = _thai_and_viet(utf8)
            total += _THAI_DELTA * thai + _VIET_DELTA * viet
        if len(leads) == len(text):
            pass  # no ASCII character at all
        elif len(utf8) <= _CHUNK:
            total += _ascii_sum(utf8.translate(_CLASSES, _CONTINUATION))
        else:
            for i in range(0, len(utf8), _CHUNK):
                total += _ascii_sum(utf8[i : i + _CHUNK].translate(_CLASSES, _CONTINUATION))
    estimate = int(total + 0.5)
    return estimate if estimate > 0 else 1
