"""The savings report behind `ocp-server stats`: what routing did and what it saved.

Requests by tier and task type, tokens, the actual cost against the counterfactual of sending
everything to the top model, escalations and fallbacks, latency per backend, phase-2 cache
hits, and a per-day series for the charts. Read from the `traces` and `route_attempts` tables.
Traces from before routing v2 count their paid routes as the mid tier.
"""

from __future__ import annotations

import time
from collections import defaultdict
from typing import Any

import aiosqlite

from ocp_router.tiers import Phase, Tier

# Upper bounds of the latency histogram's buckets, in ms; one open bucket follows the last.
LATENCY_EDGES_MS = (100.0, 250.0, 500.0, 1000.0, 2500.0, 5000.0, 10000.0, 30000.0)
TIERS = tuple(t.value for t in Tier)
PHASES = tuple(p.value for p in Phase)

# The tier that answered, for old and new rows alike.
_ANSWERED = (
    "CASE WHEN answered_by IS NULL THEN 'none' "
    "WHEN answered_tier IS NOT NULL THEN answered_tier "
    "WHEN route_to = 'paid' THEN 'mid' ELSE route_to END"
)


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, min(len(sorted_values), round(q / 100 * len(sorted_values) + 0.5)))
    return round(sorted_values[rank - 1], 3)


def _bucket(ms: float) -> int:
    for i, edge in enumerate(LATENCY_EDGES_MS):
        if ms <= edge:
            return i
    return len(LATENCY_EDGES_MS)


