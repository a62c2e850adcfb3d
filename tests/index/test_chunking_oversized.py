"""Tiny top-level neighbours merged into a preamble, big constants standing alone, and oversized
definitions and statements cut into parts that keep their identity."""

from __future__ import annotations

from ocp_server.index.chunking import chunk_text
from tests.index.chunk_samples import assert_invariants, rows, src


def test_tiny_top_level_neighbours_merge_into_one_preamble_and_big_constants_stand_alone() -> None:
    text = src(
        """
        import os
        import sys

        VERSION = "1.0"
        DEBUG = os.environ.get("DEBUG") == "1"
        SMALL = {
            "a": 1,
        }

        SETTINGS = {
            "debug": DEBUG,
            "version": VERSION,
            "paths": sys.path,
            "cwd": os.getcwd(),
            "env": dict(os.environ),
        }
        print(SETTINGS)


        def main() -> None:
            print(VERSION)
        """
    )
    assert rows(chunk_text("settings.py", text)) == [
        (None, "preamble", None, 1, 8),
        ("SETTINGS", "constant", None, 10, 16),
        (None, "preamble", None, 17, 17),
        ("main", "function", None, 20, 21),
    ]


def test_an_oversized_function_is_split_into_overlapping_parts_that_keep_its_identity() -> None:
    body = "".join(f"    total += {i}\n" for i in range(400))
    text = "class Calc:\n    def big(self):\n        total = 0\n" + body.replace("    ", "        ")
    chunks = chunk_text("calc.py", text, max_chunk_lines=150, window_overlap=10)
    parts = [c for c in chunks if c.symbol == "big"]
    assert [(c.start_line, c.end_line) for c in parts] == [(2, 142), (133, 273), (264, 403)]
    assert {(c.kind, c.scope) for c in parts} == {("method", "Calc")}
    assert all(c.end_line - c.start_line + 1 <= 150 for c in parts)
    assert_invariants(text, chunks)


def test_oversized_parts_prefer_to_end_at_a_blank_line() -> None:
    lines = ["def long():"]
    for block in range(8):
        lines += [f"    x{block}_{i} = {i}" for i in range(24)] + [""]
    text = "\n".join(lines) + "\n    return 0\n"
    chunks = chunk_text("long.py", text, max_chunk_lines=60, window_overlap=5)
    assert len(chunks) > 1
    for chunk in chunks[:-1]:
        next_line = text.split("\n")[chunk.end_line]
        assert next_line == "", chunk  # each part stops just before a blank line
        assert chunk.end_line - chunk.start_line + 1 <= 60
    assert_invariants(text, chunks)


def test_an_oversized_preamble_is_cut_at_statement_boundaries_keeping_comments_with_code() -> None:
    steps = "".join(f"# step {i}\nprint({i})\n" for i in range(100))
    text = "import os\n" + steps
    chunks = chunk_text("script.py", text, max_chunk_lines=150, window_lines=60, window_overlap=10)
    assert rows(chunks) == [
        (None, "preamble", None, 1, 59),
        (None, "preamble", None, 60, 119),
        (None, "preamble", None, 120, 179),
        (None, "preamble", None, 180, 201),
    ]
    assert all(c.text.startswith(("import", "# step")) for c in chunks)


def test_a_single_oversized_top_level_statement_is_cut_into_line_windows() -> None:
    text = "run(\n" + "".join(f"    {i},\n" for i in range(198)) + ")\n"
    chunks = chunk_text("script.py", text, max_chunk_lines=150, window_lines=60, window_overlap=10)
    assert rows(chunks) == [
        (None, "preamble", None, 1, 60),
        (None, "preamble", None, 51, 110),
        (None, "preamble", None, 101, 160),
        (None, "preamble", None, 151, 200),
    ]


def test_closing_braces_join_the_chunk_before_and_access_modifiers_the_member_after() -> None:
    text = src(
        """
        class Box {
            int v;
        public:
            int get() const { return v; }
        private:
            void set(int x) { v = x; }
        };
        """
    )
    assert rows(chunk_text("box.cpp", text)) == [
        ("Box", "class", None, 1, 3),
        ("get", "method", "Box", 4, 4),
        ("set", "method", "Box", 5, 7),
    ]
