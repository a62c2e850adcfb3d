"""Markdown split by headings, and text without structure cut into overlapping windows."""

from __future__ import annotations

import pytest

from ocp_server.index.chunking import chunk_text
from tests.index.chunk_samples import assert_invariants, rows, src

MARKDOWN = src(
    """
    ---
    title: Guide
    ---

    Intro paragraph.

    # Guide

    Welcome.

    ## Install

    ```bash
    # not a heading
    pip install ocp
    ```

    ## Usage
    Run it.

    Setext Title
    ============

    Body.

    ### Deep ###
    text
    """
)


def test_markdown_is_split_by_headings_with_the_enclosing_headings_as_scope() -> None:
    chunks = chunk_text("docs/guide.md", MARKDOWN)
    assert rows(chunks) == [
        (None, "preamble", None, 1, 5),
        ("Guide", "section", None, 7, 9),
        ("Install", "section", "Guide", 11, 16),
        ("Usage", "section", "Guide", 18, 19),
        ("Setext Title", "section", None, 21, 24),
        ("Deep", "section", "Setext Title", 26, 27),
    ]
    assert "# not a heading" in chunks[2].text
    assert_invariants(MARKDOWN, chunks)


def test_an_oversized_markdown_section_is_windowed_and_keeps_its_heading() -> None:
    text = "# Intro\n\nshort\n\n# Reference\n" + "".join(f"- item {i}\n" for i in range(100))
    chunks = chunk_text("ref.md", text, max_chunk_lines=50, window_lines=40, window_overlap=5)
    assert rows(chunks) == [
        ("Intro", "section", None, 1, 3),
        ("Reference", "section", None, 5, 44),
        ("Reference", "section", None, 40, 79),
        ("Reference", "section", None, 75, 105),
    ]


def test_markdown_without_headings_is_windowed() -> None:
    text = "".join(f"line {i}\n" for i in range(70))
    assert [c.kind for c in chunk_text("notes.md", text)] == ["window", "window"]


def test_plain_text_is_cut_into_overlapping_windows() -> None:
    text = "".join(f"row {i}\n" for i in range(130))
    chunks = chunk_text("data.txt", text, window_lines=60, window_overlap=10)
    assert rows(chunks) == [
        (None, "window", None, 1, 60),
        (None, "window", None, 51, 110),
        (None, "window", None, 101, 130),
    ]
    assert chunks[1].text.split("\n")[0] == "row 50"


def test_a_last_window_adding_under_min_chunk_lines_lines_is_folded_into_the_one_before() -> None:
    text = "".join(f"row {i}\n" for i in range(115))
    chunks = chunk_text("data.txt", text, window_lines=60, window_overlap=10, min_chunk_lines=6)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 60), (51, 115)]


def test_windows_skip_blank_stretches_and_never_start_or_end_on_a_blank_line() -> None:
    text = "a\n" + "\n" * 100 + "b\n"
    chunks = chunk_text("gap.txt", text, window_lines=30, window_overlap=5)
    assert [(c.start_line, c.end_line) for c in chunks] == [(1, 1), (102, 102)]


@pytest.mark.parametrize(
    ("path", "language"),
    [
        ("data.json", None),
        ("conf.yaml", None),
        ("x.unknown", None),
        ("noext", None),
        ("a.py", "text"),
    ],
)
def test_unknown_and_plain_text_kinds_are_windowed(path: str, language: str | None) -> None:
    text = "".join(f"def f{i}(): pass\n" for i in range(80))
    chunks = chunk_text(path, text, language, window_lines=50, window_overlap=10)
    assert rows(chunks) == [(None, "window", None, 1, 50), (None, "window", None, 41, 80)]
