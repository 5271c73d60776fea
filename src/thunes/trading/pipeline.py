"""The signal check: market data → signal → risk → sizing → execution → report, per symbol.

Each stage is timed and returns a `StageResult`; an exception in one symbol's check is caught,
logged with the check's correlation id and turns that symbol's result into `Outcome.ERROR`,
never the whole check. Symbols run concurrently under a semaphore.

Every check starts with one reconciliation (`reconcile`, the only path: the daemon's periodic
job calls it too). Its findings are scoped to their symbol: a symbol with an unresolved order
or a reconciliation error waits with its *entries*; if the exchange could not be asked at all,
every entry waits. Exits never wait: each symbol's check runs whatever the reconciliation
found, and its stop-loss and exit are tried from the freshest price available.
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

from thunes.clock import Clock
from thunes.domain import RejectReason
from thunes.events import EventBus
from thunes.exchange.types import ExchangeGateway
from thunes.strategy import Strategy, TradingRules
from thunes.trading.executor import DEFAULT_ORDER_WINDOW_SECONDS, CrashPoints, Executor
from thunes.trading.exit_attempts import ExitAttempts
from thunes.trading.force_exit import request_force_exit
from thunes.trading.ports import Audit, NullAudit, PriceSource, RiskGate, TradingStore
from thunes.trading.protective_stops import ProtectiveStops, StopSettings
from thunes.trading.reconcile import Reconciler, ReconciliationReport
from thunes.trading.results import CheckReport, EntryBlock, PipelineMetrics, SymbolCheckResult
from thunes.trading.symbol_check import CheckContext, SymbolCheck
from thunes.trading.universe import (
    StaticUniverse,
    SymbolSource,
    UniverseView,
    check_symbols,
    held_symbols,
)

log = logging.getLogger(__name__)


_SHIPPED = TradingRules()


@dataclass(frozen=True)
class PipelineConfig:
    """The check's settings; the trading-rule fields come from the same `TradingRules` the
    backtest uses (see `thunes.app.build.pipeline_config`)."""

    symbols: Sequence[str]
    interval: str = "1h"
    quote_amount: Decimal = _SHIPPED.quote_amount
    min_confidence: float = _SHIPPED.min_confidence
    stop_loss_pct: Decimal = _SHIPPED.stop_loss_pct  # used when the strategy sets none; 0 = none
    price_staleness_seconds: float = 30.0
    kline_limit: int = 500
    concurrency: int = 4
    reconcile_every_check: bool = True
    exchange_stops: bool = False  # a protective STOP_LOSS_LIMIT rests for every position
    stop_limit_distance: Decimal = Decimal("0.005")


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
        wire_clock: Clock | None = None,
        universe: SymbolSource | None = None,
    ) -> None:
        self.gateway, self.store, self.clock, self.config = gateway, store, clock, config
        # Which symbols each check may enter (static THUNES_SYMBOLS unless a ranking is given).
        self.universe = universe or StaticUniverse(config.symbols)
        self.last_universe: UniverseView | None = None
        audit = audit or NullAudit()
        self.executor = executor or Executor(
            gateway, store, clock, audit=audit, events=events, risk=risk,
            crash_points=crash_points, wire_clock=wire_clock,
            order_window_seconds=order_window_seconds or DEFAULT_ORDER_WINDOW_SECONDS,
        )
        self.reconciler = Reconciler(
            gateway, store, self.executor, clock, config.symbols, audit=audit, events=events,
        )
        self.stops = ProtectiveStops(
            gateway, store, self.executor, clock,
            StopSettings(config.exchange_stops, config.stop_limit_distance),
        )
        self.context = CheckContext(
            gateway, store, risk, self.executor, strategy, clock, config, prices, audit,
            ExitAttempts(store, clock, events), asyncio.Lock(), self.stops,
        )
        self.metrics = PipelineMetrics()
        self.last_reconciliation: ReconciliationReport | None = None
        self._started = False
        self._semaphore = asyncio.Semaphore(max(1, config.concurrency))
        self._symbol_locks: dict[str, asyncio.Lock] = {}
        self._ids = itertools.count(1)

    @property
    def reconciled(self) -> bool:
        """Whether a start reconciliation has reached the exchange (entries may trade)."""
        return self._started

    def new_correlation_id(self) -> str:
        return f"chk-{self.clock.time_ms()}-{next(self._ids)}"

    def current_universe(self) -> UniverseView:
        """Ask the symbol source once (each check does, before anything else)."""
        self.last_universe = self.universe.current()
        return self.last_universe

    async def reconcile(
        self, correlation_id: str = "", view: UniverseView | None = None
    ) -> ReconciliationReport:
        """The one reconciliation path: the strict start pass until one succeeds, then routine.

        It covers the check's symbols and every symbol with a position, an order or dust.
        """
        view = view or self.last_universe or self.current_universe()
        scope = check_symbols(view, held_symbols(self.store, with_dust=True))
        report = await self.reconciler.reconcile(
            at_start=not self._started, correlation_id=correlation_id, symbols=scope
        )
        self.last_reconciliation = report
        if report.error is None:
            self._started = True
        if not report.ok:
            self.metrics.reconciliation_failures += 1
        return report

    async def run_check(self, correlation_id: str | None = None) -> CheckReport:
        """One check of every symbol (bounded concurrency); errors stay per symbol."""
        cid = correlation_id or self.new_correlation_id()
        started, began = self.clock.now(), time.perf_counter()
        view = self.current_universe()
        recon = self.last_reconciliation
        if not self._started or self.config.reconcile_every_check:
            recon = await self.reconcile(cid, view)
        symbols = check_symbols(view, held_symbols(self.store))
        checked = await asyncio.gather(
            *(self._bounded(symbol, cid, started, recon, view) for symbol in symbols)
        )
        results = {r.symbol: r for r in checked}
        blocked = f"entries wait: {recon.why()}" if recon is not None and not recon.ok else ""
        return self._report(cid, started, began, results, recon, blocked)

    async def check_symbol(
        self, symbol: str, correlation_id: str, started_at: datetime | None = None,
        entry_block: EntryBlock | str | None = None,
    ) -> SymbolCheckResult:
        """One symbol's check; any exception becomes an `Outcome.ERROR` result."""
        began = time.perf_counter()
        check = SymbolCheck(self.context, symbol, correlation_id,
                            started_at or self.clock.now(), entry_block)
        lock = self._symbol_locks.setdefault(symbol, asyncio.Lock())
        try:
            async with lock:  # one check of a symbol at a time (scheduled or on demand)
                result = await check.run()
        except Exception as exc:
            log.exception("[%s] %s: check failed", correlation_id, symbol)
            result = check.error_result(f"{type(exc).__name__}: {exc}")
        result = replace(result, elapsed_ms=(time.perf_counter() - began) * 1000)
        self.metrics.count(result)
        return result

    async def _bounded(self, symbol: str, cid: str, started: datetime,
                       recon: ReconciliationReport | None, view: UniverseView
                       ) -> SymbolCheckResult:
        block = self._entry_block(symbol, recon, view)
        async with self._semaphore:
            return await self.check_symbol(symbol, cid, started, block)

    def _entry_block(self, symbol: str, recon: ReconciliationReport | None,
                     view: UniverseView | None = None) -> EntryBlock | None:
        """Reconciliation first (its reason is the more urgent), then the universe."""
        why: str | None
        if not self._started:
            why = recon.why() if recon is not None else "not reconciled yet"
        else:
            why = recon.entry_block(symbol) if recon is not None else None
        if why is not None:
            return EntryBlock(RejectReason.NOT_RECONCILED, f"not reconciled: {why}")
        return view.entry_block(symbol) if view is not None else None

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


async def force_exit_now(
    pipeline: CheckPipeline, targets: Sequence[str]
) -> dict[str, SymbolCheckResult]:
    """Record force-exit requests and run those symbols' checks at once (the daemon's actions:
    Telegram, dashboard). A sell that does not go through now is tried again at every check."""
    symbols = request_force_exit(pipeline.store, targets, pipeline.clock.now())
    cid = pipeline.new_correlation_id()
    view = pipeline.current_universe()
    recon = await pipeline.reconcile(cid, view)
    results = {}
    for symbol in symbols:
        block = pipeline._entry_block(symbol, recon, view)
        results[symbol] = await pipeline.check_symbol(symbol, cid, pipeline.clock.now(), block)
    return results


class PaperTrader:
    """The original THUNES facade: `run_strategy(symbol)` runs one check of one symbol."""

    def __init__(self, pipeline: CheckPipeline) -> None:
        self.pipeline = pipeline

    async def run_strategy(self, symbol: str) -> SymbolCheckResult:
        p = self.pipeline
        cid = p.new_correlation_id()
        view = p.current_universe()
        recon = await p.reconcile(cid, view)
        block = p._entry_block(symbol, recon, view)
        return await p.check_symbol(symbol, cid, p.clock.now(), block)
