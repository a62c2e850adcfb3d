"""Find secrets in text and replace them with markers.

Everything `OCPRouter` sends to a paid provider (Anthropic, OpenAI) goes through `redact` first,
and so does every text ocp-server's tools hand to an IDE agent, so a secret never leaves the
machine by accident. Each secret is replaced by ``[REDACTED:<kind>]``;
the result lists every redaction with its kind and its offsets in the original text.

What is detected (kind in brackets):

- PEM private keys, the whole BEGIN..END block: RSA, EC, DSA, OPENSSH, PGP, ENCRYPTED, PKCS#8,
  legacy encrypted headers included (``private_key``); a pasted block with no END line is
  redacted through its base64 lines. In a GCP service-account JSON (one that says
  ``service_account``), the ``private_key`` and ``private_key_id`` values
  (``gcp_service_account``).
- Tokens recognised by prefix and shape wherever they appear: AWS access key ids AKIA/ASIA/
  ABIA/ACCA (``aws_access_key``); GitHub ghp_/gho_/ghu_/ghs_/ghr_/github_pat_, ghs_<app_id>_<JWT>
  (``github_token``); GitLab glpat-/gldt-/glrt-/glptt-/... (``gitlab_token``); Anthropic sk-ant-
  (``anthropic_key``); OpenRouter sk-or-v1- (``openrouter_key``); OpenAI
  sk-/sk-proj-/sk-svcacct-/sk-admin-, and DeepSeek's and DashScope's sk-<32 hex>, which no part of
  tells from an OpenAI key (``openai_key``); Groq gsk_ (``groq_key``); xAI xai- (``xai_key``);
  Perplexity pplx- (``perplexity_key``); Replicate r8_ (``replicate_token``); Slack
  xox[abposrecd]-/xapp- (``slack_token``) and webhook URLs (``slack_webhook``, host kept); Stripe
  secret and restricted keys sk_/rk_ of live/test/prod, whsec_ (``stripe_key``; publishable pk_ keys
  are public: the assignment and entropy rules leave them alone); Google AIza (``google_api_key``),
  GOCSPX-, ya29. and refresh tokens 1//0 (``google_oauth``); SendGrid SG. (``sendgrid_key``);
  Hugging Face hf_ and api_org_ (``huggingface_token``); npm_ (``npm_token``); pypi-Ag
  (``pypi_token``); Azure AccountKey=/SharedAccessKey=, SAS ``sig=`` and AAD client secrets
  (``azure_key``); Discord bot tokens and webhook URLs' tokens (``discord_token``, host and id
  kept), Telegram bot tokens (``telegram_token``), Vault hvs./hvb.
  (``vault_token``), Databricks dapi and dose (``databricks_token``), Mailchimp ``...-us12``
  (``mailchimp_key``), Shopify shpat_ (``shopify_token``), DigitalOcean dop_v1_
  (``digitalocean_token``), New Relic NRAK-/NRAA-/NRRA-/NRII-/NRIQ-/NRJS-/NRBR-/NRSP-, license keys
  ending NRAL and mobile tokens ending -NRMA (``newrelic_key``; a bare 40-hex license key of the old
  format is not told from a commit SHA), Linear lin_api_, Postman PMAK-, Doppler dp.st./dp.pt./...,
  Mailgun key- and <32 hex>-<8 hex>-<8 hex>, Pulumi pul-, Atlassian ATATT3, Grafana glc_/glsa_ and
  legacy eyJrIjoi keys, Sentry sntrys_/sntryu_, 1Password ops_ and Secret Keys A3-, LangSmith
  lsv2_pt_/lsv2_sk_, Twilio SK<32 hex>, Amazon Bedrock ABSK/bedrock-api-key-, ElevenLabs sk_<48
  hex>, Pinecone pcsk_, Heroku HRKU-AA, Notion ntn_, PlanetScale
  pscale_tkn_/pscale_pw_/pscale_oauth_, Prefect pnu_, RubyGems rubygems_, Fly.io fo1_ and
  fm1a_/fm1r_/fm2_ macaroons, Sourcegraph sgp_/sgd_/slk_/sgs_ and, after the word "sourcegraph" on
  its line, the 40 hex characters of its first format, Tailscale tskey-, Docker Hub
  dckr_pat_/dckr_oat_, Supabase sbp_/sb_secret_, NVIDIA nvapi-, Figma figd_, Netlify nfp_,
  Mapbox sk.eyJ, a Snyk token (a UUID) given to its CLI (``snyk auth``, ``snyk config set
  api=``), Terraform Cloud <id>.atlasv1., Airtable pat<id>., Resend re_, crates.io cio and
  cio_tp_, Square EAAA/sq0atp-/sq0csp-, Render rnd_, Vercel vcp_/vci_/vca_/vcr_/vck_, JFrog AKCp
  and cmVmdGtu (``service_token``); age secret keys
  (``private_key``); JWTs, three base64url segments with the header starting ``eyJ`` (``jwt``). A
  token may follow ``_`` where its prefix is one no identifier holds (``key_ghp_...``), or a
  shorter one (hf_, npm_, gsk_, AIza, sk_live_, gldt-, pnu_, sgp_) with a random body; and a
  letter or digit where its prefix is one no word ends in (``backupghp_...``, ``keysAKIA...``:
  GitHub's, GitLab's, sk-ant- and OpenAI's long ones, Slack's, AKIA/ASIA, AIza, ...) and its
  body holds a digit and is not words; such a token may have a word glued after it too
  (``keysAKIA...x.txt``: letters, not more random data, follow its own characters).
  A token split across joined string literals (``"ghp_..." + "..."``, ``"sk-ant-" "api03-..."``)
  is redacted whole, seams included.
  A token right after an escape that ends in a letter or digit (``\\n`` in JSON and log
  lines, ``%22`` in a URL) stands alone too.
- HTTP credentials: ``Authorization: Bearer <token>`` / ``Authorization: Token <token>`` and
  random-looking bearer tokens elsewhere (``bearer_token``); ``Authorization: Basic ...`` and
  ``curl -u user:pass`` (``basic_auth``, the user is kept); npm's ``_auth=`` and Yarn's
  ``npmAuthIdent:`` when the base64 is of ``user:password`` (``basic_auth``).
- Connection strings: ``postgres://user:s3cret@host`` keeps scheme, user and host and loses
  only the password (which may hold a raw ``#``, ``/`` or ``@``: it ends at the last ``@`` a
  host follows, as URL parsers split ``P@ss;w0rd@db``; JDBC's ``://db:1433;user=…`` is no
  such password, its ``;password=`` field is), however short (``:42@``; the user, host and
  port may be templates, ``{{ user }}:…@{{ host }}:${PORT}``;
  not a placeholder ``:pw@`` or a mask ``:**@``); so do ``?password=``/``&token=`` URL
  parameters and ``;Password=`` ADO/ODBC fields (``connection_string_password``), past a
  ``;`` inside the password when the piece after it is no ``Name=`` field (``p;w0rd;Db=x``).
- AWS secret access keys: 40 base64 characters assigned to an ``aws_secret_access_key``-like
  name (``aws_secret_key``).
- Assignments in code and config: ``password = "..."``, ``PASSWORD: ...`` (YAML),
  ``"api_key": "..."`` (JSON), ``'token' => '...'``, ``password := "..."``, ``export
  SECRET_KEY=...``, .env ``DB_PASSWORD=...``, ``ENV X_TOKEN=...``, ``--password ...``/
  ``--password=...``, ``<password>...</password>``, escaped JSON in log lines, a name and its
  value side by side (``define('DB_PASSWORD', '...')``, ``os.environ.setdefault("X", "...")``,
  ``<add key="DbPassword" value="..."/>``, Kubernetes ``- name: DB_PASSWORD`` / ``value:``),
  setters (``setPassword("...")``, ``builder.password("...")``), SQL ``WITH PASSWORD '...'``;
  with no name, a literal in the secret argument of a well-known call (``jwt.sign(p, "...")``,
  ``smtp.login(u, "...")``, ``HTTPBasicAuth(u, "...")``, ``auth=(u, "...")``, ``hmac.new(b"...")``,
  ``createHmac("sha256", "...")``, ``Fernet(b"...")``, ``getConnection(url, u, "...")``) or
  an element a key names (``<entry key="password">``).
  Only the value is redacted; name, operator and quotes stay, so the model still understands
  the code. The name decides
  (split into snake/kebab/camel/dotted words; a trailing ``value``/``b64``/... is ignored;
  ``pass`` names a password after a qualifier: DB_PASS, ansible_become_pass, not first_pass):

  - last word password/passwd/pwd/pass/passphrase/pw: any literal of 3+ characters
    (``password_assignment``), a lone word only where a setter, a .NET key or SQL names it
    (``setPassword("sunshine")``, ``<add key="DbPassword" value="…"/>``);
  - last word secret/token/apikey/credential(s)/creds, or key after api/secret/access/private/
    client/signing/session/... : a literal that looks like a credential, i.e. 8+ characters,
    no spaces, a digit, mostly alphanumeric, not made of words (``generic_secret_assignment``;
    lexers keep ``token = "IDENTIFIER"``); in .env, log, YAML or INI fields also one a person
    chose, 8+ letters and digits (``token: hunter2secret99``; not ``bos_token1``, a name),
    or on .env, log, YAML and INI lines 8+ lower-case letters (two words; not ``required``);
    in those fields and in a literal, 8+ characters chosen as a password is, with a symbol
    (``JWT_SECRET=kettle82#falcon2494``, ``secret: "4qUy}P0,)h&^,S$x"``; no regular expression);
    in PHP's ``define()`` a password though it is a word; WordPress's keys and salts
    (``AUTH_KEY``, ``NONCE_SALT``, ``WORDPRESS_AUTH_SALT``, in define(), .env, YAML, JSON, ``wp
    config set``) with their spaces, the salts in a text that names a key (``_redact_wordpress``),
    or alone when the value is machine-made (the generator's, ``openssl rand``'s hex or base64);
  - any other name containing key/secret/token/password/passwd/pwd/credential (``cache_key``,
    ``password_hash``): only a high-entropy value, 16+ characters of mixed classes, mostly
    alphanumeric, not words, not a URL (``generic_secret_assignment``).

  A public key's name (.NET's ``PublicKeyToken``, ``public_key_id``) and a key's digest
  (``key_sha256``; not a password's) name no secret when the value is hex, base64 or base58
  (``public_key_api_token`` names one). So hashes, UUIDs, commit SHAs and base64 images are
  left alone unless assigned to such a name.
  "Made of words" needs both long vowel-bearing letter runs and common English letter pairs.
- Secrets in notes and sentences: a key, token or secret's machine-made value after "is",
  "to" or "was set to", in parentheses or after a colon that follows words ("the staging API
  key is 7f3a...", "Set MY_SERVICE_TOKEN to ...", "API_TOKEN was set to ...", "the webhook
  secret (...)", "- api token: ...", "API key for staging: ..."), or before the name that
  says what it is ("... is our api key", "use ... as the deploy token"; not "... is the token
  hash"), random lower-case hex after a bare "key" that no word
  before makes a lookup's ("use key 7f3a...", not "cache key 7f3a..." or "for key ...")
  (``generic_secret_assignment``); a password a person chose (letters, a digit and a symbol,
  or both cases: not Argon2id or 1Password) in "password X", "reset the password to X", "the
  password is now X", "the password was set to X", "staging password: X", "X is the password
  for the staging db", "use X as the password", and after creds or
  a login ("DB creds are admin / X", "login with admin:X", "sign in as ops / X", "logged in
  as deploy:X", the user kept) (``password_assignment``). In a Markdown table, the same values
  in the cell after a secret's name (``| STRIPE_KEY | ... |``) or under a header that names one
  (``| API key |``), and under ``| key | value |`` a high-entropy value whatever its row is
  named, unless the name says random (sha256, id) (``high_entropy_string``).
- Passwords without an assignment: prose ("the prod db password is ..."), ``IDENTIFIED BY
  '...'``, ``ConvertTo-SecureString "..."``, netrc ``password ...``, .pgpass lines, and
  commands that take one: ``mysql -p...``, ``sshpass -p``, ``docker/podman/helm login -p``,
  ``redis-cli -a``, ``mongo -p``, ``ldapsearch -w``, ``sqlcmd/bcp/osql/zip/unzip/mosquitto_pub
  -P`` (sqlcmd's ``/P`` too), ``7z/rar -p...`` (7-Zip's ``/p...``, RAR's ``-HP...``), ``openssl
  enc -k``, ``rdesktop -p``, Samba's ``-U user%...``, and in a tool's own form
  (``_redact_commands``): ``keytool -storepass/-keypass/-new``, openssl's ``pass:...``
  (``env:``, ``file:``, ``fd:``, ``stdin`` stay), FreeRDP's ``/p:...``, ``htpasswd -b``'s last
  argument, ``ldappasswd -a/-s``, ``wget/svn --password ...`` (``password_assignment``);
  ``--ask-password``/``--no-password`` take no value, and a flag named in a sentence gives none
  ("avoid wget --password because ...": ``_redact_commands.flag_named_in_sentence``); a
  password's hash on an htpasswd, htdigest or shadow line (``user:$apr1$...``, ``$2y$``,
  ``$6$``, ``{SHA}``, ``user:realm:<32 hex>``; ``_redact_hashes``).
- High-entropy values under any name: 20+ characters with lower, upper and digits, not words,
  assigned (``"k": "0bK5..."``, ``signing: ZTzh...``, ``sessionid=6Wax...``), unless the name
  says it is random by nature (hash, digest, id, nonce, version...) (``high_entropy_string``).
- Repeats: a secret that was found, 8+ characters long (passwords only with a digit or symbol
  and no spaces), is redacted wherever else it occurs verbatim in the same text, e.g. a
  password from a pasted .env appearing again in a log line.

What is left alone, so that explanations of code are not damaged:

- Placeholders: empty strings, ``changeme``, ``<your-key>``, ``xxx``/``****``/``000...``,
  ``...``, values containing "your"/"example"/"placeholder"/"dummy"/"sample"/"redacted",
  ``..._here``, the name itself (``password = "password"``, ``"password1": "password1"``), filler
  words (``secret``, ``test``, ``none``, ``true``...), passwords docs write as examples
  (``hunter2``, leet filler ``P4$$word``/``s3cret``, ``badpass``/``supersecret``) or tests
  use as wrong ones (``nogood``, ``invalid``), lower-case words that name what they stand for
  (``hono-password-a``, ``callback-pass``, ``proxy-token-123456``, ``sk-ant-test``; not a
  passphrase such as ``amber-falcon-quartz``), letters and digits typed in sequence
  (``abcdefg12345``, ``ghp_abcdefghijklmnopqrstuvwxyz0123456789``), AWS's documented
  ``AKIAIOSFODNN7EXAMPLE`` (a token ending in ``EXAMPLE``), base64 of ``user:<placeholder>``
  (a test's Basic credential) or of a sentence (a doc's example of encoding), a class naming a
  secret's kind (``passwd: HTTPPasswordMgr``, ``private_key: rsa.RSAPrivateKey``: a type
  annotation), made-up words percent-encoded in a URL's password (``jo:a%20secret@``), paths
  (``~/.ssh/id_ed25519``), and the name of a variable as a string
  (``api_key_env = "OPENAI_API_KEY"``). The value decides, never the file's path: a
  realistic secret in a test file is hidden too.
- Templates and lookups: ``${API_KEY}``, ``$API_KEY``, ``%API_KEY%``, ``{{ secrets.TOKEN }}``,
  ``%(pw)s``, ``{password}`` (a literal that merely contains a brace pair, ``Xk{Gb}9$q!``, is
  not a template), f-strings with fields, ``os.environ['API_KEY']``, ``get_password()``,
  ``request.headers["Authorization"]``, ``settings.SECRET_KEY``, ``process.env.API_KEY!``,
  YAML tags (``!vault``, ``!secret name``); a template's field named password in a URL
  (``app:{{ password }}@db``, ``<%= password %>``) with the rest of its line.
- Where names are variables (code), a bare variable on the right: one made of words or
  naming a secret (``password = user_password``, ``pw = dbPass``), not random letters
  (``password = jpoKfCiSxxg`` is a literal), nor words with a digit and a symbol inside
  (``password = Hunter2Secret!x``, a chosen password), nor after a password's name six or
  seven random letters and digits used nowhere else in the text (``_redact_values.short_random``:
  ``password = Zkq3pw``, ``{ password: Zkq3pw }``, Go's ``Password: Zkq3pw,``,
  ``setPassword(Zkq3pw)``, ``.password(Zkq3pw)``). Where they are not (YAML, INI after a
  ``[section]``, .env and shell ``NAME=value``, ``docker -e``, logfmt, command-line flags, URL
  parameters), every value is a literal except a template or reference; a YAML-style ``name:
  value`` line is code when the line before opens or continues an object or a call. A field's
  value runs to the next space, symbols and all (``X=wT)0;2…,R)``, ``password: Y=8oe…``).
- Declarations and comparisons with code: ``password: str``, ``token: str | None = None``,
  ``apiKey: string;``, ``if token == bos_token_id:``; keywords (None, null, true...).
- Prose: an unquoted YAML-style value with spaces (``password: The password part of the
  URL.``), a flag followed by a plain word (``use the --password option``), a sentence
  about a secret without one ("the token is expired", "reset the password to the default",
  "the cache key is <digest>").
- Tokens whose body is filler (``sk-xxxxxxxx...``, ``ghp_000...``).
- Example JWTs, whichever rule found them (``_redact_jwt``): one signed with a secret
  documentation publishes (jwt.io's token) or with a filler signature, and a test's whose
  claims are plain test data with a sign of a test (``{"user":"test"}``, ``{"message":"hello
  world"}``, ``"iss":"https://issuer.example"``); an id, a UUID, an address at a real host or a
  claim named as a secret in it keeps a token hidden.

Overlapping detections are merged into one redaction of the most specific kind (the first in
`KINDS`). Redaction is idempotent: a detection that overlaps an existing ``[REDACTED:kind]``
marker is ignored, and `redact` scans its own output again until nothing more is found (a
secret can hide behind another: a boundary check that saw a letter now sees a marker), so
``redact(redact(t).text)`` returns its input unchanged. Every regex is compiled once and starts
with a literal, so the engine skips to candidates; token patterns run only when a gate of
_redact_scan.py finds their literal (rarer shapes: when a prefix of theirs is in the text); the
assignment scan starts from keywords found in the lower-cased text. 100 KB of ordinary code
takes about 7 ms (bench/bench_secrets.py measures it).

The detectors live beside this module, one kind of evidence each: `_redact_tokens` (a token's
own shape, from the table of `_redact_shapes`; `_redact_at_start` tries it at one place),
`_redact_assignments` (the name a value is assigned to; `_redact_line_kind` says what kind of
line holds it, `_redact_fields` where a field's value ends, `_redact_paired` a name and a value
paired without an operator), `_redact_tables` (a name and a
value in a Markdown table), `_redact_phrases` (the words around a value without a name:
headers, URLs, commands), `_redact_prose` (sentences and notes, after a name or before one) and
`_redact_values` (how any of them judges a value and a name, with `_redact_encoded`);
`_redact_jwt` says which JWTs are examples, `_redact_words` whether a value reads as words;
`_redact_base` holds the kinds they share; `_redact_plain` tells a word they would find
nothing in without running them. This module runs them, merges what they find and
renders the markers. Over 600 lines: this docstring is the one list of what is detected and
what is left, which the detectors' modules refer to.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from bisect import bisect_right
from collections import Counter, OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from ocp_router import (
    _redact_assignments,
    _redact_at_start,
    _redact_base,
    _redact_calls,
    _redact_commands,
    _redact_encoded,
    _redact_fields,
    _redact_flag_values,
    _redact_glued,
    _redact_hashes,
    _redact_jwt,
    _redact_line_kind,
    _redact_memo,
    _redact_name_class,
    _redact_paired,
    _redact_phrases,
    _redact_plain,
    _redact_prose,
    _redact_repeats,
    _redact_rule_strings,
    _redact_scan,
    _redact_sequences,
    _redact_shapes,
    _redact_split,
    _redact_tables,
    _redact_tokens,
    _redact_type_names,
    _redact_values,
    _redact_wordpress,
    _redact_words,
)
from ocp_router._redact_assignments import KEYWORDS, assignment_hits, xml_hits
from ocp_router._redact_base import KINDS, MARKER_OPEN, MARKERS, PRIORITY, Hit
from ocp_router._redact_calls import call_hits, keyed_element_hits
from ocp_router._redact_commands import command_hits
from ocp_router._redact_phrases import (
    auth_hits,
    connection_hits,
    go_dsn_hits,
    named_hex_hits,
    neutral_hits,
    phrase_hits,
    snyk_hits,
)
from ocp_router._redact_prose import named_after_hits, prose_hits, sign_in_hits
from ocp_router._redact_repeats import occurrences
from ocp_router._redact_tokens import discord_hits, gcp_hits, pattern_hits
from ocp_router._redact_wordpress import wordpress_value

__all__ = [
    "KINDS",
    "MARKER_OPEN",
    "RedactingFilter",
    "Redaction",
    "RedactionResult",
    "SOURCE_DIGEST",
    "SOURCE_TEXTS",
    "finds_secret",
    "marker",
    "may_hold_token",
    "named_values",
    "occurrences",
    "redact",
]

#: The sources of the rules this module and its parts (_redact_*.py) run, as this process
#: imported them (the files may change later, by a checkout or an upgrade; the index says so).
_SOURCES = tuple(
    Path(module.__file__ or "")
    for module in (
        _redact_base,
        _redact_memo,
        _redact_words,
        _redact_encoded,
        _redact_sequences,
        _redact_name_class,
        _redact_values,
        _redact_glued,
        _redact_jwt,
        _redact_shapes,
        _redact_at_start,
        _redact_tokens,
        _redact_assignments,
        _redact_paired,
        _redact_fields,
        _redact_flag_values,
        _redact_line_kind,
        _redact_commands,
        _redact_phrases,
        _redact_prose,
        _redact_repeats,
        _redact_scan,
        _redact_tables,
        _redact_calls,
        _redact_split,
        _redact_hashes,
        _redact_rule_strings,
        _redact_wordpress,
        _redact_type_names,
        _redact_plain,
    )
) + (Path(__file__),)
#: Those sources' bytes as imported (an index may judge their code apart from their comments:
#: `ocp_server.index.clean_text.rules_code_digest`).
SOURCE_TEXTS = tuple(map(Path.read_bytes, _SOURCES))
SOURCE_DIGEST = hashlib.blake2b(b"".join(SOURCE_TEXTS), digest_size=12).hexdigest()

_MARKER_RE = re.compile(re.escape(MARKER_OPEN) + r"[a-z0-9_]+\]")
# An element xml_hits reads is named with one of these (pwd holds pw).
_XML_KEYWORDS = frozenset({"pass", "pw", "secret", "token", "key", "cred"})
_NAMED_AFTER_WORDS = frozenset({"pass", "pw", "cred", "secret", "token", "key"})  # "X is the pw"
_ECHO_MIN = 8  # secrets at least this long are also redacted wherever else they occur
_MAX_PASSES = 8


def marker(kind: str) -> str:
    """The text that replaces a secret of this kind."""
    return f"{MARKER_OPEN}{kind}]"


@dataclass(frozen=True, slots=True)
class Redaction:
    """One redacted secret: its kind and its [start, end) offsets in the original text."""

    kind: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """The redacted text and what was taken out of it, in order of position."""

    text: str
    redactions: tuple[Redaction, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many secrets of each kind were redacted."""
        return dict(sorted(Counter(r.kind for r in self.redactions).items()))


