"""Tokens glued to a word in prose and code (_redact_glued.py): `redact` finds those whose
prefix no word ends in (`backupghp_<token>`), and leaves the words those prefixes end.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import pytest

from ocp_router.redact import finds_secret, redact
from ocp_router.redact_names import name_holds_secret

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = "ghp_" + BODY
AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"
ANT = "sk-ant-api03-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0" * 2
SLACK = "xoxb-" + "2846190734-5729184630-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3F"
GLPAT = "glpat-" + "Zx81Kq2Vbn7Lp4Wm9Rt3"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        (f"the nightly job reads backup{GHP} from the vault", "backup[REDACTED:github_token]"),
        (f"the bucket policy lists keys{AKIA} twice", "keys[REDACTED:aws_access_key] twice"),
        (f"it came in as mail{ANT} yesterday", "mail[REDACTED:anthropic_key] yesterday"),
        (f"the bot posts with bot{SLACK}.", "bot[REDACTED:slack_token]."),
        (f"clone with ci{GLPAT} and push", "ci[REDACTED:gitlab_token] and push"),
    ],
)
def test_a_token_glued_to_a_word_by_a_prefix_no_word_ends_in_is_redacted(
    text: str, shown: str
) -> None:
    result = redact(text)
    assert shown in result.text, result.text
    assert finds_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "from graphql import ghp_client, AKIAValidator",
        "src/disk-ant-colony-simulation-runner.py and task-proj-2024-plan.md",
        "the pnpm_store_v3 and pkg/xoxb-handler/README.md",
        "DiskghpX_2 is a name, not a key; so is fooAKIA_LIMIT_1",
        "wrap it as cfgghp_helper_for_tokens and cfgghp_abc12",
    ],
)
def test_words_ending_in_such_a_prefix_are_left_alone(text: str) -> None:
    assert redact(text).text == text


def test_a_text_of_glued_prefixes_without_tokens_still_finds_a_token_after_them() -> None:
    decoys = "".join(f"xghp_{n}abc " for n in range(40))
    assert redact(f"{decoys} token: x{GHP}").text.endswith("x[REDACTED:github_token]")


def test_a_token_after_more_glued_prefixes_than_any_budget_is_still_redacted() -> None:
    # every decoy passes the body gate (a digit soon after the prefix) and is read in vain
    decoys = "".join(f"xghp_{n}abc yAKIA{n}q zsk-ant-{n}b " for n in range(400))
    text = f"{decoys} token: x{GHP} and keys{AKIA}."
    shown = redact(text).text
    assert shown.endswith("token: x[REDACTED:github_token] and keys[REDACTED:aws_access_key].")
    assert finds_secret(text)


def test_a_glued_token_longer_than_the_first_read_is_redacted_whole() -> None:
    # GitHub App installation tokens are ghs_<app id>_<JWT>, over 500 characters
    jwt = "eyJ" + "Qm7sVb2XkLp9Rt4W" * 10 + "." + "nZc8Yd3Fg6Hj1Ka5" * 13 + "." + "Ue0x" * 40
    ghs = "ghs_" + "12345678_" + jwt
    assert len(ghs) > 512
    assert redact(f"glued x{ghs} end").text == "glued x[REDACTED:github_token] end"


@pytest.mark.parametrize(
    "text", [f"src/{GHP}_old.py", f"src/mirror{GHP}_x/handler.py", f"def backup{GHP}_handler():"]
)
def test_a_github_token_followed_by_an_underscore_is_still_one(text: str) -> None:
    # its body is letters and digits: `_` ends it as well as any other mark
    assert "[REDACTED:github_token]_" in redact(text).text
    assert name_holds_secret(text)


AIZA = "AIza" + "Sy" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5U"
STRIPE = "sk_" + "live_" + "51Qm7sVb2XkLp9Rt4WnZc8Yd3F"
LINEAR = "lin_" + "api_" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue0x8Lr4"
GOCSPX = "GOCSPX-" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        # a file name, and prose: the token has a word glued after it as well as before
        (f"rm keys{AKIA}x.txt now", "keys[REDACTED:aws_access_key]x.txt now"),
        (f"see keys{AKIA}Notes", "keys[REDACTED:aws_access_key]Notes"),
        (f"cp cfg{AIZA}old.json", "cfg[REDACTED:google_api_key]old.json"),
        (f"the web{GOCSPX}secret leaked", "web[REDACTED:google_oauth]secret leaked"),
        (f"it is prod{LINEAR}andmore", "prod[REDACTED:service_token]"),
        # bodies of no fixed length take the word in: it must not make them read as words
        (f"it came as mail{ANT}andthenmoretext", "mail[REDACTED:anthropic_key]"),
        (f"the bot posts with bot{SLACK}andthenmoretext", "bot[REDACTED:slack_token]"),
        (f"clone with ci{GLPAT}andthenmoretext", "ci[REDACTED:gitlab_token]"),
        (f"pay via shop{STRIPE}Notesandmore.", "shop[REDACTED:stripe_key]."),
        (f"backup{GHP}andthenmoretext.json", "backup[REDACTED:github_token].json"),
    ],
)
def test_a_token_glued_to_words_on_both_sides_is_redacted(text: str, shown: str) -> None:
    assert shown in redact(text).text, redact(text).text
    assert finds_secret(text)
    assert name_holds_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        # what follows is more random data (digits), not a word: a blob, not a token
        f"the blob q{AKIA}7Zk2PqR9 ends here",
        f"the blob q{AIZA}Xk29dLq7Ab3Z ends here",
        # words glued after a prefix and a word-like body stay words
        "src/disk-ant-colony-simulation-runnerandmore.py",
        "fooAKIAValidatorFactory and cfgAIzaLoaderHelperFactoryForTheUnitTestsx.py",
    ],
)
def test_a_prefix_glued_on_both_sides_to_data_or_words_is_left_alone(text: str) -> None:
    assert redact(text).text == text
