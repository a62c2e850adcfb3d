"""The word pairs a chunk's string literals may hold (`literal_pairs`): the read-back reads
no chunk lacking a window's pairs, so they must be held wherever the read-back would find the
window; a database from before them is filled in, and a chunk an older server stores without
them is still read back."""

from __future__ import annotations

import random
from pathlib import Path

import aiosqlite
import numpy as np
import pytest

from ocp_server.index.lexical import ChunkRow
from ocp_server.index.literal_pairs import literal_blobs, literal_keys
from ocp_server.index.literal_text import LiteralFinder, holds_run, literal_chunks
from ocp_server.index.query import parse_query
from ocp_server.index.ranking import rank
from ocp_server.index.search import _rows
from ocp_server.migrations import MIGRATIONS, m025_chunk_literals, migrate
from tests.index.built import built_index, write_files

# Lines the read-back finds a window in, each with the window: quotes of every kind, a window
# across two literals joined, stop words, a value in braces, a literal after code, Windows
# line ends, words that are not ASCII.
FOUND = [
    ('raise UsageError("No such option: {name}")', ("no", "such", "option")),
    ("    msg = 'to the default' + ' value'", ("to", "the", "default")),
    ("fail(`cannot ${x} reset to the default`)", ("reset", "to", "the", "default")),
    ("x = f(a, b); echo('no such' + 'option here')\r", ("no", "such", "option")),
    ('log.warn("Zurück zum Standard ändern")', ("zurück", "zum", "standard")),
    ('errors.New("{name} is not a valid name")', ("name", "is", "not")),
]


def _blob_keys(text: str) -> set[int]:
    return set(np.frombuffer(literal_blobs([text])[0], dtype="<u4").tolist())


@pytest.mark.parametrize(("line", "window"), FOUND)
def test_a_chunk_holds_the_pairs_of_every_window_a_literal_of_it_holds(
    line: str, window: tuple[str, ...]
) -> None:
    text = f"def f():\n    pass\n{line}\n    return 1\n"
    assert holds_run(text, LiteralFinder((window,)))
    keys = literal_keys(window)
    assert keys is not None and set(keys) <= _blob_keys(text)


def test_words_outside_a_line_s_first_and_last_quotes_give_no_pair() -> None:
    """A literal opens at a quote and closes at another on its line: words before the first,
    after the last, or on a line with one quote (an apostrophe) are in none."""
    text = (
        "# to the default\nreset to the default(x)\nsay('done')  # to the default\n"
        "# we're back to the default\n"
    )
    keys = literal_keys(("to", "the", "default"))
    assert keys is not None and not set(keys) & _blob_keys(text)


def test_a_file_s_chunks_get_their_own_pairs_none_across_two() -> None:
    first, second = literal_blobs(["x = 'no such", "option'", ""])[:2]
    assert literal_blobs(["x = 'no such"]) == [first]
    assert literal_blobs(["option'"]) == [second] == [b""]


def test_a_window_with_a_word_no_key_tells_has_no_keys() -> None:
    assert literal_keys(("i\u0307", "zmir")) is None
    assert literal_keys(("one",)) is None


def test_the_finder_reads_a_line_word_by_word_as_its_pattern_does() -> None:
    """`LiteralFinder.holds` reads a line word by word; its regular expression is the
    definition. Random lines of the windows' words, quotes, spaces and punctuation."""
    rng = random.Random(20261205)
    vocab = ["no", "such", "option", "x", "é", "12"]
    pieces = [*vocab, *vocab, '"', "'", "`", " ", " ", ", ", "{", "}", "\t", "\u00a0", "\r", "ab"]
    found = 0
    for _ in range(20_000):
        windows = tuple(
            tuple(rng.choice(vocab[:4]) for _ in range(rng.randint(2, 3)))
            for _ in range(rng.randint(1, 3))
        )
        finder = LiteralFinder(windows, at_start=rng.random() < 0.5)
        words = [rng.choice(pieces) for _ in range(rng.randint(0, 12))]
        if rng.random() < 0.5:  # a window in the line, to find one more often
            at = rng.randint(0, len(words))
            words[at:at] = [rng.choice("\"'` ")] + [f"{w} " for w in windows[0]]
        line = "".join(words)
        expected = finder.pattern().search(line) is not None
        assert finder.holds(line) == expected, (line, windows, finder.at_start)
        found += expected
    assert found > 1000


