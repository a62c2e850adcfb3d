"""PEM private keys are redacted as one whole block (with headers, or missing their end line), and
code that only names the markers is left alone."""

from __future__ import annotations

import json

import pytest

from ocp_router.redact import redact
from tests.router.fake_secrets import PEM_BODY, assert_redacted, assert_untouched, pem
from tests.router.token_text import HEX, fake


@pytest.mark.parametrize(
    "label",
    [
        "RSA PRIVATE KEY",
        "EC PRIVATE KEY",
        "OPENSSH PRIVATE KEY",
        "PRIVATE KEY",
        "ENCRYPTED PRIVATE KEY",
        "DSA PRIVATE KEY",
        "PGP PRIVATE KEY BLOCK",
    ],
)
def test_a_pem_private_key_is_redacted_as_one_whole_block(label: str) -> None:
    key = pem(label)
    text = f'KEY = """\n{key}\n"""\nprint("loaded")\n'
    result = assert_redacted(text, PEM_BODY.splitlines()[2], "private_key")
    assert result.text == 'KEY = """\n[REDACTED:private_key]\n"""\nprint("loaded")\n'
    assert "BEGIN" not in result.text and "END" not in result.text


def test_a_legacy_encrypted_pem_key_with_headers_is_redacted_whole() -> None:
    headers = (
        "Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC," + fake(32, "0123456789ABCDEF") + "\n\n"
    )
    result = redact("id_rsa:\n" + pem("RSA PRIVATE KEY", headers))
    assert result.text == "id_rsa:\n[REDACTED:private_key]"


def test_a_pasted_private_key_missing_its_end_line_is_still_redacted() -> None:
    text = "here is my key:\n-----BEGIN OPENSSH PRIVATE KEY-----\n" + PEM_BODY + "\nthanks"
    result = redact(text)
    assert result.text == "here is my key:\n[REDACTED:private_key]\nthanks"


def test_code_that_only_names_the_pem_markers_is_left_alone() -> None:
    assert_untouched(
        '_SK_START = b"-----BEGIN OPENSSH PRIVATE KEY-----"\n'
        '_SK_END = b"-----END OPENSSH PRIVATE KEY-----"\n'
    )


def test_a_gcp_service_account_file_loses_its_private_key_and_key_id() -> None:
    key_id = fake(40, HEX, 50)
    account = {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": key_id,
        "private_key": pem("PRIVATE KEY") + "\n",
        "client_email": "deployer@demo-project.iam.gserviceaccount.com",
        "client_id": "104857600000000000000",
    }
    text = json.dumps(account, indent=2)
    result = redact(text)
    assert result.counts == {"gcp_service_account": 2}
    assert key_id not in result.text and "BEGIN PRIVATE KEY" not in result.text
    redacted = json.loads(result.text)  # still valid JSON: only string contents were replaced
    assert redacted["private_key"] == "[REDACTED:gcp_service_account]"
    assert redacted["client_email"] == account["client_email"]
