"""`ocp-server stats --html`: one self-contained page, inert whatever the data holds, and drawn
for real by a headless Chromium (the DOM it dumps is checked mark by mark against the input).

The Chromium tests carry the `browser` marker: `uv run pytest` leaves them out (a fresh machine
has no browser); `uv run pytest -m browser` runs them (CI installs chromium first)."""

from __future__ import annotations

import copy
import html
import json
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from ocp_server.report_html import render_html
from tests.server.report_dom import CHROMIUM_FLAGS, Dom, chromium

SERIES = ("local", "mid", "top", "other")
HOSTILE_TASK = "</script><script>alert(1)</script>"
HOSTILE_BACKEND = "<img src=x onerror=alert(2)>"
HOSTILE_MODEL = '"><svg onload=alert(3)><!--'
HOSTILE_WORKSPACE = "/tmp/</title><b>&amp;"


def sample_stats() -> dict[str, Any]:
    local = [3, 5, 0, 6, 4, 7, 5]
    mid = [1, 0, 2, 1, 2, 1, 1]
    top = [0, 1, 0, 1, 1, 0, 1]
    other = [0, 0, 0, 0, 0, 1, 0]
    cost = [0.02, 0.08, 0.05, 0.1, 0.09, 0.0, 0.0921]
    counter = [0.3, 0.5, 0.2, 0.7, 0.6, 0.4, 0.51]
    return {
        "since": 1735689600.0,
        "until": 1736294400.0,
        "generated_at": 1736294400.0,
        "workspace": "/home/dev/project",
        "sessions": 4,
        "routes": 42,
        "errors": 1,
        "prompt_tokens": 120000,
        "completion_tokens": 30000,
        "cost_usd": 0.4321,
        "unpriced": 2,
        "counterfactual_model": "claude-opus-4",
        "counterfactual_usd": 3.21,
        "savings_usd": 2.7779,
        "savings_pct": 86.5,
        "escalations": 3,
        "fallbacks": 2,
        "budget_downgrades": 1,
        "pinned": 1,
        "by_tier": {
            "local": {
                "routes": 30,
                "prompt_tokens": 80000,
                "completion_tokens": 20000,
                "cost_usd": 0.0,
                "counterfactual_usd": 2.0,
            },
            "mid": {
                "routes": 8,
                "prompt_tokens": 30000,
                "completion_tokens": 8000,
                "cost_usd": 0.2,
                "counterfactual_usd": 0.9,
            },
            "top": {
                "routes": 4,
                "prompt_tokens": 10000,
                "completion_tokens": 2000,
                "cost_usd": 0.2321,
                "counterfactual_usd": 0.31,
            },
        },
        "by_task_type": {
            "explain": {"routes": 20, "local": 18, "mid": 2, "top": 0, "other": 0},
            "refactor": {"routes": 22, "local": 12, "mid": 6, "top": 4, "other": 0},
        },
        "by_phase": {"explicit": 2, "heuristic": 25, "cache": 10, "llm_classifier": 5},
        "classifier_cache": {"hits": 10, "lookups": 15, "hit_rate": 10 / 15},
        "latency": {
            "ollama": {"count": 30, "errors": 0, "p50": 850.0, "p90": 2100.0, "p99": 4000.0},
            "anthropic": {"count": 12, "errors": 1, "p50": 3200.0, "p90": 7000.0, "p99": 9100.0},
        },
        "latency_histogram": {
            "edges_ms": [250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0],
            "by_backend": {
                "ollama": [2, 5, 10, 9, 4, 0, 0],
                "anthropic": [0, 0, 0, 3, 5, 3, 1],
            },
        },
        "daily": [
            {
                "day": f"2025-01-0{i + 1}",
                "local": local[i],
                "mid": mid[i],
                "top": top[i],
                "other": other[i],
                "cost_usd": cost[i],
                "counterfactual_usd": counter[i],
            }
            for i in range(7)
        ],
        # Keys a later version may add: ignored, even when they are not JSON.
        "future_field": {"anything": object()},
    }


def empty_stats() -> dict[str, Any]:
    return {
        "since": 1735689600.0,
        "until": 1736294400.0,
        "generated_at": 1736294400.0,
        "workspace": "/home/dev/project",
        "sessions": 0,
        "routes": 0,
        "errors": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
        "unpriced": 0,
        "counterfactual_model": "claude-opus-4",
        "counterfactual_usd": 0.0,
        "savings_usd": 0.0,
        "savings_pct": None,
        "escalations": 0,
        "fallbacks": 0,
        "budget_downgrades": 0,
        "pinned": 0,
        "by_tier": {},
        "by_task_type": {},
        "by_phase": {"explicit": 0, "heuristic": 0, "cache": 0, "llm_classifier": 0},
        "classifier_cache": {"hits": 0, "lookups": 0, "hit_rate": None},
        "latency": {},
        "latency_histogram": {"edges_ms": [250.0, 1000.0], "by_backend": {}},
        "daily": [],
    }