# "No such option" and "to the default" said in docstrings, code and literals, never a literal
# printing either: the read-back had each chunk saying "option" or "default" read
SETTINGS_PY = '''"""Settings with defaults."""


class Option:
    """An option: its default, and whether it was set."""

    def __init__(self, default=None):
        self.default = default

    def reset(self):
        # goes back to the default value
        self.value = self.default
        log("option reset")

    def describe(self):
        return "an option with a default of " + repr(self.default)
'''

ERRORS_PY = """def no_such_option(name):
    return ValueError("No such option: " + name)
"""


async def _reads(root: Path, db: Path, files: dict[str, str], query: str) -> list[list[int]]:
    """What `literal_chunks` reads back for `query`, read by read, and what it finds."""
    reads: list[list[int]] = []
    async with built_index(root, files, db) as index:
        snap = await index.snapshot()
        parsed = parse_query(query)

        async def read(chunks: list[int]) -> dict[int, ChunkRow]:
            reads.append(chunks)
            rows = await _rows(index._read, snap, chunks)
            ids = snap.chunk_ids[chunks].tolist()
            return {c: rows[i] for c, i in zip(chunks, ids, strict=True) if i in rows}

        await literal_chunks(snap, rank(snap, parsed), parsed, read)
    return reads


@pytest.mark.parametrize("query", ["Error: No such option: --colour", "Reset to the default."])
async def test_a_window_of_one_word_and_stop_words_no_literal_holds_reads_no_text(
    tmp_path: Path, query: str
) -> None:
    """Fails while every chunk of the best files holding the window's one term is read back:
    the index's phrases leave out stop words, its literal pairs keep them."""
    assert await _reads(tmp_path / "ws", tmp_path / "ocp.db", {"s.py": SETTINGS_PY}, query) == []


async def test_a_database_from_before_literal_pairs_gets_them_as_the_indexer_makes_them(
    tmp_path: Path,
) -> None:
    files = {"s.py": SETTINGS_PY, "errors.py": ERRORS_PY}
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        fresh = await index.db.execute_fetchall("SELECT id, literals FROM chunks ORDER BY id")
    assert any(blob for _, blob in fresh)
    async with aiosqlite.connect(tmp_path / "ocp.db") as db:
        # as a server from before the column left it: the column gone, m025 not run
        await db.execute("ALTER TABLE chunks DROP COLUMN literals")
        await db.execute("DELETE FROM _migrations WHERE name = 'm025_chunk_literals'")
        await db.commit()
        assert await migrate(db) == ["m025_chunk_literals"]
        again = await db.execute_fetchall("SELECT id, literals FROM chunks ORDER BY id")
    assert list(again) == list(fresh)


async def test_a_chunk_stored_without_literal_pairs_is_read_back_and_found(
    tmp_path: Path,
) -> None:
    """An older server sharing the database stores chunks without the column (NULL): such
    a chunk may hold any pair, and a message it prints is still found."""
    files = {"s.py": SETTINGS_PY, "errors.py": ERRORS_PY}
    write_files(tmp_path / "ws", files)
    async with aiosqlite.connect(tmp_path / "ocp.db") as db:
        await migrate(db, tuple(m for m in MIGRATIONS if m is not m025_chunk_literals))
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        await index.db.execute("UPDATE chunks SET literals = NULL")
        await index.db.execute("UPDATE meta SET value = value + 1 WHERE key = 'generation'")
        await index.db.commit()
        found = (await index.search("Error: No such option: --colour", k=3)).results[0]
    assert found.path == "errors.py" and "No such option" in found.text