def _hits(text: str, shapes: bool = True) -> Iterator[Hit]:
    """Every detector's hits in `text`, markers or not; without `shapes`, only those a name or
    phrase tells (not tokens, Discord's or high-entropy strings, found by their own shape).
    None inside a JWT whose own content shows it is an example (_redact_jwt.py)."""
    examples: list[tuple[int, int]] | None = None  # looked for at the first hit: most have none
    starts: list[int] = []
    for hit in _detectors(text, shapes):
        if examples is None:
            examples = _redact_jwt.example_spans(text)
            starts = [s for s, _ in examples]
        i = bisect_right(starts, hit[0]) - 1  # the last example starting where the hit does
        if i < 0 or examples[i][1] < hit[1]:
            yield hit


def _detectors(text: str, shapes: bool) -> Iterator[Hit]:
    lowered = _redact_scan.lowered(text)
    if len(lowered) != len(text):  # a few characters lower-case to two (İ): keep offsets
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    # Where the keywords are, and which occur: later checks that need one skip their own scan.
    found: set[str] = set()
    spans = _redact_scan.keyword_spans(lowered, KEYWORDS, found)
    if shapes:
        yield from pattern_hits(text)
    yield from named_hex_hits(text, lowered)
    yield from snyk_hits(text, lowered)
    if shapes and _redact_scan.contains(text, "."):
        yield from discord_hits(text)
    if (
        "key" in found
        and _redact_scan.contains(text, '"private_key')
        and _redact_scan.contains(text, "service_account")
    ):
        yield from gcp_hits(text)
    yield from assignment_hits(text, lowered, spans)
    if not found.isdisjoint(_XML_KEYWORDS) and _redact_scan.contains(text, "</"):
        yield from xml_hits(text)
        yield from keyed_element_hits(text)
    yield from call_hits(text, lowered)
    yield from _redact_hashes.password_hash_hits(text)
    yield from auth_hits(text, lowered)
    if _redact_scan.contains(text, "@"):
        if _redact_scan.contains(text, "://"):
            yield from connection_hits(text)
        yield from go_dsn_hits(text)
    password_words = "pass" in found or "pw" in found
    if password_words:
        yield from prose_hits(text, lowered)
    yield from phrase_hits(text, lowered, password_words)
    yield from command_hits(text, lowered, spans, "pass" in found)
    yield from sign_in_hits(text, lowered)
    if not found.isdisjoint(_NAMED_AFTER_WORDS):
        yield from named_after_hits(text, lowered, spans)
    if shapes:
        yield from neutral_hits(text)


