"""Which files of a workspace get indexed, and why the others do not.

In a git work tree the file list comes from git itself (tracked plus untracked-not-ignored),
which gets .gitignore exactly right, negations and nested files included, and applies
info/exclude and the global excludes file (`core.excludesFile`) too. Outside git, every
.gitignore on the way down is applied as git applies it (its lines read as git reads them:
git_text.py, its patterns matched as git matches them: ignore_rules.py), and neither of those
two (git applies them only in a repository). An `.ocpignore` (gitignore syntax) at the
workspace root applies on top, in both cases. Both match either case where git's
`core.ignoreCase` is true (git_settings.py), as git's own matching does then.

Never indexed, whatever the ignore files say:

- secret files, by name (`.env*`, `*.pem`, `id_rsa*`, credentials…, matched without regard
  to case) and by content whatever their name: see secret_files.py;
- vendored and build folders (VENDORED_DIRS; editors' own, EDITOR_DIRS, counted apart as
  `editor_settings`), MCP clients' configs (mcp_configs.py, counted apart), lockfiles
  (LOCKFILES); a folder named like BUILD_DIRS only when git's rules do not keep it;
- binaries (a NUL byte in the first 8 KB; UTF-16 or UTF-32, by its mark or NUL bytes, is judged
  as its text: source_text.py), files over OCP_MAX_FILE_BYTES (default 1 MB);
- minified or generated files (by name, a generated-code header, or very long lines);
- symlinks that lead outside the workspace, or whose target is excluded by the rules above
  (`settings.txt -> .env` is a secret, `x -> .git/config` is vendored), a symlinked folder
  on a file's way included (git lists `docs/a.md` after `docs` became a link); hard links to
  a secret file anywhere in the workspace, git-ignored or not (`ln .env notes.txt`:
  SecretTwins); one with names outside the workspace is judged by its content as a file of no
  name, dotenv lines whatever their values (file_chunks.py), again when a link is made.
- file names that are not valid UTF-8 (counted as `undecodable_name`: the database stores
  text, and one such name must not fail the batch it is in);
- nested git repositories and submodules (counted and named, see nested.py).

The path rules are checked again at search time, so a file that became secret or ignored after
it was indexed never comes back in results.
"""

from __future__ import annotations

import logging
import os
import shlex
import stat
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path, PurePosixPath

from ocp_server.git_commands import run_git
from ocp_server.index import git_settings
from ocp_server.index.git_text import ignore_patterns
from ocp_server.index.ignore_pipes import WaitsOnPipes, known_pipes, ls_files, remember_pipes
from ocp_server.index.ignore_probe import ignores_everything, ignores_everything_note
from ocp_server.index.ignore_rules import IgnoreRules
from ocp_server.index.limits import DEFAULT_MAX_FILE_BYTES
from ocp_server.index.mcp_configs import MCP_CONFIG_REASON, mcp_config
from ocp_server.index.nested import NAMED_AT_MOST, NESTED_REASON, is_repository
from ocp_server.index.own_files import NO_OWN_FILES, OwnFiles
from ocp_server.index.real_paths import RealFolders
from ocp_server.index.regular_file import read_regular
from ocp_server.index.secret_files import secret_content, secret_name
from ocp_server.index.secret_twins import SecretTwins
from ocp_server.index.unreadable import git_unreadable, tell_unreadable, walk_folder

logger = logging.getLogger(__name__)

LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lockb",
        "poetry.lock",
        "uv.lock",
        "pipfile.lock",
        "pdm.lock",
        "cargo.lock",
        "gemfile.lock",
        "composer.lock",
        "go.sum",
        "mix.lock",
        "flake.lock",
        "packages.lock.json",
        "podfile.lock",
        "pubspec.lock",
        "gradle.lockfile",
    }
)
#: Editors' settings folders: never indexed, counted apart (`editor_settings`), not `vendored`.
EDITOR_DIRS = frozenset({".idea", ".vscode"})
EDITOR_REASON = "editor_settings"
VENDORED_DIRS = EDITOR_DIRS | frozenset(
    {
        ".git",
        ".hg",
        ".svn",
        ".ocp",
        "node_modules",
        "bower_components",
        "jspm_packages",
        "vendor",
        "third_party",
        "third-party",
        "thirdparty",
        ".venv",
        "venv",
        "site-packages",
        "__pycache__",
        ".mypy_cache",
        ".pytest_cache",
        ".ruff_cache",
        ".tox",
        ".nox",
        ".eggs",
        "dist",
        "target",
        ".next",
        ".nuxt",
        ".svelte-kit",
        ".gradle",
        "coverage",
        "htmlcov",
        ".terraform",
        ".cache",
        "Pods",
        "DerivedData",
    }
)
#: A build's output, or its own source (hono's `build/build.ts`): indexed only where git's rules
#: keep them (tracked in a git work tree; outside git, below a .gitignore that does not ignore
#: them), else skipped as vendored folders are.
BUILD_DIRS = frozenset({"build"})
#: The skip reason of a file below a VENDORED_DIRS folder; the first few are named in the
#: status (the `meta` row VENDORED_META_KEY), as nested repositories are.
VENDORED_REASON = "vendored"
VENDORED_META_KEY = "vendored_files"
_MINIFIED_SUFFIXES = (".min.js", ".min.css", ".min.mjs", ".bundle.js", ".chunk.js", ".map")
_GENERATED_SUFFIXES = (
    "_pb2.py",
    "_pb2_grpc.py",
    ".pb.go",
    ".pb.cc",
    ".pb.h",
    ".g.dart",
    ".designer.cs",
    ".generated.ts",
    ".generated.js",
    ".gen.go",
)
_GENERATED_MARKERS = (
    b"@generated",
    b"do not edit",
    b"auto-generated",
    b"autogenerated",
    b"generated by",
)


@dataclass(frozen=True, slots=True)
class Candidate:
    path: str  # relative, posix
    size: int
    mtime_ns: int
    # a hard link with names outside the workspace: its content is judged as a nameless file's
    linked_outside: bool = False
    # a file with links: when its inode last changed (a link made or removed changes it, not
    # the mtime), so the indexer judges it again (indexer._looks_changed); 0 for other files
    ctime_ns: int = 0


@dataclass(slots=True)
class Listing:
    candidates: list[Candidate] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    git: bool = False
    nested: list[str] = field(default_factory=list)  # nested repositories git listed
    vendored: list[str] = field(default_factory=list)  # the first few files skipped as vendored

    def skip(self, reason: str, rel: str | None = None) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        # Named in the status, bounded: node_modules alone can hold 100,000 files.
        if reason == VENDORED_REASON and rel is not None and len(self.vendored) < NAMED_AT_MOST:
            self.vendored.append(rel)


def path_exclusion(rel: str, ocpignore: IgnoreRules | None = None) -> str | None:
    """Why a path is never indexed by its name alone (None: it may be)."""
    reason = _builtin_exclusion(rel)
    if reason is None and ocpignore is not None and ocpignore.match_file(rel):
        return "ocpignore"
    return reason


#: Paths whose built-in exclusion is kept: more than OCP_MAX_FILES' default (200,000), as
#: every update lists every path in the same order, and an LRU smaller than the workspace
#: keeps none of them (65,536 on 100,000 files: no hit at all, and each listing judged every
#: path again: 7.8 s against 2.4 s, interleaved; about 10 MB for 100,000 paths).
PATHS_JUDGED = 1 << 18


@lru_cache(maxsize=PATHS_JUDGED)
def _builtin_exclusion(rel: str) -> str | None:
    # git's and os.walk's paths are already in PurePosixPath's form; parsing them was an
    # eighth of a first listing. Any other (a citation's `./a//b`) is parsed as before.
    parts = rel.split("/") if _plain(rel) else PurePosixPath(rel).parts
    if (outer := next((p for p in parts[:-1] if p in VENDORED_DIRS), None)) is not None:
        return EDITOR_REASON if outer in EDITOR_DIRS else VENDORED_REASON
    name = parts[-1].lower() if parts else ""
    if mcp_config(parts, name):
        return MCP_CONFIG_REASON
    if secret_name(rel):
        return "secret"
    if name in LOCKFILES:
        return "lockfile"
    if name.endswith(_MINIFIED_SUFFIXES):
        return "minified"
    if name.endswith(_GENERATED_SUFFIXES):
        return "generated"
    return None


