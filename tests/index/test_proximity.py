"""Term proximity: where in its file each term is (tiles of lines), stored per chunk, and the
ranking feature read from it: the share of the request's subject that one window of lines holds.
"""

from __future__ import annotations

import random
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiosqlite
import numpy as np
import numpy.typing as npt
import pytest

from ocp_server.index import features, lexicon, proximity
from ocp_server.index.chunk_columns import _tile_masks
from ocp_server.index.hits import gather_all
from ocp_server.index.lexical import Snapshot
from ocp_server.index.lexicon import (
    TERM_RECORD,
    TILE_LINES,
    BodyBlob,
    body_blob,
    body_blobs,
    pair_hash,
    term_hash,
    terms,
)
from ocp_server.index.proximity import subject_window
from ocp_server.index.workspace import WorkspaceIndex
from tests.workspace_fixture import settled

WORDS = ("alpha", "gamma", "delta")
NOISE = ("value", "result", "other", "thing", "count")


def test_a_chunks_tiles_say_which_three_line_tiles_of_its_file_hold_each_term() -> None:
    # the chunk starts at line 5, in the file's second tile (lines 4-6)
    text = "alpha beta\n\ngamma alpha\nbeta\nx\ny\n\nbeta"
    blob = body_blob(text, start_line=5)
    records = np.frombuffer(blob.terms, dtype=[("term", "<u4"), ("count", "<u2")])
    width = len(blob.tiles) // len(records)
    masks = {
        int(r["term"]): int.from_bytes(blob.tiles[i * width : (i + 1) * width], "little")
        for i, r in enumerate(records)
    }
    # lines 5-6: tile 0 from the chunk's first; 7-9: tile 1; 10-12: tile 2
    assert masks == {
        term_hash("alpha"): 0b011,
        term_hash("beta"): 0b111,
        term_hash("gamma"): 0b010,
    }
    assert blob.length == len(terms(text))


def test_a_chunks_terms_are_its_texts_terms_whatever_its_lines() -> None:
    text = "naïve_Ünïcode 42 x" + "y" * 70 + " parseHTTPRequest\r\n\n\tdef f(): return é_b\n"
    blob = body_blob(text * 5, start_line=2)
    records = np.frombuffer(blob.terms, dtype=[("term", "<u4"), ("count", "<u2")])
    want = Counter(terms(text * 5))
    assert dict(zip(records["term"].tolist(), records["count"].tolist(), strict=True)) == {
        term_hash(t): n for t, n in want.items()
    }
    assert blob.length == sum(want.values())


