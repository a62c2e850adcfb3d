"""Files the chunker must survive: empty, comments only, invalid syntax, enormous lines, odd bytes,
deep nesting, invalid options."""

from __future__ import annotations

import time

import pytest

from ocp_server.index.chunking import MAX_CHUNK_CHARS, chunk_text
from tests.index.chunk_samples import SAMPLES, assert_invariants, rows


def test_empty_and_blank_files_have_no_chunks() -> None:
    assert chunk_text("a.py", "") == []
    assert chunk_text("a.py", "\n\n   \n\t\n") == []
    assert chunk_text("a.md", "\r\n\r\n") == []


def test_a_file_of_only_comments_is_one_preamble() -> None:
    text = "// one\n// two\n/* three */\n"
    assert rows(chunk_text("c.go", text)) == [(None, "preamble", None, 1, 3)]


@pytest.mark.parametrize("language", sorted(SAMPLES))
def test_invalid_syntax_still_yields_chunks_covering_the_file(language: str) -> None:
    path, text = SAMPLES[language]
    lines = text.split("\n")
    broken = "\n".join(
        lines[: len(lines) // 2] + ["}}} ))) def class ((( {{{ @@@ ;;"] + lines[len(lines) // 2 :]
    )
    chunks = chunk_text(path, broken)
    assert chunks
    assert_invariants(broken, chunks)


def test_python_with_a_syntax_error_keeps_the_definitions_it_can_recognise() -> None:
    text = "def broken(:\n    pass\n\n\ndef fine():\n    return 1\n"
    chunks = chunk_text("e.py", text)
    assert ("fine", "function", None, 5, 6) in rows(chunks)
    assert_invariants(text, chunks)


def test_a_two_megabyte_minified_line_is_sliced_by_characters_quickly() -> None:
    line = "var a=function(b){return b+1};" * 70_000
    assert len(line) > 2_000_000
    started = time.thread_time()  # CPU time: the work, not the waits for a busy core
    chunks = chunk_text("vendor/app.min.js", line + "\n")
    assert time.thread_time() - started < 2.0
    assert all(c.start_line == c.end_line == 1 for c in chunks)
    assert all(len(c.text) <= MAX_CHUNK_CHARS for c in chunks)
    assert "".join(c.text for c in chunks) == line


def test_an_enormous_line_inside_code_is_sliced_and_the_rest_stays_whole() -> None:
    functions = "".join(f"def f{i}(x):\n    return x + {i}\n\n\n" for i in range(800))
    text = functions + "BLOB = '" + "x" * 5000 + "'\n\n\ndef g():\n    return 2\n"
    chunks = chunk_text("blob.py", text, max_chunk_chars=1024)
    assert_invariants(text, chunks, max_chars=1024)
    blob_line = functions.count("\n") + 1
    assert ("f0", "function", None, 1, 2) in rows(chunks)
    assert ("g", "function", None, blob_line + 3, blob_line + 4) in rows(chunks)
    slices = [c for c in chunks if c.start_line == c.end_line == blob_line]
    assert len(slices) >= 5
    assert "".join(c.text for c in slices) == text.split("\n")[blob_line - 1]


def test_a_chunk_over_the_character_cap_is_cut_into_line_groups() -> None:
    body = "".join(f"    value_{i} = '{'y' * 90}'\n" for i in range(120))
    text = "def wide():\n" + body
    chunks = chunk_text("wide.py", text, max_chunk_chars=4000)
    assert len(chunks) >= 3
    assert {(c.symbol, c.kind) for c in chunks} == {("wide", "function")}
    assert_invariants(text, chunks, max_chars=4000)


def test_tabs_non_ascii_and_a_byte_order_mark_keep_line_numbers_right() -> None:
    text = (
        "\ufeffdef grüße():\n\treturn 'héllo wörld ✓'\n\n\n"
        "# 注释\nclass Ünïcode:\n\tdef méthode(self):\n\t\treturn '😀'\n"
    )
    chunks = chunk_text("u.py", text)
    assert rows(chunks) == [
        ("grüße", "function", None, 1, 2),
        ("Ünïcode", "class", None, 5, 6),
        ("méthode", "method", "Ünïcode", 7, 8),
    ]
    assert_invariants(text, chunks)


def test_nul_bytes_and_garbage_do_not_raise() -> None:
    text = "\x00\x01\x02 binary \xff\ufffd\n" * 50 + "def f():\n    pass\n"
    for path in ("bin.py", "bin.js", "bin.c", "bin.md", "bin.dat"):
        assert_invariants(text, chunk_text(path, text))


def test_absurdly_deep_nesting_falls_back_to_windows_instead_of_raising() -> None:
    depth = 3000
    text = "".join(f"namespace N{i} {{\n" for i in range(depth)) + "}\n" * depth
    chunks = chunk_text("deep.cpp", text)
    assert_invariants(text, chunks)


def test_invalid_options_are_rejected() -> None:
    with pytest.raises(ValueError):
        chunk_text("a.py", "x = 1\n", window_lines=10, window_overlap=10)
    with pytest.raises(ValueError):
        chunk_text("a.py", "x = 1\n", max_chunk_lines=0)


def test_a_dot_h_header_that_is_really_cpp_is_parsed_as_cpp() -> None:
    text = "namespace geo {\nclass Shape {\npublic:\n    double area() const { return 0; }\n};\n}\n"
    symbols = {(c.symbol, c.kind, c.scope) for c in chunk_text("include/shape.h", text)}
    assert ("area", "method", "geo.Shape") in symbols
