"""bench/bench_search_latency.py warns of A's and B's different redaction rules only when
they read the same indexes: with `--b-cache` each has its own, checked against its server."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_search_latency.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_search_latency", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_different_rules_are_warned_of_only_when_both_servers_read_the_same_indexes() -> None:
    warned = _bench().shared_index_rules
    differ = {"a": "main's rules", "b": "the branch's rules"}
    assert warned(differ, False) is None  # --b-cache: each server's own index
    assert "read the same indexes" in warned(differ, True)
    assert warned({"a": "same", "b": "same"}, True) is None
    assert warned({"a": None, "b": "the branch's rules"}, True) is None  # not known
