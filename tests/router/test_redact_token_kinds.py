"""Provider tokens recognised by their shape alone, where nothing around them names a secret.

An agent's workspace passes keys to constructors, logs them and pastes them into URLs; there the
assignment rules have no name to go by, so only the token's own shape can find it. Formats were
checked against gitleaks' rules (config/gitleaks.toml), trufflehog's detectors and, for New
Relic, New Relic's own scanner (newrelic/rusty-hog). Every token is built at run time.
"""

from __future__ import annotations

import base64
import json
import string

import pytest

from ocp_router._redact_glued import GLUED_PREFIX_RE
from ocp_router.redact import finds_secret, marker, redact
from tests.router.token_text import ALNUM, B64, HEX, UPPER_DIGITS, URLSAFE, fake

NEW_RELIC, SERVICE = "newrelic_key", "service_token"


def _grafana_legacy_key(seed: int) -> str:
    # base64 of {"k":"<32 alphanumerics>","n":"<key name>","id":<org>}: "eyJrIjoi" is {"k":"
    fields = {"k": fake(32, ALNUM, seed), "n": "ci-deploy", "id": 1}
    return base64.b64encode(json.dumps(fields, separators=(",", ":")).encode()).decode()


_GRAFANA_LEGACY = _grafana_legacy_key(47)
_ONEPASSWORD = "-".join(fake(n, UPPER_DIGITS, 48 + i) for i, n in enumerate((6, 11, 5, 5, 5)))
_ONEPASSWORD_SPLIT = "-".join(
    fake(n, UPPER_DIGITS, 53 + i) for i, n in enumerate((6, 6, 5, 5, 5, 5))
)

