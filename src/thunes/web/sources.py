"""What the dashboard reads and what it may do, handed in by the composition root.

The dashboard never reaches into the daemon: it reads the store through the reports layer,
live facts (prices, `/health`, next job runs) through callables, and acts through the risk
manager's switches and one force-exit callable (`thunes.trading.pipeline.force_exit_now`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from thunes.clock import Clock
from thunes.ranking.types import RankingRun
from thunes.reports.daily import SummaryStore
from thunes.reports.snapshot import HealthSnapshot
from thunes.reports.status import StatusView, build_status
from thunes.store import OrderRecord


class DashboardStore(SummaryStore, Protocol):
    def recent_orders(self, limit: int = 50) -> list[OrderRecord]: ...


class RiskSwitches(Protocol):
    """`thunes.trading.risk.RiskManager`'s switches; each returns True if it changed."""

    def kill(self, reason: str) -> bool: ...
    def resume(self) -> bool: ...
    def pause(self) -> bool: ...
    def unpause(self) -> bool: ...


class RankingReader(Protocol):
    def latest_success(self, timeframe: str) -> RankingRun | None: ...


class Auditor(Protocol):
    def record(self, kind: str, correlation_id: str = "", **data: object) -> None: ...


ForceExit = Callable[[str], Awaitable[str]]  # symbol → what happened, one sentence


def _no_prices() -> Mapping[str, Decimal]:
    return {}


def _no_health() -> Mapping[str, Any]:
    return {}


def _no_runs() -> Mapping[str, datetime | None]:
    return {}


@dataclass
class DashboardSources:
    store: DashboardStore
    risk: RiskSwitches
    clock: Clock
    force_exit: ForceExit
    mode: str
    version: str
    daily_loss_limit: Decimal
    stop_loss_pct: Decimal
    secrets: Sequence[str] = ()  # scrubbed from every response, whatever put them there
    prices: Callable[[], Mapping[str, Decimal]] = _no_prices
    health: Callable[[], Mapping[str, Any]] = _no_health  # the daemon's `/health` JSON
    next_runs: Callable[[], Mapping[str, datetime | None]] = _no_runs
    rankings: RankingReader | None = None
    rank_timeframes: tuple[str, ...] = ()
    audit: Auditor | None = None

    def status(self) -> StatusView:
        """The same view `thunes status` and Telegram's /status render."""
        health = self.health()
        return build_status(
            self.store,
            self.clock.now(),
            daily_loss_limit=self.daily_loss_limit,
            prices=self.prices(),
            health=HealthSnapshot.from_health_json(health) if health else None,
            mode=self.mode,
            version=self.version,
        )
