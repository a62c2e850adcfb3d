"""`ocp-server stats --html FILE`: one self-contained HTML page of routing savings.

Cards and tables are rendered here (escaped, readable with JavaScript off); the three charts are
inline SVG drawn by the inline script from the stats embedded as JSON. Nothing is loaded from
anywhere: no external scripts, styles, fonts or images.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["render_html"]

TIERS = ("local", "mid", "top", "agent", "none")
DAY_SERIES = ("local", "mid", "top", "other")
PHASES = ("explicit", "heuristic", "cache", "llm_classifier")
PHASE_LABELS = {
    "explicit": "explicit (forced or pinned)",
    "heuristic": "phase 1: heuristics",
    "cache": "phase 2: classifier cache",
    "llm_classifier": "phase 2: LLM classifier",
}
NO_ROUTES = "No routes recorded in this period."


# ---- normalising: only known keys, finite numbers, JSON-safe -----------------------------------
def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _opt_float(value: Any) -> float | None:
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value) if math.isfinite(value) else 0


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _ints(row: Mapping[str, Any], keys: Iterable[str]) -> dict[str, int]:
    return {k: _int(row.get(k)) for k in keys}


def _normalize(stats: Mapping[str, Any]) -> dict[str, Any]:
    """The known keys of `stats` with the expected types; unknown keys are dropped."""
    hist = _map(stats.get("latency_histogram"))
    edges = [_float(e) for e in hist.get("edges_ms") or [] if isinstance(e, int | float)]
    buckets = len(edges) + 1
    by_backend: dict[str, list[int]] = {}
    for name, counts in _map(hist.get("by_backend")).items():
        values = [_int(c) for c in counts] if isinstance(counts, Sequence) else []
        by_backend[str(name)] = (values + [0] * buckets)[:buckets]
    cache = _map(stats.get("classifier_cache"))
    return {
        "since": _opt_float(stats.get("since")),
        "until": _float(stats.get("until")),
        "generated_at": _float(stats.get("generated_at")),
        "workspace": str(stats.get("workspace") or ""),
        **_ints(
            stats,
            (
                "sessions",
                "routes",
                "errors",
                "prompt_tokens",
                "completion_tokens",
                "unpriced",
                "escalations",
                "fallbacks",
                "budget_downgrades",
                "pinned",
            ),
        ),
        "cost_usd": _float(stats.get("cost_usd")),
        "counterfactual_model": str(stats.get("counterfactual_model") or ""),
        "counterfactual_usd": _float(stats.get("counterfactual_usd")),
        "savings_usd": _float(stats.get("savings_usd")),
        "savings_pct": _opt_float(stats.get("savings_pct")),
        "by_tier": {
            str(tier): {
                **_ints(_map(row), ("routes", "prompt_tokens", "completion_tokens")),
                "cost_usd": _float(_map(row).get("cost_usd")),
                "counterfactual_usd": _float(_map(row).get("counterfactual_usd")),
            }
            for tier, row in _map(stats.get("by_tier")).items()
        },
        "by_task_type": {
            str(task): _ints(_map(row), ("routes", *DAY_SERIES))
            for task, row in _map(stats.get("by_task_type")).items()
        },
        "by_phase": {str(k): _int(v) for k, v in _map(stats.get("by_phase")).items()},
        "classifier_cache": {
            "hits": _int(cache.get("hits")),
            "lookups": _int(cache.get("lookups")),
            "hit_rate": _opt_float(cache.get("hit_rate")),
        },
        "latency": {
            str(backend): {
                **_ints(_map(row), ("count", "errors")),
                **{k: _float(_map(row).get(k)) for k in ("p50", "p90", "p99")},
            }
            for backend, row in _map(stats.get("latency")).items()
        },
        "latency_histogram": {"edges_ms": edges, "by_backend": by_backend},
        "daily": [
            {
                "day": str(_map(row).get("day") or ""),
                **_ints(_map(row), DAY_SERIES),
                "cost_usd": _float(_map(row).get("cost_usd")),
                "counterfactual_usd": _float(_map(row).get("counterfactual_usd")),
            }
            for row in stats.get("daily") or []
            if isinstance(row, Mapping)
        ],
    }


def _json_for_script(data: Mapping[str, Any]) -> str:
    """JSON that cannot end its <script> element: every `<` (so `</script` and `<!--`), `>` and
    `&` is written as a \\u escape, which JSON.parse reads back unchanged."""
    text = json.dumps(data, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


# ---- formatting -------------------------------------------------------------------------------
def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _usd(value: float) -> str:
    if value == 0:
        return "$0.00"
    sign = "-" if value < 0 else ""
    value = abs(value)
    return f"{sign}${value:,.2f}" if value >= 1 else f"{sign}${value:.4f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _share(part: float, whole: float) -> str:
    return _pct(100.0 * part / whole) if whole else "—"


def _n(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _ms(value: float) -> str:
    return f"{value:,.0f} ms" if value >= 10 else f"{value:.1f} ms"


# ---- server-rendered parts --------------------------------------------------------------------
def _card(label: str, value: str, sub: str = "", cls: str = "") -> str:
    sub_html = f'<div class="sub">{_e(sub)}</div>' if sub else ""
    return (
        f'<div class="card{" " + cls if cls else ""}"><div class="label">{_e(label)}</div>'
        f'<div class="value">{_e(value)}</div>{sub_html}</div>'
    )


def _cards(s: Mapping[str, Any]) -> str:
    cache = s["classifier_cache"]
    tokens = s["prompt_tokens"] + s["completion_tokens"]
    savings = s["savings_usd"]
    model = s["counterfactual_model"] or "the top model"
    hit_rate = cache["hit_rate"]
    cards = [
        _card(
            "Routes",
            f"{s['routes']:,}",
            f"{_n(s['sessions'], 'session')} · {_n(s['errors'], 'error')} · {_n(tokens, 'token')}",
        ),
        _card(
            "Actual cost",
            _usd(s["cost_usd"]),
            f"{s['unpriced']:,} unpriced" if s["unpriced"] else "",
        ),
        _card("Counterfactual", _usd(s["counterfactual_usd"]), f"everything on {model}"),
        _card(
            "Savings", _usd(savings), "", "good" if savings > 0 else "bad" if savings < 0 else ""
        ),
        _card("Savings %", _pct(s["savings_pct"]), "of the counterfactual"),
        _card("Escalations", f"{s['escalations']:,}", f"{s['pinned']:,} pinned"),
        _card("Fallbacks", f"{s['fallbacks']:,}"),
        _card("Budget downgrades", f"{s['budget_downgrades']:,}"),
        _card(
            "Phase-2 cache hit rate",
            "—" if hit_rate is None else f"{100.0 * hit_rate:.1f}%",
            f"{cache['hits']:,} of {cache['lookups']:,} lookups",
        ),
    ]
    return '<section class="cards" id="cards">' + "".join(cards) + "</section>"


def _table(table_id: str, caption: str, head: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    th = "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
    if rows:
        body = "".join(
            "<tr>"
            + f'<th scope="row">{_e(row[0])}</th>'
            + "".join(f"<td>{_e(cell)}</td>" for cell in row[1:])
            + "</tr>"
            for row in rows
        )
    else:
        body = f'<tr><td class="none" colspan="{len(head)}">no data</td></tr>'
    return (
        f'<table id="{table_id}"><caption>{_e(caption)}</caption>'
        f"<thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"
    )


def _ordered(keys: Iterable[str], first: Sequence[str]) -> list[str]:
    present = list(keys)
    return [k for k in first if k in present] + sorted(k for k in present if k not in first)


def _tables(s: Mapping[str, Any]) -> str:
    routes = s["routes"]
    tiers = s["by_tier"]
    tier_rows = [
        [
            tier,
            f"{r['routes']:,}",
            _share(r["routes"], routes),
            f"{r['prompt_tokens']:,}",
            f"{r['completion_tokens']:,}",
            _usd(r["cost_usd"]),
            _usd(r["counterfactual_usd"]),
            _usd(r["counterfactual_usd"] - r["cost_usd"]),
        ]
        for tier in _ordered(tiers, TIERS)
        for r in [tiers[tier]]
    ]
    tasks = s["by_task_type"]
    task_rows = [
        [task, *(f"{tasks[task][k]:,}" for k in ("routes", *DAY_SERIES))]
        for task in sorted(tasks, key=lambda t: (-tasks[t]["routes"], t))
    ]
    latency = s["latency"]
    latency_rows = [
        [
            backend,
            f"{r['count']:,}",
            f"{r['errors']:,}",
            *(_ms(r[k]) for k in ("p50", "p90", "p99")),
        ]
        for backend in sorted(latency)
        for r in [latency[backend]]
    ]
    phases = s["by_phase"]
    phase_total = sum(phases.values())
    phase_rows = [
        [PHASE_LABELS.get(p, p), f"{phases[p]:,}", _share(phases[p], phase_total)]
        for p in _ordered(phases, PHASES)
    ]
    return (
        '<section class="tables">'
        + _table(
            "table-tiers",
            "By tier",
            [
                "tier",
                "routes",
                "share",
                "prompt tok",
                "completion tok",
                "cost",
                "all on top",
                "saved",
            ],
            tier_rows,
        )
        + _table(
            "table-tasks",
            "By task type",
            ["task type", "routes", "local", "mid", "top", "other"],
            task_rows,
        )
        + _table(
            "table-latency",
            "Latency per backend",
            ["backend", "requests", "errors", "p50", "p90", "p99"],
            latency_rows,
        )
        + _table("table-phases", "Routing decided by", ["phase", "routes", "share"], phase_rows)
        + "</section>"
    )


def _figure(svg_id: str, title: str, caption: str) -> str:
    return (
        f'<figure class="chart"><figcaption><h2 id="{svg_id}-title">{_e(title)}</h2>'
        f"<p>{_e(caption)}</p></figcaption>"
        f'<svg id="{svg_id}" viewBox="0 0 760 320" role="img" '
        f'aria-labelledby="{svg_id}-title"></svg></figure>'
    )


def _charts(s: Mapping[str, Any]) -> str:
    if s["routes"] <= 0:
        return (
            f'<section class="charts"><p class="empty" id="no-routes">{_e(NO_ROUTES)}</p></section>'
        )
    model = s["counterfactual_model"] or "the top model"
    cost_caption = (
        f"Actual {_usd(s['cost_usd'])} vs {_usd(s['counterfactual_usd'])} with everything on "
        f"{model}: saved {_usd(s['savings_usd'])} ({_pct(s['savings_pct'])})."
    )
    return (
        '<section class="charts">'
        '<noscript><p class="note">The charts need JavaScript; the tables below have the same '
        "numbers.</p></noscript>"
        + _figure(
            "chart-tiers", "Tier split over time", "Routes per day by the tier that answered."
        )
        + _figure("chart-cost", "Cost vs counterfactual", cost_caption)
        + _figure(
            "chart-latency",
            "Latency histogram",
            "Requests per latency bucket, per backend.",
        )
        + "</section>"
    )


def _period(s: Mapping[str, Any]) -> str:
    since = s["since"]
    start = "the beginning" if since is None else _when(since)
    return f"{start} → {_when(s['until'])}"


def render_html(stats: Mapping[str, Any]) -> str:
    """One self-contained HTML5 document for `stats` (the shape `ocp-server stats --json` prints).
    Unknown keys are ignored; missing or non-finite numbers read as 0."""
    s = _normalize(stats)
    meta = (
        f"<span>workspace <code>{_e(s['workspace'] or '?')}</code></span>"
        f"<span>{_e(_period(s))}</span>"
        f"<span>generated {_e(_when(s['generated_at']))}</span>"
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="color-scheme" content="light dark">'
        "<title>OCP routing report</title>"
        f"<style>{_CSS}</style></head>\n<body>"
        f'<header><h1>OCP routing report</h1><p class="meta">{meta}</p></header>\n'
        f"<main>{_cards(s)}\n{_charts(s)}\n{_tables(s)}</main>\n"
        f'<script type="application/json" id="ocp-stats">{_json_for_script(s)}</script>\n'
        f"<script>{_JS}</script>\n"
        "</body></html>\n"
    )


_CSS = """
:root{--bg:#f7f8fa;--fg:#1d2330;--muted:#5d6677;--card:#fff;--line:#d9dde5;--grid:#e8ebf0;
--good:#1f8a4c;--bad:#c0392b;--c-local:#2e9e5b;--c-mid:#e0a526;--c-top:#d9534f;
--c-other:#8a93a3;--c-cost:#3b7dd8;--c-cf:#c2569b;--p0:#3b7dd8;--p1:#2e9e5b;--p2:#e0a526;
--p3:#d9534f;--p4:#8e6bd1;--p5:#17a2b8;--p6:#c2569b;--p7:#7a8594}
@media (prefers-color-scheme:dark){:root{--bg:#14171d;--fg:#e4e7ec;--muted:#9aa3b2;
--card:#1d222b;--line:#313846;--grid:#262c37;--good:#4cc47f;--bad:#ef6b5f}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
header,main{max-width:1100px;margin:0 auto;padding:0 20px}
header{padding-top:20px}h1{font-size:22px;margin:0 0 4px}
.meta{color:var(--muted);margin:0 0 16px;display:flex;flex-wrap:wrap;gap:4px 18px}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;
margin-bottom:20px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}
.card .value{font-size:24px;font-weight:600;margin-top:2px;font-variant-numeric:tabular-nums}
.card .sub{color:var(--muted);font-size:12px}
.card.good .value{color:var(--good)}.card.bad .value{color:var(--bad)}
.charts{display:grid;gap:16px;margin-bottom:20px}
.chart{margin:0;background:var(--card);border:1px solid var(--line);border-radius:8px;
padding:12px 14px}
.chart h2{font-size:16px;margin:0}.chart figcaption p{margin:2px 0 8px;color:var(--muted)}
.chart svg{width:100%;height:auto;display:block}
svg text{fill:var(--muted);font-size:11px}svg text.axis-label{fill:var(--fg);font-size:12px}
svg text.legend{fill:var(--fg)}svg line.grid{stroke:var(--grid)}svg line.axis{stroke:var(--line)}
svg .m:hover{opacity:.75}
.c-local{fill:var(--c-local)}.c-mid{fill:var(--c-mid)}.c-top{fill:var(--c-top)}
.c-other{fill:var(--c-other)}.c-cost{fill:var(--c-cost)}.c-cf{fill:var(--c-cf)}
.c-p0{fill:var(--p0)}.c-p1{fill:var(--p1)}.c-p2{fill:var(--p2)}.c-p3{fill:var(--p3)}
.c-p4{fill:var(--p4)}.c-p5{fill:var(--p5)}.c-p6{fill:var(--p6)}.c-p7{fill:var(--p7)}
.empty{background:var(--card);border:1px dashed var(--line);border-radius:8px;padding:28px;
text-align:center;font-size:16px;color:var(--muted)}
.note{color:var(--muted)}
.tables{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:16px;
padding-bottom:32px}
table{border-collapse:collapse;width:100%;background:var(--card);border:1px solid var(--line);
border-radius:8px;font-variant-numeric:tabular-nums}
caption{text-align:left;font-weight:600;font-size:15px;padding:0 0 6px}
th,td{padding:5px 10px;border-bottom:1px solid var(--grid);text-align:right;white-space:nowrap}
th[scope=row],thead th:first-child{text-align:left;white-space:normal;overflow-wrap:anywhere;
min-width:7em}
#table-tiers{grid-column:1/-1}
thead th{color:var(--muted);font-weight:500;font-size:12px}
td.none{text-align:center;color:var(--muted)}
"""

# The charts. Every string from the data reaches the page through textContent or setAttribute,
# never as markup. The SVG namespace is read from the <svg> elements the server rendered.
_JS = r"""
(function () {
  "use strict";
  var W = 760, PH = 220, LEFT = 64, RIGHT = 16, BOTTOM = 58, PW = W - LEFT - RIGHT;
  var body = document.body, drawn = 0, data;
  try {
    data = JSON.parse(document.getElementById("ocp-stats").textContent || "{}");
  } catch (err) {
    body.dataset.chartsDrawn = "0";
    return;
  }

  function el(parent, name, attrs) {
    var node = document.createElementNS(parent.namespaceURI, name);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, String(attrs[k])); });
    parent.appendChild(node);
    return node;
  }
  function text(parent, x, y, value, attrs) {
    var a = attrs || {};
    a.x = x; a.y = y;
    var node = el(parent, "text", a);
    node.textContent = String(value);
    return node;
  }
  function num(v) { var n = Number(v); return isFinite(n) ? n : 0; }
  function usd(v) {
    var a = Math.abs(v), s = v < 0 ? "-$" : "$";
    return s + (a >= 100 ? a.toFixed(0) : a >= 1 ? a.toFixed(2) : a.toFixed(4));
  }
  function usdTick(v) {
    return "$" + (v >= 1 ? String(Math.round(v * 100) / 100) : String(Number(v.toPrecision(4))));
  }
  function ms(v) {
    return v >= 1000 ? String(Number((v / 1000).toPrecision(4))) + " s" : v + " ms";
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }

  function ticks(max, integer) {
    if (!(max > 0)) { max = integer ? 1 : 0.01; }
    var raw = max / 5, mag = Math.pow(10, Math.floor(Math.log10(raw))), n = raw / mag;
    var f = n <= 1 ? 1 : n <= 2 ? 2 : n <= 2.5 && !(integer && mag === 1) ? 2.5 : n <= 5 ? 5 : 10;
    var step = f * mag;
    if (integer) { step = Math.max(1, Math.round(step)); }
    var count = Math.ceil(max / step - 1e-9), values = [];
    for (var i = 0; i <= count; i++) { values.push(Number((i * step).toPrecision(12))); }
    return { max: count * step, values: values };
  }

  // Legend above the plot; returns the y where the plot starts.
  function legend(svg, items) {
    var x = LEFT, y = 16;
    items.forEach(function (item) {
      var w = 30 + String(item[0]).length * 6.6;
      if (x + w > W - RIGHT && x > LEFT) { x = LEFT; y += 18; }
      el(svg, "rect", {
        x: x, y: y - 9, width: 10, height: 10, rx: 2, "class": "swatch " + item[1]
      });
      text(svg, x + 14, y, item[0], { "class": "legend" });
      x += w;
    });
    return y + 18;
  }

  // Grid, y ticks, axes and axis labels; returns the y scale.
  function frame(svg, top, t, fmt, xLabel, yLabel, labels) {
    var h = top + PH + BOTTOM, g = el(svg, "g", { "class": "frame" });
    svg.setAttribute("viewBox", "0 0 " + W + " " + h);
    var y = function (v) { return top + PH - (v / t.max) * PH; };
    t.values.forEach(function (v) {
      el(g, "line", { x1: LEFT, x2: W - RIGHT, y1: y(v), y2: y(v), "class": "grid" });
      text(g, LEFT - 6, y(v) + 4, fmt(v), { "text-anchor": "end" });
    });
    el(g, "line", { x1: LEFT, x2: W - RIGHT, y1: top + PH, y2: top + PH, "class": "axis" });
    el(g, "line", { x1: LEFT, x2: LEFT, y1: top, y2: top + PH, "class": "axis" });
    var band = PW / Math.max(1, labels.length), every = Math.max(1, Math.ceil(labels.length / 14));
    labels.forEach(function (label, i) {
      if (i % every === 0) {
        text(g, LEFT + (i + 0.5) * band, top + PH + 16, label, { "text-anchor": "middle" });
      }
    });
    text(g, LEFT + PW / 2, h - 12, xLabel, { "text-anchor": "middle", "class": "axis-label" });
    var yl = top + PH / 2;
    text(g, 16, yl, yLabel, {
      "text-anchor": "middle", "class": "axis-label", transform: "rotate(-90 16 " + yl + ")"
    });
    return y;
  }

  function mark(parent, x, y, w, h, cls, series, value, tip, extra) {
    var attrs = {
      x: x.toFixed(2), y: y.toFixed(2), width: Math.max(0, w).toFixed(2),
      height: Math.max(0, h).toFixed(2), "class": "m " + cls,
      "data-series": series, "data-value": String(value)
    };
    Object.keys(extra || {}).forEach(function (k) { attrs[k] = extra[k]; });
    var rect = el(parent, "rect", attrs);
    el(rect, "title", {}).textContent = tip;
    return rect;
  }

  function noData(svg, message) {
    svg.setAttribute("viewBox", "0 0 " + W + " 60");
    text(svg, W / 2, 34, message, { "text-anchor": "middle", "class": "axis-label" });
    return false;
  }

  function clear(svg) { while (svg.firstChild) { svg.removeChild(svg.firstChild); } }

  function drawTiers(svg) {
    var days = Array.isArray(data.daily) ? data.daily : [];
    if (!days.length) { return noData(svg, "no daily data in this period"); }
    var series = ["local", "mid", "top", "other"];
    var max = 0;
    days.forEach(function (d) {
      max = Math.max(max, series.reduce(function (a, s) { return a + num(d[s]); }, 0));
    });
    var top = legend(svg, series.map(function (s) { return [s, "c-" + s]; }));
    var y = frame(svg, top, ticks(max, true), String, "day", "routes",
      days.map(function (d) { return String(d.day).slice(5); }));
    var g = el(svg, "g", { "class": "marks" });
    var band = PW / days.length, bw = Math.max(1, band * 0.72);
    days.forEach(function (d, i) {
      var cum = 0, x = LEFT + i * band + (band - bw) / 2;
      series.forEach(function (s) {
        var v = num(d[s]);
        if (v <= 0) { return; }
        var y1 = y(cum + v);
        mark(g, x, y1, bw, y(cum) - y1, "c-" + s, s, v,
          d.day + " · " + s + ": " + plural(v, "route"), { "data-day": d.day });
        cum += v;
      });
    });
    return true;
  }

  function drawCost(svg) {
    var days = Array.isArray(data.daily) ? data.daily : [];
    if (!days.length) { return noData(svg, "no daily data in this period"); }
    var model = data.counterfactual_model || "the top model";
    var series = [
      ["cost", "cost_usd", "c-cost", "actual cost"],
      ["counterfactual", "counterfactual_usd", "c-cf", "everything on " + model]
    ];
    var max = 0;
    days.forEach(function (d) {
      series.forEach(function (s) { max = Math.max(max, num(d[s[1]])); });
    });
    var top = legend(svg, series.map(function (s) { return [s[3], s[2]]; }));
    var y = frame(svg, top, ticks(max, false), usdTick, "day", "USD",
      days.map(function (d) { return String(d.day).slice(5); }));
    var g = el(svg, "g", { "class": "marks" });
    var band = PW / days.length, bw = Math.max(1, band * 0.4);
    days.forEach(function (d, i) {
      series.forEach(function (s, j) {
        var v = num(d[s[1]]), x = LEFT + i * band + band * 0.1 + j * bw;
        mark(g, x, y(v), bw, y(0) - y(v), s[2], s[0], v,
          d.day + " · " + s[3] + ": " + usd(v), { "data-day": d.day });
      });
    });
    return true;
  }

  function drawLatency(svg) {
    var hist = data.latency_histogram || {}, by = hist.by_backend || {};
    var edges = Array.isArray(hist.edges_ms) ? hist.edges_ms : [];
    var names = Object.keys(by);
    if (!names.length) { return noData(svg, "no latency recorded in this period"); }
    var labels = edges.map(function (e) { return "≤ " + ms(num(e)); });
    labels.push(edges.length ? "> " + ms(num(edges[edges.length - 1])) : "all");
    var max = 0;
    names.forEach(function (n) {
      labels.forEach(function (_, b) { max = Math.max(max, num(by[n][b])); });
    });
    var top = legend(svg, names.map(function (n, k) { return [n, "c-p" + (k % 8)]; }));
    var y = frame(svg, top, ticks(max, true), String, "latency bucket", "requests", labels);
    var g = el(svg, "g", { "class": "marks" });
    var band = PW / labels.length, gw = Math.max(1, (band * 0.8) / names.length);
    labels.forEach(function (label, b) {
      names.forEach(function (n, k) {
        var v = num(by[n][b]);
        if (v <= 0) { return; }
        mark(g, LEFT + b * band + band * 0.1 + k * gw, y(v), gw, y(0) - y(v), "c-p" + (k % 8),
          n, v, n + " · " + label + ": " + plural(v, "request"),
          { "data-bucket": label, "data-index": b });
      });
    });
    return true;
  }

  if (num(data.routes) > 0) {
    [["chart-tiers", drawTiers], ["chart-cost", drawCost], ["chart-latency", drawLatency]]
      .forEach(function (chart) {
        var svg = document.getElementById(chart[0]);
        if (!svg) { return; }
        clear(svg);
        try {
          if (chart[1](svg)) { drawn += 1; }
        } catch (err) {
          clear(svg);
          noData(svg, "this chart could not be drawn: " + err);
          if (window.console) { console.error(err); }
        }
      });
  }
  body.dataset.chartsDrawn = String(drawn);
})();
"""