# (kind, head, body, tail): one of every shape added, each with its documented length; the
# token is head + body + tail, and with a body of x's it is what docs write for "your key".
SHAPES: list[tuple[str, str, str, str]] = [
    (NEW_RELIC, "NRAK-", fake(27, UPPER_DIGITS, 1), ""),  # user API key
    (NEW_RELIC, "NRAK-", fake(27, ALNUM, 76), ""),  # ... of either case, as gitleaks takes it
    (NEW_RELIC, "NRII-", fake(32, URLSAFE, 2), ""),  # Insights insert key
    (NEW_RELIC, "NRIQ-", fake(32, URLSAFE, 3), ""),  # Insights query key
    (NEW_RELIC, "NRAA-", fake(27, HEX, 4), ""),  # admin API key
    (NEW_RELIC, "NRRA-", fake(42, HEX, 5), ""),  # REST API key
    (NEW_RELIC, "NRJS-", fake(19, HEX, 6), ""),  # browser key
    (NEW_RELIC, "NRBR-", fake(19, HEX, 7), ""),  # browser key
    (NEW_RELIC, "NRSP-us01", fake(31, HEX, 8), ""),  # synthetics private location key
    (NEW_RELIC, "", fake(32, HEX, 9), "FFFFNRAL"),  # ingest license key
    (NEW_RELIC, "eu01xx", fake(26, HEX, 10), "FFFFNRAL"),  # ... of an EU account
    (NEW_RELIC, "AA", fake(40, HEX, 11), "-NRMA"),  # mobile app token
    ("databricks_token", "dose", fake(32, HEX, 12), ""),  # OAuth secret
    ("huggingface_token", "api_org_", fake(34, string.ascii_letters, 13), ""),
    ("stripe_key", "sk_prod_", fake(24, ALNUM, 14), ""),
    ("stripe_key", "rk_prod_", fake(99, ALNUM, 15), ""),
    ("groq_key", "gsk_", fake(52, ALNUM, 16), ""),
    ("xai_key", "xai-", fake(80, ALNUM, 17), ""),
    ("perplexity_key", "pplx-", fake(48, ALNUM, 18), ""),
    ("replicate_token", "r8_", fake(37, ALNUM, 19), ""),
    (SERVICE, "pul-", fake(40, HEX, 20), ""),  # Pulumi
    (SERVICE, "ATATT3", fake(177, URLSAFE, 21), "=" + fake(8, "0123456789ABCDEF", 22)),
    (SERVICE, "glc_eyJ", fake(120, B64, 23), "="),  # Grafana Cloud
    (SERVICE, "glsa_", fake(32, ALNUM, 24), "_" + fake(8, HEX, 25)),  # Grafana
    (SERVICE, "sntryu_", fake(64, HEX, 26), ""),  # Sentry user token
    (SERVICE, "sntrys_eyJ", fake(180, B64, 27), "_" + fake(43, ALNUM, 28)),
    (SERVICE, "ops_eyJ", fake(300, B64, 29), "=="),  # 1Password service account
    (SERVICE, "lsv2_pt_", fake(32, HEX, 30), "_" + fake(10, HEX, 31)),  # LangSmith
    (SERVICE, "lsv2_sk_", fake(32, HEX, 32), "_" + fake(10, HEX, 33)),
    (SERVICE, "SK", fake(32, HEX, 34), ""),  # Twilio API key
    (SERVICE, "ABSK", fake(140, B64, 35), "="),  # Amazon Bedrock API key (long-lived)
    (SERVICE, "bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t", fake(600, B64, 36), ""),
    (SERVICE, "sk_", fake(48, HEX, 37), ""),  # ElevenLabs
    (SERVICE, "pcsk_", fake(5, ALNUM, 38) + "_" + fake(63, ALNUM, 39), ""),  # Pinecone
    (SERVICE, "HRKU-AA", fake(58, URLSAFE, 40), ""),  # Heroku
    (SERVICE, "ntn_", fake(11, string.digits, 41) + fake(35, ALNUM, 42), ""),  # Notion
    ("openrouter_key", "sk-or-v1-", fake(64, HEX, 43), ""),
    # Mailgun's API keys since 2019 (and webhook signing keys): <32 hex>-<8 hex>-<8 hex>
    (SERVICE, "", fake(32, HEX, 44), "-" + fake(8, HEX, 45) + "-" + fake(8, HEX, 46)),
    (SERVICE, "A3-", _ONEPASSWORD, ""),  # 1Password account Secret Key
    (SERVICE, "A3-", _ONEPASSWORD_SPLIT, ""),  # ... with its middle group split
    (SERVICE, "eyJrIjoi", _GRAFANA_LEGACY[8:], ""),  # Grafana API key (legacy)
    (SERVICE, "pscale_tkn_", fake(43, ALNUM + "_", 60), ""),  # PlanetScale
    (SERVICE, "pscale_pw_", fake(43, ALNUM + "_", 61), ""),
    (SERVICE, "pscale_oauth_", fake(43, ALNUM + "_", 62), ""),
    (SERVICE, "pnu_", fake(36, ALNUM, 63), ""),  # Prefect API key
    (SERVICE, "rubygems_", fake(48, HEX, 65), ""),
    (SERVICE, "fo1_", fake(43, URLSAFE, 66), ""),  # Fly.io
    (SERVICE, "fm2_", fake(160, B64, 67), "="),  # Fly.io macaroon (after "FlyV1 ")
    (SERVICE, "fm1r_", fake(300, B64, 68), ""),
    (SERVICE, "sgp_", fake(16, HEX, 69) + "_" + fake(40, HEX, 70), ""),  # Sourcegraph v3
    (SERVICE, "sgp_local_", fake(40, HEX, 71), ""),
    (SERVICE, "sgp_", fake(40, HEX, 72), ""),  # Sourcegraph v2
    (SERVICE, "sgd_", fake(64, HEX, 73), ""),  # Sourcegraph's Cody Gateway, license keys
    (SERVICE, "slk_", fake(64, HEX, 74), ""),
    (SERVICE, "sgs_", fake(64, HEX, 75), ""),
    # shapes common in 2026 that an adversarial hunt found unknown (sec42)
    (SERVICE, "tskey-auth-k" + fake(11, ALNUM, 80) + "-", fake(33, ALNUM, 81), ""),  # Tailscale
    (SERVICE, "tskey-api-k" + fake(11, ALNUM, 82) + "-", fake(33, ALNUM, 83), ""),
    (SERVICE, "dckr_pat_", fake(27, URLSAFE, 84), ""),  # Docker Hub
    (SERVICE, "dckr_oat_", fake(32, URLSAFE, 85), ""),
    (SERVICE, "sbp_", fake(40, HEX, 86), ""),  # Supabase access token
    (SERVICE, "sb_secret_", fake(31, URLSAFE, 87), ""),  # Supabase secret API key
    (SERVICE, "nvapi-", fake(64, URLSAFE, 88), ""),  # NVIDIA
    (SERVICE, "figd_", fake(40, URLSAFE, 89), ""),  # Figma
    (SERVICE, "nfp_", fake(36, ALNUM, 90), ""),  # Netlify
    (SERVICE, "sk.eyJ", fake(60, URLSAFE, 91), "." + fake(22, URLSAFE, 92)),  # Mapbox secret
    # shapes the last round left unknown (sec43), as each provider documents them
    ("google_oauth", "1//0", fake(99, URLSAFE, 120), ""),  # a refresh token
    (SERVICE, fake(14, ALNUM, 121) + ".atlasv1.", fake(70, URLSAFE, 122), ""),  # Terraform
    (SERVICE, "pat" + fake(14, ALNUM, 123) + ".", fake(64, HEX, 124), ""),  # Airtable
    (SERVICE, "re_", fake(8, ALNUM, 125) + "_" + fake(24, ALNUM, 126), ""),  # Resend
    (SERVICE, "cio", fake(32, ALNUM, 127), ""),  # crates.io API token
    (SERVICE, "cio_tp_", fake(32, ALNUM, 128), ""),  # ... trusted publishing token
    (SERVICE, "EAAA", fake(60, URLSAFE, 129), ""),  # Square access token
    (SERVICE, "sq0atp-", fake(22, URLSAFE, 130), ""),  # ... legacy access token
    (SERVICE, "sq0csp-", fake(43, URLSAFE, 131), ""),  # ... OAuth application secret
    (SERVICE, "rnd_", fake(32, ALNUM, 132), ""),  # Render
    *((SERVICE, f"vc{c}_", fake(56, ALNUM, 133 + i), "") for i, c in enumerate("pirak")),
    (SERVICE, "AKCp", fake(69, ALNUM, 138), ""),  # JFrog API key
    (SERVICE, "cmVmdGtu", fake(56, ALNUM, 139), ""),  # JFrog reference token
]
TOKENS = [(kind, head + body + tail) for kind, head, body, tail in SHAPES]
IDS = [head or tail for _, head, _, tail in SHAPES]

