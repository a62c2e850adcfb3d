"""The savings report behind `ocp-server stats`: what routing did and what it saved.

Requests by tier and task type, tokens, the actual cost against the counterfactual of sending
everything to the top model, escalations, routes the agent answered because the local model
was down, fallbacks, latency per backend, phase-2 cache hits, and a per-day series for the
charts. Read from the `traces` and `route_attempts` tables.
Traces from before routing v2 count their paid routes as the mid tier.

A route's cost has two parts: its answer's, and what paid attempts that produced no answer
were billed (empty answers; calls cancelled or timed out, estimated). Savings compare the
answers with the same tokens on the top model; the failed spend is reported beside them, and
`net_savings_usd` is what is left after paying it.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict
from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

import aiosqlite

from ocp_router.redact_names import redact_name
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


class TierTotals(TypedDict):
    routes: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # answers and failed attempts
    failed_cost_usd: float  # of cost_usd: paid attempts that produced no answer
    counterfactual_usd: float
    savings_usd: float  # counterfactual minus the answers' cost


class TaskSplit(TypedDict):
    """Routes of one task type, by the tier that answered (other: nobody, or the agent)."""

    routes: int
    local: int
    mid: int
    top: int
    other: int


class EffortSplit(TypedDict):
    """Routes by the effort (thinking) their caller asked, "none" when it asked none: what
    thinking cost."""

    routes: int
    completion_tokens: int
    cost_usd: float


class FloorRow(TypedDict):
    """A conversation routing keeps above the local tier (OCP_STICKY=upward, or a wrong local
    answer), as a process opening the workspace now rebuilds it (outcomes.restore_floors):
    its floor and when that lapses (None: no age limit)."""

    session: str
    tier: str
    lapses_at: float | None


class DaySplit(TypedDict):
    day: str
    local: int
    mid: int
    top: int
    other: int
    cost_usd: float
    counterfactual_usd: float


class CacheStats(TypedDict):
    hits: int
    lookups: int
    hit_rate: float | None


class BackendLatency(TypedDict):
    count: int
    errors: int
    p50: float
    p90: float
    p99: float


class LatencyHistogram(TypedDict):
    edges_ms: list[float]
    by_backend: dict[str, list[int]]  # counts per bucket; one open bucket after the last edge


class SavingsReport(TypedDict):
    """The savings report: one typed value, printed by `ocp-server stats`, dumped by its
    --json and drawn by its --html (report_html.py). Times are epoch seconds."""

    since: float | None
    until: float
    generated_at: float
    workspace: str
    sessions: int  # sessions with a route in the period
    routes: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float  # everything billed: answer_cost_usd + failed_cost_usd
    answer_cost_usd: float
    failed_cost_usd: float  # paid attempts that produced no answer
    estimated_routes: int  # routes whose cost includes an estimate (a paid call cut short)
    unpriced: int  # answered routes whose model has no known price
    counterfactual_usd: float
    savings_usd: float  # counterfactual minus the answers' cost
    net_savings_usd: float  # savings_usd minus failed_cost_usd
    counterfactual_model: str
    # routes the routing proxy served: their counterfactual is the model each asked for
    proxied_routes: int
    savings_pct: float | None  # of savings_usd
    dry_runs: int
    escalations: int  # a higher tier (or the agent) answered after a lower one failed
    local_unavailable: int  # handed to the agent: the local model could not be reached
    fallbacks: int
    budget_downgrades: int
    pinned: int
    by_tier: dict[str, TierTotals]
    by_task_type: dict[str, TaskSplit]
    by_effort: dict[str, EffortSplit]
    by_phase: dict[str, int]
    classifier_cache: CacheStats
    latency: dict[str, BackendLatency]
    latency_histogram: LatencyHistogram
    daily: list[DaySplit]
    floors: NotRequired[list[FloorRow]]  # `ocp-server stats` adds them (cli_server._stats)


def counterfactual_label(stats: Mapping[str, Any]) -> str:
    """What the report's counterfactual was priced on, after its sum: the top model
    (`counterfactual_model`), but a proxied route's is the model it asked for (the proxy's
    dashboard's saving)."""
    model = stats["counterfactual_model"] or "the top model"
    proxied, routes = stats["proxied_routes"], stats["routes"]
    if not proxied:
        return f"all on {model}"
    if proxied == routes:
        return "each on the model it asked for (proxied)"
    return f"on {model} ({proxied:,} proxied: on the model it asked for)"


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one): the value at rank
    ceil(q% of n). (Rounding q% of n + 0.5 instead rounds half to even: a whole number of
    ranks, such as the p50 of two answers, came out one rank high.)"""
    if not sorted_values:
        return 0.0
    # Rounded first: 7 * 100 / 100 is exact, but q% of n may be a hair over a whole rank.
    rank = max(1, min(len(sorted_values), math.ceil(round(q * len(sorted_values) / 100, 9))))
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
) -> SavingsReport:
    until = now if now is not None else time.time()
    where, args = ("WHERE created_at >= ?", (since,)) if since is not None else ("", ())
    # Dry runs decide and build a prompt but call no model: neither routes nor errors.
    routes = "WHERE NOT dry_run" + (" AND created_at >= ?" if since is not None else "")

    async def rows(sql: str, extra: tuple[Any, ...] = ()) -> list[Any]:
        return list(await db.execute_fetchall(sql, (*args, *extra)))

    by_tier: dict[str, TierTotals] = {}
    totals: dict[str, Any] = {
        "routes": 0,
        "errors": 0,
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "cost_usd": 0.0,
        "failed_cost_usd": 0.0,
        "estimated_routes": 0,
        "unpriced": 0,
        "counterfactual_usd": 0.0,
        "savings_usd": 0.0,
    }
    for tier, n, p_tok, c_tok, cost, failed, estimated, unpriced, counter, saved in await rows(
        f"SELECT {_ANSWERED} AS t, count(*), coalesce(sum(prompt_tokens), 0), "
        "coalesce(sum(completion_tokens), 0), "
        # an answer of unknown price has no cost_usd, but its failed tries' bill is known
        "coalesce(sum(coalesce(cost_usd, failed_cost_usd)), 0), "
        "coalesce(sum(failed_cost_usd), 0), coalesce(sum(cost_estimated), 0), "
        "sum(cost_usd IS NULL AND answered_by IS NOT NULL), "
        "coalesce(sum(counterfactual_usd), 0), "
        # The answer against the top model: what failed attempts cost is not the answer's.
        "coalesce(sum(CASE WHEN cost_usd IS NOT NULL AND counterfactual_usd IS NOT NULL "
        "THEN counterfactual_usd - (cost_usd - failed_cost_usd) END), 0) "
        f"FROM traces {routes} GROUP BY t ORDER BY t"
    ):
        by_tier[str(tier)] = {
            "routes": int(n),
            "prompt_tokens": int(p_tok),
            "completion_tokens": int(c_tok),
            "cost_usd": round(float(cost), 6),
            "failed_cost_usd": round(float(failed), 6),
            "counterfactual_usd": round(float(counter), 6),
            "savings_usd": round(float(saved), 6),
        }
        totals["routes"] += int(n)
        totals["errors"] += int(n) if tier == "none" else 0
        totals["prompt_tokens"] += int(p_tok)
        totals["completion_tokens"] += int(c_tok)
        totals["cost_usd"] += float(cost)
        totals["failed_cost_usd"] += float(failed)
        totals["estimated_routes"] += int(estimated)
        totals["unpriced"] += int(unpriced or 0)
        totals["counterfactual_usd"] += float(counter)
        totals["savings_usd"] += float(saved)

    (flags,) = await rows(
        # local_unavailable: handed on only because the local model could not be reached (no
        # Ollama running, the model not pulled); on a machine without a local model that is
        # every route, which read as the router misjudging when counted as escalations.
        "SELECT coalesce(sum(escalated), 0), coalesce(sum(local_unavailable), 0), "
        "coalesce(sum(fell_back OR (answered_tier IS NULL AND answered_by IS NOT NULL "
        "AND route_to != decision AND route_to IN ('local', 'paid'))), 0), "
        "coalesce(sum(budget_note IS NOT NULL), 0), "
        "coalesce(sum(pin_state IN ('hard', 'soft')), 0), "
        "coalesce(sum(phase2 = 'cache'), 0), coalesce(sum(phase2 IS NOT NULL), 0) "
        f"FROM traces {routes}"
    )
    escalations, local_down, fallbacks, downgrades, pinned, hits, lookups = (int(v) for v in flags)

    by_task: dict[str, TaskSplit] = defaultdict(
        lambda: TaskSplit(routes=0, local=0, mid=0, top=0, other=0)
    )
    for task, tier, n in await rows(
        f"SELECT task_type, {_ANSWERED} AS t, count(*) FROM traces {routes} GROUP BY task_type, t"
    ):
        entry = by_task[str(task)]
        entry["routes"] += int(n)
        _count(entry, str(tier), int(n))

    by_effort = {
        str(effort): EffortSplit(
            routes=int(n), completion_tokens=int(c_tok), cost_usd=round(float(cost), 6)
        )
        for effort, n, c_tok, cost in await rows(
            "SELECT coalesce(effort, 'none') AS e, count(*), "
            "coalesce(sum(completion_tokens), 0), "
            f"coalesce(sum(coalesce(cost_usd, failed_cost_usd)), 0) FROM traces {routes} "
            "GROUP BY e ORDER BY e"
        )
    }

    by_phase = dict.fromkeys(PHASES, 0)
    # Rows from before the phase column were phase 1's; a proxied request whose client left
    # while phase 2 judged it was decided by no phase (NULL).
    for phase, n in await rows(
        "SELECT CASE WHEN phase IS NOT NULL THEN phase WHEN NOT proxied THEN 'heuristic' END, "
        f"count(*) FROM traces {routes} GROUP BY 1"
    ):
        if phase is not None:
            by_phase[str(phase)] = by_phase.get(str(phase), 0) + int(n)

    daily: dict[str, DaySplit] = {}
    for day, tier, n, cost, counter in await rows(
        f"SELECT date(created_at, 'unixepoch') AS d, {_ANSWERED} AS t, count(*), "
        "coalesce(sum(coalesce(cost_usd, failed_cost_usd)), 0), "
        f"coalesce(sum(counterfactual_usd), 0) FROM traces {routes} "
        "GROUP BY d, t ORDER BY d"
    ):
        day_entry = daily.setdefault(
            str(day),
            DaySplit(
                day=str(day), local=0, mid=0, top=0, other=0, cost_usd=0.0, counterfactual_usd=0.0
            ),
        )
        _count(day_entry, str(tier), int(n))
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
        backend: BackendLatency(
            count=len(values),
            errors=errors.get(backend, 0),
            p50=percentile(values, 50),
            p90=percentile(values, 90),
            p99=percentile(values, 99),
        )
        for backend, values in sorted(durations.items())
    }
    histogram: dict[str, list[int]] = {}
    for backend, values in sorted(durations.items()):
        counts = [0] * (len(LATENCY_EDGES_MS) + 1)
        for ms in values:
            counts[_bucket(ms)] += 1
        histogram[backend] = counts

    # Sessions that routed: every CLI command and server start opens a session, most never
    # route, and `stats` itself would add one at each run.
    (sessions,) = await rows(f"SELECT count(DISTINCT session_id) FROM traces {routes}")
    (dry_runs,) = await rows(
        f"SELECT count(*) FROM traces {where} {'AND' if where else 'WHERE'} dry_run"
    )
    (proxied,) = await rows(f"SELECT count(*) FROM traces {routes} AND proxied")
    counter_total = totals["counterfactual_usd"]
    return SavingsReport(
        since=since,
        until=until,
        generated_at=time.time(),
        workspace=redact_name(workspace).text,  # a folder's name can hold a token
        sessions=int(sessions[0]),
        routes=totals["routes"],
        errors=totals["errors"],
        prompt_tokens=totals["prompt_tokens"],
        completion_tokens=totals["completion_tokens"],
        cost_usd=round(totals["cost_usd"], 6),
        answer_cost_usd=round(totals["cost_usd"] - totals["failed_cost_usd"], 6),
        failed_cost_usd=round(totals["failed_cost_usd"], 6),
        estimated_routes=totals["estimated_routes"],
        unpriced=totals["unpriced"],
        counterfactual_usd=round(counter_total, 6),
        savings_usd=round(totals["savings_usd"], 6),
        net_savings_usd=round(totals["savings_usd"] - totals["failed_cost_usd"], 6),
        counterfactual_model=counterfactual_model or "",
        proxied_routes=int(proxied[0]),
        savings_pct=(
            round(100 * totals["savings_usd"] / counter_total, 2) if counter_total > 0 else None
        ),
        dry_runs=int(dry_runs[0]),
        escalations=escalations,
        local_unavailable=local_down,
        fallbacks=fallbacks,
        budget_downgrades=downgrades,
        pinned=pinned,
        by_tier=by_tier,
        by_task_type=dict(sorted(by_task.items())),
        by_effort=by_effort,
        by_phase=by_phase,
        classifier_cache=CacheStats(
            hits=hits, lookups=lookups, hit_rate=round(hits / lookups, 4) if lookups else None
        ),
        latency=latency,
        latency_histogram=LatencyHistogram(edges_ms=list(LATENCY_EDGES_MS), by_backend=histogram),
        daily=list(daily.values()),
    )


def _count(split: TaskSplit | DaySplit, tier: str, n: int) -> None:
    if tier == "local":
        split["local"] += n
    elif tier == "mid":
        split["mid"] += n
    elif tier == "top":
        split["top"] += n
    else:
        split["other"] += n