def _marker_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _MARKER_RE.finditer(text)] if MARKER_OPEN in text else []


def _detect(text: str) -> list[Hit]:
    """Every secret in `text` (unmerged), ignoring anything overlapping a marker."""
    hits = list(_hits(text))
    if not hits:
        return hits
    markers = _marker_spans(text)
    if markers:
        hits = _outside(hits, markers)
    hits.extend(_echo_hits(text, hits))
    return _outside(hits, markers) if markers else hits


def _outside(hits: list[Hit], spans: list[tuple[int, int]]) -> list[Hit]:
    """The hits that overlap none of these sorted, disjoint spans."""
    starts = [s for s, _ in spans]
    kept = []
    for hit in hits:
        i = bisect_right(starts, hit[1] - 1) - 1  # the last span starting before the hit ends
        if i < 0 or spans[i][1] <= hit[0]:
            kept.append(hit)
    return kept


def _echo_hits(text: str, hits: list[Hit]) -> Iterator[Hit]:
    """Other verbatim occurrences of secrets already found."""
    seen: dict[str, int] = {}
    for s, e, prio in hits:
        if e - s >= _ECHO_MIN:
            secret = text[s:e]
            if prio >= PRIORITY["connection_string_password"] and not _distinctive(secret):
                continue  # a word-like password: too likely to be ordinary text elsewhere
            seen[secret] = min(prio, seen.get(secret, prio))
    for i, secret in occurrences(text, seen):  # one pass for many (_redact_repeats.py)
        yield i, i + len(secret), seen[secret]


