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

Two widenings of `short_random` are asked too, and what they would fire on listed (the
measurement behind keeping or not, docs/history.md): `4-5 chars` (4 or 5 letters and digits
of both cases with a digit) and `lower+digits` (6 or 7 lower-case letters with a digit,
`k3x9qa`), each otherwise judged as `short_random` judges (no word, common letter pairs under
half, no secret's name, used nowhere else in the piece).
"""

from __future__ import annotations

import argparse
import re
import site
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from redact_ab import CORPORA, pieces  # noqa: E402

from ocp_router._redact_name_class import classify_name  # noqa: E402
from ocp_router._redact_values import (  # noqa: E402
    TYPE_WORDS,
    char_classes,
    names_a_secret,
    short_random,
    wordy,
)
from ocp_router._redact_words import common_bigram_fraction  # noqa: E402
from ocp_router.redact import redact  # noqa: E402

# The widenings under any name, 4-7 characters: names of their shape in code are rare after a
# password's name only because such names are (144 values there), so they are counted here.
_ANY_SHORT_RE = re.compile(
    r"\b[A-Za-z_]\w*(?:[ \t]*[:=][ \t]*|\([ \t]*)(?P<v>[A-Za-z_]\w{3,6})(?![\w.(\[\"'])"
)
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


def _unnamed_once(core: str, text: str) -> bool:
    """No word, no secret's name, uncommon letter pairs, used nowhere else in `text`."""
    if wordy(core) or common_bigram_fraction(core) >= 0.5 or names_a_secret(core):
        return False
    return len(re.findall(rf"(?<![\w$]){re.escape(core)}(?![\w$])", text)) == 1


def _four_or_five(c: str, text: str) -> bool:
    """`Zk3q`, `mR4tQ`: 4-5 letters and digits of both cases with a digit."""
    ok = 4 <= len(c) <= 5 and c.isalnum() and c[0].isalpha() and char_classes(c) == 3
    return ok and _unnamed_once(c, text)


def _lower_with_digits(c: str, text: str) -> bool:
    """`k3x9qa`: 6-7 lower-case letters with a digit."""
    ok = 6 <= len(c) <= 7 and c.isalnum() and c[0].isalpha() and c.lower() == c
    return ok and any(ch.isdigit() for ch in c) and _unnamed_once(c, text)


WIDENINGS: dict[str, Callable[[str, str], bool]] = {
    "4-5 chars": _four_or_five,
    "lower+digits": _lower_with_digits,
}


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
    widened: defaultdict[str, list[str]] = defaultdict(list)
    total_widened: Counter[str] = Counter()
    any_widened: defaultdict[str, list[str]] = defaultdict(list)
    any_total: Counter[str] = Counter()
    any_fired: list[str] = []
    for name, text in pieces(roots, False):
        n += 1
        for m in _ANY_SHORT_RE.finditer(text):
            for wname, widen in WIDENINGS.items():
                any_total[wname] += 1
                if widen(m.group("v"), text):
                    any_widened[wname].append(f"{m.group(0)!r}  {name}")
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
                for wname, widen in WIDENINGS.items():
                    total_widened[wname] += 1
                    if widen(v.lstrip("$"), text):
                        widened[wname].append(f"{form}: {m.group(0)!r}  {name}")
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
    for wname in WIDENINGS:
        xs = widened[wname]
        print(f"widening {wname!r} fires on {len(xs)} of {total_widened[wname]} values:")
        for x in xs[: args.show]:
            print(f"    {x}")
        xs = any_widened[wname]
        print(f"  and on {len(xs):,} of {any_total[wname]:,} 4-7 character values under any name:")
        for x in xs[: args.show]:
            print(f"    {x}")
    for (f, k), xs in sorted(examples.items()):
        print(f"{f} / {k}:")
        for x in sorted(set(xs))[: args.show]:
            print(f"    {x}")


if __name__ == "__main__":
    main()
