"""The `path_glob` and `language` masks a snapshot keeps for its next searches
(index/filter_masks.py): built once per filter and snapshot, bounded, and never read by a
search of another snapshot (a changed index answers with its own files)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from ocp_server.index import search as search_module
from ocp_server.index.filter_masks import FilterMasks
from ocp_server.index.globs import glob_matcher
from ocp_server.index.models import SearchResponse
from ocp_server.index.workspace import WorkspaceIndex


def _mask(n: int, at: int = 0) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[at] = True
    return mask


def test_a_mask_is_built_once_and_read_only() -> None:
    masks = FilterMasks()
    built: list[int] = []

    def build() -> np.ndarray:
        built.append(1)
        return _mask(4)

    first = masks.get(("path_glob", "src/*"), build)
    again = masks.get(("path_glob", "src/*"), build)
    assert again is first and len(built) == 1
    with pytest.raises(ValueError, match="read-only"):
        first[1] = True


def test_the_least_recently_used_mask_goes_first_past_the_count() -> None:
    masks = FilterMasks(max_masks=2, max_bytes=1_000)
    masks.get(("language", "python"), lambda: _mask(4))
    masks.get(("language", "go"), lambda: _mask(4))
    masks.get(("language", "python"), lambda: _mask(4))  # used again: go is the oldest now
    masks.get(("language", "rust"), lambda: _mask(4))
    rebuilt: list[str] = []

    def build(name: str) -> np.ndarray:
        rebuilt.append(name)
        return _mask(4)

    for name in ("python", "rust", "go"):
        masks.get(("language", name), partial(build, name))
    assert rebuilt == ["go"] and len(masks) == 2


def test_masks_are_bounded_in_bytes_and_one_too_large_is_not_kept() -> None:
    masks = FilterMasks(max_masks=10, max_bytes=10)
    masks.get(("path_glob", "a*"), lambda: _mask(4))
    masks.get(("path_glob", "b*"), lambda: _mask(4))
    masks.get(("path_glob", "c*"), lambda: _mask(4))  # 12 bytes: a* goes
    assert len(masks) == 2
    large = masks.get(("path_glob", "d*"), lambda: _mask(11))
    assert large.sum() == 1 and len(masks) == 2  # answered, not kept, nothing dropped for it


async def _indexed(tmp_path: Path, files: dict[str, str]) -> tuple[Path, WorkspaceIndex]:
    ws = tmp_path / "ws"
    for name, text in files.items():
        (ws / name).parent.mkdir(parents=True, exist_ok=True)
        (ws / name).write_text(text)
    index = await WorkspaceIndex.open(ws, tmp_path / "ocp.db")
    await index.update()
    return ws, index


def _paths(response: SearchResponse) -> set[str]:
    return {r.path for r in response.results}


async def test_filtered_searches_of_one_snapshot_build_each_mask_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws, index = await _indexed(
        tmp_path,
        {
            "src/refund.py": "def compute_refund(order):\n    return order.total\n",
            "web/refund.ts": "export function computeRefund(order) { return order.total }\n",
        },
    )
    globs: list[str] = []

    def counted(pattern: str) -> Callable[[str], bool]:
        globs.append(pattern)
        return glob_matcher(pattern)

    monkeypatch.setattr(search_module, "glob_matcher", counted)
    try:
        for query in ("compute refund", "refund order total", "compute refund"):
            found = await index.search(query, path_glob="src/**", language="python")
            assert _paths(found) == {"src/refund.py"}
        web = await index.search("compute refund", path_glob="web/")
    finally:
        await index.close()
    assert globs == ["src/**", "web/*"]
    assert _paths(web) == {"web/refund.ts"}


async def test_a_changed_index_answers_a_kept_filter_with_its_own_files(tmp_path: Path) -> None:
    # The deleted file comes first among the files: every file after it moves up one place in
    # the new snapshot, so a mask kept from the old one would keep the wrong files.
    ws, index = await _indexed(
        tmp_path,
        {
            "a/first.py": "def compute_refund(order):\n    return order.total\n",
            "src/refund.py": "def compute_refund_total(order):\n    return order.total\n",
            "src/zlast.go": "func computeRefund(order Order) int { return order.Total }\n",
        },
    )
    try:
        before = await index.search("compute refund", path_glob="src/*", language="python")
        by_glob = await index.search("compute refund", path_glob="src/*")
        (ws / "a" / "first.py").unlink()
        (ws / "src" / "added.py").write_text("def compute_refund_again(order):\n    pass\n")
        await index.update()
        after = await index.search("compute refund", path_glob="src/*", language="python")
        by_glob_after = await index.search("compute refund", path_glob="src/*")
        unmatched = await index.search("compute refund", path_glob="a/*")
    finally:
        await index.close()
    assert _paths(before) == {"src/refund.py"}
    assert _paths(by_glob) == {"src/refund.py", "src/zlast.go"}
    assert _paths(after) == {"src/refund.py", "src/added.py"}
    assert _paths(by_glob_after) == {"src/refund.py", "src/zlast.go", "src/added.py"}
    assert not unmatched.results
    assert unmatched.note and "no indexed file matches `path_glob`" in unmatched.note
