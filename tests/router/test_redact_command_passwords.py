"""Passwords that commands take in forms of their own: keytool's `-storepass`/`-keypass`/`-new`
(and Ant's `storepass="…"`), openssl's `pass:X`, Samba's `-U user%X`, FreeRDP's `/p:X`,
rdesktop's `-p`, htpasswd's last argument under `-b`, wget's and svn's `--password X`, openssl
enc's `-k`. Before, each reached the model, a long random one too (`-passout pass:` only as
`pass:X` behind `-pass`). openssl's `env:VAR`, `file:path`, `fd:N` and `stdin` say where the
password is and stay, as do variables, placeholders and the forms that ask for it.

Secrets are assembled at run time, so this file holds no literal password."""

from __future__ import annotations

import pytest

from ocp_router.redact import redact

PASSWORDS = ["Kx9mQ" + "2vLp8", "tayei" + "apbu", "Zkq3" + "pwXa91"]
COMMANDS = [
    "keytool -genkey -alias a -keystore ks.jks -storepass {pw} -dname CN=a\n",
    "keytool -importkeystore -srckeystore a.p12 -srcstorepass {pw} -destkeystore b.jks\n",
    "keytool -keypasswd -alias a -keypass {pw} -keystore ks.jks\n",
    "keytool -storepasswd -new {pw} -keystore ks.jks\n",
    '<signjar jar="a.jar" alias="a" keystore="ks.jks" storepass="{pw}"/>\n',
    "openssl pkcs12 -export -in c.pem -out c.p12 -passout pass:{pw}\n",
    "openssl rsa -in k.pem -passin pass:{pw} -out k2.pem\n",
    "openssl enc -aes-256-cbc -in f -out f.enc -pass pass:{pw}\n",
    "openssl pkcs12 -in c.p12 -password 'pass:{pw}' -nodes\n",
    "openssl enc -aes-256-cbc -k {pw} -in f -out f.enc\n",
    "smbclient //srv/share -U alice%{pw} -c ls\n",
    "rpcclient -U 'CORP\\alice%{pw}' 10.0.0.1\n",
    "xfreerdp /v:host /u:alice /p:{pw} /cert:ignore\n",
    'xfreerdp3 /v:host /u:alice /p:"{pw}"\n',
    "rdesktop -u alice -p {pw} host\n",
    "htpasswd -b .htpasswd alice {pw}\n",
    "htpasswd -nbB alice {pw}\n",
    "wget --user alice --password {pw} https://h/f\n",
    "svn checkout https://h/r --username alice --password {pw}\n",
]


@pytest.mark.parametrize("pw", PASSWORDS)
@pytest.mark.parametrize("command", COMMANDS)
def test_a_password_in_a_commands_own_form_is_redacted(command: str, pw: str) -> None:
    text = command.format(pw=pw)
    result = redact(text)
    assert [text[r.start : r.end] for r in result.redactions] == [pw], result.text


def test_keytools_store_and_key_passwords_are_both_redacted() -> None:
    store, key = PASSWORDS[0], PASSWORDS[1]
    text = f"keytool -genkeypair -keystore ks.jks -storepass {store} -keypass {key}\n"
    assert [text[r.start : r.end] for r in redact(text).redactions] == [store, key]


@pytest.mark.parametrize(
    "text",
    [
        "keytool -list -keystore ks.jks -storepass:env KS_PASS\n",
        "keytool -list -keystore ks.jks -storepass:file pw.txt\n",
        "keytool -list -keystore ks.jks -storepass changeit\n",  # the documented default
        "keytool -list -keystore ks.jks -storepass $KS_PASS\n",
        "openssl enc -aes-256-cbc -in f -out f.enc -pass env:ENC_PASS\n",
        "openssl rsa -in k.pem -passin file:pw.txt -out k2.pem\n",
        "openssl rsa -in k.pem -passin fd:3 -out k2.pem\n",
        "openssl rsa -in k.pem -passin stdin -out k2.pem\n",
        'openssl rsa -in k.pem -passin "pass:$PW" -out k2.pem\n',
        "smbclient //srv/share -U alice\n",  # asks for it
        "xfreerdp /v:host /u:alice /p:$RDP_PW\n",
        "htpasswd -c .htpasswd alice\n",  # asks for it
        "htpasswd -v .htpasswd alice\n",
        "date -U +%s\n",
        "wget --ask-password https://h/f\n",
    ],
)
def test_variables_sources_and_prompts_stay(text: str) -> None:
    assert redact(text).text == text
