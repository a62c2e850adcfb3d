"""What kind of file a path is, for ranking (code questions want code first): source, its
tests, code beside the product, prose or configuration; and a file's stem."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from ocp_server.index.languages import detect_language

__all__ = ["FileClass", "classify_path", "file_classes", "file_stem"]

_PROSE = frozenset({"markdown", "text", "rst"})
_CONFIG = frozenset({"json", "yaml", "toml", "ini", "xml", "csv", "html", "css", "diff"})
_TEST_PATH = re.compile(
    r"(?:^|/)(?:tests?|__tests__|specs?|testing|testdata)/|(?:^|/)test_[^/]*$|"
    r"_test\.\w+$|_spec\.\w+$|\.(?:test|spec)\.\w+$|(?:^|/)conftest\.py$"
)
_AUX_PATH = re.compile(
    r"(?:^|/)(?:docs?|examples?|samples?|demos?|bench(?:es|marks?)?|scripts?|tools|contrib)/"
)


class FileClass:
    """What a file is, for ranking: code questions want code first."""

    CODE = 0  # source
    TEST = 1  # tests of the source
    AUX = 2  # code beside the product: docs/, examples/, benchmarks/, scripts/
    PROSE = 3  # markdown, reStructuredText, plain text, unknown kinds
    CONFIG = 4  # json, yaml, toml, ini, xml, html, css, csv


def classify_path(path: str, language: str | None) -> int:
    lang = language if language is not None else detect_language(path)
    if lang is None or lang in _PROSE:
        return FileClass.PROSE
    if lang in _CONFIG:
        return FileClass.CONFIG
    lower = path.lower()
    if _TEST_PATH.search(lower):
        return FileClass.TEST
    if _AUX_PATH.search(lower):
        return FileClass.AUX
    return FileClass.CODE


def file_stem(path: str) -> str:
    """`src/click/termui.py` -> "termui"; `test/res.send.js` -> "res"."""
    return posixpath.basename(path).split(".", 1)[0].lower()


def file_classes(paths: Sequence[str], languages: Sequence[str | None]) -> npt.NDArray[np.int8]:
    return np.fromiter(
        (classify_path(p, lang) for p, lang in zip(paths, languages, strict=True)),
        dtype=np.int8,
        count=len(paths),
    )
