"""The signal check: market data → signal → risk → sizing → execution → report, per symbol.

Each stage is timed and returns a `StageResult`; an exception in one symbol's check is caught,
logged with the check's correlation id and turns that symbol's result into `Outcome.ERROR`,
never the whole check. Symbols run concurrently under a semaphore.

Decisions are keyed on the last closed bar (`symbol:bar_open_ms:action`), so re-running a check
for the same bar (after a restart, or ten minutes later) re-derives the same client order id and
finds the existing order instead of sending another one.

Before any trading the pipeline reconciles with the exchange (at start with certainty, then at
every check); if the start reconciliation fails, nothing trades and the report says why.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

import pandas as pd

from thunes.clock import Clock
from thunes.domain import RejectReason
from thunes.events import EventBus
from thunes.exchange.types import ExchangeGateway, SymbolRules
from thunes.intervals import INTERVAL_SECONDS
from thunes.strategy import Strategy
from thunes.trading.executor import DEFAULT_ORDER_WINDOW_SECONDS, CrashPoints, Executor
from thunes.trading.ports import Audit, NullAudit, PriceSource, RiskGate, TradingStore
from thunes.trading.reconcile import Reconciler, ReconciliationReport
from thunes.trading.results import CheckReport, Outcome, PipelineMetrics, SymbolCheckResult
from thunes.trading.symbol_check import SymbolCheck

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class PipelineConfig:
    symbols: Sequence[str]
    interval: str = "1h"
    quote_amount: Decimal = Decimal("10")
    min_confidence: float = 0.5
    stop_loss_pct: Decimal = Decimal("0.03")  # used when the strategy sets none; 0 = no stop
    price_staleness_seconds: float = 30.0
    kline_limit: int = 500
    concurrency: int = 4
    reconcile_every_check: bool = True


class KlineCache:
    """Closed klines per symbol, reused until the next bar has closed."""

    def __init__(self, gateway: ExchangeGateway, interval: str, limit: int) -> None:
        self.gateway = gateway
        self.interval = interval
        self.limit = limit
        self.step = INTERVAL_SECONDS[interval]
        self._frames: dict[str, tuple[float, pd.DataFrame]] = {}

    async def closed(self, symbol: str, now: float) -> pd.DataFrame:
        cached = self._frames.get(symbol)
        if cached is not None and now < cached[0]:
            return cached[1]
        frame = await self.gateway.closed_klines(symbol, self.interval, self.limit)
        if len(frame):
            last_open = pd.Timestamp(frame.index[-1]).timestamp()
            self._frames[symbol] = (last_open + 2 * self.step, frame)
        return frame


class CheckPipeline:
    """Runs checks over every configured symbol; the daemon's check job calls `run_check`."""

    def __init__(
        self,
        gateway: ExchangeGateway,
        store: TradingStore,
        risk: RiskGate,
        strategy: Strategy,
        clock: Clock,
        config: PipelineConfig,
        *,
        prices: PriceSource | None = None,
        audit: Audit | None = None,
        events: EventBus | None = None,
        crash_points: CrashPoints | None = None,
        executor: Executor | None = None,
        order_window_seconds: float | None = None,
    ) -> None:
        self.gateway, self.store, self.risk, self.clock = gateway, store, risk, clock
        self.strategy, self.config, self.prices = strategy, config, prices
        self.audit = audit or NullAudit()
        self.events = events
        self.executor = executor or Executor(
            gateway, store, clock, audit=self.audit, events=events, risk=risk,
            crash_points=crash_points,
            order_window_seconds=order_window_seconds or DEFAULT_ORDER_WINDOW_SECONDS,
        )
        self.rules: dict[str, SymbolRules] = {}
        self.reconciler = Reconciler(
            gateway, store, self.executor, clock, config.symbols, self.rules,
            audit=self.audit, events=events,
        )
        self.klines = KlineCache(gateway, config.interval, config.kline_limit)
        self.metrics = PipelineMetrics()
        self.last_reconciliation: ReconciliationReport | None = None
        self._reconciled = False
        self._semaphore = asyncio.Semaphore(max(1, config.concurrency))
        self._ids = itertools.count(1)

    @property
    def reconciled(self) -> bool:
        """Whether the start reconciliation succeeded (trading is allowed)."""
        return self._reconciled

    def new_correlation_id(self) -> str:
        return f"chk-{self.clock.time_ms()}-{next(self._ids)}"

    async def start(self, correlation_id: str = "") -> ReconciliationReport:
        """Reconcile with certainty before the first check; trading waits until this is ok."""
        report = await self.reconciler.reconcile(at_start=True, correlation_id=correlation_id)
        self.last_reconciliation = report
        self._reconciled = report.ok
        if not report.ok:
            self.metrics.reconciliation_failures += 1
        return report

    async def ensure_reconciled(self, correlation_id: str) -> ReconciliationReport | None:
        """Start reconciliation if not done yet, else the per-check one (if configured)."""
        if not self._reconciled:
            return await self.start(correlation_id)
        if not self.config.reconcile_every_check:
            return None
        report = await self.reconciler.reconcile(correlation_id=correlation_id)
        self.last_reconciliation = report
        if not report.ok:
            self.metrics.reconciliation_failures += 1
        return report

    async def run_check(self, correlation_id: str | None = None) -> CheckReport:
        """One check of every symbol (bounded concurrency); errors stay per symbol."""
        cid = correlation_id or self.new_correlation_id()
        started, began = self.clock.now(), time.perf_counter()
        recon = await self.ensure_reconciled(cid)
        if recon is not None and not recon.ok:
            why = f"not reconciled: {recon.why()}"
            results = {s: self._blocked(s, cid, why) for s in self.config.symbols}
            return self._report(cid, started, began, results, recon, why)
        checked = await asyncio.gather(
            *(self._bounded(symbol, cid, started) for symbol in self.config.symbols)
        )
        results = {r.symbol: r for r in checked}
        return self._report(cid, started, began, results, recon, "")

    async def check_symbol(
        self, symbol: str, correlation_id: str, started_at: datetime | None = None
    ) -> SymbolCheckResult:
        """One symbol's check; any exception becomes an `Outcome.ERROR` result."""
        began = time.perf_counter()
        check = SymbolCheck(self, symbol, correlation_id, started_at or self.clock.now())
        try:
            result = await check.run()
        except Exception as exc:
            log.exception("[%s] %s: check failed", correlation_id, symbol)
            result = check.error_result(f"{type(exc).__name__}: {exc}")
        result = _with_elapsed(result, (time.perf_counter() - began) * 1000)
        self.metrics.count(result)
        return result

    async def _bounded(self, symbol: str, cid: str, started: datetime) -> SymbolCheckResult:
        async with self._semaphore:
            return await self.check_symbol(symbol, cid, started)

    async def rules_for(self, symbol: str) -> SymbolRules:
        return await self.reconciler.rules_for(symbol)

    def _blocked(self, symbol: str, cid: str, why: str) -> SymbolCheckResult:
        return SymbolCheckResult(
            symbol, cid, Outcome.REJECTED, reason=RejectReason.NOT_RECONCILED, detail=why
        )

    def _report(
        self,
        cid: str,
        started: datetime,
        began: float,
        results: dict[str, SymbolCheckResult],
        recon: ReconciliationReport | None,
        blocked: str,
    ) -> CheckReport:
        elapsed = (time.perf_counter() - began) * 1000
        self.metrics.checks += 1
        self.metrics.last_check_ms = elapsed
        self.metrics.last_check_at = started
        return CheckReport(cid, started, results, elapsed, recon, blocked)


class PaperTrader:
    """The original THUNES facade: `run_strategy(symbol)` runs one check of one symbol."""

    def __init__(self, pipeline: CheckPipeline) -> None:
        self.pipeline = pipeline

    async def run_strategy(self, symbol: str) -> SymbolCheckResult:
        cid = self.pipeline.new_correlation_id()
        recon = await self.pipeline.ensure_reconciled(cid)
        if recon is not None and not recon.ok:
            return self.pipeline._blocked(symbol, cid, f"not reconciled: {recon.why()}")
        return await self.pipeline.check_symbol(symbol, cid, self.pipeline.clock.now())


def _with_elapsed(result: SymbolCheckResult, elapsed_ms: float) -> SymbolCheckResult:
    return replace(result, elapsed_ms=elapsed_ms)
