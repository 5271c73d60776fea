"""The facts every report is built from: open positions with marks, system health, the store.

`ReportStore` is the slice of `thunes.store.Store` the reports read, so a report can never
write state. Unrealised PnL uses `Position.cost_basis` (entry fees included), as trading does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from thunes.domain import Position
from thunes.store import JobRun, RiskState


class ReportStore(Protocol):
    def realized_pnl(self, start: datetime, end: datetime) -> Decimal: ...

    def closed_positions(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[Position]: ...

    def open_positions(self) -> list[Position]: ...
    def kv_prefixed(self, prefix: str) -> dict[str, str]: ...

    def risk_state(self) -> RiskState: ...

    def last_job_runs(self) -> dict[str, JobRun]: ...


@dataclass(frozen=True)
class PositionLine:
    symbol: str
    quantity: Decimal
    avg_entry_price: Decimal
    cost: Decimal  # paid for the held quantity, entry fees included
    opened_at: datetime
    mark_price: Decimal | None
    unrealized_pnl: Decimal | None  # at the mark, net of entry fees; None without a mark


def position_lines(
    positions: Sequence[Position], prices: Mapping[str, Decimal] | None
) -> tuple[PositionLine, ...]:
    lines = []
    for p in sorted(positions, key=lambda p: p.symbol):
        mark = (prices or {}).get(p.symbol)
        cost = p.cost_basis
        pnl = None if mark is None else mark * p.quantity - cost
        lines.append(
            PositionLine(p.symbol, p.quantity, p.avg_entry_price, cost, p.opened_at, mark, pnl)
        )
    return tuple(lines)


def total_unrealized(lines: Sequence[PositionLine]) -> Decimal | None:
    """Sum of unrealised PnL; None if any position has no mark (a partial sum would mislead)."""
    values = [line.unrealized_pnl for line in lines]
    if any(v is None for v in values):
        return None
    return sum((v for v in values if v is not None), Decimal(0))


@dataclass(frozen=True)
class HealthSnapshot:
    """System health as the reports show it; build it from the daemon's `/health` JSON."""

    healthy: bool | None = None
    stream_connected: bool | None = None
    reconnects_last_hour: int | None = None
    open_breakers: tuple[str, ...] = ()
    failing_jobs: tuple[str, ...] = ()  # "job: detail" of jobs whose last run failed
    unhealthy: tuple[str, ...] = ()
    alerts: Mapping[str, Any] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()  # "component: sentence" for unhealthy components that say why
    parameters: str | None = None  # which strategy parameters trade, and any refusal

    @classmethod
    def from_health_json(cls, report: Mapping[str, Any]) -> HealthSnapshot:
        """From `HealthReport.as_json()` (the `/health` body)."""
        components = report.get("components", {})

        def detail(name: str) -> Mapping[str, Any]:
            return dict(components.get(name, {}).get("detail", {}) or {})

        stream = detail("stream")
        breakers = detail("breakers").get("open", {}) or {}
        jobs = detail("scheduler").get("jobs", {}) or {}
        failing = tuple(
            f"{job}: {info.get('detail') or info.get('status')}"
            for job, info in sorted(jobs.items())
            if info.get("status") == "failed"
        )
        return cls(
            healthy=report.get("status") == "ok" if "status" in report else None,
            stream_connected=stream.get("connected") if stream.get("enabled", True) else None,
            reconnects_last_hour=stream.get("reconnects_last_hour"),
            open_breakers=tuple(sorted(name for name, is_open in breakers.items() if is_open)),
            failing_jobs=failing,
            unhealthy=tuple(report.get("unhealthy", ())),
            alerts=detail("alerts"),
            reasons=_reasons(components, report.get("unhealthy", ())),
            parameters=_parameters(detail("strategy")),
        )


def _reasons(components: Mapping[str, Any], unhealthy: Sequence[str]) -> tuple[str, ...]:
    reasons = []
    for name in unhealthy:
        detail = (components.get(name) or {}).get("detail") or {}
        reason = detail.get("reason") or detail.get("error")
        if isinstance(reason, str) and reason:
            reasons.append(f"{name}: {reason}")
    return tuple(reasons)


def _parameters(strategy: Mapping[str, Any]) -> str | None:
    """`sma on 1h bars, published parameters`, or the defaults with the refusal."""
    if not strategy.get("strategy"):
        return None
    head = f"{strategy['strategy']} on {strategy.get('interval', '?')} bars"
    if strategy.get("refused"):
        return f"{head}, DEFAULTS: {strategy['refused']}"
    source = "published" if strategy.get("source") == "published" else "default"
    return f"{head}, {source} parameters"


def failed_job_runs(store: ReportStore, since: datetime | None = None) -> tuple[str, ...]:
    """`job: error` for jobs whose latest recorded run did not succeed (since `since`)."""
    failing = []
    for job_id, run in sorted(store.last_job_runs().items()):
        if run.outcome in ("ok", "skipped"):
            continue
        if since is not None and run.started_at < since:
            continue
        failing.append(f"{job_id}: {run.error or run.outcome}")
    return tuple(failing)