# Places where nothing names the token: a constructor, a log line, a URL, a plain assignment.
NEUTRAL = (
    'client = Client("{t}")\n',
    "2024-05-01 12:00:03 INFO sent request with {t} to upstream\n",
    "https://api.example.com/v1/ingest?q={t}&page=2\n",
    'value = "{t}"\n',
)


@pytest.mark.parametrize("template", NEUTRAL)
@pytest.mark.parametrize(("kind", "token"), TOKENS, ids=IDS)
def test_a_token_is_redacted_whole_by_its_shape_where_no_name_says_secret(
    kind: str, token: str, template: str
) -> None:
    text = template.replace("{t}", token)
    result = redact(text)
    assert result.text == text.replace(token, marker(kind)), result.text
    assert finds_secret(text)  # the index's flag agrees


# Shapes whose body has no fixed length: a character more is a longer token, not a new name.
_OPEN_ENDED = (
    *("sk_prod_", "rk_prod_", "glc_", "ops_", "ABSK", "bedrock-api-key-"),
    *("eyJrIjoi", "pscale_", "fm2_", "fm1r_"),
    *("tskey-", "dckr_", "sb_secret_", "sk.eyJ"),
    *("1//0", "rnd_", "vcp_", "vci_", "vca_", "vcr_", "vck_"),
)
#: Prefixes that may follow `_` (key_ghp_..., a pasted name): ones no identifier holds, and
#: shorter ones whose body here is random (a snake_case name's tail is words: see below).
AFTER_UNDERSCORE = (
    *("sk-or-v1-", "pscale_", "rubygems_"),
    *("sk_prod_", "rk_prod_", "gsk_", "pnu_", "sgp_"),
)


