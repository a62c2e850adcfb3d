"""A snapshot's path postings: each folder's and each file name's terms are found once per load
(lexical.path_table), and are the same terms, with the same counts, as each whole path's."""

from __future__ import annotations

import numpy as np

from ocp_server.index.lexical import _path_terms, path_table
from ocp_server.index.lexicon import term_hash
from ocp_server.index.postings import Postings

PATHS = [
    "setup.py",
    "src/app/__init__.py",
    "src/app/models.py",
    "src/app/v1.2-beta/models.py",
    "src/lib/__init__.py",
    "docs/user-guide/Getting_Started.md",
    "tests/test_models.py",
    "Makefile",
    "a/b/c/d/e/f/g/deep_file_name.test.tsx",
    "données/été.txt",
    "x" * 300 + "/short.py",  # a word longer than the vocabulary's is dropped, as before
    "src/app/app.py",  # a folder's word again in the name: counted twice
]


def test_path_postings_hold_each_whole_paths_terms_with_their_counts() -> None:
    files = list(range(3, 3 + len(PATHS)))
    keys = [term_hash(t) for p in PATHS for t in _path_terms(p)]
    docs = [i for i, p in zip(files, PATHS, strict=True) for _ in _path_terms(p)]
    expected = Postings.build(np.asarray(keys, dtype=np.uint32), np.asarray(docs, dtype=np.int32))
    table = path_table(PATHS, files)
    assert np.array_equal(table.keys, expected.keys)
    assert np.array_equal(table.starts, expected.starts)
    assert np.array_equal(table.records, expected.records)
    assert len(table.keys) > 20
