"""Provider tokens (AWS, GitHub, GitLab, Slack, Telegram, Vault, Google, Doppler, ...) are
recognised by their shape and redacted whole; fillers and look-alikes are left alone."""

from __future__ import annotations

import json
import string

import pytest

from ocp_router.redact import RedactionResult, redact
from tests.router.fake_secrets import (
    ANTHROPIC,
    AWS_KEY_ID,
    AWS_SECRET,
    GITHUB,
    JWT,
    OPENAI,
    STRIPE,
    assert_redacted,
    assert_untouched,
    b64url,
    src,
)
from tests.router.token_text import ALNUM, B64, HEX, UPPER_DIGITS, URLSAFE, fake

OPENAI_LEGACY = "sk-" + fake(20, ALNUM, 6) + "T3BlbkFJ" + fake(20, ALNUM, 7)
SLACK = "xoxb-" + fake(12, string.digits, 8) + "-" + fake(13, string.digits, 9) + "-" + fake(24)


GOOGLE = "AIza" + fake(35, URLSAFE, 11)
NPM = "npm_" + fake(36, ALNUM, 12)
PYPI = "pypi-AgEIcHlwaS5vcmc" + fake(60, URLSAFE, 13)
HF = "hf_" + fake(34, ALNUM, 14)
GITLAB = "glpat-" + fake(20, URLSAFE, 15)
SENDGRID = "SG." + fake(22, URLSAFE, 16) + "." + fake(43, URLSAFE, 17)
AZURE_STORAGE = fake(86, B64, 18) + "=="
AZURE_AD_SECRET = fake(3, ALNUM, 19) + "8Q~" + fake(34, ALNUM, 20)


def only_kinds(result: RedactionResult) -> set[str]:
    return {r.kind for r in result.redactions}


@pytest.mark.parametrize(
    ("kind", "secret", "template"),
    [
        (
            "aws_access_key",
            AWS_KEY_ID,
            "2024-05-01T12:00:03Z ERROR botocore AccessDenied for key {s} on s3://assets\n",
        ),
        ("aws_access_key", "ASIA" + fake(16, UPPER_DIGITS, 60), "aws_access_key_id = {s}\n"),
        ("github_token", GITHUB, "git clone https://{s}@github.com/acme/app.git"),
        ("github_token", "gho_" + fake(36, ALNUM, 61), "export GH_TOKEN={s}\n"),
        ("github_token", "ghu_" + fake(36, ALNUM, 62), '{{"token": "{s}"}}'),
        ("github_token", "ghs_" + fake(36, ALNUM, 63), "token: {s}\n"),
        ("github_token", "ghr_" + fake(36, ALNUM, 64), "refresh={s}"),
        (
            "github_token",
            "github_pat_" + fake(22, ALNUM, 65) + "_" + fake(59, ALNUM, 66),
            "GITHUB_TOKEN={s}\n",
        ),
        ("gitlab_token", GITLAB, "PRIVATE-TOKEN: {s}"),
        ("anthropic_key", ANTHROPIC, 'client = Anthropic(api_key="{s}")\n'),
        ("openai_key", OPENAI, "OPENAI_API_KEY={s}\n"),
        ("openai_key", OPENAI_LEGACY, "openai.api_key = '{s}'\n"),
        ("slack_token", SLACK, "slack:\n  bot_token: {s}\n"),
        (
            "slack_token",
            "xoxp-" + fake(12, string.digits, 67) + "-" + fake(32, HEX, 68),
            "curl -d token={s} https://slack.com/api/chat.postMessage",
        ),
        ("stripe_key", STRIPE, 'stripe.api_key = "{s}"\n'),
        ("stripe_key", "rk_live_" + fake(24, ALNUM, 69), "STRIPE_RESTRICTED={s}\n"),
        ("stripe_key", "sk_test_" + fake(24, ALNUM, 70), "Stripe::API_KEY = '{s}'"),
        (
            "google_api_key",
            GOOGLE,
            '<script src="https://maps.googleapis.com/maps/api/js?key={s}">',
        ),
        ("sendgrid_key", SENDGRID, "SENDGRID_API_KEY='{s}'"),
        ("huggingface_token", HF, "huggingface-cli login --token {s}"),
        ("npm_token", NPM, "//registry.npmjs.org/:_authToken={s}\n"),
        ("pypi_token", PYPI, "[pypi]\nusername = __token__\npassword = {s}\n"),
        (
            "azure_key",
            AZURE_STORAGE,
            "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};EndpointSuffix=core.windows.net",
        ),
        ("azure_key", AZURE_AD_SECRET, "AZURE_CLIENT_SECRET={s}\n"),
        ("jwt", JWT, "INFO auth ok session={s} user=42"),
    ],
)
def test_provider_tokens_are_recognised_by_their_shape(
    kind: str, secret: str, template: str
) -> None:
    result = assert_redacted(template.format(s=secret), secret, kind)
    assert only_kinds(result) == {kind}