@pytest.mark.parametrize(("kind", "token"), TOKENS, ids=IDS)
def test_a_token_shape_inside_a_longer_identifier_is_left_alone(kind: str, token: str) -> None:
    # a letter glued before, or after one of a fixed length: part of some other name or data,
    # unless the prefix is one no word ends in (_redact_glued.py: the test below)
    texts = [] if GLUED_PREFIX_RE.match(token) else [f"call(x{token})\n"]
    if not token.startswith(AFTER_UNDERSCORE):
        texts.append(f"call(_{token})\n")
    if not token.startswith(_OPEN_ENDED):
        texts.append(f"call({token}7)\n")  # digits: more random data
        # a letter its body holds: a longer name or blob, unless no word ends in the prefix
        # or the body has one length a short prefix starts (Groq's, npm's: a letter after it
        # cannot be more of it; test_redact_split.py)
        if not GLUED_PREFIX_RE.match(token) and not token.startswith(("gsk_", "npm_")):
            texts.append(f"call({token}{next(c for c in reversed(token) if c.isalpha())})\n")
    for text in texts:
        assert not any(r.kind == kind for r in redact(text).redactions), text


GLUED = [(kind, token) for kind, token in TOKENS if GLUED_PREFIX_RE.match(token)]


def _stray(token: str) -> str:
    """One or two letters that cannot be more of `token`, or "" if any letter could be."""
    body = token[-16:]
    if GLUED_PREFIX_RE.match(token):
        return "ab"
    if all(c in "0123456789abcdefABCDEF" for c in body):
        return "q"
    if not any(c.islower() for c in body):
        return "qz"
    return "Q" if not any(c.isupper() for c in body) else ""


STRAY = [
    (kind, token, _stray(token))
    for kind, token in TOKENS
    if not token.startswith(_OPEN_ENDED) and _stray(token)
]


@pytest.mark.parametrize(("kind", "token", "letters"), STRAY, ids=[t[:8] for _, t, _ in STRAY])
def test_a_token_with_a_letter_or_two_glued_after_that_cannot_be_its_own_is_redacted(
    kind: str, token: str, letters: str
) -> None:
    # a stray letter after a key (`<AKIA...>ab`, `NRAA-<hex>q`): not more of its body, and
    # a name does not go on after a prefix no word ends in
    for text in (f"call({token}{letters})\n", f"see {token}{letters} now\n"):
        shown = redact(text).text  # the letters stay, unless a longer shape took them in
        assert shown in (
            text.replace(token, marker(kind)),
            text.replace(token + letters, marker(kind)),
        )


@pytest.mark.parametrize(("kind", "token"), GLUED, ids=[t[:8] for _, t in GLUED])
def test_a_token_glued_to_a_word_by_a_prefix_no_word_ends_in_is_redacted(
    kind: str, token: str
) -> None:
    text = f"call(x{token})\n"
    assert redact(text).text == f"call(x{marker(kind)})\n"


@pytest.mark.parametrize(("kind", "head", "body", "tail"), SHAPES, ids=IDS)
def test_a_token_with_a_filler_body_is_a_placeholder(
    kind: str, head: str, body: str, tail: str
) -> None:
    # docs write the prefix and x's (NRAK-XXXX..., gsk_xxxx...) for "your key here"
    for filler in ("x" * len(body), "X" * len(body), "0" * len(body)):
        text = f'Client("{head}{filler}{tail}")\n'
        assert redact(text).redactions == (), text
        assert not finds_secret(text)


def test_a_bare_forty_hex_value_is_not_taken_for_a_new_relic_license_key() -> None:
    # license keys before 2020 were 40 hex characters with no suffix: so are commit SHAs and
    # SHA-1 digests, so only the NRAL ending tells a license key
    sha = fake(40, HEX, 40)
    for text in (f'Client("{sha}")\n', f"INFO deployed {sha}\n", f"git show {sha}\n"):
        assert redact(text).redactions == (), text


@pytest.mark.parametrize("prefix", ["pk_live_", "pk_test_"])
def test_a_stripe_publishable_key_is_public_and_left_alone(prefix: str) -> None:
    # publishable keys ship in every checkout page; only secret and restricted keys are secret
    key = prefix + "51" + fake(97, ALNUM, 41)
    for text in (
        f'const stripe = Stripe("{key}");\n',
        f'value = "{key}"\n',
        f"STRIPE_PUBLISHABLE_KEY={key}\n",
    ):
        assert redact(text).redactions == (), text


def test_words_and_code_that_share_a_prefix_are_left_alone() -> None:
    text = (
        "def dosearch(query): return api_org_settings(query)\n"
        "TASK_NAME = 'SKIP_ALL_THE_STEPS_IN_THIS_PIPELINE_RUN'\n"
        "the dose of 32 units; pul-ups and xai-related notes\n"
        "NRAL = NRAK + 1  # New Relic keys start NRAK- and end NRAL\n"
    )
    assert redact(text).redactions == ()