def _plain(rel: str) -> bool:
    """`rel` splits on `/` into PurePosixPath(rel).parts: no empty name, `.` or leading `/`
    (some plain paths answer False, `a./b`: they are parsed)."""
    return bool(rel) and not (
        "//" in rel
        or "./" in rel
        or rel[0] == "/"
        or rel[-1] == "/"
        or rel == "."
        or rel[-2:] == "/."
    )


def content_exclusion(data: bytes, name: str) -> str | None:
    """Why a file is not indexed by its content (None: it may be). `data` is the whole file:
    the secret rules look everywhere, the others at the first 8 KB."""
    head = data[:8192]
    if b"\0" in head:
        return "binary"
    if secret_content(data, name) is not None:
        return "secret_content"
    first_lines = head[:600].lower()
    if any(marker in first_lines for marker in _GENERATED_MARKERS) and (
        b"do not edit" in first_lines or b"@generated" in first_lines
    ):
        return "generated"
    if name.endswith((".js", ".mjs", ".cjs", ".css", ".json", ".svg")):
        lines = head[:8192].split(b"\n")
        longest = max(len(line) for line in lines)
        if longest > 1000 and (len(head) / max(len(lines), 1)) > 300:
            return "minified"
    return None


def load_ocpignore(workspace: Path, *, ignore_case: bool | None = None) -> IgnoreRules | None:
    """The workspace's `.ocpignore`, matched with git's core.ignoreCase (`ignore_case`, asked
    of git_settings when None)."""
    try:
        data = read_regular(workspace / ".ocpignore")
    except OSError:  # none, not readable, or no regular file (a FIFO would never end)
        return None
    if ignore_case is None:
        ignore_case = git_settings.ignore_case(workspace)
    return IgnoreRules(ignore_patterns(data), ignore_case=ignore_case)


def _ignore_rules(path: Path, ignore_case: bool) -> IgnoreRules:
    """An ignore file's rules, its lines read as git reads them (git_text.ignore_patterns),
    matched as git matches them (ignore_rules.py)."""
    return IgnoreRules(ignore_patterns(read_regular(path)), ignore_case=ignore_case)


def git_files(
    workspace: Path, *, tell: bool = True, unreadable: Callable[[str, str], None] | None = None
) -> list[str] | None:
    """Tracked plus untracked-not-ignored files, or None when this is not a git work tree, or
    is a folder below a work tree's top in which git lists no file. Below a BUILD_DIRS folder,
    tracked files only. `tell`: log, once, when git's rules ignore every new file here
    (ignore_probe.py; doctor says it in its own words). `unreadable` is told of each folder
    git could not open (relative to the workspace, and why)."""
    if pipes := known_pipes(workspace):
        _git_would_wait(workspace, pipes)
        return None
    try:
        out, err = ls_files(workspace)
        top = (
            run_git(workspace, "rev-parse", "--show-prefix", timeout=10, check=True)
            .stdout.decode("utf-8", "surrogateescape")
            .removesuffix("\n")  # alone: a folder's name may start with a space
        )
    except subprocess.CalledProcessError as exc:
        _git_refused(workspace, exc.stderr or b"")
        return None
    except subprocess.TimeoutExpired as exc:
        _git_timed_out(workspace, exc.timeout)
        return None
    except WaitsOnPipes as exc:
        _git_would_wait(workspace, exc.pipes)
        return None
    except (OSError, subprocess.SubprocessError):
        return None
    if unreadable is not None:  # (named relative to the workspace, where git ran)
        for folder, why in git_unreadable(err):
            unreadable(folder, why)
    entries = out.decode("utf-8", "surrogateescape").split("\0")
    if top and not any(e[2:].startswith(top) for e in entries if e):
        # A repository above that lists nothing here, tracked or not ignored (a home folder's
        # dotfiles, whose .gitignore is often `*`), is not this folder's: its rules would hide
        # every file. A new project folder it does not ignore is its, and its rules hold.
        if (workspace, IGNORES_ALL) not in _TOLD:
            _TOLD.add((workspace, IGNORES_ALL))
            logger.info("%s is in a repository that %s: listed without git", workspace, IGNORES_ALL)
        return None
    # untracked below a build folder: the build's output
    paths = sorted(
        {
            e[2:]
            for e in entries
            if e and (e[0] != "?" or BUILD_DIRS.isdisjoint(e[2:].split("/")[:-1]))
        }
    )
    if top:  # the workspace is a sub-folder of the repository
        paths = [p[len(top) :] for p in paths if p.startswith(top)]
    if tell and (workspace, IGNORES_NEW) not in _TOLD:  # asked once: a git command more
        _TOLD.add((workspace, IGNORES_NEW))
        if rule := ignores_everything(workspace):
            logger.warning("%s", ignores_everything_note(workspace, rule, len(paths)))
    return paths


