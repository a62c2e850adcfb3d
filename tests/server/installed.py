"""Programs a test puts on PATH: doctor and the dry run only look for them."""

from __future__ import annotations

from pathlib import Path


def installed_ollama(tmp_path: Path) -> str:
    """A PATH holding an `ollama` program (doctor only looks for it)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "ollama").write_text("#!/bin/sh\n")
    (bin_dir / "ollama").chmod(0o755)
    return str(bin_dir)