def named_values(text: str) -> dict[str, str]:
    """The secrets in `text` a name or phrase tells (an assignment, a connection string, a
    header), each with its kind, that `redact` would hide wherever else they occur too. For a
    caller that redacts only the head of a long text (redact_names.redact_name_head): a value
    named only past what it reads is still hidden where it repeats in the head (a token is
    found by its shape wherever it stands). Markers in `text` are left out."""
    markers = _marker_spans(text)
    hits = list(_hits(text, shapes=False))
    if markers:
        hits = _outside(hits, markers)
    values: dict[str, int] = {}
    for s, e, prio in hits:
        v = text[s:e]
        if e - s >= _ECHO_MIN and (
            prio < PRIORITY["connection_string_password"] or _distinctive(v)
        ):
            values[v] = min(prio, values.get(v, prio))
    return {v: KINDS[prio] for v, prio in values.items()}


def _distinctive(v: str) -> bool:
    """Unlikely to occur by chance in ordinary text: no spaces, and a digit or a symbol; or
    machine-made with spaces among the symbols (WordPress's keys and salts)."""
    if any(c.isspace() for c in v):
        return wordpress_value(v)
    return any(c.isdigit() or not (c.isalpha() or c == "_") for c in v)


def _merge(hits: list[Hit]) -> list[Hit]:
    merged: list[Hit] = []
    for s, e, prio in sorted(hits):
        if merged and s < merged[-1][1]:
            ps, pe, pp = merged[-1]
            merged[-1] = (ps, max(pe, e), min(pp, prio))
        else:
            merged.append((s, e, prio))
    return merged


