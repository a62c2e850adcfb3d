"""Whether git's ignore rules ignore every new file of a workspace, and the words that say so.

A home folder kept in git for its dotfiles has a .gitignore of `*` (and `!.bashrc`...): indexed
as itself (`--force`), git lists only the few dotfiles it tracks, as its rules say, and the
user saw an almost empty index without a word. (A folder below such a repository's top in which
git lists nothing is not its, and is listed without git: see files.git_files.)

Git is asked about a few ordinary names that are not there (`git check-ignore --no-index`): when
a rule that is no negation ignores all of them, it ignores any new file, and that rule is named
(its file and line, as `git check-ignore -v` gives them).
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from ocp_router.words import counted
from ocp_server.git_commands import run_git
from ocp_server.index.gitdirs import find_git_dirs

__all__ = ["PROBES", "ignores_everything", "ignores_everything_note"]

#: Names any project could add at its top: a rule ignoring all three ignores what is new.
PROBES = ("main.py", "src/index.ts", "README.md")
# `<source>:<line>:<pattern><TAB><path>`; a negation's pattern starts with `!`
_VERBOSE = re.compile(r"^(?P<rule>(?P<source>.*?):(?P<line>\d+):(?P<pattern>.*))\t(?P<path>.*)$")


def ignores_everything(workspace: Path) -> str | None:
    """The rule (`<file>:<line>:<pattern>`, the file as git names it, made absolute) with which
    git ignores every new file in `workspace`, or None (not in git, git fails, or some new
    name would be listed)."""
    try:
        done = run_git(workspace, "check-ignore", "-v", "--no-index", "--", *PROBES, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    if done.returncode != 0:  # 1: none ignored; 128: no repository, or git failed
        return None
    rules: dict[str, str] = {}
    # lines end at "\n" (git quotes a source or a path holding one: `"a\nb"`)
    for line in done.stdout.decode("utf-8", "surrogateescape").split("\n"):
        found = _VERBOSE.match(line)
        if found is None or found["pattern"].startswith("!"):
            continue
        source = found["source"]
        if not source.startswith(('"', "/")) and (dirs := find_git_dirs(workspace)) is not None:
            source = str(dirs.top / source)  # a .gitignore, named from the work tree's top
        rules[found["path"]] = f"{source}:{found['line']}:{found['pattern']}"
    if set(rules) != set(PROBES):
        return None
    return rules[PROBES[0]]


def ignores_everything_note(workspace: Path, rule: str, listed: int) -> str:
    """What to tell the user: why the index holds so few files, and what to change."""
    return (
        f"git's ignore rule {rule} ignores every new file in {workspace}: only the "
        f"{counted(listed, 'file')} git lists (tracked, or not ignored) are indexed, as git's "
        "rules say. To index "
        "a project, run ocp-server in its folder (--workspace PATH, OCP_WORKSPACE); to index "
        "more here, narrow that rule or add negations after it (`!*.py`, `!/src/**`)"
    )
