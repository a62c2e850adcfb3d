"""The shortcuts redaction takes on ordinary text find exactly what the full scans find.

`ocp_router._redact_scan` proves cheaply that no token pattern can match (a gate per leading
literal; a prefix for the rarer shapes), and finds keywords and `[:=]` runs with faster scans
than one alternation. A gate that missed a token shape would let that secret through, so every
shape of every token pattern is tried here, alone and inside code. Tokens are built at run time.
"""

from __future__ import annotations

import random
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocp_router import _redact_scan
from ocp_router._redact_scan import (
    GATE_REACH,
    TOKEN_GATES,
    keyword_spans,
    may_hold_rare_token,
    may_hold_token,
    merged_matches,
)
from ocp_router._redact_shapes import TOKEN_PATTERNS
from ocp_router.redact import finds_secret, marker, redact
from tests.data.secret_corpus import TOKEN_FORMATS, samples

# the module, not the function `ocp_router.redact` that shares its name
_RNG = random.Random(7)
HEX = "0123456789abcdef"
ALNUM = string.ascii_letters + string.digits


def _body(alphabet: str, n: int) -> str:
    while True:
        s = "".join(_RNG.choice(alphabet) for _ in range(n))
        if any(c.isdigit() for c in s) and any(c.isalpha() for c in s):
            return s


def _token_shapes() -> list[str]:
    """A token of every literal variant of every token pattern."""

    def a(n: int) -> str:
        return _body(ALNUM, n)

    def h(n: int) -> str:
        return _body(HEX, n)

    shapes = [
        f"A{p}" + _body(string.ascii_uppercase + string.digits, 16)
        for p in "KIA SIA BIA CCA".split()
    ]
    shapes += [f"gh{c}_" + a(36) for c in "pousr"]
    shapes += ["ghs_1234567_eyJ" + a(40) + ".eyJ" + a(300) + "." + a(86)]
    shapes += ["github_pat_" + a(30), "sk-ant-api03-" + a(40), "sk-" + a(40)]
    gitlab = "pat dt rt cbt ptt ft ffct imt agent oas soat".split()
    shapes += [f"gl{k}-" + a(20) for k in gitlab] + ["glpat-" + a(27) + ".01" + h(7)]
    shapes += [f"xox{c}-" + h(12) + "-" + a(20) for c in "abposrecd"] + ["xapp-1-" + a(20)]
    shapes += ["xoxd-" + a(20) + "%2F" + a(20) + "%3D"]
    shapes += [
        f"https://hooks.slack.com/{w}/T{a(8)}/B{a(10)}/{a(24)}"
        for w in ("services", "workflows", "triggers")
    ]
    shapes += [f"{c}k_{m}_" + a(24) for c in "sr" for m in ("live", "test")]
    shapes += [
        "whsec_" + a(32),
        "AIza" + _body(ALNUM + "-_", 35),
        "GOCSPX-" + _body(ALNUM + "-_", 28),
        "ya29.a0" + _body(ALNUM + "-_", 120),
        "SG." + a(22) + "." + a(43),
    ]
    shapes += ["hf_" + a(34), "npm_" + a(36), "pypi-AgEIcHlwaS5vcmc" + a(60)]
    shapes += ["SharedAccessKey=" + a(40), "AccessKey=" + a(40), "AccountKey=" + a(86) + "=="]
    shapes += ["https://x.blob.core.windows.net/c?sv=1&sig=" + a(43) + "%3D", "abc8Q~" + a(34)]
    shapes += [
        "AGE-SECRET-KEY-1"
        + "".join(_RNG.choice("QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L") for _ in range(58))
    ]
    shapes += ["12345678:AA" + a(33)]
    shapes += [f"hv{c}." + a(90) for c in "sbr"] + ["dapi" + h(32), "dapi" + h(32) + "-2"]
    shapes += [h(32) + "-us12"]
    shapes += [f"shp{k}_" + h(32) for k in ("at", "ca", "pa", "ss")]
    shapes += [f"do{c}_v1_" + h(64) for c in "por"]
    shapes += ["lin_api_" + a(40)]
    shapes += ["NRAK-" + _body(string.ascii_uppercase + string.digits, 27)]
    shapes += ["NRAA-" + h(27), "NRRA-" + h(42), "NRII-" + a(32), "NRIQ-" + a(25)]
    shapes += ["NRJS-" + h(19), "NRBR-" + h(19), "NRSP-eu01" + h(31)]
    shapes += [h(32) + "FFFFNRAL", "eu01xx" + h(30) + "NRAL", "AA" + h(40) + "-NRMA"]
    shapes += ["eu01xx" + h(36) + "-NRMA", "dose" + h(32), "api_org_" + a(34)]
    shapes += [f"{c}k_prod_" + a(24) for c in "sr"]
    shapes += ["gsk_" + a(52), "xai-" + a(80), "pplx-" + a(48), "r8_" + a(37)]
    shapes += ["pul-" + h(40), "ATATT3" + a(177) + "=" + h(8), "glc_eyJ" + a(100) + "="]
    shapes += ["glsa_" + a(32) + "_" + h(8), "sntryu_" + h(64)]
    shapes += ["sntrys_eyJ" + a(120) + "_" + a(43), "ops_eyJ" + a(300)]
    shapes += [f"lsv2_{k}_" + h(32) + "_" + h(10) for k in ("pt", "sk")] + ["SK" + h(32)]
    shapes += ["ABSK" + a(140), "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t" + a(300)]
    shapes += ["sk_" + h(48), "pcsk_" + a(6) + "_" + a(63), "HRKU-AA" + a(58)]
    shapes += ["ntn_" + str(_RNG.randrange(10**10, 10**11)) + a(35)]
    shapes += ["PMAK-" + h(24) + "-" + h(34), "key-" + h(32)]
    shapes += [f"dp.{k}." + a(44) for k in "st st.dev ct pt sa said scim audit".split()]
    shapes += ["eyJhbGciOiJIUzI1NiJ9.eyJ" + a(40) + "." + a(43)]
    shapes += ["sk-or-v1-" + h(64), h(32) + "-" + h(8) + "-" + h(8)]
    upper = string.ascii_uppercase + string.digits
    shapes += ["A3-" + "-".join(_body(upper, n) for n in (6, 11, 5, 5, 5))]
    shapes += ["eyJrIjoi" + a(80) + "=", "pnu_" + a(36), "rubygems_" + h(48)]
    shapes += [f"pscale_{k}_" + a(43) for k in ("tkn", "pw", "oauth")]
    shapes += ["fo1_" + a(43), "fm2_" + a(150), "fm1a_" + a(150), "fm1r_" + a(150) + "=="]
    shapes += ["sgp_" + h(16) + "_" + h(40), "sgp_local_" + h(40), "sgp_" + h(40)]
    shapes += [f"{k}_" + h(64) for k in ("sgd", "sgs", "slk")]
    shapes += [f"tskey-{k}-k" + a(11) + "-" + a(33) for k in "auth api client scim webhook".split()]
    shapes += ["dckr_pat_" + a(27), "dckr_oat_" + a(32), "sbp_" + h(40), "sbp_oauth_" + h(40)]
    shapes += ["sb_secret_" + a(31), "nvapi-" + a(64), "figd_" + a(40), "nfp_" + a(36)]
    shapes += ["sk.eyJ" + a(60) + "." + a(22)]
    shapes += ["1//0" + _body(ALNUM + "-_", 99), a(14) + ".atlasv1." + a(67)]
    shapes += ["pat" + a(14) + "." + h(64), "re_" + a(8) + "_" + a(24)]
    shapes += ["cio" + a(32), "cio_tp_" + a(32), "EAAA" + a(60), "sq0atp-" + a(22)]
    shapes += ["sq0csp-" + a(43), "rnd_" + a(32), "AKCp" + a(69), "cmVmdGtu" + a(56)]
    shapes += [f"vc{c}_" + a(56) for c in "pirak"]
    shapes += ["https://discord.com/api/webhooks/123456789012345678/" + a(68)]
    shapes += ["https://ptb.discordapp.com/api/v10/webhooks/123456789012345678/" + a(68)]
    for label in ("RSA ", "EC ", "OPENSSH ", "ENCRYPTED ", "", "PGP PRIVATE KEY BLOCK"):
        head = "PGP PRIVATE KEY BLOCK" if label.startswith("PGP") else f"{label}PRIVATE KEY"
        body = "\n".join(_body(ALNUM + "+/", 64) for _ in range(4))
        shapes.append(f"-----BEGIN {head}-----\n{body}\n-----END {head}-----\n")
        shapes.append(f"-----BEGIN {head}-----\n{body}\n")  # pasted without its END line
    return shapes


