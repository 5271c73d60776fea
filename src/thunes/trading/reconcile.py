"""Reconciliation: make THUNES' records agree with the exchange before trading on them.

Run at start (before the first signal check) and at the start of every check:

* every in-flight order is looked up by client order id and adopted (fills that happened while
  the daemon was down are recorded and applied to the position); an intent that was never sent
  is marked as never having reached the exchange; at start, a sent order the exchange does not
  know is waited for until the order-creation window has passed, so the answer is certain;
* open orders the exchange has that THUNES did not send are flagged;
* each traded symbol's base-asset balance is compared with the open position: holding *less*
  than the position says blocks trading (an exit could not be filled); holding more is noted.

If the exchange cannot be asked, reconciliation fails and says why; the pipeline then does not
trade (`RejectReason.NOT_RECONCILED`).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from thunes.clock import Clock
from thunes.domain import ZERO, OrderState
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.types import ExchangeError, ExchangeGateway, SymbolRules
from thunes.trading.executor import Executor
from thunes.trading.orders import IN_FLIGHT, NEVER_REACHED
from thunes.trading.ports import Audit, NullAudit, OrderRecordView, TradingStore

log = logging.getLogger(__name__)

LAST_RECONCILIATION_KEY = "last_reconciliation"
SETTLE_LOOKBACK = 20  # recent orders checked for a position update left undone


@dataclass(frozen=True, slots=True)
class Finding:
    kind: str  # foreign_order | position_short | position_excess | unresolved | error
    symbol: str
    detail: str
    blocking: bool = False


@dataclass(frozen=True, slots=True)
class ReconciliationReport:
    ok: bool
    findings: tuple[Finding, ...] = ()
    adopted_fills: int = 0
    resolved: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    error: str | None = None
    at: datetime | None = None

    def why(self) -> str:
        """One line saying why trading is blocked (empty when it is not)."""
        if self.ok:
            return ""
        if self.error:
            return self.error
        return "; ".join(f.detail for f in self.findings if f.blocking)


@dataclass
class _Work:
    findings: list[Finding] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    adopted: int = 0


class Reconciler:
    """Compares orders, positions and balances with the exchange and adopts what it finds."""

    def __init__(
        self,
        gateway: ExchangeGateway,
        store: TradingStore,
        executor: Executor,
        clock: Clock,
        symbols: Sequence[str],
        rules: dict[str, SymbolRules] | None = None,
        *,
        audit: Audit | None = None,
        events: EventBus | None = None,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.executor = executor
        self.clock = clock
        self.symbols = list(symbols)
        self.rules: dict[str, SymbolRules] = dict(rules or {})
        self.audit = audit or NullAudit()
        self.events = events

    async def reconcile(
        self, at_start: bool = False, correlation_id: str = ""
    ) -> ReconciliationReport:
        """Reconcile everything; at start, wait out the order window so every answer is final."""
        work = _Work()
        try:
            await self._orders(work, at_start)
            await self._foreign_orders(work)
            await self._balances(work)
        except ExchangeError as exc:
            report = ReconciliationReport(
                ok=False, findings=tuple(work.findings), error=f"exchange unreachable: {exc}",
                at=self.clock.now(),
            )
            return self._finish(report, correlation_id)
        blocking = any(f.blocking for f in work.findings)
        report = ReconciliationReport(
            ok=not blocking and not (at_start and work.unknown),
            findings=tuple(work.findings),
            adopted_fills=work.adopted,
            resolved=tuple(work.resolved),
            unknown=tuple(work.unknown),
            at=self.clock.now(),
        )
        if at_start and work.unknown and not blocking:
            report = ReconciliationReport(
                ok=False, findings=report.findings, adopted_fills=report.adopted_fills,
                resolved=report.resolved, unknown=report.unknown,
                error=f"orders still unresolved: {', '.join(work.unknown)}", at=report.at,
            )
        return self._finish(report, correlation_id)

    async def rules_for(self, symbol: str) -> SymbolRules:
        if symbol not in self.rules:
            self.rules[symbol] = await self.gateway.symbol_rules(symbol)
        return self.rules[symbol]

    async def _orders(self, work: _Work, at_start: bool) -> None:
        for record in self.store.orders_in_states(IN_FLIGHT):
            if record.state is OrderState.NEW_INTENT:
                self.store.update_order(
                    record.client_order_id, state=OrderState.REJECTED, now=self.clock.now(),
                    error=f"{NEVER_REACHED}: intent recorded, request never sent",
                )
                work.resolved.append(record.client_order_id)
                continue
            await self._resolve(record, work, at_start)
        await self._settle_final(work)

    async def _settle_final(self, work: _Work) -> None:
        """Apply fills of finished orders whose position update a crash cut short."""
        tracker = self.executor.positions
        for record in reversed(self.store.recent_orders(SETTLE_LOOKBACK)):
            if record.state.is_final and record.executed_qty > 0 and tracker.pending(record):
                self.executor.settle(record, await self.rules_for(record.symbol))
                work.resolved.append(record.client_order_id)

    async def _resolve(self, record: OrderRecordView, work: _Work, at_start: bool) -> None:
        rules = await self.rules_for(record.symbol)
        before = len(self.store.fills_for(record.client_order_id))
        if at_start and not self.executor.window_passed(record):
            wait = (record.updated_at + self.executor.order_window) - self.clock.now()
            found = await self.gateway.get_order(record.symbol, record.client_order_id)
            if found is None:
                await self.clock.sleep(max(0.0, wait.total_seconds()))
        result = await self.executor.resolve(record, rules)
        work.adopted += len(result.fills) - before if result.fills else 0
        if result.state.in_flight and result.state is not OrderState.ACKED:
            work.unknown.append(record.client_order_id)
            work.findings.append(
                Finding("unresolved", record.symbol, f"order {record.client_order_id} unresolved")
            )
        else:
            work.resolved.append(record.client_order_id)

    async def _foreign_orders(self, work: _Work) -> None:
        for order in await self.gateway.open_orders(None):
            if order.symbol in self.symbols and self.store.get_order(order.client_order_id) is None:
                detail = (
                    f"{order.symbol}: open order {order.order_id} ({order.client_order_id}) "
                    "was not sent by THUNES"
                )
                work.findings.append(Finding("foreign_order", order.symbol, detail))

    async def _balances(self, work: _Work) -> None:
        balances = await self.gateway.balances()
        for symbol in self.symbols:
            rules = await self.rules_for(symbol)
            position = self.store.open_position(symbol)
            held = balances[rules.base_asset].total if rules.base_asset in balances else ZERO
            expected = position.quantity if position is not None else ZERO
            self._compare(work, symbol, held, expected)

    @staticmethod
    def _compare(work: _Work, symbol: str, held: Decimal, expected: Decimal) -> None:
        if held < expected:
            detail = f"{symbol}: exchange holds {held}, THUNES' position says {expected}"
            work.findings.append(Finding("position_short", symbol, detail, blocking=True))
        elif held > expected and expected > 0:
            detail = f"{symbol}: exchange holds {held}, more than the position's {expected}"
            work.findings.append(Finding("position_excess", symbol, detail))

    def _finish(self, report: ReconciliationReport, correlation_id: str) -> ReconciliationReport:
        self.audit.record(
            "reconciliation",
            correlation_id,
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
        if self.events is not None and (not report.ok or report.findings):
            title = "reconciliation failed" if not report.ok else "reconciliation findings"
            data = {"why": report.why(), "findings": [f.detail for f in report.findings]}
            self.events.publish(
                Event(EventKind.RECONCILIATION, title, self.clock.now(), data, correlation_id)
            )
        if not report.ok:
            log.error("reconciliation failed: %s", report.why())
        return report
