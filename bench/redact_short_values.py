"""Short bare values after a password's name on ordinary text: names, or passwords?

    uv run python bench/redact_short_values.py [--show 40]

`password = pwd` names a variable; six random letters and digits there are a password. Every
unquoted value of 1-7 characters (optionally an attribute chain or a call) after a name
`classify_name` calls a password's, in the six development corpora
(~/.cache/ocp-bench/retrieval-dev) and this checkout's site-packages, cut into the
3,000-character pieces bench/redact_ab.py reads, is sorted by its form (an assignment `=`, `:=`,
`=>`; an object's key or YAML `:`, `{ password: x }`, Go's `Password: x,`; a call's only
argument, `setPassword(x)`, `.password(x)`; a command-line flag's, `--password x`) and by what
makes it a name (a keyword or type, an attribute or call, a secret's name, used elsewhere in
its piece, a word) or left `random-looking`; `short_random` (the rule that redacts such a
value) is asked of each, and `redact` run on the piece says whether the text was changed there.
And of every 6-7 character bare value under any name, or alone in any call.
"""

from __future__ import annotations

import argparse
import re
import site
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from redact_ab import CORPORA, pieces  # noqa: E402

from ocp_router._redact_name_class import classify_name  # noqa: E402
from ocp_router._redact_values import (  # noqa: E402
    TYPE_WORDS,
    names_a_secret,
    short_random,
    wordy,
)
from ocp_router.redact import redact  # noqa: E402

# The same under any name: how often the rule would fire if every name were a password's.
_ANY_RE = re.compile(
    r"\b[A-Za-z_]\w*(?:[ \t]*[:=][ \t]*|\([ \t]*)(?P<v>[A-Za-z_]\w{5,6})(?![\w.(\[\"'])"
)
_VALUE = r"(?P<v>[A-Za-z_$][\w$]{0,6}(?:\.[A-Za-z_]\w*)*(?:\(\))?)(?![\w.(\[\"'])"
FORMS = {
    "assignment (= := =>)": re.compile(
        rf"(?P<name>[\w$-]*(?i:pass|pw)\w*)[\"']?[ \t]*(?::=|=>|=)[ \t]*{_VALUE}"
    ),
    "key (: in YAML, JSON, JS, Go)": re.compile(
        rf"(?P<name>[\w$-]*(?i:pass|pw)\w*)[\"']?[ \t]*:(?!=)[ \t]*{_VALUE}"
    ),
    "call (setPassword(x))": re.compile(
        rf"(?P<name>[\w$]*(?i:pass|pw)\w*)\([ \t]*{_VALUE}[ \t]*[),]"
    ),
    "flag (--password x)": re.compile(rf"(?P<name>--?[\w-]*(?i:pass|pw)[\w-]*)[ \t]+{_VALUE}"),
}


def kind(v: str, text: str) -> str:
    core = v.lstrip("$")
    if core.lower() in TYPE_WORDS or core.lower() in ("true", "false", "none", "null"):
        return "keyword or type (None, str, bytes)"
    if "." in core or core.endswith("()"):
        return "attribute or call (self.pw, getpass())"
    if names_a_secret(core):
        return "names a secret (pwd, auth)"
    if len(re.findall(rf"(?<![\w$]){re.escape(core)}(?![\w$])", text)) > 1:
        return "used elsewhere in the piece"
    if wordy(core) or core.isalpha() and core.islower():
        return "a word or lower-case name"
    return "random-looking"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--show", type=int, default=40, help="examples per kind")
    args = parser.parse_args()
    roots = sorted(p for p in CORPORA.iterdir() if p.is_dir()) if CORPORA.is_dir() else []
    roots.append(Path(site.getsitepackages()[0]))
    counts: Counter[tuple[str, str]] = Counter()
    fired: Counter[tuple[str, str]] = Counter()
    changed: Counter[tuple[str, str]] = Counter()
    examples: defaultdict[tuple[str, str], list[str]] = defaultdict(list)
    n = any_name = 0
    any_fired: list[str] = []
    for name, text in pieces(roots, False):
        n += 1
        for m in _ANY_RE.finditer(text):
            any_name += 1
            if short_random(m.group("v"), text):
                any_fired.append(f"{m.group(0)!r}  {name}")
        out: str | None = None
        for form, form_re in FORMS.items():
            for m in form_re.finditer(text):
                if classify_name(re.split(r"[.-]", m.group("name"))[-1]) != "password":
                    continue
                if out is None:
                    out = redact(text).text
                v = m.group("v")
                key = (form, kind(v, text))
                counts[key] += 1
                hit = short_random(v, text)
                fired[key] += hit
                gone = m.group(0) not in out
                changed[key] += gone
                tag = ("SHORT_RANDOM " if hit else "") + ("REDACTED " if gone else "")
                examples[key].append(f"{tag}{m.group(0)!r}  {name}")
    print(f"{n:,} pieces; short values after a password's name: {sum(counts.values())}")
    for form in FORMS:
        print(f"  {form}:")
        for (f, k), c in counts.most_common():
            if f == form:
                print(f"    {c:5}  {k}  (short_random {fired[f, k]}, redacted {changed[f, k]})")
    print(f"6-7 character bare values under any name or alone in a call: {any_name:,};")
    print(f"short_random fires on {len(any_fired)}:")
    for x in any_fired[: args.show]:
        print(f"    {x}")
    for (f, k), xs in sorted(examples.items()):
        print(f"{f} / {k}:")
        for x in sorted(set(xs))[: args.show]:
            print(f"    {x}")


if __name__ == "__main__":
    main()