def hostile_stats() -> dict[str, Any]:
    stats = copy.deepcopy({k: v for k, v in sample_stats().items() if k != "future_field"})
    stats["workspace"] = HOSTILE_WORKSPACE
    stats["counterfactual_model"] = HOSTILE_MODEL
    stats["by_task_type"][HOSTILE_TASK] = {"routes": 1, "local": 1, "mid": 0, "top": 0, "other": 0}
    stats["by_tier"][HOSTILE_TASK] = dict(stats["by_tier"]["top"])
    stats["latency"][HOSTILE_BACKEND] = {
        "count": 3,
        "errors": 0,
        "p50": 10.0,
        "p90": 20.0,
        "p99": 30.0,
    }
    stats["latency_histogram"]["by_backend"][HOSTILE_BACKEND] = [1, 1, 0, 0, 0, 0, 1]
    stats["by_phase"][HOSTILE_TASK] = 1
    return stats


def strict_json(text: str) -> Any:
    def reject(constant: str) -> Any:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=reject)


def run_chromium(tmp_path: Path, document: str, *args: str) -> subprocess.CompletedProcess[str]:
    page = tmp_path / "report.html"
    page.write_text(document, encoding="utf-8")
    done = subprocess.run(
        [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={tmp_path / 'chromium-profile'}",
            *args,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def dump_dom(tmp_path: Path, document: str) -> Dom:
    return Dom(run_chromium(tmp_path, document, "--dump-dom").stdout)


def png_pixels(data: bytes) -> tuple[int, int, set[bytes]]:
    """Width, height and the distinct RGB colours of an 8-bit RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, ihdr, idat = 8, b"", bytearray()
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            ihdr = chunk
        elif kind == b"IDAT":
            idat += chunk
        elif kind == b"IEND":
            break
    width, height, depth, colour_type, _, _, interlace = struct.unpack(">IIBBBBB", ihdr)
    assert depth == 8 and colour_type in (2, 6) and interlace == 0, ihdr
    bpp = 3 if colour_type == 2 else 4
    stride = width * bpp
    raw = zlib.decompress(bytes(idat))
    assert len(raw) == height * (stride + 1)
    prev = bytearray(stride)
    colours: set[bytes] = set()
    for y in range(height):
        start = y * (stride + 1)
        kind_of_filter = raw[start]
        line = bytearray(raw[start + 1 : start + 1 + stride])
        if kind_of_filter == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind_of_filter == 2:
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 0xFF
        elif kind_of_filter == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + (left + prev[i]) // 2) & 0xFF
        elif kind_of_filter == 4:
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        else:
            assert kind_of_filter == 0, kind_of_filter
        colours.update(bytes(line[i : i + 3]) for i in range(0, stride, bpp))
        prev = line
    return width, height, colours


# ---- the document itself ----------------------------------------------------------------------
@pytest.mark.parametrize("stats", [sample_stats(), empty_stats()], ids=["sample", "empty"])
def test_the_document_references_nothing_outside_itself(stats: dict[str, Any]) -> None:
    document = render_html(stats)
    assert document.startswith("<!DOCTYPE html>")
    lowered = document.lower()
    for needle in ("http://", "https://", "url(", "@import", "fetch(", "xmlhttprequest"):
        assert needle not in lowered, needle
    dom = Dom(document)
    assert not dom.tags("link") and not dom.tags("img") and not dom.tags("iframe")
    for tag, attrs in dom.elements:
        assert not {"src", "href", "xlink:href", "srcset", "action"} & attrs.keys(), (tag, attrs)
    scripts = dom.tags("script")
    assert [s.get("type") for s in scripts] == ["application/json", None]
    assert len(dom.tags("style")) == 1


def test_cards_and_tables_are_server_rendered_for_readers_without_javascript() -> None:
    stats = sample_stats()
    dom = Dom(render_html(stats))
    text = dom.all_text()
    for label, value in [
        ("Routes", "42"),
        ("Actual cost", "$0.4321"),
        ("Counterfactual", "$3.21"),
        ("Savings", "$2.78"),
        ("Savings %", "86.5%"),
        ("Escalations", "3"),
        ("Fallbacks", "2"),
        ("Budget downgrades", "1"),
        ("Phase-2 cache hit rate", "66.7%"),
    ]:
        assert f"{label} {value}" in text, label
    assert "all on claude-opus-4" in text  # the counterfactual card and the caption
    assert "saved $2.78 (86.5%)" in text  # the cost chart's caption: totals and savings
    ids = {attrs.get("id") for _, attrs in dom.elements}
    assert {"table-tiers", "table-tasks", "table-latency", "table-phases"} <= ids
    assert "refactor 22 12 6 4 0" in text and "explain 20 18 2 0 0" in text
    assert "anthropic 12 1 3,200 ms 7,000 ms 9,100 ms" in text
    assert "local 30 71.4% 80,000 20,000 $0.00 $2.00 $2.00" in text
    assert "phase 2: classifier cache 10 23.8%" in text
    assert {"chart-tiers", "chart-cost", "chart-latency"} <= ids  # empty until the script runs
    assert not dom.marks
    assert "No routes recorded" not in text


def test_dry_runs_are_shown_as_the_text_report_and_json_count_them() -> None:
    stats = {**sample_stats(), "dry_runs": 7}
    text = Dom(render_html(stats)).all_text()
    assert "7 dry runs (not routes)" in text
    assert strict_json(Dom(render_html(stats)).stats_json)["dry_runs"] == 7
    only_dry = {**empty_stats(), "dry_runs": 1}  # no route, yet something was asked
    assert "1 dry run (not routes)" in Dom(render_html(only_dry)).all_text()


def test_no_routes_renders_the_message_instead_of_charts() -> None:
    dom = Dom(render_html(empty_stats()))
    assert "No routes recorded in this period." in dom.all_text()
    assert not dom.tags("svg")
    assert "no data" in dom.all_text()  # the empty tables say so


def test_embedded_json_is_the_known_keys_and_only_finite_numbers() -> None:
    stats = sample_stats()
    stats["cost_usd"] = float("nan")
    stats["daily"][0]["counterfactual_usd"] = float("inf")
    stats["latency_histogram"]["by_backend"]["ollama"] = [1, 2]  # short: padded to the edges
    data = strict_json(Dom(render_html(stats)).stats_json)
    assert "future_field" not in data
    assert data["cost_usd"] == 0.0 and data["daily"][0]["counterfactual_usd"] == 0.0
    assert data["latency_histogram"]["by_backend"]["ollama"] == [1, 2, 0, 0, 0, 0, 0]
    assert data["daily"][1] == sample_stats()["daily"][1]


def test_hostile_names_stay_text() -> None:
    document = render_html(hostile_stats())
    for raw in (HOSTILE_TASK, HOSTILE_BACKEND, HOSTILE_MODEL, HOSTILE_WORKSPACE):
        assert raw not in document
    for needle in ("<script>alert", "<img", "<svg onload", "<b>", "</title><b>"):
        assert needle not in document, needle
    assert html.escape(HOSTILE_TASK) in document
    assert html.escape(HOSTILE_BACKEND) in document
    dom = Dom(document)
    assert len(dom.tags("script")) == 2 and not dom.tags("img") and not dom.tags("b")
    assert "<" not in dom.stats_json and ">" not in dom.stats_json
    data = strict_json(dom.stats_json)
    assert HOSTILE_TASK in data["by_task_type"]
    assert data["latency_histogram"]["by_backend"][HOSTILE_BACKEND] == [1, 1, 0, 0, 0, 0, 1]
    assert data["counterfactual_model"] == HOSTILE_MODEL
    assert data["workspace"] == HOSTILE_WORKSPACE
    assert HOSTILE_TASK in dom.all_text() and HOSTILE_BACKEND in dom.all_text()


# ---- in a real browser ------------------------------------------------------------------------
@pytest.mark.browser
def test_chromium_draws_every_chart_from_the_data(tmp_path: Path) -> None:
    stats = sample_stats()
    dom = dump_dom(tmp_path, render_html(stats))
    assert dom.body().get("data-charts-drawn") == "3"
    daily = stats["daily"]

    tiers = dom.chart("chart-tiers")
    expected = sorted((d["day"], s, float(d[s])) for d in daily for s in SERIES if d[s] > 0)
    assert sorted((m["data-day"], m["data-series"], float(m["data-value"])) for m in tiers) == (
        expected
    )

    cost = dom.chart("chart-cost")
    expected = sorted(
        [(d["day"], "cost", d["cost_usd"]) for d in daily]
        + [(d["day"], "counterfactual", d["counterfactual_usd"]) for d in daily]
    )
    assert sorted((m["data-day"], m["data-series"], float(m["data-value"])) for m in cost) == (
        expected
    )

    latency = dom.chart("chart-latency")
    hist = stats["latency_histogram"]["by_backend"]
    expected_hist = sorted(
        (name, i, float(n)) for name, counts in hist.items() for i, n in enumerate(counts) if n
    )
    assert (
        sorted((m["data-series"], int(m["data-index"]), float(m["data-value"])) for m in latency)
        == expected_hist
    )
    assert {m["data-bucket"] for m in latency if m["data-index"] == "6"} == {"> 10 s"}

    for svg_id, marks in [("chart-tiers", tiers), ("chart-cost", cost), ("chart-latency", latency)]:
        assert marks, svg_id
        assert all(m["tag"] == "rect" and m["title"].strip() for m in marks), svg_id  # tooltips
    assert "2025-01-04 · local: 6 routes" in {m["title"] for m in tiers}
    assert "2025-01-02 · all on claude-opus-4: $0.5000" in {m["title"] for m in cost}
    assert "ollama · ≤ 1 s: 10 requests" in {m["title"] for m in latency}
    for svg_id, axis_labels in [
        ("chart-tiers", ("day", "routes")),
        ("chart-cost", ("day", "USD")),
        ("chart-latency", ("latency bucket", "requests")),
    ]:
        texts = dom.svg_text[svg_id]
        assert all(label in texts for label in axis_labels), (svg_id, texts)
    assert {"local", "mid", "top", "other"} <= set(dom.svg_text["chart-tiers"])
    assert {"actual cost", "all on claude-opus-4"} <= set(dom.svg_text["chart-cost"])
    assert {"ollama", "anthropic"} <= set(dom.svg_text["chart-latency"])


@pytest.mark.browser
def test_chromium_labels_the_counterfactual_of_mixed_proxied_routes_as_the_caption_does(
    tmp_path: Path,
) -> None:
    # Proxied routes' counterfactual is priced on the model each asked for: the legend said
    # "everything on claude-opus-4" beside a caption saying how many were not.
    stats = sample_stats() | {"proxied_routes": 5}
    dom = dump_dom(tmp_path, render_html(stats))
    label = "on claude-opus-4 (5 proxied: on the model it asked for)"
    assert label in dom.svg_text["chart-cost"]
    assert "2025-01-02 · " + label + ": $0.5000" in {m["title"] for m in dom.chart("chart-cost")}
    assert not any("everything" in t or "all on" in t for t in dom.svg_text["chart-cost"])


@pytest.mark.browser
def test_chromium_shows_the_no_routes_message_for_an_empty_period(tmp_path: Path) -> None:
    dom = dump_dom(tmp_path, render_html(empty_stats()))
    assert dom.body().get("data-charts-drawn") == "0"
    assert "no routes recorded in this period" in dom.all_text().lower()
    assert not dom.marks and not dom.tags("svg")


@pytest.mark.browser
def test_chromium_keeps_hostile_names_as_text(tmp_path: Path) -> None:
    dom = dump_dom(tmp_path, render_html(hostile_stats()))
    assert dom.body().get("data-charts-drawn") == "3"
    assert len(dom.tags("script")) == 2
    assert not dom.tags("img") and not dom.tags("b")
    assert len(dom.tags("svg")) == 3  # the model name's <svg onload> did not become one
    for _, attrs in dom.elements:
        assert not any(name.startswith("on") for name in attrs), attrs
    marks = [m for m in dom.chart("chart-latency") if m["data-series"] == HOSTILE_BACKEND]
    assert sorted((int(m["data-index"]), m["data-value"]) for m in marks) == [
        (0, "1"),
        (1, "1"),
        (6, "1"),
    ]
    assert HOSTILE_BACKEND in dom.svg_text["chart-latency"]  # the legend, as text
    assert f"all on {HOSTILE_MODEL}" in dom.svg_text["chart-cost"]
    assert HOSTILE_TASK in dom.all_text() and HOSTILE_WORKSPACE in dom.all_text()


@pytest.mark.browser
def test_chromium_screenshot_is_a_real_picture(tmp_path: Path) -> None:
    shot = tmp_path / "report.png"
    run_chromium(
        tmp_path,
        render_html(sample_stats()),
        "--window-size=1280,2000",
        "--hide-scrollbars",
        f"--screenshot={shot}",
    )
    width, height, colours = png_pixels(shot.read_bytes())
    assert (width, height) == (1280, 2000)
    assert len(colours) > 50, len(colours)
    # The tier and cost bars were painted in their (light-scheme) colours.
    for hex_colour in ("2e9e5b", "e0a526", "d9534f", "3b7dd8", "c2569b"):
        assert bytes.fromhex(hex_colour) in colours, hex_colour


def test_the_page_carries_its_stylesheet_and_script_from_the_package_files() -> None:
    from importlib.resources import files

    assets = files("ocp_server") / "assets"
    document = render_html(sample_stats())
    for name in ("report.css", "report.js"):
        text = (assets / name).read_text(encoding="utf-8")
        assert text.strip() and text in document


def test_the_report_script_is_valid_javascript(tmp_path: Path) -> None:
    import shutil
    import subprocess
    from importlib.resources import files

    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (CI installs Node.js 20)")
    script = tmp_path / "report.js"
    script.write_text((files("ocp_server") / "assets" / "report.js").read_text("utf-8"))
    done = subprocess.run([node, "--check", str(script)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