@pytest.mark.parametrize(
    ("kind", "token"),
    [
        # bodies of random hex or upper-case letters that happen to hold word-like runs, which
        # the word test (made for mixed-case bodies) reads as English
        (NEW_RELIC, "NRAK-" + "Q1XODG666" + "KISDENAD" + "1BEDAC8VVB"),
        (NEW_RELIC, "NRBR-" + "bf7173b216" + "dadeeeeb1"),
        ("databricks_token", "dose" + "5d1c" + "acedbeadface" + "0f9e8d7c6b5a4d3c"),
        (SERVICE, "sk_" + "0123456789abcdef" + "fade" * 3 + "deed" * 3 + "01234567"),
    ],
)
def test_a_random_body_that_reads_as_words_is_still_a_token(kind: str, token: str) -> None:
    text = f"https://api.example.com/v1/ingest/{token}/events\n"
    assert redact(text).text == text.replace(token, marker(kind))


def _digits(n: int, seed: int) -> str:
    return fake(n, string.digits, seed)


# Tokens whose prefix no identifier holds, glued to a name by `_` (key_ghp_..., x_github_pat_...)
UNDERSCORE_LED = [
    *(("github_token", f"gh{c}_" + fake(36, ALNUM, 80 + i)) for i, c in enumerate("pousr")),
    ("github_token", "github_pat_" + fake(82, ALNUM + "_", 85)),
    ("gitlab_token", "glpat-" + fake(20, URLSAFE, 86)),
    ("anthropic_key", "sk-ant-api03-" + fake(93, URLSAFE, 87)),
    ("slack_token", f"xoxb-{_digits(12, 88)}-{_digits(13, 89)}-" + fake(24, ALNUM, 90)),
    ("slack_token", f"xoxp-{_digits(12, 91)}-{_digits(12, 92)}-" + fake(32, HEX, 93)),
    ("openrouter_key", "sk-or-v1-" + fake(64, HEX, 94)),
    (SERVICE, "pscale_pw_" + fake(43, ALNUM, 95)),
    (SERVICE, "rubygems_" + fake(48, HEX, 96)),
    ("google_oauth", "GOCSPX-" + fake(28, URLSAFE, 103)),
    ("pypi_token", "pypi-Ag" + "EIcHlwaS5vcmc" + fake(60, URLSAFE, 104)),  # split: no literal
    ("digitalocean_token", "dop_v1_" + fake(64, HEX, 105)),
    ("shopify_token", "shpat_" + fake(32, HEX, 106)),
    # shorter prefixes, with a random body
    ("huggingface_token", "hf_" + fake(34, ALNUM, 107)),
    ("npm_token", "npm_" + fake(36, ALNUM, 108)),
    ("groq_key", "gsk_" + fake(52, ALNUM, 109)),
    ("google_api_key", "AIza" + fake(35, URLSAFE, 110)),
    ("stripe_key", "sk_live_" + fake(24, ALNUM, 111)),
    ("gitlab_token", "gldt-" + fake(20, URLSAFE, 112)),
    (SERVICE, "pnu_" + fake(36, ALNUM, 113)),
    (SERVICE, "sgp_" + fake(40, HEX, 114)),
]


@pytest.mark.parametrize("template", NEUTRAL)
@pytest.mark.parametrize("name", ["key_", "x_"])
@pytest.mark.parametrize(("kind", "token"), UNDERSCORE_LED, ids=[t[:9] for _, t in UNDERSCORE_LED])
def test_a_distinctive_token_after_an_underscore_is_redacted(
    kind: str, token: str, name: str, template: str
) -> None:
    text = template.replace("{t}", name + token)
    # where the whole value is also random-looking (a URL parameter, a string), the name goes too
    redacted = (text.replace(token, marker(kind)), text.replace(name + token, marker(kind)))
    assert redact(text).text in redacted


