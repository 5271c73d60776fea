"""The dashboard's facts as plain JSON-ready data, built once for the API and the pages.

Every figure comes from the reports layer (`build_status`, `position_lines`, `trade_line`,
`pnl_history`, the equity curve): the dashboard shows the numbers `thunes status` and Telegram
show. Decimals become exact strings and times ISO 8601, as in `thunes status --json`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from thunes.reports.daily import pnl_history
from thunes.reports.ledger import equity_curve, recent_trades, with_stops
from thunes.reports.rankings import snapshot_json
from thunes.reports.status import StatusView
from thunes.web.sources import DashboardSources


def plain(value: Any) -> Any:
    """JSON-ready: Decimal → str, datetime/date → ISO, enums → value, dataclasses → dicts."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if is_dataclass(value) and not isinstance(value, type):
        return plain(asdict(value))
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _fields(value: Any) -> dict[str, Any]:
    """A flat dataclass's fields (`asdict` deep-copies every value: slow on long lists)."""
    return {f.name: getattr(value, f.name) for f in fields(value)}


def status_json(sources: DashboardSources, view: StatusView | None = None) -> dict[str, Any]:
    v = view or sources.status()
    return plain({
        "time": v.now,
        "mode": v.mode,
        "version": v.version,
        "daemon": daemon_state(sources.health()),
        "entries_allowed": v.entries_allowed,
        "kill_switch": v.kill_switch,
        "kill_reason": v.kill_reason,
        "paused": v.paused,
        "cooldowns": dict(v.cooldowns),
        "today_pnl": v.today_pnl,
        "daily_loss_used": v.daily_loss_used,
        "daily_loss_limit": v.daily_loss_limit,
        "unrealized_pnl": v.unrealized_pnl,
        "open_positions": len(v.open_positions),
        "healthy": v.health.healthy,
        "unhealthy": list(v.health.unhealthy),
        "reasons": list(v.health.reasons),
    })


def daemon_state(health: Mapping[str, Any]) -> str | None:
    scheduler = (health.get("components") or {}).get("scheduler") or {}
    state = (scheduler.get("detail") or {}).get("daemon")
    return str(state) if state else None


def positions_json(sources: DashboardSources, view: StatusView | None = None) -> dict[str, Any]:
    v = view or sources.status()
    rows = with_stops(v.open_positions, sources.stop_loss_pct)
    return plain({
        "positions": [
            {
                "symbol": r.line.symbol,
                "quantity": r.line.quantity,
                "avg_entry_price": r.line.avg_entry_price,
                "cost": r.line.cost,
                "opened_at": r.line.opened_at,
                "mark_price": r.line.mark_price,
                "unrealized_pnl": r.line.unrealized_pnl,
                "stop_price": r.stop_price,
            }
            for r in rows
        ],
        "unrealized_pnl": v.unrealized_pnl,
    })


def orders_json(sources: DashboardSources, limit: int) -> dict[str, Any]:
    orders = sources.store.recent_orders(limit)
    return plain({
        "orders": [
            {
                "client_order_id": o.client_order_id,
                "symbol": o.symbol,
                "side": o.side,
                "state": o.state,
                "quantity": o.quantity,
                "quote_quantity": o.quote_quantity,
                "executed_qty": o.executed_qty,
                "avg_price": o.avg_price,
                "exit_reason": o.exit_reason,
                "created_at": o.created_at,
                "updated_at": o.updated_at,
                "error": o.error,
            }
            for o in orders
        ]
    })


def trades_json(sources: DashboardSources, limit: int) -> dict[str, Any]:
    trades = recent_trades(sources.store, limit)
    return plain({"trades": [_fields(t) for t in trades]})


def daily_pnl_json(sources: DashboardSources, days: int) -> dict[str, Any]:
    history = pnl_history(sources.store, sources.clock.now().date(), days)
    total = history[-1].cumulative if history else Decimal(0)
    return plain({"days": [_fields(d) for d in history], "total": total})


def equity_json(sources: DashboardSources) -> dict[str, Any]:
    return plain({"points": [_fields(p) for p in equity_curve(sources.store)]})


def jobs_json(sources: DashboardSources) -> dict[str, Any]:
    runs = sources.store.last_job_runs()
    upcoming = sources.next_runs()
    jobs = []
    for job_id in sorted(set(runs) | set(upcoming)):
        run = runs.get(job_id)
        jobs.append({
            "job_id": job_id,
            "outcome": run.outcome if run else None,
            "started_at": run.started_at if run else None,
            "finished_at": run.finished_at if run else None,
            "error": run.error if run else None,
            "next_run": upcoming.get(job_id),
        })
    components = sources.health().get("components") or {}
    breakers = ((components.get("breakers") or {}).get("detail") or {}).get("open") or {}
    return plain({"jobs": jobs, "breakers": {str(k): bool(v) for k, v in breakers.items()}})


def ranking_json(sources: DashboardSources) -> dict[str, Any]:
    timeframes: dict[str, Any] = {}
    if sources.rankings is not None:
        for timeframe in sources.rank_timeframes:
            run = sources.rankings.latest_success(timeframe)
            timeframes[timeframe] = snapshot_json(run) if run is not None else None
    return {"enabled": bool(timeframes), "timeframes": timeframes}


def health_json(sources: DashboardSources) -> dict[str, Any]:
    health = dict(sources.health())
    if not health:
        return {"status": "unknown", "unhealthy": [], "components": {}}
    return dict(plain(health))
