"""How often the listing outside git (`files._iter_walk_with_gitignore`: each .gitignore's
lines read by `git_text.ignore_patterns`, matched by `ignore_rules.IgnoreRules`) lists what git
itself lists (`git ls-files --others --exclude-standard`) for random trees and random
.gitignore files.

    uv run python bench/bench_gitignore_agreement.py [--trees 400] [--seed 0] [--kinds ...]

Four kinds of trees: `plain` patterns (globs, `**`, classes, escapes, negations, anchors);
`spaces`, whose names and patterns also hold what git and Python split or strip differently
(tabs, CR, CRLF line ends, `\\x0b`, U+2028, NEL, NBSP, trailing and escaped spaces); `odd`,
whose patterns put runs of stars anywhere (`***/`, `a**`, `**b`, `\\/` after `**`), hold
brackets git reads its own way (`[!/]`, `[]a]`, `[^a]`, `[[:alpha:]]`, `[z-a]`, `[\\]]`, an
unclosed `[`, an unknown class), a trailing backslash, and whose names hold bytes that are
not one character (`é`, a `?` or a bracket is one byte in git); `case`, whose names and
patterns mix upper and lower case (`[A-C]`, `[[:upper:]]`, `\\A`, `[A]`, `É`), listed by git
with `core.ignoreCase=true` and by OCP with `ignore_case`. A tree disagrees when the two
listings differ in any path; the first few are printed.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from ocp_server.index import files

NAMES = ["a", "b", "ab", "a.py", "b.log", "c.txt", "x y", "[a]", "a*", "#h", "!n", "a\\b"]
FOLDERS = ["dir", "sub", "deep", "x y", "[a]", "a\\b", "!n", "#h"]
ATOMS = ["a", "b", "*", "**", "?", "[ab]", "[!a]", "[a-c]", ".py", ".log", "dir", "sub", "deep"]
ATOMS += ["\\*", "\\[", "\\#h", "\\!n", "#h", "!n", "x y", "[a]", "\\\\"]
SPACE_NAMES = ["a ", "a\t", "a\r", "a\x0b", "a\u2028b", "a\xa0", " a"]
SPACE_ATOMS = [" ", "\t", "\\ ", "\r", "\x0b", "\u2028", "\xa0", "\x85", "\\\t"]
ODD_NAMES = ["\xe9", "a\xe9", "\xe9b", "ab2", "a-b", "A", "]", "a:b", "1", "a\u2028"]
ODD_ATOMS = ["***", "a**", "**b", "**\\/", "*?", "??", "[!/]", "[/]", "[]a]", "[!]a]", "[^a]"]
ODD_ATOMS += ["[[:alpha:]]", "[[:digit:]]", "[[:punct:]]", "[[:space:]]", "[z-a]", "[a-]"]
ODD_ATOMS += ["[-a]", "[\\]]", "[", "[[:bogus:]]", "[[:x]", "[a-\\z]", "\\", "\xe9", "[\xe9]"]
CASE_FOLDERS = ["Dir", "SUB", "Deep"]
CASE_NAMES = ["A", "B", "AB", "Ab", "A.PY", "B.LOG", "C.Txt", "\xc9", "\xe9", "Dir", "SUB"]
CASE_ATOMS = ["A", "B", "AB", "[A-C]", "[a-C]", "[[:upper:]]", "[[:lower:]]", "\\A", "[A]", "[!A]"]
CASE_ATOMS += [".PY", ".LOG", "DIR", "Sub", "\xc9", "[\xc9]", "*.Txt"]


def _pattern(rng: random.Random, atoms: list[str]) -> str:
    parts = ["".join(rng.choice(atoms) for _ in range(rng.randint(1, 2))) for _ in range(3)]
    pattern = "/".join(parts[: rng.randint(1, 3)])
    if rng.random() < 0.2:
        pattern = "/" + pattern
    if rng.random() < 0.2:
        pattern += "/"
    return "!" + pattern if rng.random() < 0.2 else pattern


def _tree(ws: Path, rng: random.Random, kind: str) -> None:
    spaces = kind == "spaces"
    names = NAMES + {"spaces": SPACE_NAMES, "odd": ODD_NAMES, "case": CASE_NAMES}.get(kind, [])
    atoms = ATOMS + {"spaces": SPACE_ATOMS, "odd": ODD_ATOMS, "case": CASE_ATOMS}.get(kind, [])
    folders = [ws]
    for _ in range(rng.randint(3, 12)):
        folder = rng.choice(folders) / rng.choice(
            FOLDERS + (CASE_FOLDERS if kind == "case" else [])
        )
        if not folder.exists():
            folder.mkdir()
            folders.append(folder)
    for _ in range(rng.randint(5, 25)):
        path = rng.choice(folders) / rng.choice(names)
        if not path.exists():
            path.write_text("x")
    for folder in rng.sample(folders, min(len(folders), rng.randint(1, 3))):
        lines = [_pattern(rng, atoms) for _ in range(rng.randint(1, 4))]
        if spaces:
            text = rng.choice(["\n", "\r\n"]).join(lines) + rng.choice(["", "\n", "\r\n", "\r"])
        else:
            text = "\n".join(lines) + "\n"
        (folder / ".gitignore").write_bytes(text.encode("utf-8"))


def _agree(ws: Path, env: dict[str, str], ignore_case: bool) -> tuple[set[str], set[str]]:
    """(listed by OCP alone, listed by git alone)."""
    subprocess.run(["git", "init", "-q"], cwd=ws, env=env, check=True)
    case = f"core.ignoreCase={str(ignore_case).lower()}"
    out = subprocess.run(
        ["git", "-c", case, "ls-files", "-z", "--others", "--exclude-standard"],
        cwd=ws,
        env=env,
        capture_output=True,
        check=True,
    ).stdout
    git = {p for p in out.decode("utf-8", "surrogateescape").split("\0") if p}
    try:
        ocp = set(files._iter_walk_with_gitignore(ws, ignore_case=ignore_case))
    except (ValueError, re.error) as exc:  # pathspec refusing a pattern failed the listing
        ocp = {f"(failed: {exc!r})"}
    return ocp - git, git - ocp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trees", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--show", type=int, default=3, help="disagreeing trees to print")
    parser.add_argument("--kinds", default="plain,spaces,odd", help="of plain, spaces, odd, case")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocp-gitignore-") as tmp:
        env = {
            **os.environ,
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_CONFIG_NOSYSTEM": "1",
            "XDG_CONFIG_HOME": str(Path(tmp) / "xdg"),
            "HOME": tmp,
        }
        print(f"{'trees':<8} {'count':>6} {'disagree':>9}")
        for kind in args.kinds.split(","):
            shown, disagree = 0, 0
            for n in range(args.trees):
                rng = random.Random(f"{kind}-{args.seed + n}")
                ws = Path(tmp) / "ws"
                shutil.rmtree(ws, ignore_errors=True)
                ws.mkdir()
                _tree(ws, rng, kind)
                only_ocp, only_git = _agree(ws, env, kind == "case")
                if only_ocp or only_git:
                    disagree += 1
                    if shown < args.show:
                        shown += 1
                        ignores = {
                            str(p.relative_to(ws)): p.read_bytes() for p in ws.rglob(".gitignore")
                        }
                        print(
                            f"  {kind} #{args.seed + n}: OCP alone {sorted(only_ocp)}, git "
                            f"alone {sorted(only_git)}, .gitignore files {ignores}"
                        )
            print(f"{kind:<8} {args.trees:>6} {disagree:>9}")


if __name__ == "__main__":
    main()