def _git_would_wait(workspace: Path, pipes: tuple[Path, ...]) -> None:
    """Say once per set of pipes that git is not asked to list the files, and why; keep
    them, so that later listings check them before they run git (ignore_pipes.py)."""
    remember_pipes(workspace, pipes)
    told = (workspace, GIT_WOULD_WAIT + "".join(sorted(map(str, pipes))))
    if told in _TOLD:
        return
    _TOLD.add(told)
    named = ", ".join(sorted(map(str, pipes[:NAMED_AT_MOST])))
    more = f" and {len(pipes) - NAMED_AT_MOST} more" if len(pipes) > NAMED_AT_MOST else ""
    logger.warning(
        "%s: a named pipe (or a device) as a .gitignore or a nested repository's HEAD or "
        "branch, which git would wait on for ever "
        "when listing the files of %s. They are listed without git (each regular .gitignore "
        "applies; info/exclude and the global excludes file do not) until it is removed or "
        "made a regular file.",
        named + more,
        workspace,
    )


#: What was already logged about a workspace's git (the watcher lists the files at every
#: update): workspace, git's refusal, IGNORES_ALL or IGNORES_NEW.
_TOLD: set[tuple[Path, str]] = set()
IGNORES_ALL = "ignores all of its files"
IGNORES_NEW = "ignores every new file"  # (ignore_probe.py)
GIT_TIMED_OUT = "did not list the files in time"
GIT_WOULD_WAIT = "would wait on a pipe: "


def _git_refused(workspace: Path, stderr: bytes) -> None:
    """Say once why git would not list the files, unless the workspace is simply in no
    repository: a repository another user owns ("dubious ownership", unless safe.directory
    names it) or a bare one under safe.bareRepository=explicit is walked instead, and git's
    rules and history are missed without a word otherwise."""
    lines = stderr.decode("utf-8", "replace").strip().splitlines()
    reason = lines[0].removeprefix("fatal: ").strip() if lines else "no reason given"
    if reason.startswith("not a git repository") or (workspace, reason) in _TOLD:
        return
    _TOLD.add((workspace, reason))
    if not os.path.isdir(workspace):  # "cannot change to '<workspace>'": no repository to refuse
        # INFO: the index says the folder is gone (folder_gone), the CLI's answer too
        logger.info(
            "the workspace %s is gone (its folder was removed or moved): no file to list",
            workspace,
        )
        return
    hint = ""
    # "detected dubious ownership in repository at '<top>'" (the path may hold " at ")
    if "dubious ownership" in reason and (at := reason.find(" at '")) != -1:
        top = reason[at + 5 :].removesuffix("'")
        hint = f" To let git read it: git config --global --add safe.directory {shlex.quote(top)}"
    logger.warning(
        "git refuses the repository of %s: %s. Its files are listed without git (each "
        ".gitignore applies; info/exclude and the global excludes file do not), and its "
        "recent commits are not read.%s",
        workspace,
        reason,
        hint,
    )


def _git_timed_out(workspace: Path, seconds: float) -> None:
    """Say once that git did not list the files in time: the listing, and so each update,
    waited that long first, without a word."""
    if (workspace, GIT_TIMED_OUT) in _TOLD:
        return
    _TOLD.add((workspace, GIT_TIMED_OUT))
    logger.warning(
        "git did not list the files of %s within %g s: they are listed without git (each "
        ".gitignore applies; info/exclude and the global excludes file do not), after that "
        "wait at every update (no .gitignore there is a named pipe: a slow disk, or a "
        "repository git takes that long to list?).",
        workspace,
        seconds,
    )


