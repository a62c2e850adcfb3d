"""GitLab's runner (glrt-) and deploy (gldt-) tokens: a short prefix, so the body must look
random, and one in 500 of GitLab's own read as words to that test and was left. GitLab makes
them with Devise's friendly_token: 20 URL-safe base64 characters with l, I, O and 0 swapped
for s, x, y and z. A body of exactly that shape, with a lower-case letter, an upper-case
letter and a digit, is a token whatever it reads as.

Secrets are assembled at run time, so this file holds no literal token."""

from __future__ import annotations

import pytest

from ocp_router.redact import marker, redact

# Bodies of GitLab's shape that the word test reads as words (found among 20,000 generated).
WORDY_BODIES = [
    "Jcyy7NetHs" + "HTotwoMS7F",
    "5vUSomeEX5" + "xCrHaik1cZ",
    "cLwU3VN7Y6" + "HerssSyogP",
]


@pytest.mark.parametrize("body", WORDY_BODIES)
@pytest.mark.parametrize("prefix", ["glrt-", "gldt-"])
def test_a_gitlab_token_whose_body_reads_as_words_is_redacted(prefix: str, body: str) -> None:
    token = prefix + body
    for text in [f'runner.register("{token}")\n', f"  token: {token}\n"]:
        out = redact(text).text
        assert out == text.replace(token, marker("gitlab_token")), out


@pytest.mark.parametrize(
    "text",
    [
        'runner.register("glrt-' + "YourRunnerTokenHere1" + '")\n',
        'repo.clone_with("gldt-' + "ExampleDeployToken1" + '")\n',
        'runner.register("glrt-' + "x" * 20 + '")\n',
        "make_gldt-deploy-token-for-the-staging-cluster\n",
        'runner.register("glrt-' + "RunnerTokenForStaging1" + '")\n',
    ],
)
def test_a_gitlab_placeholder_or_name_is_left(text: str) -> None:
    assert redact(text).text == text
