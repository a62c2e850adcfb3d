"""What a copy of the database holds at rest, for the tests that look for secrets in it."""

from __future__ import annotations

from pathlib import Path


def database_bytes(db_path: Path) -> bytes:
    """The database as a copy of `.ocp/` would hold it: the file and its side files."""
    return b"".join(
        Path(f"{db_path}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-journal")
        if Path(f"{db_path}{suffix}").exists()
    )
