"""Reading a snapshot's rows ahead of its searches (answer_warmup.py): bounded by what the
snapshot keeps, out of the way of searches, and answering as a search's own read does."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ocp_server.index.answer_rows import AnswerRows, ChunkRow
from ocp_server.index.answer_warmup import warm_answers
from ocp_server.index.workspace import WorkspaceIndex
from tests.index.built import built_index

# twenty functions a file, three files: sixty chunks or so
FILES = {
    f"pkg/mod{m}.py": "".join(
        f"def handler_{m}_{n}(request):\n    '''Answer request {n} of module {m}.'''\n"
        f"    return request.reply({n} + {m})\n\n\n"
        for n in range(20)
    )
    for m in range(3)
}


def _row(text: str) -> ChunkRow:
    return ChunkRow(1, 2, None, "function", None, text, 3, 1)


async def test_the_warm_up_stops_at_the_kept_answers_bound(tmp_path: Path) -> None:
    """On a snapshot with more chunks than its kept answers hold, the warm-up reads at most one
    batch past what they hold, and they stay within their bounds: it adds no memory a long run
    of searches would not."""
    async with built_index(tmp_path / "ws", FILES, tmp_path / "ocp.db") as index:
        snap = await index.snapshot()
        assert snap.n_chunks > 40
        snap.answers.max_rows = 10
        read = await warm_answers(index._read, snap, lambda: 0.0, lambda: True, batch=4, quiet=0)
        assert len(snap.answers) == 10
        assert 10 <= read <= 10 + 4

        again = dataclasses.replace(snap)  # the same arrays, nothing kept
        again.answers.max_rows = 10**6
        again.answers.max_chars = 200  # a few chunks' text
        read = await warm_answers(index._read, again, lambda: 0.0, lambda: True, batch=4, quiet=0)
        assert read < snap.n_chunks  # stopped at the first row it had to let go
        assert again.answers.dropped >= 1
        assert again.answers._chars <= 200


async def test_rows_read_ahead_answer_a_search_as_its_own_read_would(tmp_path: Path) -> None:
    """Every row fits: a server's warm-up keeps them all, and its searches answer the same as
    a server's that read none ahead."""
    queries = ["answer request 7 of module 2", "handler reply", "module 1 request"]
    async with built_index(tmp_path / "ws", FILES, tmp_path / "ocp.db") as index:
        cold = [(await index.search(q, k=5, refresh=False)).results for q in queries]
    index = await WorkspaceIndex.open(tmp_path / "ws", tmp_path / "ocp.db")
    try:
        await index.preload()
        snap = await index.snapshot()
        assert len(snap.answers) == 0
        assert await index.warm_answers() == snap.n_chunks == len(snap.answers)
        warm = [(await index.search(q, k=5, refresh=False)).results for q in queries]
    finally:
        await index.close()
    assert warm == cold


async def test_the_warm_up_waits_while_a_search_runs_and_stops_for_a_new_snapshot(
    tmp_path: Path,
) -> None:
    """No row is read while a search runs, and none once the snapshot is not the one searched."""
    async with built_index(tmp_path / "ws", FILES, tmp_path / "ocp.db") as index:
        snap = await index.snapshot()
        seen: list[int] = []
        running = iter([None, None, None])

        def quiet_since() -> float | None:
            seen.append(len(snap.answers))
            return next(running, 0.0)

        await warm_answers(index._read, snap, quiet_since, lambda: True, batch=4, quiet=0)
        assert seen[:4] == [0, 0, 0, 0]  # nothing read while the search ran
        assert len(snap.answers) == snap.n_chunks

        fresh = dataclasses.replace(snap)  # the same arrays, nothing kept
        assert await warm_answers(index._read, fresh, lambda: 0.0, lambda: False, quiet=0) == 0
        assert len(fresh.answers) == 0


def test_kept_answers_let_the_least_recently_asked_for_go_first() -> None:
    """A row read ahead and then asked for outlives one read ahead and never asked for."""
    kept = AnswerRows(max_chars=10**6, max_rows=2)
    kept.put(1, _row("one"))
    kept.put(2, _row("two"))
    assert kept.get(1) is not None
    kept.put(3, _row("three"))
    assert kept.get(1) is not None and kept.get(2) is None and kept.get(3) is not None
    assert kept.dropped == 1