@pytest.mark.parametrize(
    "text",
    [
        # a short prefix ending a snake_case name, then words: the name goes on, no token
        "model = load_hf_Qwen2VLForConditionalGenerationModel()\n",
        "def test_sk_test_ChargeIsRefundedWhenTheDisputeIsLost(): ...\n",
        "run_npm_InstallWithFrozenLockfileAndCache123(args)\n",
        "with_gsk_" + "ConfigurationValuesFromTheEnvironmentForTheWorkerPool" + "()\n",
        "set_AIza_HeaderForTheRequestsOfTheMapsClient12()\n",
        "make_gldt-deploy-token-for-the-staging-cluster\n",
        "x_sgp_" + "0" * 40 + "\n",
    ],
)
def test_a_short_prefix_after_an_underscore_before_words_is_left_alone(text: str) -> None:
    assert redact(text).redactions == (), text


def test_a_fly_token_of_several_macaroons_is_redacted_whole() -> None:
    # flyctl prints "FlyV1 fm2_<macaroon>,fm2_<discharge>": one token, the scheme kept
    token = "fm2_" + fake(180, B64, 97) + "=,fm2_" + fake(120, B64, 98)
    for text in (f'headers = {{"Authorization": "FlyV1 {token}"}}\n', f"INFO using {token}\n"):
        assert redact(text).text == text.replace(token, marker(SERVICE))


@pytest.mark.parametrize(
    "text",
    [
        f'client = OpenRouter(url, "sk-or-v1-{"0" * 64}")\n',  # a placeholder
        f"INFO deployed {fake(32, HEX, 99)}-{fake(4, HEX, 100)}-{fake(4, HEX, 101)} ok\n",
        "paper sizes A3-PORTRA-LANDSCAPE-FOLDS-GLOSS-MATTE-PRINT are supported\n",
    ],
)
def test_look_alikes_of_the_new_shapes_are_left_alone(text: str) -> None:
    assert redact(text).redactions == (), text


SOURCEGRAPH_V1 = fake(40, HEX, 115)


@pytest.mark.parametrize(
    "text",
    [
        f'src = Sourcegraph(endpoint, "{SOURCEGRAPH_V1}")\n',
        f"sourcegraph: {SOURCEGRAPH_V1}\n",
        f"INFO Sourcegraph client ready ({SOURCEGRAPH_V1})\n",
    ],
)
def test_a_sourcegraph_token_of_the_first_format_after_the_word_is_redacted(text: str) -> None:
    # 40 bare hex characters: only the word before tells it from a commit SHA
    assert redact(text).text == text.replace(SOURCEGRAPH_V1, marker(SERVICE))


@pytest.mark.parametrize(
    "text",
    [
        f"https://github.com/sourcegraph/sourcegraph/commit/{SOURCEGRAPH_V1}\n",
        f"sourcegraph/sourcegraph@{SOURCEGRAPH_V1}\n",
        f"bumped sourcegraph commit {SOURCEGRAPH_V1}\n",
        f"sourcegraph rev {SOURCEGRAPH_V1}\n",
        f"sourcegraph\n{SOURCEGRAPH_V1}\n",  # not on its line
        f"INFO deployed {SOURCEGRAPH_V1}\n",  # no word
        f"sourcegraph: {SOURCEGRAPH_V1}0\n",  # 41 characters
    ],
)
def test_forty_hex_a_sourcegraph_line_names_as_a_commit_is_left_alone(text: str) -> None:
    assert redact(text).redactions == (), text


NEW_RELIC_LEGACY = fake(40, HEX, 116)


@pytest.mark.parametrize(
    "text",
    [
        f"newrelic-admin generate-config {NEW_RELIC_LEGACY} newrelic.ini\n",
        f"newrelic: {NEW_RELIC_LEGACY}\n",
        f"NewRelic key {NEW_RELIC_LEGACY}\n",
        f"new_relic_license: {NEW_RELIC_LEGACY}\n",
        f'agent = NewRelicAgent("{NEW_RELIC_LEGACY}")\n',
        f"the New Relic licence is {NEW_RELIC_LEGACY}\n",
    ],
)
def test_a_legacy_new_relic_license_key_after_the_word_is_redacted(text: str) -> None:
    # older license keys are 40 bare hex characters: as Sourcegraph's, the word tells them
    assert redact(text).text == text.replace(NEW_RELIC_LEGACY, marker(NEW_RELIC))