def _ignored(specs: list[tuple[str, IgnoreRules]], rel: str, is_dir: bool) -> bool:
    """Git's rule: the deepest .gitignore with a pattern matching `rel` decides, the last
    such pattern in it."""
    for folder, rules in reversed(specs):
        verdict = rules.verdict(rel[len(folder) :], is_dir)
        if verdict is not None:
            return verdict
    return False


def _iter_walk_with_gitignore(
    workspace: Path,
    unreadable: Callable[[OSError], None] | None = None,
    *,
    ignore_case: bool = False,
) -> Iterator[str]:
    """Every file below the workspace, honouring nested .gitignore files (no git needed).
    A repository inside it is one folder (`tools/inner/`), as git lists it, not its files.
    `unreadable` is told of each folder whose entries could not be read; `ignore_case`: git's
    core.ignoreCase."""
    specs: list[tuple[str, IgnoreRules]] = []
    for dirpath, dirnames, filenames in os.walk(workspace, onerror=unreadable):
        rel_dir = os.path.relpath(dirpath, workspace).replace(os.sep, "/")
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        if rel_dir and (".git" in dirnames or ".git" in filenames) and is_repository(dirpath):
            dirnames[:] = []
            yield rel_dir
            continue
        specs = [(d, s) for d, s in specs if rel_dir.startswith(d)]
        if ".gitignore" in filenames:
            try:
                rules = _ignore_rules(Path(dirpath) / ".gitignore", ignore_case)
                specs.append((rel_dir, rules))
            except OSError:
                pass

        skip = VENDORED_DIRS if specs else VENDORED_DIRS | BUILD_DIRS  # nothing says what is output
        dirnames[:] = sorted(
            d for d in dirnames if d not in skip and not _ignored(specs, rel_dir + d, True)
        )
        # a `.git` file is git's (one naming no repository: git fails, this walk runs), and
        # git never lists one
        files = (f for f in sorted(filenames) if f != ".git")
        yield from (rel_dir + f for f in files if not _ignored(specs, rel_dir + f, False))


def count_files(workspace: Path, limit: int) -> int:
    """How many files the index would consider by their paths (ignore files and the path
    rules applied, nothing read), counting no further than `limit` + 1: a first run can
    refuse a huge folder before it walks all of it."""
    workspace = workspace.resolve()
    case = git_settings.ignore_case(workspace)
    paths: Iterable[str] | None = git_files(workspace)
    if paths is None:
        paths = _iter_walk_with_gitignore(workspace, ignore_case=case)
    ocpignore = load_ocpignore(workspace, ignore_case=case)
    count = 0
    for rel in paths:
        if path_exclusion(rel, ocpignore) is None:
            count += 1
            if count > limit:
                break
    return count