@pytest.mark.parametrize("digits", [8, 9, 10, 11, 13])
def test_a_telegram_bot_token_is_redacted_whole_whatever_the_length_of_its_bot_id(
    digits: int,
) -> None:
    # bot ids have grown past 8 digits and Telegram documents them up to 13 (ids below
    # 2**40); the name it is passed to says nothing secret
    token = fake(digits, string.digits, 80 + digits) + ":AA" + fake(33, ALNUM, 90 + digits)
    result = assert_redacted(f'bot = telebot.TeleBot("{token}")\n', token, "telegram_token")
    assert result.text == 'bot = telebot.TeleBot("[REDACTED:telegram_token]")\n'


def test_a_telegram_bot_token_with_a_dash_in_its_secret_is_redacted() -> None:
    # the secret is URL-safe base64: a `-` near its end is not a prefix's separator
    token = "7118423316:AA" + fake(30, ALNUM, 7) + "-6A"
    result = assert_redacted(f'bot = Bot("{token}")\n', token, "telegram_token")
    assert result.text == 'bot = Bot("[REDACTED:telegram_token]")\n'


@pytest.mark.parametrize("tail", ["-ab", "-Zq", "-9"])
def test_a_vault_token_with_a_dash_near_its_end_is_redacted(tail: str) -> None:
    # hvs. tokens are URL-safe base64: a `-` in them is not a prefix's separator
    token = "hvs." + fake(90, ALNUM, 11) + tail
    result = assert_redacted(f'client.auth("{token}")\n', token, "vault_token")
    assert result.text == 'client.auth("[REDACTED:vault_token]")\n'


def test_google_oauth_client_secrets_and_access_tokens_are_redacted_whole() -> None:
    secret = "GOCSPX-" + fake(28, ALNUM + "-_", 12)
    access = "ya29.a0" + fake(150, ALNUM + "-_", 13)
    text = f'flow = Flow.from_config(cid, "{secret}")\ncreds = Credentials("{access}")\n'
    result = redact(text)
    assert result.text == (
        'flow = Flow.from_config(cid, "[REDACTED:google_oauth]")\n'
        'creds = Credentials("[REDACTED:google_oauth]")\n'
    )


def test_a_telegram_shaped_run_inside_a_longer_number_is_left_alone() -> None:
    assert_untouched("ids = 12345678901234:AA" + fake(33, ALNUM, 99))


def test_an_anthropic_key_is_not_mistaken_for_an_openai_key() -> None:
    result = redact(f"ANTHROPIC_API_KEY={ANTHROPIC}")
    assert result.text == "ANTHROPIC_API_KEY=[REDACTED:anthropic_key]"


def test_an_aws_secret_key_is_redacted_where_it_is_assigned() -> None:
    text = src(
        f"""
        [default]
        aws_access_key_id = {AWS_KEY_ID}
        aws_secret_access_key = {AWS_SECRET}
        region = eu-west-1
        """
    )
    result = redact(text)
    assert result.text == src(
        """
        [default]
        aws_access_key_id = [REDACTED:aws_access_key]
        aws_secret_access_key = [REDACTED:aws_secret_key]
        region = eu-west-1
        """
    )


def test_sts_credentials_in_json_are_redacted() -> None:
    session = "IQoJb3JpZ2luX2VjE" + fake(200, B64, 71)
    text = json.dumps(
        {
            "Credentials": {
                "AccessKeyId": "ASIA" + fake(16, UPPER_DIGITS, 72),
                "SecretAccessKey": AWS_SECRET,
                "SessionToken": session,
                "Expiration": "2024-05-01T13:00:00Z",
            }
        }
    )
    result = redact(text)
    assert AWS_SECRET not in result.text and session not in result.text
    assert "ASIA" not in result.text and "2024-05-01T13:00:00Z" in result.text
    assert only_kinds(result) == {"aws_access_key", "aws_secret_key", "generic_secret_assignment"}


def test_a_slack_webhook_keeps_its_host_and_loses_its_path() -> None:
    path = "T" + fake(8, UPPER_DIGITS, 73) + "/B" + fake(8, UPPER_DIGITS, 74) + "/" + fake(24)
    result = redact(f"SLACK_WEBHOOK_URL=https://hooks.slack.com/services/{path}\n")
    assert (
        result.text
        == "SLACK_WEBHOOK_URL=https://hooks.slack.com/services/[REDACTED:slack_webhook]\n"
    )


