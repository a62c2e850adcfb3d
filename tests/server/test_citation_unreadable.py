"""A cited file the index holds but that cannot be read now: the error says why (it said only
"'src/auth.py' cannot be read", leaving the agent to guess between a permission, a pipe and a
bug)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ocp_server.errors import CitationError
from ocp_server.memory import NoteIn
from ocp_server.memory.citing import CITABLE
from tests.server.citations import opened_repo


async def test_a_cited_file_turned_into_a_pipe_says_it_is_no_regular_file(
    workspace: Path,
) -> None:
    async with opened_repo(workspace) as repo:
        sid = await repo.memory.start_session(str(repo.root))
        (workspace / "src" / "auth.py").unlink()
        os.mkfifo(workspace / "src" / "auth.py")  # still indexed: no update ran since
        with pytest.raises(CitationError) as caught:
            await repo.memory.save(sid, notes=[NoteIn("checked", ("src/auth.py:17-21",))])
    assert str(caught.value) == (
        f"`notes[0].citations[0]`: {CITABLE} (got 'src/auth.py:17-21'); 'src/auth.py' cannot "
        "be read (not a regular file: a pipe, a "
        "socket, a device or a folder)"
    )
