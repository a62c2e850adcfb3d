"""The chunker's language registry: one module per language, found by its `SPECS`."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ocp_server.index.chunking import chunk_text
from ocp_server.index.chunking.registry import EXTENSIONS, FILENAMES, SPECS, discover, index
from ocp_server.index.languages import SYNTAX_LANGUAGES, detect_language

TOY = """
from ocp_server.index.chunking.python import SPECS as PYTHON
from ocp_server.index.chunking.spec import Def, LanguageSpec


def _definitions(walk, node, in_class):
    if node.type == "function_definition":
        return Def("toy", node.child_by_field_name("name").text.decode())
    return None


SPECS = (
    LanguageSpec(
        name="{name}",
        extensions=(".toy",),
        grammar=PYTHON[0].grammar,
        definitions=_definitions,
        comments=frozenset(),
    ),
)
"""


def make_package(root: Path, package: str, modules: dict[str, str]) -> Path:
    directory = root / package
    directory.mkdir()
    (directory / "__init__.py").write_text("")
    for name, code in modules.items():
        (directory / f"{name}.py").write_text(code)
    return directory


def test_every_grammar_language_has_one_spec_and_its_files_detect_to_it() -> None:
    assert set(SPECS) == SYNTAX_LANGUAGES
    assert len(SPECS) == 12
    for extension, language in EXTENSIONS.items():
        assert detect_language(f"src/file{extension}") == language
    for filename, language in FILENAMES.items():
        assert detect_language(f"src/{filename.title()}") == language
    assert {spec.name for spec in SPECS.values() if not spec.extensions} == set()


def test_a_language_module_dropped_into_the_package_is_found_and_chunks_by_its_definitions(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    directory = make_package(tmp_path, "toylangs", {"toy": TOY.format(name="toy")})
    specs = discover(directory, "toylangs")
    assert list(specs) == ["toy"]
    assert index(specs, lambda spec: spec.extensions) == {".toy": "toy"}
    # The walk runs on the found spec as on a built-in one.
    from ocp_server.index.chunking import cutter, walker

    lines = ["def first():", "    return 1", "", "def second():", "    return 2"]
    opts = cutter.Options(150, 6, 60, 10)
    cut = cutter.Cutter(lines, opts)
    spans = walker.TreeWalker(specs["toy"], lines, cut, opts).run("\n".join(lines) + "\n")
    assert spans is not None
    chunks = cut.finish(spans, 8192)
    assert [(c.symbol, c.kind, c.start_line, c.end_line) for c in chunks] == [
        ("first", "toy", 1, 2),
        ("second", "toy", 4, 5),
    ]
    sys.modules.pop("toylangs.toy", None)
    sys.modules.pop("toylangs", None)


def test_two_modules_defining_one_language_or_claiming_one_extension_are_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(tmp_path))
    twice = make_package(
        tmp_path, "twicelangs", {"a": TOY.format(name="toy"), "b": TOY.format(name="toy")}
    )
    with pytest.raises(RuntimeError, match="defined twice"):
        discover(twice, "twicelangs")
    clash = make_package(
        tmp_path, "clashlangs", {"a": TOY.format(name="one"), "b": TOY.format(name="two")}
    )
    with pytest.raises(RuntimeError, match="'.toy' is claimed by both 'one' and 'two'"):
        index(discover(clash, "clashlangs"), lambda spec: spec.extensions)
    for name in [m for m in sys.modules if m.split(".")[0] in ("twicelangs", "clashlangs")]:
        sys.modules.pop(name)


def test_a_header_that_looks_like_cpp_is_parsed_as_cpp_unless_a_language_is_given() -> None:
    header = "namespace app {\nclass Greeter {\n public:\n  void greet() { hello(); }\n};\n}\n"
    detected = chunk_text("include/greeter.h", header)
    assert ("greet", "method", "app.Greeter") in [(c.symbol, c.kind, c.scope) for c in detected]
    given = chunk_text("include/greeter.h", header, "c")
    assert ("greet", "method", "app.Greeter") not in [(c.symbol, c.kind, c.scope) for c in given]
