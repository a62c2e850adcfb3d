"""A proxied request's counterfactual is the cost had it gone to the model it asked for (the
dashboard's "had every request gone to the model it asked for"); its stored trace names that
model, and `ocp-server stats`, which labels its counterfactual with the top model, says which
requests it priced otherwise."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import anthropic
import pytest

from ocp_router.prices import DEFAULT_PRICES
from ocp_server.savings import counterfactual_label
from tests.proxy.conftest import RunningProxy
from tests.proxy.dialects import HARD


def test_a_proxied_trace_names_the_model_its_counterfactual_was_priced_on(
    start_proxy: Callable[..., RunningProxy], proxy_env: dict[str, str], tmp_path: Path
) -> None:
    proxy = start_proxy(proxy_env)
    with anthropic.Anthropic(base_url=proxy.url, api_key="sk-ant-test", max_retries=0) as client:
        answer = client.messages.create(
            model="claude-sonnet-4-6", max_tokens=50, messages=[{"role": "user", "content": HARD}]
        )
    proxy.stop()  # writes what is queued
    with sqlite3.connect(tmp_path / "ocp.db") as db:
        ((model, counterfactual),) = db.execute(
            "SELECT counterfactual_model, counterfactual_usd FROM traces"
        ).fetchall()
    # It said the router's top model (claude-opus-5-5 here) beside a sum priced on Sonnet.
    assert model == "claude-sonnet-4-6"
    usage = answer.usage
    assert counterfactual == DEFAULT_PRICES["claude-sonnet-4-6"].cost(
        usage.input_tokens, usage.output_tokens
    )
    report = subprocess.run(
        [sys.executable, "-m", "ocp_server.cli", "--workspace", str(tmp_path / "ws"), "stats"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "OCP_DB_PATH": str(tmp_path / "ocp.db"),
            "OCP_PAID_TOP_MODEL": "claude-opus-5-5",
            "COLUMNS": "200",
        },
    )
    assert report.returncode == 0, report.stderr
    first = report.stdout.splitlines()[0]
    assert "all on claude-opus-5-5" not in first, first
    assert "vs $0.0002 each on the model it asked for (proxied)" in first, first


@pytest.mark.parametrize(
    ("routes", "proxied", "label"),
    [
        (3, 0, "all on claude-opus-5-5"),
        (3, 3, "each on the model it asked for (proxied)"),
        (3, 1, "on claude-opus-5-5 (1 proxied: on the model it asked for)"),
    ],
)
def test_the_reports_counterfactual_says_what_it_was_priced_on(
    routes: int, proxied: int, label: str
) -> None:
    stats = {"counterfactual_model": "claude-opus-5-5", "routes": routes, "proxied_routes": proxied}
    assert counterfactual_label(stats) == label
