"""Reconciliation: make THUNES' records agree with the exchange, symbol by symbol.

Run at start (before the first signal check) and at the start of every check, through
`CheckPipeline.reconcile` only:

* every in-flight order is looked up by client order id and adopted (fills that happened while
  the daemon was down are recorded and applied to the position); an intent that was never sent
  is marked as never having reached the exchange; a sent order the exchange does not show yet
  holds back its symbol's entries until its order-creation window has passed (an expected
  wait after a crash, not a fault), then the answer is certain.
  An order a running check is still waiting on (`Executor.owned`) is left to that check;
* fills whose audit entries a crash cut off are written now, and final orders whose position
  update a crash cut off are applied;
* open orders the exchange has that THUNES did not send are noted;
* each symbol's base-asset balance is compared with position + tracked dust. Holding *less*
  (a manual sell) shrinks the books to what the exchange holds, recorded as an external
  reduction; holding more is noted.

Findings and errors belong to their symbol: a symbol with an unresolved order or an error waits
with its *entries* (`entry_block`); its exits, and every other symbol, go on. If the exchange
cannot be asked at all (`error`), every entry waits. Each finding is alerted once, until it
changes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from thunes.clock import Clock
from thunes.domain import ZERO, OrderState, is_protective
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.types import Balance, ExchangeError, ExchangeGateway
from thunes.trading.executor import Executor
from thunes.trading.orders import IN_FLIGHT, NEVER_REACHED
from thunes.trading.ports import Audit, NullAudit, OrderRecordView, TradingStore

log = logging.getLogger(__name__)

LAST_RECONCILIATION_KEY = "last_reconciliation"
ALERTED_KEY = "reconciliation_alerted"
SETTLE_LOOKBACK = 20  # recent orders checked for a position update left undone


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # foreign_order | external_reduction | position_excess | unresolved | error
    symbol: str
    detail: str
    blocking: bool = False  # blocks this symbol's entries (never its exits)
    fault: bool = True  # counts against the report (health); False: an expected wait


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    ok: bool
    findings: tuple[Finding, ...] = ()
    adopted_fills: int = 0
    resolved: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    error: str | None = None  # the exchange could not be asked at all: every entry waits
    at: datetime | None = None

    def entry_block(self, symbol: str) -> str | None:
        """Why `symbol`'s entries must wait, or None."""
        if self.error:
            return self.error
        blocking = [f.detail for f in self.findings if f.blocking and f.symbol == symbol]
        return "; ".join(blocking) if blocking else None

    def why(self) -> str:
        """One sentence saying what waits and why (empty when nothing does)."""
        if self.ok:
            return ""
        if self.error:
            return self.error
        return "; ".join(f.detail for f in self.findings if f.blocking and f.fault)


@dataclass
class _Work:
    findings: list[Finding] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    adopted: int = 0
    error: str | None = None
    busy: set[str] = field(default_factory=set)  # symbols with orders still out

    def failed(self, symbol: str, stage: str, exc: BaseException) -> None:
        detail = f"{symbol}: {stage} failed: {type(exc).__name__}: {exc}"
        log.warning("reconciliation: %s", detail)
        self.findings.append(Finding("error", symbol, detail, blocking=True))
        self.busy.add(symbol)