SHAPES = _token_shapes()
CODE = "def load(path):\n    with open(path) as f:\n        return json.load(f)['data']\n"


def _matching_patterns(text: str) -> set[int]:
    return {i for i, p in enumerate(TOKEN_PATTERNS) if p.regex.search(text) is not None}


def test_every_token_pattern_has_a_shape_here_and_every_shape_passes_its_gates() -> None:
    matched: set[int] = set()
    for shape in SHAPES:
        for text in (shape, f"{CODE}x = '{shape}'\n{CODE}", f"{shape}\r\n", f"İ: {shape}"):
            found = _matching_patterns(text)
            assert found, text  # the shape is one the patterns know
            matched |= found
            assert may_hold_token(text), text
            if any(TOKEN_PATTERNS[i].rare for i in found):
                assert may_hold_rare_token(text), text
            if any(TOKEN_PATTERNS[i].glued for i in found):  # one that may follow `_`
                assert may_hold_token(f"key_{shape}"), shape
                assert may_hold_rare_token(f"key_{shape}") or not may_hold_rare_token(text)
    # A new pattern must get a shape above, and so a gate.
    assert matched == set(range(len(TOKEN_PATTERNS)))


def test_every_corpus_token_a_pattern_matches_passes_the_gate() -> None:
    for fmt in TOKEN_FORMATS:
        for text, _ in samples(fmt, 50, seed=3):
            if _matching_patterns(text):
                assert may_hold_token(text), text


