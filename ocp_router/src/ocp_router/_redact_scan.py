"""Scans that let `ocp_router.redact` find the same secrets in fewer passes over the text.

Ordinary code holds no token: its answer is decided by proving, cheaply, that no token pattern
can match. A regex pass costs about the same whatever it looks for, and one whose first
character is a class (``[:=]``, an alternation of literals) tests every character in a slower
loop, so each scan here starts with one literal character and checks the rest in place.

Each gate must be implied by the patterns it stands for: whenever a pattern of
`_redact_shapes.TOKEN_PATTERNS` matches, some gate below matches at that pattern's literal
(tests/router/test_redact_scan.py tries every shape of every pattern). A gate may pass texts
no pattern matches; it must never fail one a pattern does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import partial

__all__ = [
    "contains",
    "finditer_windowed",
    "keyword_spans",
    "lowered",
    "may_hold_rare_token",
    "may_hold_token",
    "merged_matches",
]

# Each branch is part of a token pattern's leading literal, anchored at its rarest character,
# the rest checked by a lookbehind (the pattern in the comment requires every character the
# branch does, in the same place).
TOKEN_GATES: tuple[re.Pattern[str], ...] = (
    re.compile(
        # `_` is in every snake_case name: the class, the character before `_` in one of the
        # branches below, turns most of them away before the branches are tried one by one
        r"_(?<=[128abcdefghikmnoprstuw]_)"
        r"(?:(?<=gh[pousr]_)"  # gh[pousr]_ (github_token)
        r"|(?<=github_)"  # github_pat_
        r"|(?<=[sr]k_)(?:live|test|prod)_"  # [sr]k_(live|test|prod)_ (stripe_key)
        r"|(?<=whsec_)|(?<=hf_)|(?<=npm_)"  # whsec_, hf_, npm_
        r"|(?<=api_org_)"  # api_org_ (huggingface_token)
        r"|(?<=gsk_)|(?<=r8_)"  # gsk_ (groq_key), r8_ (replicate_token)
        r"|(?<=shp[acps][ast]_)"  # shp(at|ca|pa|ss)_ (shopify_token)
        r"|v1_"  # do[por]_v1_ (digitalocean_token)
        r"|(?<=lin_)api_"  # lin_api_ (service_token)
        r"|(?<=glc_)|(?<=glsa_)|(?<=sntry[us]_)"  # Grafana, Sentry (service_token)
        r"|(?<=ops_)eyJ|(?<=lsv2_)(?:pt|sk)_"  # 1Password, LangSmith (service_token)
        r"|(?<=pcsk_)|(?<=ntn_)"  # Pinecone, Notion (service_token)
        r"|(?<=_tkn_)|(?<=_pw_)|(?<=_oauth_)"  # pscale_tkn_, ... (service_token, PlanetScale)
        r"|(?<=pnu_)|(?<=rubygems_)"  # Prefect, RubyGems (service_token)
        r"|(?<=fo1_)|(?<=fm2_)|(?<=fm1[ar]_)"  # Fly.io (service_token)
        r"|(?<=sgp_)|(?<=s(?:gd|gs|lk)_)"  # Sourcegraph (service_token)
        r"|(?<=sbp_|nfp_|ckr_|igd_)|(?<=sb_)s"  # Supabase, Netlify, Docker dckr_, Figma figd_
        r"|(?<=rnd_)|(?<=vc[pirak]_)"  # Render, Vercel (service_token)
        r"|(?<=(?<![\w-])re_)[A-Za-z0-9]{8}_"  # Resend re_<8>_ (service_token)
        r"|(?<=(?<![A-Za-z0-9_])sk_)[0-9a-f]{8})"  # sk_<48 hex> (service_token, ElevenLabs)
    ),
    re.compile(
        r"-(?:(?<=sk-)"  # sk-ant- and sk- (anthropic, openai)
        r"|(?<=gl(?:pat|ptt|cbt|imt|oas)-)|(?<=gl[dfr]t-)"  # gitlab_token
        r"|(?<=gl(?:ffct|soat)-)|(?<=glagent-)"
        r"|(?<=xox[abposrecd]-)|(?<=xapp-)"  # slack_token
        r"|(?<=pypi-)Ag"  # pypi-Ag
        r"|----BEGIN "  # -----BEGIN ... PRIVATE KEY (private_key)
        r"|(?<=PMAK-)|(?<=key-)|(?<=pul-)|(?<=HRKU-)AA"  # service_token
        r"|(?<=bedrock-api-key-)YmVk"  # Amazon Bedrock, short-lived (service_token)
        r"|(?<=NR(?:AK|AA|RA|II|IQ|JS|BR|SP)-)|NRMA"  # NR..- and -NRMA (newrelic_key)
        r"|(?<=xai-)|(?<=pplx-)"  # xai_key, perplexity_key
        r"|(?<=GOCSPX-)"  # google_oauth
        r"|(?<=skey-|vapi-)"  # Tailscale tskey-, NVIDIA nvapi- (service_token)
        r"|(?<=sq0[ac][st]p-)"  # Square sq0atp-, sq0csp- (service_token)
        r"|(?<=[0-9a-f]-)(?:us|[0-9a-f]{8}-))"  # <32 hex>-us\d (mailchimp_key), Mailgun's
    ),
    re.compile(
        r"\.(?:(?<=SG\.)"  # SG. (sendgrid_key)
        r"|(?<=hooks\.)slack\.com/"  # hooks.slack.com/ (slack_webhook)
        r"|(?<=hv[sbr]\.)"  # hv[sbr]. (vault_token)
        r"|(?<=ya29\.)"  # ya29. (google_oauth)
        r"|(?<=dp\.)(?:st|ct|pt|sa|said|scim|audit)\."  # dp.<type>. (service_token)
        r"|(?<=discord\.)com/api/|(?<=discordapp\.)com/api/"  # Discord webhooks (discord_token)
        r"|atlasv1\."  # <14>.atlasv1.<60-70> (service_token, Terraform Cloud)
        r"|(?<=pat[A-Za-z0-9]{14}\.)[0-9a-f]{8})"  # pat<14>.<64 hex> (service_token, Airtable)
    ),
    re.compile(
        r"A(?:KIA|SIA|BIA|CCA"  # aws_access_key
        r"|Iza"  # google_api_key
        r"|ccessKey=|ccountKey="  # AccessKey= (SharedAccessKey= too), AccountKey= (azure_key)
        r"|GE-SECRET-KEY-1"  # age identities (private_key)
        r"|TATT3|BSK"  # ATATT3, ABSK (service_token: Atlassian, Amazon Bedrock)
        r"|3-"  # A3- (service_token: a 1Password Secret Key)
        r"|(?<=NRA)L"  # <hex>NRAL (newrelic_key, license key)
        r"|(?<=:A)A"  # <bot id>:AA (telegram_token)
        r"|(?<=EA)AA|KCp)"  # EAAA (Square), AKCp (JFrog) (service_token)
    ),
    re.compile(r"=(?<=[?&]sig=)"),  # [?&]sig= (azure_key, SAS)
    re.compile(r"Q~"),  # \dQ~ (azure_key, AAD client secret)
    re.compile(r"J(?<=eyJ)"),  # eyJ (jwt; eyJrIjoi, sk.eyJ, service_token: Grafana, Mapbox)
    # dapi, dose (databricks_token), cmVmdGtu (service_token, JFrog): one pass, not three
    re.compile(r"d(?:api|ose|(?<=cmVmd)Gtu)"),
    re.compile(r"//0(?<=1//0)"),  # 1//0 (google_oauth, a refresh token)
    re.compile(r"cio(?<![\w-]cio)"),  # cio, cio_tp_ (service_token, crates.io)
    re.compile(r"K(?<=SK)[0-9a-f]{32}"),  # SK<32 hex> (service_token, Twilio)
)


# The longest match of a gate (33 characters; a test checks every gate's width); a lookbehind
# sees the text before a search's start, so only a match's own characters need to fit.
GATE_REACH = 64
# Characters one search of a long text covers. One regex call holds the GIL until it returns:
# a gate over 15 MB held it 0.05-0.1 s (in a worker thread, but the event loop waited on it);
# a megabyte takes a few milliseconds, and between searches the GIL can change hands.
GATE_WINDOW = 1 << 20


# The gates as one alternation: it matches where one of them does. On a short text (a path, a
# name) one search costs a sixth of eleven (16 characters: 0.5 µs against 3.5 µs; 4 KB:
# 59 µs against 104 µs), a third of a workspace's first listing's token checks.
_ANY_GATE = re.compile("|".join(f"(?:{gate.pattern})" for gate in TOKEN_GATES))
ONE_PASS_CHARS = 4096


def may_hold_token(text: str) -> bool:
    """False when no token pattern can match anywhere in `text`. A long text is searched a
    window at a time, each window reaching GATE_REACH past its end: a match starting in it is
    whole there."""
    if len(text) <= min(ONE_PASS_CHARS, GATE_WINDOW):
        return _ANY_GATE.search(text) is not None
    if len(text) <= GATE_WINDOW:
        return any(gate.search(text) is not None for gate in TOKEN_GATES)
    starts = range(0, len(text), GATE_WINDOW)
    return any(
        gate.search(text, start, start + GATE_WINDOW + GATE_REACH) is not None
        for gate in TOKEN_GATES
        for start in starts
    )


# Cuts of a text lower-cased a window at a time: between two ASCII characters that are not
# case-ignorable (', ., :, ^ and ` are). Only Greek capital sigma's lower case depends on the
# characters around it: it looks past case-ignorable ones for a letter, and stops at these.
_NOT_IGNORABLE = r"[\x00-\x26\x28-\x2d\x2f-\x39\x3b-\x5d\x5f\x61-\x7f]"
_LOWER_CUT = re.compile(f"(?<={_NOT_IGNORABLE}){_NOT_IGNORABLE}")


def lowered(text: str) -> str:
    """``text.lower()``, a GATE_WINDOW at a time (one call over 15 MB holds the GIL for all of
    it). An ASCII text is cut anywhere; another where lower-casing cannot look across
    (_LOWER_CUT; where none is found within a window, the rest is lowered at once)."""
    if len(text) <= GATE_WINDOW:
        return text.lower()
    if text.isascii():
        cuts = list(range(GATE_WINDOW, len(text), GATE_WINDOW))
    else:
        cuts, at = [], GATE_WINDOW
        while at < len(text):
            cut = _LOWER_CUT.search(text, at, at + GATE_WINDOW)
            if cut is None:
                break
            cuts.append(cut.start())
            at = cut.start() + GATE_WINDOW
    starts = [0, *cuts]
    return "".join([text[a:b].lower() for a, b in zip(starts, [*cuts, len(text)], strict=True)])


def contains(text: str, word: str) -> bool:
    """``word in text``, a GATE_WINDOW at a time (one `in` over 15 MB holds the GIL for all of
    it); each window reaches ``len(word) - 1`` past its end: an occurrence starting in it fits."""
    if len(text) <= GATE_WINDOW:
        return word in text
    reach = GATE_WINDOW + len(word) - 1
    return any(text.find(word, i, i + reach) >= 0 for i in range(0, len(text), GATE_WINDOW))


def _find(text: str, word: str, i: int) -> int:
    """``text.find(word, i)`` for a non-empty `word`, a GATE_WINDOW at a time, as `contains`."""
    reach = GATE_WINDOW + len(word) - 1
    while i < len(text):
        j = text.find(word, i, i + reach)
        if j >= 0:
            return j
        i += GATE_WINDOW
    return -1


def finditer_windowed(pattern: re.Pattern[str], text: str, reach: int) -> Iterator[re.Match[str]]:
    """The matches ``pattern.finditer(text)`` gives, searched a GATE_WINDOW at a time, each
    window reaching `reach` past its end. Exact when no match (with what it looks ahead at) is
    wider than `reach`: a search at any position in a window then reads the same characters as
    over the whole text (a lookbehind reads before a search's start)."""
    if len(text) <= GATE_WINDOW:
        yield from pattern.finditer(text)
        return
    pos = 0
    for start in range(0, len(text), GATE_WINDOW):
        end = start + GATE_WINDOW
        for m in pattern.finditer(text, max(pos, start), end + reach):
            if m.start() >= end:
                break  # the next window's (this one may have cut it short)
            pos = m.end()
            yield m


# The prefixes of the rarer token shapes (`rare` in _redact_shapes.TOKEN_PATTERNS): when none
# is in a text that passed the gates, their patterns are skipped (a substring test runs at memory
# speed; a regex pass per pattern does not).
RARE_PREFIXES = (
    "AGE-SECRET-KEY-",
    ":AA",
    "hvs.",
    "hvb.",
    "hvr.",
    "dapi",
    "dose",
    "-us",
    "shp",
    "_v1_",
    "NRA",  # NRAK-, NRAA-, <hex>NRAL
    "NRRA-",
    "NRI",  # NRII-, NRIQ-
    "NRJS-",
    "NRBR-",
    "NRSP-",
    "-NRMA",
    "lin_api_",
    "PMAK-",
    "dp.",
    "key-",
    "gsk_",
    "xai-",
    "pplx-",
    "r8_",
    "api_org_",
    "pul-",
    "ATATT3",
    "glc_",
    "glsa_",
    "sntry",
    "ops_eyJ",
    "lsv2_",
    "ABSK",
    "bedrock-api-key-",
    "pcsk_",
    "HRKU-AA",
    "ntn_",
    "A3-",
    "eyJrIjoi",
    "pscale_",
    "pnu_",
    "rubygems_",
    "fo1_",
    "fm1",  # fm1a_, fm1r_
    "fm2_",
    "sgp_",
    "sgd_",
    "sgs_",
    "slk_",
    "tskey-",
    "dckr_",
    "sbp_",
    "sb_secret_",
    "nvapi-",
    "figd_",
    "nfp_",
    "sk.eyJ",
    "1//0",
    "discord",
    ".atlasv1.",
    "cio",
    "EAAA",
    "sq0",
    "rnd_",
    "vcp_",
    "vci_",
    "vca_",
    "vcr_",
    "vck_",
    "AKCp",
    "cmVmdGtu",
)


def may_hold_rare_token(text: str) -> bool:
    """False when none of the rarer token patterns can match in `text`."""
    return any(prefix in text for prefix in RARE_PREFIXES)


def keyword_spans(
    lowered: str, keywords: tuple[str, ...], found: set[str] | None = None
) -> list[tuple[int, int]]:
    """The spans ``re.finditer("|".join(keywords), lowered)`` gives, found by `str.find`
    (several times faster than the alternation, whose first characters are common letters), a
    GATE_WINDOW at a time (`contains`); `found` gets the keywords that occur (other scans need
    not look for them again).

    `keywords` are literals no two of which match at the same position (none is a prefix of
    another): finditer's spans are then every occurrence, left to right, skipping one that
    starts inside the span before it."""
    spans: list[tuple[int, int]] = []
    # a short text is searched at once: most texts are, and keywords are frequent in code
    find = lowered.find if len(lowered) <= GATE_WINDOW else partial(_find, lowered)
    for word in keywords:
        i = find(word, 0)
        if i >= 0 and found is not None:
            found.add(word)
        while i >= 0:
            spans.append((i, i + len(word)))
            i = find(word, i + 1)
    if len(spans) > 1:
        spans.sort()
    kept = []
    end = 0
    for span in spans:
        if span[0] >= end:
            end = span[1]
            kept.append(span)
    return kept


def merged_matches(
    first: re.Pattern[str], second: re.Pattern[str], text: str
) -> Iterator[re.Match[str]]:
    """The matches ``finditer`` gives for the pattern ``first|second``, found by two scans
    that each start with one literal character. `first` and `second` start with different
    literals (at any position at most one of them matches) and never match empty.

    finditer takes, from where its last match ended, the match starting first; so does this,
    keeping each pattern's next match until the other's end passes its start."""
    a = first.search(text)
    b = second.search(text)
    while a is not None or b is not None:
        m = a if b is None or (a is not None and a.start() < b.start()) else b
        assert m is not None
        yield m
        pos = m.end()
        if a is not None and a.start() < pos:
            a = first.search(text, pos)
        if b is not None and b.start() < pos:
            b = second.search(text, pos)
