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
from functools import cache
from importlib.resources import files
from typing import Any

from ocp_server.savings import PHASES, counterfactual_label

__all__ = ["lapse_time", "render_html"]

TIERS = ("local", "mid", "top", "agent", "none")
DAY_SERIES = ("local", "mid", "top", "other")
PHASE_LABELS = {
    "explicit": "explicit (forced or pinned)",
    "heuristic": "phase 1: heuristics",
    "cache": "phase 2: classifier cache",
    "llm_classifier": "phase 2: LLM classifier",
}
NO_ROUTES = "No routes recorded in this period."


@cache
def _asset(name: str) -> str:
    """The page's stylesheet or script (package data: assets/report.css, assets/report.js,
    kept as files so editors and linters read them as CSS and JavaScript). The script draws
    the charts; every string from the data reaches the page through textContent or
    setAttribute, never as markup."""
    return (files("ocp_server") / "assets" / name).read_text(encoding="utf-8")


# ---- normalising: only known keys, finite numbers, JSON-safe -----------------------------------
def _float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    number = float(value)
    return number if math.isfinite(number) else 0.0


def _tier_savings(row: Mapping[str, Any]) -> float:
    """What a tier saved; in a report from before its failed attempts were told apart, the
    counterfactual less all it cost."""
    if "savings_usd" in row:
        return _float(row.get("savings_usd"))
    return _float(row.get("counterfactual_usd")) - _float(row.get("cost_usd"))


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
                "local_unavailable",
                "fallbacks",
                "budget_downgrades",
                "pinned",
                "dry_runs",
                "proxied_routes",
            ),
        ),
        "cost_usd": _float(stats.get("cost_usd")),
        "failed_cost_usd": _float(stats.get("failed_cost_usd")),
        "counterfactual_model": str(stats.get("counterfactual_model") or ""),
        "counterfactual_usd": _float(stats.get("counterfactual_usd")),
        "savings_usd": _float(stats.get("savings_usd")),
        "savings_pct": _opt_float(stats.get("savings_pct")),
        "by_tier": {
            str(tier): {
                **_ints(_map(row), ("routes", "prompt_tokens", "completion_tokens")),
                "cost_usd": _float(_map(row).get("cost_usd")),
                "counterfactual_usd": _float(_map(row).get("counterfactual_usd")),
                "savings_usd": _tier_savings(_map(row)),
            }
            for tier, row in _map(stats.get("by_tier")).items()
        },
        "by_task_type": {
            str(task): _ints(_map(row), ("routes", *DAY_SERIES))
            for task, row in _map(stats.get("by_task_type")).items()
        },
        "by_effort": {
            str(effort): {
                **_ints(_map(row), ("routes", "completion_tokens")),
                "cost_usd": _float(_map(row).get("cost_usd")),
            }
            for effort, row in _map(stats.get("by_effort")).items()
        },
        "by_phase": {str(k): _int(v) for k, v in _map(stats.get("by_phase")).items()},
        "floors": [_map(f) for f in stats.get("floors") or ()],
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


def lapse_time(at: float | None) -> str:
    """When a conversation's floor lapses (`stats` text and page alike)."""
    return "no age limit" if at is None else _when(at)


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
    hit_rate = cache["hit_rate"]
    cards = [
        _card(
            "Routes",
            f"{s['routes']:,}",
            f"{_n(s['sessions'], 'session')} · {_n(s['errors'], 'error')} · {_n(tokens, 'token')}"
            # As the text report says it: a dry run decided a tier and called no model.
            + (f" · {_n(s['dry_runs'], 'dry run')} (not routes)" if s["dry_runs"] else ""),
        ),
        _card(
            "Actual cost",
            _usd(s["cost_usd"]),
            " · ".join(
                part
                for part in (
                    f"{_usd(s['failed_cost_usd'])} on failed paid attempts"
                    if s["failed_cost_usd"]
                    else "",
                    f"{s['unpriced']:,} unpriced" if s["unpriced"] else "",
                )
                if part
            ),
        ),
        _card("Counterfactual", _usd(s["counterfactual_usd"]), counterfactual_label(s)),
        _card(
            "Savings", _usd(savings), "", "good" if savings > 0 else "bad" if savings < 0 else ""
        ),
        _card("Savings %", _pct(s["savings_pct"]), "of the counterfactual"),
        _card("Escalations", f"{s['escalations']:,}", f"{s['pinned']:,} pinned"),
        _card("Local model unavailable", f"{s['local_unavailable']:,}", "answered by your agent"),
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
            _usd(r["savings_usd"]),
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
    efforts = s["by_effort"]
    effort_rows = [
        [e, f"{r['routes']:,}", f"{r['completion_tokens']:,}", _usd(r["cost_usd"])]
        for e, r in efforts.items()
    ]
    floor_rows = [
        [str(f.get("session")), str(f.get("tier")), lapse_time(_opt_float(f.get("lapses_at")))]
        for f in s["floors"]
    ]
    kept = (
        _table(
            "table-floors",
            "Conversations kept above the local tier",
            ["conversation", "tier", "until"],
            floor_rows,
        )
        if floor_rows
        else ""
    )
    # as the text report: only when some caller asked an effort (what thinking cost)
    by_effort = (
        _table(
            "table-efforts",
            "By effort asked",
            ["effort", "routes", "tokens out", "cost"],
            effort_rows,
        )
        if set(efforts) - {"none"}
        else ""
    )
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
        + by_effort
        + _table(
            "table-latency",
            "Latency per backend",
            ["backend", "requests", "errors", "p50", "p90", "p99"],
            latency_rows,
        )
        + _table("table-phases", "Routing decided by", ["phase", "routes", "share"], phase_rows)
        + kept
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
    failed = s["failed_cost_usd"]
    cost_caption = (
        f"Actual {_usd(s['cost_usd'])} vs {_usd(s['counterfactual_usd'])} "
        f"{counterfactual_label(s)}: saved {_usd(s['savings_usd'])} "
        f"({_pct(s['savings_pct'])}) on the answers"
        + (f"; {_usd(failed)} of the actual went on failed paid attempts." if failed else ".")
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
    # the cost chart's legend: what the counterfactual was priced on, as the caption says
    s["counterfactual_label"] = counterfactual_label(s)
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
        f"<style>\n{_asset('report.css')}</style></head>\n<body>"
        f'<header><h1>OCP routing report</h1><p class="meta">{meta}</p></header>\n'
        f"<main>{_cards(s)}\n{_charts(s)}\n{_tables(s)}</main>\n"
        f'<script type="application/json" id="ocp-stats">{_json_for_script(s)}</script>\n'
        f"<script>\n{_asset('report.js')}</script>\n"
        "</body></html>\n"
    )