def test_the_gate_turns_away_ordinary_code() -> None:
    assert not may_hold_token(CODE)
    assert not may_hold_token("api_key = os.environ['API_KEY']  # see docs/keys.md\n")


def test_a_text_the_gate_turns_away_gets_the_same_redaction() -> None:
    # The gate only skips work: a password assignment is still found by its own scan.
    secret = _body(ALNUM, 12)
    text = f"DB_PASSWORD = '{secret}'\n"
    assert not may_hold_token(text)
    assert redact(text).text == text.replace(secret, marker("password_assignment"))


_KEYWORDS = ("pass", "pw", "secret", "token", "key", "cred")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from([*_KEYWORDS, "p", "s", "t", "k", "e", "y", "_", " ", "ss", "İ"])))
def test_keyword_spans_are_the_spans_the_alternation_finds(parts: list[str]) -> None:
    text = "".join(parts).lower()
    expected = [m.span() for m in re.finditer("|".join(_KEYWORDS), text)]
    assert list(keyword_spans(text, _KEYWORDS)) == expected


def test_keyword_spans_skip_a_keyword_overlapping_the_one_before() -> None:
    # "passecret": the alternation takes pass and resumes after it, so no secret
    assert list(keyword_spans("passecret secretoken", _KEYWORDS)) == [(0, 4), (10, 16)]


_RUN = r"[ \t]*[\"'`]?(?P<v>[A-Za-z0-9+/_~-]{20,512}+={0,2})"
_FIRST, _SECOND = re.compile(":" + _RUN), re.compile("=" + _RUN)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from([":", "=", "==", " ", "\t", '"', "A" * 12, "b1" * 6, "+/", "\n", "x"]))
)
def test_merged_matches_are_the_matches_of_the_alternation(parts: list[str]) -> None:
    text = "".join(parts)
    both = re.compile("[:=]" + _RUN)
    expected = [(m.span(), m.span("v")) for m in both.finditer(text)]
    assert [(m.span(), m.span("v")) for m in merged_matches(_FIRST, _SECOND, text)] == expected


def test_finds_secret_answers_as_redact_does_next_to_markers() -> None:
    token = "ghp_" + _body(ALNUM, 36)
    secret = _body(ALNUM, 12)
    found = redact("x = " + repr(token) + "\nDB_PASSWORD=" + secret + "\n").text
    texts = [
        marker("github_token"),
        "token: " + marker("github_token") + "\n",
        f"x = {token!r}\n" + marker("openai_key") + "\n",
        marker("password_assignment") + token,
        found,
        found + token,
        f"[REDACTED:{token}]",
    ]
    for text in texts:
        assert finds_secret(text) == bool(redact(text).redactions), text
    assert {finds_secret(t) for t in texts} == {True, False}


def test_a_literal_a_pattern_needs_is_in_every_shape_it_matches() -> None:
    # `needs` lets a pattern not led by a literal skip a text without it: it must never skip a
    # text the pattern matches
    needing = [p for p in TOKEN_PATTERNS if p.needs]
    assert needing
    for p in needing:
        for shape in SHAPES:
            for m in p.regex.finditer(f"{CODE}x = '{shape}'\n"):
                assert p.needs in m.group(), (p.kind, shape)


def test_no_gate_matches_more_than_the_reach_of_a_window() -> None:
    for gate in TOKEN_GATES:
        _, widest = re._parser.parse(gate.pattern, gate.flags).getwidth()  # type: ignore[attr-defined]
        assert widest <= GATE_REACH, gate.pattern


def test_a_long_text_is_gated_a_window_at_a_time_and_misses_no_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One search of a long text held the GIL for its whole length (0.05-0.1 s a gate for
    # 15 MB); windows keep each search short. A token across a window's end, its gate's
    # lookbehind before a window's start, or a token at the very end are all still seen.
    monkeypatch.setattr(_redact_scan, "GATE_WINDOW", 97)
    filler = "value = compute(item) + 1\n" * 8
    for token in _token_shapes():
        for offset in range(0, 97 + 1, 7):
            text = filler[: 97 * 2 - offset] + " " + token + " " + filler
            assert may_hold_token(text), (token, offset)
        assert may_hold_token(filler * 2 + " " + token)
    assert not may_hold_token(filler * 4)


def test_one_search_of_the_gates_together_answers_as_each_gate_in_turn() -> None:
    # A short text (a path, a name) is gated by one alternation of every gate
    cuts = [shape[:i] + shape[j:] for shape in SHAPES for i, j in ((0, 3), (4, 6), (9, 9))]
    texts = [CODE, *SHAPES, *cuts, *(f"{CODE}x = '{shape}'\n" for shape in SHAPES)]
    texts += [f"backups/{shape}.json" for shape in SHAPES] + [s.lower() for s in SHAPES]
    verdicts = {t: any(gate.search(t) is not None for gate in TOKEN_GATES) for t in texts}
    assert {may_hold_token(t) for t in texts} == {True, False}
    assert [t for t, v in verdicts.items() if may_hold_token(t) != v] == []