def _packed_from_lines(text: str, start_line: int) -> BodyBlob:
    """What `body_blob` stores, counted from `terms` line by line (a word never spans lines)."""
    seq: list[str] = []
    tiles: dict[str, int] = {}
    for i, line in enumerate(text.split("\n")):
        tile = min((start_line - 1 + i) // TILE_LINES - (start_line - 1) // TILE_LINES, 63)
        for t in terms(line):
            seq.append(t)
            tiles[t] = tiles.get(t, 0) | 1 << tile
    counts = Counter(seq)  # in order of first appearance
    records = np.array([(term_hash(t), n) for t, n in counts.items()], dtype=TERM_RECORD)
    width = max((max(tiles.values(), default=0).bit_length() + 7) // 8, 1)
    pair_keys = sorted({pair_hash(a, b) for a, b in zip(seq, seq[1:], strict=False)})
    return BodyBlob(
        records.tobytes(),
        np.array(pair_keys, dtype="<u4").tobytes(),
        len(seq),
        b"".join(tiles[t].to_bytes(width, "little") for t in counts),
    )


_CHUNKS = [
    ("alpha beta\n\ngamma alpha\nbeta\nx\ny\n\nbeta", 5),
    ("", 1),
    ("\n\n\n", 3),
    ("2fast 4you ab12cd ² ٣٤x " + "z" * 70 + " 9" * 70 + " parseHTTPRequest\r\nthe of", 7),
    ("\n".join(f"line_{i} value{i % 7} beta" for i in range(250)), 2),  # past 64 tiles
    ("beta alpha\ngamma", 4),
]


def test_a_files_chunks_packed_together_are_what_each_ones_lines_hold() -> None:
    assert body_blobs(_CHUNKS) == [_packed_from_lines(t, s) for t, s in _CHUNKS]
    assert [body_blob(t, s) for t, s in _CHUNKS] == body_blobs(_CHUNKS)


def test_packing_is_the_same_after_the_vocabulary_is_forgotten(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    want = body_blobs(_CHUNKS)
    monkeypatch.setattr(lexicon, "_CACHE_LIMIT", 3)  # forgotten before nearly every file
    assert [body_blobs(_CHUNKS[i:]) for i in range(len(_CHUNKS))] == [
        want[i:] for i in range(len(_CHUNKS))
    ]


def test_runs_longer_than_a_word_are_packed_but_not_remembered() -> None:
    # hex digests, base64, minified code: were they remembered, a file of them would fill the
    # memory
    digests = [f"{i:064x}{'ab' * 40}" for i in range(50)]
    chunks = [(" ".join(digests) + " 123" + "9" * 70 + "tail_word", 1)]
    assert body_blobs(chunks) == [_packed_from_lines(t, s) for t, s in chunks]
    assert not any(d in lexicon._RUN_TERMS for d in digests)
    assert body_blobs(chunks) == [_packed_from_lines(t, s) for t, s in chunks]  # again


def test_threads_packing_at_once_with_the_vocabulary_forgotten_get_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    want = body_blobs(_CHUNKS)
    monkeypatch.setattr(lexicon, "_CACHE_LIMIT", 5)
    files = [[(f"{t} word{n}_{i}", s) for t, s in _CHUNKS] for n in range(8) for i in range(25)]
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(body_blobs, files))
    assert got == [body_blobs(f) for f in files]
    assert body_blobs(_CHUNKS) == want


def test_tiles_stored_without_or_unfit_for_their_records_read_as_none() -> None:
    # chunk 0: two records, no tiles; chunk 1: one record, its mask 0b101 in one byte;
    # chunk 2: two records, three bytes (fits no width)
    masks, complete = _tile_masks([None, b"\x05", b"\x01\x02\x03"], np.array([2, 1, 2]))
    assert masks.tolist() == [0, 0, 0b101, 0, 0]
    assert not complete
    masks, complete = _tile_masks([b"\x05", b"", b"\x01\x02"], np.array([1, 0, 2]))
    assert masks.tolist() == [0b101, 1, 2] and complete


def _file(rng: random.Random, functions: int) -> str:
    out = []
    for f in range(functions):
        out.append(f"def step_{f}(items):")
        for _ in range(rng.randint(2, 14)):
            words = rng.sample(WORDS + NOISE * 3, rng.randint(1, 3))
            out.append(f"    # {' '.join(words)}")
        out.append("    return items")
        out.append("")
    return "\n".join(out) + "\n"


async def _fresh_snapshot(root: Path, db: Path) -> Snapshot:
    """The snapshot of `root` indexed from scratch into `db`."""
    index = await WorkspaceIndex.open(root, db)
    try:
        await index.update()
        return await index.snapshot()
    finally:
        await index.close()


def _best_window_share(text: str, weight: dict[str, float]) -> float:
    """The feature counted from the file's own lines: per tile of TILE_LINES lines, the
    subject terms on its lines; the best window of a tile and one either side."""
    tile_terms: dict[int, set[str]] = {}
    for i, line in enumerate(text.split("\n")):
        tile_terms.setdefault(i // TILE_LINES, set()).update(t for t in terms(line) if t in weight)
    total = sum(weight.values())
    last = max(tile_terms)
    best = 0.0
    for center in range(last + 1):
        held = set().union(*(tile_terms.get(t, set()) for t in (center - 1, center, center + 1)))
        best = max(best, sum(weight[t] for t in held) / total)
    return best


@pytest.mark.parametrize("seed", [0, 1, 2])
async def test_the_best_window_is_what_the_files_lines_hold_across_chunk_edges(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    root = tmp_path / "ws"
    (root / "src").mkdir(parents=True)
    texts = {f"src/m{i}.py": _file(rng, rng.randint(2, 6)) for i in range(6)}
    for rel, text in texts.items():
        (root / rel).write_text(text)
    index = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    try:
        await index.update()
        snap = await index.snapshot()
    finally:
        await index.close()
    assert len(snap.chunk_ids) > len(texts)  # files of several chunks
    subject = {terms(w)[0]: weight for w, weight in zip(WORDS, (1.0, 2.0, 0.5), strict=True)}
    # the query's other terms (weight 0) are among the postings too; the candidates are every
    # file, or every other
    query = [*subject, terms(NOISE[0])[0]]
    cand = np.arange(snap.n_files)[:: 1 + seed % 2]
    got = _subject_window(snap, query, np.array([*subject.values(), 0.0]), cand)
    want = [_best_window_share(texts[snap.paths[f]], subject) for f in cand.tolist()]
    assert got == pytest.approx(want, abs=1e-3)


def _subject_window(
    snap: Snapshot, query: list[str], weight: npt.NDArray[np.float64], cand: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    """`subject_window` over the chunk postings of the terms `query`, as a search gathers them."""
    at = snap.chunk_body.locate([term_hash(t) for t in query])
    hits = gather_all([(snap.chunk_body, at, snap.n_chunks)])[0]
    return subject_window(snap, at, hits, weight, cand)


async def test_a_window_weighs_the_subjects_rarest_terms_only_past_a_bound(
    tmp_path: Path,
) -> None:
    rng = random.Random(5)
    many = proximity._WINDOW_TERMS + 6
    words: dict[str, str] = {}  # term -> word
    while len(words) < many:
        word = "".join(rng.choice("bcdfghjklmnpqrstvwxz") for _ in range(8))
        found = terms(word)
        if len(found) == 1:
            words.setdefault(found[0], word)
    # the heavier a term, the later it comes: the rarest are the last ones
    weight = {t: 1.0 + i for i, t in enumerate(words)}
    lines = [" ".join(rng.sample(list(words.values()), 3)) for _ in range(60)]
    text = "\n".join(f"# {line}" for line in lines) + "\n"
    root = tmp_path / "ws"
    root.mkdir()
    (root / "m.py").write_text(text)
    snap = await _fresh_snapshot(root, tmp_path / "ocp.db")
    got = _subject_window(snap, list(words), np.array(list(weight.values())), np.arange(1))
    rarest = dict(list(weight.items())[-proximity._WINDOW_TERMS :])
    share = sum(rarest.values()) / sum(weight.values())  # the whole query's weight counts
    assert got == pytest.approx([_best_window_share(text, rarest) * share], abs=1e-3)
    # with every term counted it would be more
    assert got[0] < _best_window_share(text, weight) - 1e-3


async def test_a_chunk_that_moves_by_a_line_moves_its_tiles(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    text = _file(random.Random(3), 4)
    (root / "m.py").write_text(text)
    index = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    try:
        await index.update()
        # one line more at the top: every chunk keeps its text and moves one line down,
        # into another place among the file's tiles
        (root / "m.py").write_text("import os\n" + text)
        await index.update()
        moved = await index.snapshot()
    finally:
        await index.close()
    rebuilt = await _fresh_snapshot(root, tmp_path / "fresh.db")
    assert moved.chunk_first_tile.tolist() == rebuilt.chunk_first_tile.tolist()
    assert moved.chunk_tiles.tolist() == rebuilt.chunk_tiles.tolist()


async def test_a_file_holding_the_request_together_ranks_before_one_holding_it_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same words, as often, in files of the same length, never next to each other in the
    # request's order (no phrase matches): in one they are one comment, in the other spread
    # over a long function. Only where they are tells them apart.
    filler = [f"    step_{i} = items[{i}]\n" for i in range(30)]
    together_lines = ["def apply(items):\n", "    # expired token, upload: retry\n", *filler]
    apart_lines = ["def apply(items):\n", "    # expired\n", *filler[:10], "    # token\n"]
    apart_lines += [*filler[10:20], "    # upload\n", *filler[20:], "    # retry\n"]
    together = "".join([*together_lines, "    # \n", "    # \n", "    # \n", "    return items\n"])
    apart = "".join([*apart_lines, "    return items\n"])
    root = tmp_path / "ws"
    root.mkdir()
    # the file holding it apart comes first on a tie (its name sorts first)
    (root / "a_apart.py").write_text(apart)
    (root / "b_together.py").write_text(together)
    index = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    try:
        await index.update()
        query = "Retry the upload when the token expired"
        first = (await index.search(query, k=2, refresh=False)).results[0].path
        assert first == "b_together.py"
        # and without the proximity evidence it is a tie the other file wins
        monkeypatch.setattr(
            features, "subject_window", lambda snap, at, hits, weight, cand: np.zeros(len(cand))
        )
        first = (await index.search(query + " ", k=2, refresh=False)).results[0].path
        assert first == "a_apart.py"
    finally:
        await index.close()


async def test_an_index_from_before_tiles_keeps_answering_and_gets_them_at_the_next_update(
    tmp_path: Path,
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "m.py").write_text(_file(random.Random(4), 4))
    index = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    try:
        await index.update()
    finally:
        await index.close()
    # the database as a server without tiles left it
    async with aiosqlite.connect(tmp_path / "ocp.db") as db:
        await db.execute("DROP INDEX chunks_untiled")
        await db.execute("ALTER TABLE chunks DROP COLUMN tiles")
        await db.execute("DELETE FROM _migrations WHERE name = 'm015_chunk_tiles'")
        await db.commit()
    index = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    try:
        before = await index.snapshot()
        assert before.n_chunks > 1 and not before.chunk_tiles.any()
        assert not before.tiles_complete
        assert (await index.search("alpha gamma", k=1, refresh=False)).results
        await index.update()
        after = await index.snapshot()
    finally:
        await index.close()
    rebuilt = await _fresh_snapshot(root, tmp_path / "fresh.db")
    assert after.chunk_ids.tolist() == before.chunk_ids.tolist()  # the chunks were kept
    assert after.chunk_tiles.tolist() == rebuilt.chunk_tiles.tolist()
    assert after.tiles_complete


async def test_chunks_an_older_server_wrote_without_tiles_turn_proximity_off_until_read_again(
    tmp_path: Path,
) -> None:
    # Two files alike: one's chunks lost their tiles (as an older server sharing the database
    # writes them, with the file's real mtime and hash). Until they are read again proximity
    # counts for no file, so the two still tie; the next update reads that file again.
    text = "def apply(items):\n    # retry the upload when the token expired\n    return items\n"
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a_one.py").write_text(text)
    (root / "b_two.py").write_text(text)
    settled(root)  # saved a while ago: only the file without tiles is read again
    index = await WorkspaceIndex.open(root, tmp_path / "ocp.db")
    query = "Retry the upload when the token expired"
    try:
        await index.update()
        complete = await index.search(query, k=2, refresh=False)
        await index.db.execute(
            "UPDATE chunks SET tiles = NULL WHERE file_id ="
            " (SELECT id FROM files WHERE path = 'b_two.py')"
        )
        await index.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        await index.db.commit()
        partial = await index.search(query + " ", k=2, refresh=False)
        snap = await index.snapshot()
        assert not snap.tiles_complete
        scores = [r.score for r in partial.results]
        assert scores[0] == pytest.approx(scores[1])
        assert scores[0] < complete.results[0].score  # no file has proximity's share
        summary = await index.update()
        assert summary is not None and summary.scanned == 1  # only the file without tiles
        assert (await index.snapshot()).tiles_complete
    finally:
        await index.close()
