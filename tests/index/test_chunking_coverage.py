"""Every non-blank line is covered, for random line soup and for real files in site-packages."""

from __future__ import annotations

import os
import sysconfig
import zlib
from collections.abc import Iterator
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ocp_server.index.chunking import chunk_text
from ocp_server.index.languages import detect_language
from tests.index.chunk_samples import assert_invariants

FRAGMENTS = [
    "import os",
    "from x import (a,",
    "def f(x):",
    "    return x",
    "class A(B):",
    '    """doc"""',
    "    def m(self):",
    "        pass",
    "@decorator",
    "# comment",
    "function g() {",
    "}",
    "};",
    "class C {",
    "  public:",
    "  void h() { }",
    "fn r() -> u8 { 0 }",
    "impl T for S {",
    "func (s *S) M() {",
    "type X struct {",
    "#[derive(Debug)]",
    "/// doc",
    "/* block",
    "*/",
    "<?php",
    "module M",
    "  def x",
    "end",
    "namespace N {",
    "# Heading",
    "```",
    "===",
    "\tindented\twith\ttabs",
    "ünïcødé ✓ 😀",
    "'unterminated",
    "x" * 300,
    "",
    "   ",
]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    picks=st.lists(st.sampled_from(FRAGMENTS), max_size=80),
    path=st.sampled_from(
        ["a.py", "a.js", "a.ts", "a.tsx", "a.go", "a.rs", "A.java", "a.c", "a.cpp", "a.cs"]
        + ["a.rb", "a.php", "a.md", "a.txt"]
    ),
    newline=st.sampled_from(["\n", "\r\n"]),
    max_lines=st.integers(min_value=3, max_value=40),
)
def test_every_non_blank_line_is_covered_for_arbitrary_line_soup(
    picks: list[str], path: str, newline: str, max_lines: int
) -> None:
    text = newline.join(picks)
    chunks = chunk_text(
        path,
        text,
        max_chunk_lines=max_lines,
        window_lines=max(2, max_lines // 2),
        window_overlap=1,
        max_chunk_chars=512,
    )
    assert_invariants(text, chunks, max_chars=512)


def _real_files(per_language: int) -> Iterator[Path]:
    root = Path(sysconfig.get_paths()["purelib"])
    seen: dict[str, int] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for name in sorted(filenames):
            language = detect_language(name)
            if language is None or seen.get(language, 0) >= per_language:
                continue
            path = Path(dirpath) / name
            if path.stat().st_size > 1_500_000:
                continue
            if zlib.crc32(name.encode()) % 3 == 0 or language != "python":
                seen[language] = seen.get(language, 0) + 1
                yield path


def test_every_non_blank_line_of_real_files_in_site_packages_is_covered() -> None:
    checked = 0
    for path in _real_files(per_language=250):
        text = path.read_bytes().decode("utf-8", "replace")
        assert_invariants(text, chunk_text(str(path), text))
        checked += 1
    assert checked > 250
