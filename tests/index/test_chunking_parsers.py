"""Which language a file is chunked as, and the grammars: loaded only when needed, cached per
language and per thread."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from ocp_server.index.chunking.registry import SPECS
from ocp_server.index.chunking.walker import parser
from ocp_server.index.languages import SYNTAX_LANGUAGES, TEXT_LANGUAGES, detect_language
from tests.index.chunk_samples import SAMPLES, chunk_sample


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("src/app.py", "python"),
        ("types.pyi", "python"),
        ("web/index.JS", "javascript"),
        ("web/view.jsx", "javascript"),
        ("a/b.mjs", "javascript"),
        ("src/auth.ts", "typescript"),
        ("src/App.test.tsx", "tsx"),
        ("main.go", "go"),
        ("lib.rs", "rust"),
        ("Main.java", "java"),
        ("x.c", "c"),
        ("x.h", "c"),
        ("x.hpp", "cpp"),
        ("x.cc", "cpp"),
        ("Program.cs", "csharp"),
        ("app.rb", "ruby"),
        ("Rakefile", "ruby"),
        ("Gemfile", "ruby"),
        ("index.php", "php"),
        ("README.md", "markdown"),
        ("C:\\\\repo\\\\docs\\\\GUIDE.MD", "markdown"),
        ("notes.txt", "text"),
        ("package.json", "json"),
        ("ci.yml", "yaml"),
        ("pyproject.toml", "toml"),
        ("run.sh", "shell"),
        ("schema.sql", "sql"),
        ("page.html", "html"),
        ("site.css", "css"),
        ("Dockerfile", "dockerfile"),
        ("Makefile", "makefile"),
        ("image.png", None),
        ("LICENSE.bin", None),
        ("noextension", None),
        (".npmrc", None),
    ],
)
def test_detect_language_by_extension_and_file_name(path: str, expected: str | None) -> None:
    assert detect_language(path) == expected


def test_every_detected_kind_is_either_a_grammar_markdown_or_plain_text() -> None:
    assert SYNTAX_LANGUAGES.isdisjoint(TEXT_LANGUAGES)
    assert "markdown" not in TEXT_LANGUAGES
    assert {"text", "json", "yaml", "toml", "shell", "sql", "html", "css"} <= TEXT_LANGUAGES


def test_importing_the_chunker_loads_no_grammar_and_chunking_loads_only_the_one_needed() -> None:
    code = (
        "import sys\n"
        "import ocp_server.index.chunking as c\n"
        "assert not [m for m in sys.modules if m.startswith('tree_sitter')], sys.modules\n"
        "c.chunk_text('a.py', 'def f():\\n    pass\\n')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('tree_sitter_') and '.' not in m)\n"
        "assert loaded == ['tree_sitter_python'], loaded\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _parser(language: str) -> object:
    return parser(SPECS[language])


def test_parsers_are_cached_per_language_and_per_thread() -> None:
    assert _parser("python") is _parser("python")
    assert _parser("go") is not _parser("python")
    other: list[object] = []
    thread = threading.Thread(target=lambda: other.append(_parser("python")))
    thread.start()
    thread.join()
    assert other[0] is not _parser("python")


def test_chunking_from_many_threads_gives_the_same_result_as_one() -> None:
    expected = {language: chunk_sample(language) for language in SAMPLES}
    failures: list[str] = []

    def work() -> None:
        for _ in range(20):
            for language in SAMPLES:
                if chunk_sample(language) != expected[language]:
                    failures.append(language)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
