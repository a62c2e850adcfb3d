"""Programs a test puts on PATH: doctor and the dry run only look for them."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


def installed_ollama(tmp_path: Path) -> str:
    """A PATH holding an `ollama` program (doctor only looks for it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ollama").write_text("#!/bin/sh\n")
    (bin_dir / "ollama").chmod(0o755)
    return str(bin_dir)


def no_ollama(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """The server's PATH (which the backend looks for `ollama` on) without `ollama`: git is
    all the index needs. Returns it."""
    path = str(Path(shutil.which("git") or "/usr/bin/git").parent)
    monkeypatch.setenv("PATH", path)
    assert shutil.which("ollama") is None
    return path