async def savings_report(
    db: aiosqlite.Connection,
    *,
    since: float | None,
    workspace: str = "",
    counterfactual_model: str | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    until = now if now is not None else time.time()
    where, args = ("WHERE created_at >= ?", (since,)) if since is not None else ("", ())
    # Dry runs decide and build a prompt but call no model: neither routes nor errors.
    routes = "WHERE NOT dry_run" + (" AND created_at >= ?" if since is not None else "")

    async def rows(sql: str, extra: tuple[Any, ...] = ()) -> list[Any]:
        return list(await db.execute_fetchall(sql, (*args, *extra)))

    by_tier: dict[str, dict[str, Any]] = {}
    totals: dict[str, Any] = {
        "routes": 0,
        "errors": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
        "unpriced": 0,
        "counterfactual_usd": 0.0,
        "savings_usd": 0.0,
    }
    for tier, n, p_tok, c_tok, cost, unpriced, counter, saved in await rows(
        f"SELECT {_ANSWERED} AS t, count(*), coalesce(sum(prompt_tokens), 0), "
        "coalesce(sum(completion_tokens), 0), coalesce(sum(cost_usd), 0), "
        "sum(cost_usd IS NULL AND answered_by IS NOT NULL), "
        "coalesce(sum(counterfactual_usd), 0), "
        "coalesce(sum(CASE WHEN cost_usd IS NOT NULL AND counterfactual_usd IS NOT NULL "
        f"THEN counterfactual_usd - cost_usd END), 0) FROM traces {routes} GROUP BY t ORDER BY t"
    ):
        by_tier[str(tier)] = {
            "routes": int(n),
            "prompt_tokens": int(p_tok),
            "completion_tokens": int(c_tok),
            "cost_usd": round(float(cost), 6),
            "counterfactual_usd": round(float(counter), 6),
            "savings_usd": round(float(saved), 6),
        }
        totals["routes"] += int(n)
        totals["errors"] += int(n) if tier == "none" else 0
        totals["prompt_tokens"] += int(p_tok)
        totals["completion_tokens"] += int(c_tok)
        totals["cost_usd"] += float(cost)
        totals["unpriced"] += int(unpriced or 0)
        totals["counterfactual_usd"] += float(counter)
        totals["savings_usd"] += float(saved)

    (flags,) = await rows(
        "SELECT coalesce(sum(escalated), 0), "
        "coalesce(sum(fell_back OR (answered_tier IS NULL AND answered_by IS NOT NULL "
        "AND route_to != decision AND route_to IN ('local', 'paid'))), 0), "
        "coalesce(sum(budget_note IS NOT NULL), 0), "
        "coalesce(sum(pin_state IN ('hard', 'soft')), 0), "
        "coalesce(sum(phase2 = 'cache'), 0), coalesce(sum(phase2 IS NOT NULL), 0) "
        f"FROM traces {routes}"
    )
    escalations, fallbacks, downgrades, pinned, hits, lookups = (int(v) for v in flags)

    by_task: dict[str, dict[str, int]] = defaultdict(
        lambda: {"routes": 0, "local": 0, "mid": 0, "top": 0, "other": 0}
    )
    for task, tier, n in await rows(
        f"SELECT task_type, {_ANSWERED} AS t, count(*) FROM traces {routes} GROUP BY task_type, t"
    ):
        entry = by_task[str(task)]
        entry["routes"] += int(n)
        entry[tier if tier in TIERS else "other"] += int(n)

    by_phase = dict.fromkeys(PHASES, 0)
    for phase, n in await rows(
        f"SELECT coalesce(phase, 'heuristic'), count(*) FROM traces {routes} GROUP BY 1"
    ):
        by_phase[str(phase)] = by_phase.get(str(phase), 0) + int(n)

    daily: dict[str, dict[str, Any]] = {}
    for day, tier, n, cost, counter in await rows(
        f"SELECT date(created_at, 'unixepoch') AS d, {_ANSWERED} AS t, count(*), "
        f"coalesce(sum(cost_usd), 0), coalesce(sum(counterfactual_usd), 0) FROM traces {routes} "
        "GROUP BY d, t ORDER BY d"
    ):
        day_entry = daily.setdefault(
            str(day),
            {
                "day": str(day),
                "local": 0,
                "mid": 0,
                "top": 0,
                "other": 0,
                "cost_usd": 0.0,
                "counterfactual_usd": 0.0,
            },
        )
        day_entry[tier if tier in TIERS else "other"] += int(n)
        day_entry["cost_usd"] = round(day_entry["cost_usd"] + float(cost), 6)
        day_entry["counterfactual_usd"] = round(day_entry["counterfactual_usd"] + float(counter), 6)

    durations: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    for backend, outcome, ms in await rows(
        "SELECT backend, outcome, duration_ms FROM route_attempts "
        f"{where} {'AND' if where else 'WHERE'} outcome != 'skipped' ORDER BY duration_ms"
    ):
        if outcome == "ok":
            durations[str(backend)].append(float(ms))
        else:
            errors[str(backend)] += 1
            durations.setdefault(str(backend), [])
    latency = {
        backend: {
            "count": len(values),
            "errors": errors.get(backend, 0),
            "p50": percentile(values, 50),
            "p90": percentile(values, 90),
            "p99": percentile(values, 99),
        }
        for backend, values in sorted(durations.items())
    }
    histogram: dict[str, list[int]] = {}
    for backend, values in sorted(durations.items()):
        counts = [0] * (len(LATENCY_EDGES_MS) + 1)
        for ms in values:
            counts[_bucket(ms)] += 1
        histogram[backend] = counts

    (sessions,) = await rows(
        f"SELECT count(*) FROM sessions {where.replace('created_at', 'started_at')}"
    )
    (dry_runs,) = await rows(
        f"SELECT count(*) FROM traces {where} {'AND' if where else 'WHERE'} dry_run"
    )
    counter_total = totals["counterfactual_usd"]
    return {
        "since": since,
        "until": until,
        "generated_at": time.time(),
        "workspace": workspace,
        "sessions": int(sessions[0]),
        **{k: round(v, 6) if isinstance(v, float) else v for k, v in totals.items()},
        "counterfactual_model": counterfactual_model or "",
        "savings_pct": (
            round(100 * totals["savings_usd"] / counter_total, 2) if counter_total > 0 else None
        ),
        "dry_runs": int(dry_runs[0]),
        "escalations": escalations,
        "fallbacks": fallbacks,
        "budget_downgrades": downgrades,
        "pinned": pinned,
        "by_tier": by_tier,
        "by_task_type": dict(sorted(by_task.items())),
        "by_phase": by_phase,
        "classifier_cache": {
            "hits": hits,
            "lookups": lookups,
            "hit_rate": round(hits / lookups, 4) if lookups else None,
        },
        "latency": latency,
        "latency_histogram": {"edges_ms": list(LATENCY_EDGES_MS), "by_backend": histogram},
        "daily": list(daily.values()),
    }