class Reconciler:
    """Compares orders, positions and balances with the exchange and adopts what it finds."""

    def __init__(
        self,
        gateway: ExchangeGateway,
        store: TradingStore,
        executor: Executor,
        clock: Clock,
        symbols: Sequence[str],
        *,
        audit: Audit | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.executor = executor
        self.clock = clock
        self.symbols = list(symbols)
        self.audit = audit or NullAudit()
        self.events = events

    async def reconcile(
        self, at_start: bool = False, correlation_id: str = "",
        symbols: Sequence[str] | None = None,
    ) -> ReconciliationReport:
        """Reconcile everything; `at_start` marks the start pass in the audit trail (it waits
        for nothing: an order still inside its creation window holds back its symbol only).

        `symbols` is this check's set (the caller adds every symbol THUNES holds); every
        in-flight order is resolved whatever its symbol.
        """
        work = _Work()
        scope = list(symbols) if symbols is not None else self.symbols
        await self._orders(work)
        await self._settle_final(work)
        self._pending_audits(work)
        await self._foreign_orders(work, scope)
        await self._balances(work, scope)
        faults = any(f.blocking and f.fault for f in work.findings)
        report = ReconciliationReport(
            ok=work.error is None and not faults,
            findings=tuple(work.findings),
            adopted_fills=work.adopted,
            resolved=tuple(work.resolved),
            unknown=tuple(work.unknown),
            error=work.error,
            at=self.clock.now(),
        )
        return self._finish(report, correlation_id, at_start)

    async def _orders(self, work: _Work) -> None:
        for record in self.store.orders_in_states(IN_FLIGHT):
            if record.client_order_id in self.executor.owned:
                work.busy.add(record.symbol)  # a running check owns it: its answer decides
                continue
            try:
                await self._order(record, work)
            except Exception as exc:  # contained: one order's trouble is its symbol's only
                work.failed(record.symbol, f"order {record.client_order_id}", exc)

    async def _order(self, record: OrderRecordView, work: _Work) -> None:
        if record.state is OrderState.NEW_INTENT:
            self.store.update_order(
                record.client_order_id, state=OrderState.REJECTED, now=self.clock.now(),
                error=f"{NEVER_REACHED}: intent recorded, request never sent",
            )
            work.resolved.append(record.client_order_id)
            return
        rules = await self.gateway.symbol_rules(record.symbol)
        before = len(self.store.fills_for(record.client_order_id))
        result = await self.executor.resolve(record, rules)
        work.adopted += max(0, len(result.fills) - before)
        if result.state.in_flight and result.state is not OrderState.ACKED:
            work.unknown.append(record.client_order_id)
            work.busy.add(record.symbol)
            self._unresolved(record, work)
        else:
            work.resolved.append(record.client_order_id)

    def _unresolved(self, record: OrderRecordView, work: _Work) -> None:
        """An order the exchange does not show yet: while its creation window is open that is
        expected (its symbol's entries wait, nothing is unhealthy); after it, a fault."""
        waiting = not self.executor.window_passed(record)
        detail = (
            f"{record.symbol}: order {record.client_order_id} not found yet; its answer is "
            f"certain in {self.executor.seconds_to_window(record):.0f} s" if waiting
            else f"{record.symbol}: order {record.client_order_id} unresolved"
        )
        work.findings.append(
            Finding("unresolved", record.symbol, detail, blocking=True, fault=not waiting)
        )

    async def _settle_final(self, work: _Work) -> None:
        """Apply fills of finished orders whose position update a crash cut short."""
        tracker = self.executor.positions
        for record in reversed(self.store.recent_orders(SETTLE_LOOKBACK)):
            if not (record.state.is_final and record.executed_qty > 0 and tracker.pending(record)):
                continue
            try:
                rules = await self.gateway.symbol_rules(record.symbol)
                await self.executor.settle(record, rules)
            except Exception as exc:
                work.failed(record.symbol, f"settling {record.client_order_id}", exc)
                continue
            work.resolved.append(record.client_order_id)

    def _pending_audits(self, work: _Work) -> None:
        for coid in self.executor.settlement.pending_audits():
            record = self.store.get_order(coid)
            if record is not None and coid not in self.executor.owned:
                self.executor.settlement.write_pending_audit(record)

    async def _foreign_orders(self, work: _Work, scope: Sequence[str]) -> None:
        try:
            found = await self.gateway.open_orders(None)
        except ExchangeError as exc:
            work.error = f"exchange unreachable: {exc}"
            return
        for order in found:
            if order.symbol in scope and self.store.get_order(order.client_order_id) is None:
                detail = (
                    f"{order.symbol}: open order {order.order_id} ({order.client_order_id}) "
                    "was not sent by THUNES"
                )
                work.findings.append(Finding("foreign_order", order.symbol, detail))

    async def _balances(self, work: _Work, scope: Sequence[str]) -> None:
        try:
            balances = await self.gateway.balances()
        except ExchangeError as exc:
            work.error = work.error or f"exchange unreachable: {exc}"
            return
        for symbol in scope:
            if symbol in work.busy or self._has_order_out(symbol):
                continue  # an order still out moves the balance: compare once it is done
            try:
                await self._compare(work, symbol, balances)
            except Exception as exc:
                work.failed(symbol, "balance comparison", exc)

    def _has_order_out(self, symbol: str) -> bool:
        """A market order still out (a resting protective stop moves no balance by itself)."""
        return any(r.symbol == symbol and not is_protective(r.client_order_id)
                   for r in self.store.orders_in_states(IN_FLIGHT))

    async def _compare(self, work: _Work, symbol: str, balances: dict[str, Balance]) -> None:
        rules = await self.gateway.symbol_rules(symbol)
        held = balances[rules.base_asset].total if rules.base_asset in balances else ZERO
        position = self.store.open_position(symbol)
        tracker = self.executor.positions
        dust = tracker.dust.get(symbol).quantity
        expected = (position.quantity if position is not None else ZERO) + dust
        if held < expected:
            removed = tracker.external_reduction(symbol, held, self.clock.now())
            self._external(work, symbol, held, expected, removed)
        elif held > expected:
            detail = (
                f"{symbol}: exchange holds {held} {rules.base_asset}, more than THUNES tracks "
                f"({expected}); the excess is not traded"
            )
            work.findings.append(Finding("position_excess", symbol, detail))

    def _external(
        self, work: _Work, symbol: str, held: Decimal, expected: Decimal, removed: Decimal
    ) -> None:
        detail = (
            f"{symbol}: exchange holds {held}, THUNES tracked {expected}: "
            f"{removed} was sold outside THUNES; the position now follows the exchange"
        )
        self.audit.record("external_reduction", "", symbol=symbol, held=held,
                          tracked=expected, removed=removed)
        work.findings.append(Finding("external_reduction", symbol, detail))

    def _finish(
        self, report: ReconciliationReport, correlation_id: str, at_start: bool = False
    ) -> ReconciliationReport:
        self.audit.record(
            "reconciliation",
            correlation_id,
            at_start=at_start,
            ok=report.ok,
            findings=[f.detail for f in report.findings],
            adopted_fills=report.adopted_fills,
            resolved=list(report.resolved),
            unknown=list(report.unknown),
            error=report.error or "",
        )
        self.store.kv_set(
            LAST_RECONCILIATION_KEY,
            f"{report.at.isoformat() if report.at else ''} ok={report.ok} {report.why()}".strip(),
        )
        self._alert_new(report, correlation_id)
        if not report.ok:
            log.error("reconciliation: entries wait: %s", report.why())
        return report

    def _alert_new(self, report: ReconciliationReport, correlation_id: str) -> None:
        """Publish only findings (and failures) not alerted before; each once until it changes."""
        lines = [f.detail for f in report.findings]
        if report.error:
            lines.append(report.error)
        current = {hashlib.sha256(line.encode()).hexdigest()[:16]: line for line in lines}
        before = set(filter(None, (self.store.kv_get(ALERTED_KEY) or "").split(",")))
        new = [line for digest, line in current.items() if digest not in before]
        self.store.kv_set(ALERTED_KEY, ",".join(sorted(current)))
        if self.events is None or not new:
            return
        title = "reconciliation: entries wait" if not report.ok else "reconciliation findings"
        data = {"why": report.why(), "findings": new}
        self.events.publish(
            Event(EventKind.RECONCILIATION, title, self.clock.now(), data, correlation_id)
        )
