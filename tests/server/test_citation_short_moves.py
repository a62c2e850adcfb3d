"""A short cited block (under MIN_LOOSE_BLOCK characters, which found just anywhere proves
nothing) follows its file's rename when that is known: to where git says the file went
(`git mv`, staged or committed), found there nearest its old lines, or to a file of the same
name in another folder (a plain `mv`) at the very same lines. It was stale, "was deleted"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from mcp.types import CallToolResult

import ocp_wire as wire
from tests.server.citations import OTHER
from tests.server.inproc import inproc_client, text_of
from tests.workspace_fixture import git

CONFIG = "import os\n\n\nTIMEOUT = 10\nRETRIES = 3\n\n\ndef load():\n    return os.environ\n"
NOTE = {"text": "timeouts are 10 s, with 3 retries", "citations": ["src/config.py:4-5"]}


def _move(workspace: Path, how: str) -> str:
    """Move src/config.py as `how` says; where its lines 4-5 are then."""
    (workspace / "lib").mkdir()
    if how == "mv":  # git is not told; the name is kept
        (workspace / "src" / "config.py").rename(workspace / "lib" / "config.py")
        return "lib/config.py:4-5"
    git(workspace, "mv", "src/config.py", "lib/settings.py")
    settings = workspace / "lib" / "settings.py"
    settings.write_text('"""Settings."""\n' + settings.read_text())  # and edited: one line down
    if how == "git commit":
        git(workspace, "commit", "-qam", "config is settings now")
    return "lib/settings.py:5-6"


@dataclass(frozen=True)
class Restored:
    saved: CallToolResult  # the save's answer
    raw: CallToolResult  # the restore's
    changed: str | None  # what the change returned

    @property
    def result(self) -> wire.RestoreResult:
        return wire.RestoreResult.model_validate(self.raw.structured_content)


async def _restored_after(
    workspace: Path,
    monkeypatch: pytest.MonkeyPatch,
    text: str,
    note: Mapping[str, object],
    change: Callable[[], str | None],
) -> Restored:
    """src/config.py committed as `text`, indexed, `note` saved, `change` made and indexed:
    the restore then."""
    (workspace / "src" / "config.py").write_text(text)
    git(workspace, "add", "-A")
    git(workspace, "commit", "-qm", "config")
    async with inproc_client(workspace, monkeypatch) as client:
        await client.call_tool("ocp_context_search", {"query": "TIMEOUT"})  # indexed
        saved = await client.call_tool("ocp_result_save", {"notes": [note]})
        changed = change()
        await client.call_tool("ocp_context_search", {"query": "TIMEOUT"})  # re-indexed
        raw = await client.call_tool("ocp_session_restore", {})
    return Restored(saved, raw, changed)


@pytest.mark.parametrize("how", ["git mv", "git commit", "mv"])
async def test_a_short_cited_block_follows_its_file_renamed(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    out = await _restored_after(workspace, monkeypatch, CONFIG, NOTE, lambda: _move(workspace, how))
    assert "Cited (notes[0]): src/config.py:4-5" in text_of(out.saved), text_of(out.saved)
    assert out.result.stale == [], text_of(out.raw)
    (citation,) = out.result.notes[0].citations
    assert (citation.status, citation.citation, citation.moved_from) == (
        "moved",
        out.changed,
        "src/config.py:4-5",
    )


async def test_a_short_block_in_a_file_of_another_name_git_does_not_know_of_stays_stale(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two lines found in some other file prove nothing: that file may only repeat them. (The
    # same bytes, or much the same lines, under another name are the file renamed:
    # test_citation_index_moves.py.)

    def replaced() -> None:
        (workspace / "src" / "config.py").unlink()
        (workspace / "src" / "defaults.py").write_text(OTHER)

    out = await _restored_after(workspace, monkeypatch, CONFIG, NOTE, replaced)
    assert not out.saved.is_error, text_of(out.saved)
    (stale,) = out.result.stale
    assert stale.citations[0].change == "src/config.py was deleted"


# `TIMEOUT = 10` / `RETRIES = 3` twice: in class Slow (lines 5-6) and the cited defaults (9-10).
TWICE = (
    "import os\n\n\nclass Slow:\n    TIMEOUT = 10\n    RETRIES = 3\n\n# defaults\n"
    "TIMEOUT = 10\nRETRIES = 3\n\n\ndef load():\n    return os.environ\n"
)
# five lines added between Slow and the defaults
FIVE = "\n\ndef fast():\n    x = 1\n    return x\n"


async def test_a_short_block_its_renamed_file_holds_twice_is_followed_by_the_lines_around_it(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Was followed to class Slow's lines: in the file git says it became, the cited defaults
    # sat five lines further down than before, Slow's copy four lines above the old place,
    # nearer. The lines around (`# defaults`, `def load():`) tell them apart.
    note = {"text": "defaults: 10 s, 3 retries", "citations": ["src/config.py:9-10"]}

    def moved_and_grown() -> None:
        (workspace / "lib").mkdir()
        git(workspace, "mv", "src/config.py", "lib/settings.py")
        settings = workspace / "lib" / "settings.py"
        settings.write_text(TWICE.replace("\n# defaults", FIVE + "\n# defaults"))

    out = await _restored_after(workspace, monkeypatch, TWICE, note, moved_and_grown)
    assert "Cited (notes[0]): src/config.py:9-10" in text_of(out.saved), text_of(out.saved)
    assert out.result.stale == [], text_of(out.raw)
    (citation,) = out.result.notes[0].citations
    assert (citation.status, citation.citation) == ("moved", "lib/settings.py:14-15")
