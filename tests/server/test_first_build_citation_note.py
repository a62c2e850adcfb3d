"""A save whose citation fails during the first build says the index is still being built, and
to save again once it is done, only when the build is why: the cited file or symbol is not in
the index yet. A citation the finished index would refuse as well (a file larger than
OCP_MAX_FILE_BYTES, lines that are no range) is refused as it is, without that note: saving
again after the build would fail the same."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.first_index import hold_first_index, saved_during_the_first_build

BUILDING = "the first index of this workspace is still being built"


@pytest.fixture
def held_build(monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """The first build held until the event is set (set at the end in any case)."""
    answered = hold_first_index(monkeypatch)
    yield answered
    answered.set()


@pytest.mark.parametrize(
    ("citation", "why"),
    [
        ("src/big.py:1-2", "src/big.py is larger than OCP_MAX_FILE_BYTES (4,000 bytes)"),
        ("src/auth.py:5-2", "lines must be start-end with 1 <= start <= end"),
    ],
    ids=["too large", "no range"],
)
async def test_a_citation_the_built_index_would_refuse_too_gets_no_first_build_note(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    held_build: threading.Event,
    citation: str,
    why: str,
) -> None:
    (workspace / "src" / "big.py").write_text("X = 1\n" * 1_000)
    said = await saved_during_the_first_build(
        workspace, monkeypatch, held_build, citation, max_file_bytes=4_000
    )
    assert why in said, said
    assert BUILDING not in said, said


@pytest.mark.parametrize("citation", ["src/auth.py:1-2", "verify_token"], ids=["path", "symbol"])
async def test_a_citation_of_code_the_first_build_has_not_read_yet_gets_its_note(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, held_build: threading.Event, citation: str
) -> None:
    said = await saved_during_the_first_build(
        workspace, monkeypatch, held_build, citation, max_file_bytes=4_000
    )
    assert BUILDING in said and "save again once it is done" in said, said
