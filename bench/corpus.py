"""Fetch pinned, reproducible benchmark corpora.

    uv run python bench/corpus.py django [--git]

`django` downloads the Django 5.1.4 sdist from PyPI with pip (source only, no dependencies) into
`bench/.cache/`, extracts it to `bench/.cache/Django-5.1.4/` and prints that path. Both steps are
skipped when their output already exists. `--git` also turns the tree into a git repository with
a single commit, so the indexer's `git ls-files` listing path is exercised.

Only the standard library and subprocess are used; pip is looked up on the current interpreter,
then through `uvx --from pip`, then on `python3`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"

DJANGO_VERSION = "5.1.4"
# PyPI has published this sdist as both "Django-" and "django-"; accept either spelling.
DJANGO_SDISTS = (f"Django-{DJANGO_VERSION}.tar.gz", f"django-{DJANGO_VERSION}.tar.gz")
DJANGO_ROOT = f"Django-{DJANGO_VERSION}"

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "ocp-bench",
    "GIT_AUTHOR_EMAIL": "bench@ocp.invalid",
    "GIT_COMMITTER_NAME": "ocp-bench",
    "GIT_COMMITTER_EMAIL": "bench@ocp.invalid",
    "GIT_AUTHOR_DATE": "2024-12-04T00:00:00+00:00",
    "GIT_COMMITTER_DATE": "2024-12-04T00:00:00+00:00",
}


def _pip_commands() -> list[list[str]]:
    """Candidate pip invocations, most specific first."""
    candidates: list[list[str]] = [[sys.executable, "-m", "pip"]]
    uvx = shutil.which("uvx")
    if uvx:
        candidates.append([uvx, "--from", "pip", "pip"])
    python3 = shutil.which("python3")
    if python3:
        candidates.append([python3, "-m", "pip"])
    return candidates


def _has_pip(cmd: list[str]) -> bool:
    try:
        result = subprocess.run([*cmd, "--version"], capture_output=True, check=False)
    except OSError:
        return False
    return result.returncode == 0


def _pip_download(requirement: str, dest: Path) -> None:
    for cmd in _pip_commands():
        if not _has_pip(cmd):
            continue
        subprocess.run(
            [
                *cmd,
                "download",
                requirement,
                "--no-binary",
                ":all:",
                "--no-deps",
                "--disable-pip-version-check",
                "-d",
                str(dest),
            ],
            check=True,
        )
        return
    raise RuntimeError("no usable pip found (tried the interpreter, uvx and python3)")


def _safe_extract(archive: Path, dest: Path) -> None:
    """Extract `archive` into `dest`, refusing members that would escape it."""
    dest_resolved = dest.resolve()
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar.getmembers():
            target = (dest / member.name).resolve()
            if not target.is_relative_to(dest_resolved):
                raise RuntimeError(f"unsafe path in {archive.name}: {member.name}")
            if member.issym() or member.islnk():
                raise RuntimeError(f"link in {archive.name}: {member.name}")
        if hasattr(tarfile, "data_filter"):  # 3.11.4+: also drops archive uid/gid
            tar.extractall(dest, filter="data")
        else:
            # Older interpreters chown to the archive's owners when run as root, which makes
            # git refuse the tree ("dubious ownership"); skip that step.
            tar.chown = lambda *args, **kwargs: None  # type: ignore[method-assign]  # on purpose
            tar.extractall(dest)


def _find_sdist(cache_dir: Path) -> Path | None:
    for name in DJANGO_SDISTS:
        if (cache_dir / name).is_file():
            return cache_dir / name
    return None


def django_source(cache_dir: Path = CACHE_DIR) -> Path:
    """Return the extracted Django 5.1.4 source tree, downloading and extracting if needed."""
    root = cache_dir / DJANGO_ROOT
    if (root / "django" / "__init__.py").is_file():
        return root
    cache_dir.mkdir(parents=True, exist_ok=True)
    archive = _find_sdist(cache_dir)
    if archive is None:
        _pip_download(f"django=={DJANGO_VERSION}", cache_dir)
        archive = _find_sdist(cache_dir)
    if archive is None:
        raise RuntimeError(f"pip did not produce {DJANGO_SDISTS[0]} in {cache_dir}")
    # Extract next to the final location, then move into place, so an interrupted run never
    # leaves a half-populated tree that a later call would mistake for a complete one.
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        _safe_extract(archive, Path(tmp))
        extracted = Path(tmp) / DJANGO_ROOT
        if not extracted.is_dir():
            raise RuntimeError(f"{archive.name} has no top-level {DJANGO_ROOT}/")
        if root.exists():
            shutil.rmtree(root)
        extracted.rename(root)
    return root


def git_init(path: Path) -> Path:
    """Make `path` a git repository with one commit of its whole tree; no-op if it has one."""
    path = Path(path)
    git = shutil.which("git")
    if git is None:
        raise RuntimeError("git is not on PATH")

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [git, "-C", str(path), *args],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, **_GIT_ENV},
        )

    if (path / ".git").exists() and run("rev-parse", "--verify", "-q", "HEAD").returncode == 0:
        return path
    for args in (
        ("init", "-q"),
        ("add", "-A"),
        ("-c", "commit.gpgsign=false", "commit", "-q", "-m", f"import {path.name}"),
    ):
        result = run(*args)
        if result.returncode != 0:
            raise RuntimeError(f"git {' '.join(args)} failed: {result.stderr.strip()}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("corpus", choices=["django"])
    parser.add_argument("--git", action="store_true", help="also git-init the tree (one commit)")
    args = parser.parse_args(argv)
    root = django_source()
    if args.git:
        git_init(root)
    print(root)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