def _render(text: str, spans: list[Hit]) -> tuple[str, list[tuple[int, int, int]]]:
    """The redacted text and its copied segments: (start in output, end in output, start)."""
    out: list[str] = []
    segments: list[tuple[int, int, int]] = []
    pos = 0
    length = 0
    for s, e, prio in spans:
        if s > pos:
            out.append(text[pos:s])
            segments.append((length, length + s - pos, pos))
            length += s - pos
        m = MARKERS[prio]
        out.append(m)
        length += len(m)
        pos = e
    if pos < len(text):
        out.append(text[pos:])
        segments.append((length, length + len(text) - pos, pos))
    return "".join(out), segments


class _Recent:
    """The results for texts redacted lately, up to a number of characters in all. The same
    chunk of code is handed out by many searches, and its redaction depends on its text
    alone; the lock keeps it sound when redactions run in worker threads."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self._results: OrderedDict[str, RedactionResult] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, text: str) -> RedactionResult | None:
        with self._lock:
            result = self._results.get(text)
            if result is not None:
                self._results.move_to_end(text)
            return result

    def put(self, text: str, result: RedactionResult) -> None:
        size = len(text) + (len(result.text) if result.redactions else 0)
        if size > self.max_chars // 64:  # a large one-off (a pasted log) would evict the rest
            return
        with self._lock:
            if text in self._results:
                return
            self._results[text] = result
            self._chars += size
            while self._chars > self.max_chars:
                old, dropped = self._results.popitem(last=False)
                self._chars -= len(old) + (len(dropped.text) if dropped.redactions else 0)

    def clear(self) -> None:
        with self._lock:
            self._results.clear()
            self._chars = 0


# About 8 MB of text: a few thousand chunks, the working set of a session's searches.
_RECENT = _Recent(max_chars=8_000_000)


def redact(text: str, known: Mapping[str, str] | None = None) -> RedactionResult:
    """Replace every secret in `text` by ``[REDACTED:<kind>]`` (see the module docstring).

    `known` maps secrets already found elsewhere (in another message of the same request) to
    their kind: each verbatim occurrence in `text` is redacted too."""
    if not isinstance(text, str):
        raise TypeError(_not_str(text))
    if known:
        return _redact(text, known)
    if _redact_plain.plain_text(text):  # words the detectors are proven to find nothing in
        return RedactionResult(text, ())
    result = _RECENT.get(text)
    if result is None:
        result = _redact(text, None)
        _RECENT.put(text, result)
    return result


def _not_str(value: object) -> str:
    """What a caller who passed `value` for the text should be told: it must be str."""
    told = f"redact() argument 'text' must be str, not {type(value).__name__}"
    if isinstance(value, (bytes, bytearray, memoryview)):
        told += " (decode it first, e.g. data.decode('utf-8', 'replace'))"
    return told


def may_hold_token(text: str) -> bool:
    """False when no token shape can match anywhere in `text` (a few regex passes: a cheap
    test before `finds_secret` on many short texts, such as every path of a workspace)."""
    return _redact_scan.may_hold_token(text)


def finds_secret(text: str) -> bool:
    """`redact(text)` would hide something. Not cached: for a caller that checks every text
    once (the index), whose texts would only evict the ones searches hand out again. Stops at
    the first hit outside a marker: `_detect` keeps those (repeats only add to them)."""
    if _redact_plain.plain_text(text):
        return False
    markers = _marker_spans(text)
    return any(not markers or _outside([hit], markers) for hit in _hits(text))


def _redact(text: str, known: Mapping[str, str] | None) -> RedactionResult:
    hits = _detect(text)
    if known:
        for i, value in occurrences(text, known):
            hits.append((i, i + len(value), PRIORITY[known[value]]))
    if not hits:
        return RedactionResult(text, ())
    spans = _merge(hits)
    out, segments = _render(text, spans)
    for _ in range(_MAX_PASSES):
        # A secret can hide next to another (a lookbehind saw a letter where a marker is now):
        # scan the output again until it is stable, mapping new finds back to the original.
        extra = _detect(out)
        if not extra:
            break
        starts = [seg[0] for seg in segments]
        mapped: list[Hit] = []
        for s, e, prio in extra:
            i = bisect_right(starts, s) - 1
            if i >= 0 and e <= segments[i][1]:
                shift = segments[i][2] - segments[i][0]
                mapped.append((s + shift, e + shift, prio))
        if not mapped:
            break
        spans = _merge(spans + mapped)
        out, segments = _render(text, spans)
    return RedactionResult(out, tuple(Redaction(KINDS[p], s, e) for s, e, p in spans))


class RedactingFilter(logging.Filter):
    """Redacts every log record's message, traceback and stack: install it on a handler, and
    a secret that reaches a log line (a library's debug output, an error quoting its input)
    is hidden there too."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        result = redact(message)
        if result.redactions:
            record.msg, record.args = result.text, None
        # A formatter appends `exc_text` as it finds it (formatting the exception only when
        # there is none yet) and `stack_info` as it is: both are set here, redacted.
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text).text
        if record.stack_info:
            record.stack_info = redact(record.stack_info).text
        return True