async def test_a_kept_chunk_stored_without_literal_pairs_gets_them_when_its_file_is_read(
    tmp_path: Path,
) -> None:
    files = {"s.py": SETTINGS_PY}
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        fresh = await index.db.execute_fetchall("SELECT id, literals FROM chunks ORDER BY id")
        assert all(blob is not None for _, blob in fresh)
        await index.db.execute("UPDATE chunks SET literals = NULL")
        await index.db.commit()
        write_files(tmp_path / "ws", {"s.py": SETTINGS_PY + "\n\ndef more():\n    return 2\n"})
        await index.update()
        kept = await index.db.execute_fetchall(
            f"SELECT id, literals FROM chunks WHERE id <= {max(i for i, _ in fresh)} ORDER BY id"
        )
    assert list(kept) == list(fresh)


def _allowing(i: int) -> str:
    return (
        f'"""Rules of group {i}: what is allowed, and by whom."""\n\n\n'
        f"def allowed_{i}(user, allowed=ALLOWED):\n"
        f"    # allowed users are allowed in, allowed or not\n"
        f"    return user in allowed and allowed[user].allowed\n"
    )


DENY_PY = (
    '"""The request handlers of the shop: orders, carts, payments and their pages."""\n\n\n'
    + "".join(
        f"def handler_{i}(request):\n    order = request.order_{i}\n    return render(order)\n\n\n"
        for i in range(40)
    )
    + 'def deny(request):\n    raise PermissionError("not allowed!")\n'
)


async def test_a_message_of_one_common_word_is_found_in_a_file_below_the_best(
    tmp_path: Path,
) -> None:
    """ "not allowed!" is searched as `allowed`, and thirty files say it more than the one
    printing it. Fails while only the best files' chunks are read back."""
    files = {f"rules/r{i}.py": _allowing(i) for i in range(30)}
    files["shop.py"] = DENY_PY
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        first = (await index.search("not allowed!", k=3)).results[0]
        filtered = await index.search("not allowed!", k=3, path_glob="rules/**")
    assert first.path == "shop.py" and "not allowed!" in first.text
    assert all(r.path.startswith("rules/") for r in filtered.results)


async def test_a_literal_that_is_the_whole_message_comes_before_one_opening_with_it(
    tmp_path: Path,
) -> None:
    """Fails while every literal opening with "keyboard cat" counts alike: the file saying
    it most came first."""
    files = {
        "session.py": '# keyboard cat: the keyboard cat secret\nSECRET = "keyboard cat"\n',
        "errors.py": 'def fail():\n    raise RuntimeError("keyboard cat!")\n',
    }
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        first = (await index.search("keyboard cat!", k=3)).results[0]
    assert first.path == "errors.py"


@pytest.mark.parametrize(
    ("query", "text", "whole"),
    [
        ("keyboard cat!", "raise Error('keyboard cat!')", True),
        ("keyboard cat!", 'SECRET = "keyboard cat"', False),
        ("keyboard cat!", "raise Error('Keyboard cat!')", False),  # case as written
        ("cannot find user", "send('cannot find user')", False),  # words alone: a lookup too
    ],
)
def test_a_whole_literal_is_the_query_as_written_with_more_than_words(
    query: str, text: str, whole: bool
) -> None:
    finder = LiteralFinder((("keyboard", "cat"),), at_start=True, whole=query)
    assert finder.whole_in(text) is whole


async def test_a_share_of_a_sentence_s_words_is_not_looked_for_in_any_file(
    tmp_path: Path,
) -> None:
    """ "is not allowed" is three words of five: a literal holding it in a file the query's
    words do not rank is no evidence that it prints the sentence."""
    files = {f"rules/r{i}.py": _allowing(i) for i in range(30)}
    files["shop.py"] = DENY_PY.replace('"not allowed!"', '"a refund is not allowed here"')
    async with built_index(tmp_path / "ws", files, tmp_path / "ocp.db") as index:
        first = (await index.search("this user is not allowed", k=3)).results[0]
    assert first.path != "shop.py"
