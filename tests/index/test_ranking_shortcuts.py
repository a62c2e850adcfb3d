"""The shortcuts the ranking takes for speed answer exactly as the plain computation does:
values reduced over the candidates' own ranges, the best chunks of many files found at once,
and distinct definitions found without np.unique."""

from __future__ import annotations

import numpy as np
import pytest

from ocp_server.index.chunk_choice import ChunkScores, ascending_distinct
from ocp_server.index.hits import Ranges


def test_ranges_reduce_each_range_and_give_zero_for_an_empty_one() -> None:
    values = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 0.0])  # the last: past every range
    edges = np.array([0, 2, 2, 2, 3, 7], dtype=np.int64)  # [0, 2), [2, 2), [3, 7)
    ranges = Ranges.of(edges)
    assert ranges.reduce(np.maximum, values).tolist() == [3.0, 0.0, 9.0]
    assert ranges.reduce(np.add, values).tolist() == [4.0, 0.0, 17.0]


def test_the_best_chunks_of_many_files_are_each_files_own_best() -> None:
    rng = np.random.default_rng(5)
    chunks = np.sort(rng.choice(200, size=80, replace=False)).astype(np.int64)
    values = rng.integers(0, 4, size=80).astype(np.float64)  # ties and zeros
    scores = ChunkScores(chunks, values)
    bounds = np.sort(rng.choice(np.arange(1, 200), size=39, replace=False))
    lo = np.concatenate(([0], bounds)).astype(np.int64)
    hi = np.concatenate((bounds, [200])).astype(np.int64)
    order = rng.permutation(len(lo))  # files in rank order, not by position
    lo, hi = lo[order], hi[order]
    got = scores.best_of_files(lo, hi).tolist()
    assert got == [scores.best_of_file(int(a), int(b)) for a, b in zip(lo, hi, strict=True)]


@pytest.mark.parametrize("values", [[], [4], [3, 1, 3, 2, 1], list(range(50, 0, -3)) * 2])
def test_distinct_definitions_come_ascending_as_numpy_unique_gives_them(values: list[int]) -> None:
    array = np.asarray(values, dtype=np.int64)
    assert ascending_distinct(array).tolist() == np.unique(array).tolist()


def test_distinct_definitions_are_found_without_loading_numpy_ma_a_40_ms_import() -> None:
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from ocp_server.index.chunk_choice import ascending_distinct\n"
        "ascending_distinct(np.asarray([3, 1, 3]))\n"
        "print('numpy.ma' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