@pytest.mark.parametrize(
    "text",
    [
        f"bumped sourcegraph to {SOURCEGRAPH_V1}\n",
        f"chore: update sourcegraph from {SOURCEGRAPH_V1}\n",
        f"upgrade newrelic agent to {SOURCEGRAPH_V1}\n",
        f"Merge newrelic at {SOURCEGRAPH_V1}\n",
        f"newrelic commit {SOURCEGRAPH_V1}\n",
        f"https://github.com/newrelic/newrelic-python-agent/commit/{SOURCEGRAPH_V1}\n",
        f"renewrelics {SOURCEGRAPH_V1}\n",  # not the word
    ],
)
def test_forty_hex_a_line_names_as_a_version_bump_is_left_alone(text: str) -> None:
    # a commit SHA moved to or from ("bumped sourcegraph to <sha>") with no word of a secret
    assert redact(text).redactions == (), text


def test_a_token_set_to_forty_hex_is_still_redacted() -> None:
    text = f"set the sourcegraph token to {SOURCEGRAPH_V1}\n"
    assert redact(text).text == text.replace(SOURCEGRAPH_V1, marker(SERVICE))


def test_a_deepseek_key_keeps_the_openai_label() -> None:
    # DeepSeek's keys are sk-<32 hex>, and so are Alibaba DashScope's: the shape names no
    # provider, so the key is redacted under the label of the sk- family
    token = "sk-" + fake(32, HEX, 102)
    text = f'client = OpenAI(base_url="https://api.deepseek.com", api_key="{token}")\n'
    assert redact(text).text == text.replace(token, marker("openai_key"))


DISCORD_WEBHOOK_TOKEN = fake(68, URLSAFE, 140)


@pytest.mark.parametrize(
    "url",
    [
        f"https://discord.com/api/webhooks/123456789012345678/{DISCORD_WEBHOOK_TOKEN}",
        f"https://canary.discordapp.com/api/v10/webhooks/1234567890123456789/{DISCORD_WEBHOOK_TOKEN}",
    ],
)
@pytest.mark.parametrize("template", NEUTRAL)
def test_a_discord_webhook_url_loses_its_token_and_keeps_its_host_and_id(
    url: str, template: str
) -> None:
    text = template.replace("{t}", url)
    shown = text.replace(DISCORD_WEBHOOK_TOKEN, marker("discord_token"))
    assert redact(text).text == shown
    assert finds_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        # prose and code near the new shapes' literals
        "see https://discord.com/api/webhooks/123456789012345678/{webhook_token} for the format\n",
        "http://10.0.0.1//0" + fake(60, ALNUM, 141) + "\n",  # a path after a host, not a token
        "the precious cio" + "ChiefInformationOfficerReports" + "\n",
        "pattern.match(text) and path.exists() or compat.py" + "\n",
        "re_compile = re.compile; more_values_for_the_table = 1\n",
        "vcr_cassette_dir = 'tests/cassettes'; vcr_RecordingModeForEveryEpisode = 2\n",
        "EAAAbbreviationsAndAcronymsOfTheFederalAviationAdministrationRulesFor\n",
        "rnd_InitialiseTheRandomNumberGeneratorWithSeed = seed\n",
        "host.atlasv1.example\n",
        'Client("pat' + "x" * 14 + "." + "0" * 64 + '")\n',  # a placeholder
        "1//0" + "x" * 99 + "\n",
    ],
)
def test_look_alikes_of_this_rounds_shapes_are_left_alone(text: str) -> None:
    assert redact(text).redactions == (), text


SNYK = "3f2c9a1e-7b4d-4e8a-9c21-" + fake(12, HEX, 142)


@pytest.mark.parametrize(
    "text",
    [
        f"snyk auth {SNYK}\n",
        f"$ SNYK auth '{SNYK}'\n",
        f"run: snyk config set api={SNYK}\n",
    ],
)
def test_a_snyk_token_given_to_its_cli_is_redacted(text: str) -> None:
    # Snyk's tokens are bare UUIDs: only the command that takes one tells it
    assert redact(text).text == text.replace(SNYK, marker(SERVICE))


@pytest.mark.parametrize(
    "text",
    [
        f"snyk monitor --org={SNYK}\n",  # an organization's id, not a secret
        f"snyk test --project-id {SNYK}\n",
        f"the snyk auth flow stores a token like {SNYK}\n",
        "snyk auth 00000000-0000-0000-0000-000000000000\n",  # a placeholder
    ],
)
def test_a_uuid_near_snyk_that_is_not_its_token_is_left_alone(text: str) -> None:
    assert redact(text).redactions == (), text
