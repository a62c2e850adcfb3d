"""`collector.importing`: imports run with the cyclic collector off, and what a block that
imported anything made is frozen out of the collector's walks; the collector is back on
after it, unless it was off before."""

from __future__ import annotations

import gc
import sys
import textwrap
from pathlib import Path

import pytest

from ocp_server.collector import importing


def test_a_block_that_imports_runs_with_the_collector_off_and_freezes_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "ocp_probe_module.py").write_text(
        textwrap.dedent(
            """
            import gc
            ENABLED_WHILE_IMPORTED = gc.isenabled()
            MADE = [{"n": i} for i in range(100)]
            """
        )
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    frozen = gc.get_freeze_count()
    try:
        with importing():
            import ocp_probe_module  # type: ignore[import-not-found]
        assert gc.isenabled()
        assert not ocp_probe_module.ENABLED_WHILE_IMPORTED
        assert gc.get_freeze_count() >= frozen + len(ocp_probe_module.MADE)
    finally:
        gc.unfreeze()  # this test process's objects back in the collector's sight
        sys.modules.pop("ocp_probe_module", None)


def test_a_block_that_imports_nothing_freezes_nothing() -> None:
    frozen = gc.get_freeze_count()
    with importing():
        import json  # noqa: F401 - loaded long before
    assert gc.isenabled() and gc.get_freeze_count() == frozen


def test_the_collector_left_off_before_stays_off() -> None:
    gc.disable()
    try:
        with importing():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