def list_workspace(
    workspace: Path,
    *,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    own_files: OwnFiles = NO_OWN_FILES,
) -> Listing:
    """The files to index, with a count of everything skipped by reason. `own_files` (OCP's
    database, when OCP_DB_PATH puts it in the workspace) are left out unread and uncounted
    (own_files.py): opening them here would drop this process's SQLite locks on them."""
    workspace = workspace.resolve()
    listing = Listing()
    own_identities = own_files.identities()
    case = git_settings.ignore_case(workspace)

    def unreadable(folder: str, why: str) -> None:
        # counted like a file (git lists tracked files in it, and each one's stat fails)
        listing.skip("unreadable")
        tell_unreadable(workspace, folder, why)

    paths = git_files(workspace, unreadable=unreadable)
    listing.git = paths is not None
    if paths is None:
        walk = _iter_walk_with_gitignore(
            workspace,
            # (a folder gone meanwhile is not unreadable: the workspace, removed, says so)
            lambda e: (
                None if isinstance(e, FileNotFoundError) else unreadable(*walk_folder(workspace, e))
            ),
            ignore_case=case,
        )
        paths = list(walk)
    ocpignore = load_ocpignore(workspace, ignore_case=case)
    prefix = os.path.join(workspace, "")  # ends with one `/`, even for `/`
    folders = RealFolders(workspace)
    twins = SecretTwins(workspace)
    linked: dict[int, tuple[int, int]] = {}  # a candidate with other names: its identity
    for rel in paths:
        if rel in own_files.names:
            continue
        if not _decodable(rel):
            listing.skip("undecodable_name")
            continue
        if reason := path_exclusion(rel, ocpignore):
            listing.skip(reason, rel)
            if reason == "secret":
                twins.saw(prefix + rel)
            continue
        real = folders.real(rel)  # a folder on the way may be a symlink now (git lists it)
        if real is None:
            listing.skip("symlink_outside")
            continue
        if real != rel and (reason := path_exclusion(real, ocpignore)):
            listing.skip(reason, rel)
            continue
        full = prefix + rel  # joined as text (real_paths.py): this runs once per file
        try:
            st = os.lstat(full)  # one stat per file: this loop runs on every update
            if stat.S_ISLNK(st.st_mode):
                target = Path(full).resolve()
                if not target.is_relative_to(workspace):
                    listing.skip("symlink_outside")
                    continue
                # Judged by what it points at too: settings.txt -> .env is a secret.
                if reason := path_exclusion(target.relative_to(workspace).as_posix(), ocpignore):
                    listing.skip(reason, rel)
                    continue
                st = os.stat(full)
        except FileNotFoundError:
            continue  # tracked, and deleted from the work tree: simply not there
        except (OSError, RuntimeError):  # RuntimeError: a symlink loop, before Python 3.13
            listing.skip("unreadable")
            continue
        if (st.st_dev, st.st_ino) in own_identities:  # by another spelling, or a link to it
            continue
        # git lists a submodule or nested repository as one folder (a symlink to one is not)
        if stat.S_ISDIR(st.st_mode) and not os.path.islink(full):
            listing.skip(NESTED_REASON)
            listing.nested.append(rel.rstrip("/"))
        if not stat.S_ISREG(st.st_mode):
            continue
        if st.st_nlink > 1 and twins.secret(rel, st):
            listing.skip("secret", rel)
            continue
        if st.st_size > max_file_bytes:
            listing.skip("too_large")
            continue
        if st.st_nlink > 1:
            linked[len(listing.candidates)] = (st.st_dev, st.st_ino)
            twins.links[(st.st_dev, st.st_ino)] = (st.st_nlink, st.st_ctime_ns)
        ctime = st.st_ctime_ns if st.st_nlink > 1 else 0
        listing.candidates.append(Candidate(rel, st.st_size, st.st_mtime_ns, ctime_ns=ctime))
    if linked:
        _judge_twins(listing, linked, twins)
    return listing


def _judge_twins(listing: Listing, linked: dict[int, tuple[int, int]], twins: SecretTwins) -> None:
    """Skips the candidates with other names (`linked`: a candidate's index, its identity)
    one of which is a secret's: listed anywhere, before or after its other names, or where
    the listing does not go (git-ignored: SecretTwins.unseen, asked only of files with names
    the listing did not see); marks those with names outside the workspace."""
    listed: dict[tuple[int, int], list[str]] = defaultdict(list)
    for i, identity in linked.items():
        listed[identity].append(listing.candidates[i].path)
    secrets, outside = twins.unseen(listed, VENDORED_DIRS)
    secrets |= twins.seen
    dropped = {i for i, identity in linked.items() if identity in secrets}
    for i, identity in linked.items():
        if identity in outside and i not in dropped:
            listing.candidates[i] = replace(listing.candidates[i], linked_outside=True)
    if not dropped:
        return
    for i in sorted(dropped):
        listing.skip("secret", listing.candidates[i].path)
    listing.candidates = [c for i, c in enumerate(listing.candidates) if i not in dropped]


def _decodable(rel: str) -> bool:
    """Names that were not UTF-8 on disk reach us with surrogate escapes (os.walk, and git's
    output decoded with surrogateescape); SQLite text cannot hold them."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
