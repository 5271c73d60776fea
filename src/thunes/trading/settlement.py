"""After the exchange has answered: fills into the position, the audit trail and the alerts.

`Settlement` is the second half of the order path (the `Executor` sends and resolves). It
applies an order's recorded fills to the position in one transaction with what the change
causes (the exit's cool-down and daily PnL), values commissions paid in a third asset, writes
the fills' audit entries (again at restart if a crash cut them off: `audit_pending:<id>`), and
publishes the order's one FILL or ORDER_REJECTED event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from thunes.clock import Clock
from thunes.domain import ExitReason, Fill, RejectReason, Side
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.types import ExchangeError, ExchangeGateway, SymbolRules
from thunes.trading.crash import CrashPoints
from thunes.trading.portfolio import (
    FeeNotValued,
    PositionChange,
    PositionTracker,
    fee_quote_key,
    fill_facts,
    other_fees_quote,
    third_asset_fills,
)
from thunes.trading.ports import Audit, OrderRecordView, RiskGate, TradingStore

log = logging.getLogger(__name__)

AUDIT_PENDING_PREFIX = "audit_pending:"


@dataclass(frozen=True, slots=True)
class Settled:
    """What settling an order did: its fills, the position change (if any), a note."""

    fills: tuple[Fill, ...]
    position: PositionChange | None
    detail: str


class Settlement:
    def __init__(
        self,
        gateway: ExchangeGateway,
        store: TradingStore,
        clock: Clock,
        audit: Audit,
        events: EventBus | None,
        risk: RiskGate | None,
        crash: CrashPoints,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.clock = clock
        self.audit = audit
        self.events = events
        self.risk = risk
        self.crash = crash
        self.positions = PositionTracker(store)

    def write_pending_audit(self, record: OrderRecordView) -> bool:
        """Write the audit entries of fills committed without them (a crash came in between)."""
        key = AUDIT_PENDING_PREFIX + record.client_order_id
        if self.store.kv_get(key) is None:
            return False
        for fill in self.store.fills_for(record.client_order_id):
            self.record_fill(fill, record.correlation_id)
        self.store.kv_delete(key)
        return True

    def pending_audits(self) -> list[str]:
        """Client order ids whose fills still lack their audit entries."""
        return [k.removeprefix(AUDIT_PENDING_PREFIX) for k in self.store.kv_prefixed(
            AUDIT_PENDING_PREFIX)]

    async def settle(
        self, record: OrderRecordView, rules: SymbolRules, ended: bool = False
    ) -> Settled:
        """Apply the order's recorded fills to the position (idempotent) and report.

        `ended`: the order reached its final state in this call (it may add no new fills).
        """
        fills = self.store.fills_for(record.client_order_id)
        pending = bool(fills) and self.positions.pending(record, fills)
        change = None
        detail = record.error or ""
        if pending:
            try:
                change = await self._apply(record, fills, rules)
            except FeeNotValued as exc:
                detail = f"position waits for a fee's value: {exc}"
                log.warning("%s: %s", record.client_order_id, detail)
                pending = False
        if fills and record.state.is_final and (pending or ended):
            self._report_fill(record, fills, rules)
        return Settled(tuple(fills), change, detail)

    async def _apply(
        self, record: OrderRecordView, fills: list[Fill], rules: SymbolRules
    ) -> PositionChange:
        """The position change and what it causes (cool-down, daily PnL) in one transaction."""
        await self._value_third_asset_fees(fills, rules)
        other = other_fees_quote(self.store, fills, rules)
        with self.store.atomic():
            change = self.positions.apply(record, fills, rules, other)
            self.crash.hit("inside_position_update")
            if change.kind == "closed" and self.risk is not None:
                self.risk.record_exit(record.symbol, change.realized_pnl, self.clock.now())
        if change.kind == "closed":
            self._closed(record, change)
        return change

    async def _value_third_asset_fees(self, fills: list[Fill], rules: SymbolRules) -> None:
        """Value each commission paid in a third asset (BNB) in the quote asset, once."""
        for fill in third_asset_fills(fills, rules):
            key = fee_quote_key(fill)
            if self.store.kv_get(key) is not None:
                continue
            try:
                price = await self.gateway.price(f"{fill.commission_asset}{rules.quote_asset}")
            except ExchangeError as exc:
                log.warning("cannot value %s %s: %s", fill.commission, fill.commission_asset, exc)
                continue
            self.store.kv_set(key, str(fill.commission * price))

    def _closed(self, record: OrderRecordView, change: PositionChange) -> None:
        self.audit.record(
            "position_closed",
            record.correlation_id,
            symbol=record.symbol,
            realized_pnl=change.realized_pnl,
            dust=change.dust,
            exit_reason=record.exit_reason or ExitReason.SIGNAL,
        )

    def record_fill(self, fill: Fill, correlation_id: str) -> None:
        self.audit.record(
            "fill",
            correlation_id,
            client_order_id=fill.client_order_id,
            symbol=fill.symbol,
            side=fill.side,
            price=fill.price,
            quantity=fill.quantity,
            commission=fill.commission,
            commission_asset=fill.commission_asset,
            trade_id=fill.trade_id,
        )

    def _report_fill(self, record: OrderRecordView, fills: list[Fill], rules: SymbolRules) -> None:
        """Publish the order's one FILL event (after the position took it in).

        Published before it is marked reported: a crash in between repeats the alert at
        restart rather than losing it.
        """
        key = f"fill_reported:{record.client_order_id}"
        if self.events is None or self.store.kv_get(key):
            return
        side = Side(str(record.side))
        data = fill_facts(record.symbol, side, fills, rules)
        data["client_order_id"] = record.client_order_id
        if side is Side.SELL:
            pnl = self.positions.exit_pnl(record)
            if pnl is not None:
                data["pnl"] = pnl
            data["exit_reason"] = (record.exit_reason or ExitReason.SIGNAL).value
        title = f"{data['action']} filled: {side.value} {record.symbol}"
        self.events.publish(
            Event(EventKind.FILL, title, self.clock.now(), data, record.correlation_id)
        )
        self.store.kv_set(key, self.clock.now().isoformat())

    def report_rejection(
        self, record: OrderRecordView, reason: RejectReason, message: str
    ) -> None:
        """Publish the order's one ORDER_REJECTED event, never twice."""
        key = f"reject_reported:{record.client_order_id}"
        if self.events is None or self.store.kv_get(key):
            return
        self.store.kv_set(key, self.clock.now().isoformat())
        data = {"symbol": record.symbol, "side": str(Side(str(record.side)).value),
                "reason": reason.value, "message": message,
                "client_order_id": record.client_order_id}
        title = f"{record.symbol} order rejected"
        self.events.publish(
            Event(EventKind.ORDER_REJECTED, title, self.clock.now(), data, record.correlation_id)
        )

