"""Secrets in names (redact_names.py): a token glued to the word before it is found in a name
(a path, an id), for more prefixes than `redact` finds one glued to a word in prose.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import logging

import pytest

from ocp_router.redact import finds_secret
from ocp_router.redact_names import (
    NameRedactingFilter,
    glued_tokens,
    name_holds_secret,
    redact_name,
)

BODY = "Xk29dLq7" * 4 + "Ab3Z"
GHP = "ghp_" + BODY
AKIA = "AKIA" + "QW7B3PDKHX4PY8GP"
HF = "hf_" + "Qm7sVb2XkLp9Rt4WnZc8Yd3Fg6Hj1Ka5Ue"  # a shorter prefix: glued, only names have it


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        (f"backup{GHP}.json", "backup[REDACTED:github_token].json"),
        (f"keys{AKIA}.txt", "keys[REDACTED:aws_access_key].txt"),
        (f"featurex{GHP}", "featurex[REDACTED:github_token]"),
        (f"feature-x-{GHP}", "feature-x-[REDACTED:github_token]"),  # `redact` finds this one
    ],
)
def test_a_token_glued_to_a_word_is_found_in_a_name(name: str, shown: str) -> None:
    assert name_holds_secret(name)
    assert redact_name(name).text == shown


def test_redact_leaves_the_glued_token_that_redact_name_finds() -> None:
    assert not finds_secret(f"model{HF}.json")
    (found,) = glued_tokens(f"model{HF}.json")
    assert (found.kind, found.start, found.end) == ("huggingface_token", 5, 5 + len(HF))
    assert redact_name(f"model{HF}.json").text == "model[REDACTED:huggingface_token].json"


@pytest.mark.parametrize(
    "name",
    [
        "src/graphql/ghp_client.py",
        "lib/aws/AKIAValidator.java",
        "models/loadhf_QwenForCausalLM_weights.py",
        "src/disk-ant-colony-simulation-runner.py",  # sk-ant- glued, with words after it
        "pkg/xoxb-handler/README.md",
        "feature-x-ghp-client",
        "claude-sonnet-4-6",
    ],
)
def test_a_prefix_glued_to_a_word_without_a_tokens_body_is_no_secret(name: str) -> None:
    assert not name_holds_secret(name)
    assert redact_name(name).text == name


def test_the_log_filter_hides_a_token_glued_into_a_path_it_quotes() -> None:
    record = logging.LogRecord(
        "ocp",
        logging.WARNING,
        __file__,
        1,
        "the database of %s was replaced",
        (f"/srv/proj{GHP}",),
        None,
    )
    assert NameRedactingFilter().filter(record)
    assert record.getMessage() == "the database of /srv/proj[REDACTED:github_token] was replaced"


def test_each_glued_prefix_is_read_over_a_bounded_stretch_of_a_long_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # read to the end of the text from every prefix, a 50 KB query of them took 40 s
    import ocp_router.redact_names as names
    from ocp_router.redact import _detect as detect

    read: list[int] = []

    def counting(text: str) -> object:
        read.append(len(text))
        return detect(text)

    monkeypatch.setattr(names, "detect", counting)
    body = "Xk29dLq7" * 4 + "Ab3Z"
    decoys = "".join(f"xghp_{n}abc " for n in range(3000))
    shown = names.redact_name(f"{decoys} then cfgghp_{body} and more {decoys}").text
    assert "cfg[REDACTED:github_token] and more" in shown
    assert max(read) <= 8192, max(read)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The length of every stretch after a glued prefix read as `redact` reads a text."""
    import ocp_router.redact_names as names
    from ocp_router.redact import _detect as detect

    read: list[int] = []

    def counting(text: str) -> object:
        read.append(len(text))
        return detect(text)

    monkeypatch.setattr(names, "detect", counting)
    return read


# Secrets' names and glued prefixes one after another: a prefix every few characters, each
# read with the 512 after it, cost up to 150 µs a character (a trace's head of it, 26 s).
DENSE = {
    "all hidden": f"password=x{AKIA}" * 2_000,
    "nothing hidden": ("key: x" + "AIza ") * 5_000,
}


@pytest.mark.parametrize("name", list(DENSE))
def test_the_stretches_read_after_glued_prefixes_add_up_to_about_the_texts_length(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ocp_router.redact_names import GLUED_READ_FACTOR, GLUED_READ_SLACK

    text = DENSE[name]
    read = _reads(monkeypatch)
    redact_name(text)
    assert sum(read) <= GLUED_READ_FACTOR * len(text) + GLUED_READ_SLACK + 8192, name


def test_no_glued_prefix_inside_a_secret_already_hidden_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read = _reads(monkeypatch)
    result = redact_name(DENSE["all hidden"])
    assert AKIA not in result.text and result.text.startswith("password=[REDACTED")
    assert read == []


def test_a_glued_token_past_what_is_read_in_full_is_found_by_its_shape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from ocp_router.redact_names import GLUED_READ_FACTOR, GLUED_READ_SLACK

    text = DENSE["nothing hidden"] + f"\nsaved as cfg{GHP}.json and keys{AKIA}.txt\n"
    read = _reads(monkeypatch)
    shown = redact_name(text).text
    assert sum(read) >= GLUED_READ_FACTOR * len(text) + GLUED_READ_SLACK  # the budget spent
    assert "cfg[REDACTED:github_token].json and keys[REDACTED:aws_access_key].txt" in shown