def test_a_github_app_installation_token_in_the_stateless_format_is_redacted_whole() -> None:
    # since April 2026 GitHub mints ghs_<app id>_<JWT>: about 520 characters, two dots
    jwt = "eyJ" + b64url(60, 75) + ".eyJ" + b64url(380, 76) + "." + b64url(86, 77)
    token = "ghs_" + fake(7, string.digits, 78) + "_" + jwt
    result = assert_redacted(
        f"2026-05-02 INFO minted {token} for acme/app\n", token, "github_token"
    )
    assert result.text == "2026-05-02 INFO minted [REDACTED:github_token] for acme/app\n"


LOWER_DIGITS = string.ascii_lowercase + string.digits


@pytest.mark.parametrize(
    "token",
    [
        # routable tokens (GitLab 17.x+) end in .<version><crc>
        "glpat-" + fake(27, URLSAFE, 100) + ".01" + fake(7, LOWER_DIGITS, 101),
        "glpat-" + fake(40, URLSAFE, 102) + ".01." + fake(7, LOWER_DIGITS, 103),
        "glrt-t1_" + fake(27, URLSAFE, 104) + ".01" + fake(7, LOWER_DIGITS, 105),
        "gldt-" + fake(20, URLSAFE, 106),
        "glrt-" + fake(20, URLSAFE, 107),
        "glptt-" + fake(40, HEX, 108),
        "glcbt-64_" + fake(20, URLSAFE, 109),
        "glft-" + fake(20, URLSAFE, 110),
        "glffct-" + fake(20, URLSAFE, 111),
        "glimt-" + fake(25, URLSAFE, 112),
        "glagent-" + fake(50, URLSAFE, 113),
        "gloas-" + fake(64, URLSAFE, 114),
        "glsoat-" + fake(20, URLSAFE, 115),
    ],
)
def test_gitlab_tokens_of_every_prefix_are_redacted_whole(token: str) -> None:
    result = assert_redacted(f"tokens.append('{token}')\n", token, "gitlab_token")
    assert result.text == "tokens.append('[REDACTED:gitlab_token]')\n"


def test_a_slack_workflow_trigger_url_keeps_its_host_and_loses_its_path() -> None:
    path = (
        "T"
        + fake(10, UPPER_DIGITS, 116)
        + "/"
        + fake(13, string.digits, 117)
        + "/"
        + fake(32, HEX, 118)
    )
    result = redact(f"WEBHOOK=https://hooks.slack.com/triggers/{path}\n")
    assert result.text == "WEBHOOK=https://hooks.slack.com/triggers/[REDACTED:slack_webhook]\n"


def test_a_slack_session_token_and_its_d_cookie_are_redacted() -> None:
    # what a browser session holds: an xoxc- token and the URL-encoded xoxd- cookie
    ids = "-".join(fake(n, string.digits, 119 + n) for n in (12, 12, 13))
    xoxc = f"xoxc-{ids}-" + fake(64, HEX, 120)
    xoxd = "xoxd-" + fake(40, ALNUM, 121) + "%2F" + fake(30, ALNUM, 122) + "%2B" + fake(9) + "%3D"
    result = redact(f"slackdump --auth {xoxc} --cookie d={xoxd}\n")
    assert result.text == (
        "slackdump --auth [REDACTED:slack_token] --cookie d=[REDACTED:slack_token]\n"
    )


@pytest.mark.parametrize(
    "token",
    [
        "dp.pt." + fake(43, ALNUM, 123),
        "dp.st.dev." + fake(43, ALNUM, 124),
        "dp.st.prd_eu-2." + fake(44, ALNUM, 125),
        "dp.said." + fake(43, ALNUM, 126),
        "dp.audit." + fake(43, ALNUM, 127),
    ],
)
def test_doppler_tokens_of_every_type_are_redacted_whole(token: str) -> None:
    result = assert_redacted(f"doppler:\n  - {token}\n", token, "service_token")
    assert result.text == "doppler:\n  - [REDACTED:service_token]\n"


@pytest.mark.parametrize("body", ["x" * 48, "X" * 48, "0" * 48, "xxxx-xxxx-xxxx-xxxx-xxxx-xxxx"])
def test_a_provider_prefix_with_a_filler_body_is_a_placeholder(body: str) -> None:
    assert_untouched(f'OPENAI_API_KEY = "sk-{body}"\nGITHUB_TOKEN = "ghp_{body[:36]}"')
