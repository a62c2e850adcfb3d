"""The savings report's latency percentiles (`ocp-server stats`: p50/p90/p99 per backend) are
nearest-rank: the smallest value with at least q% of the values at or below it."""

from __future__ import annotations

import pytest

from ocp_server.savings import percentile


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([100.0, 200.0], 50, 100.0),  # half the answers took at most 100 ms
        ([float(v) for v in range(1, 11)], 50, 5.0),
        ([float(v) for v in range(1, 11)], 90, 9.0),
        ([float(v) for v in range(1, 101)], 99, 99.0),
        ([float(v) for v in range(1, 101)], 7, 7.0),  # 7/100 * 100 is 7.000000000000001
        ([float(v) for v in range(1, 5)], 50, 2.0),
        ([float(v) for v in range(1, 5)], 90, 4.0),
        ([5.0], 99, 5.0),
        ([], 50, 0.0),
    ],
)
def test_a_percentile_is_the_nearest_rank(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == expected
