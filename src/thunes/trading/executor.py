"""The executor: one decision → at most one order, whatever fails or crashes on the way.

Order of work for a new decision (every step is committed before the next starts):

1. `record_intent` (NEW_INTENT, deterministic client order id) → 2. state SENT →
3. `place_market_order` → 4. fills and final state from the response → 5. the position.

The operator hears of each order once: one FILL event when it is FILLED (or ends part-filled),
published right after the position took it in, and one ORDER_REJECTED event when the exchange
refuses it. `fill_reported:<id>` / `reject_reported:<id>` in the store's kv make a restart or
reconciliation that adopts the order later publish nothing twice.

An UNKNOWN outcome (timeout, 5xx, lost response) is resolved by looking the client order id up,
with bounded, backed-off attempts. "Not found" proves nothing until the order-creation window
(the exchange's recvWindow plus margin) has passed since SENT; only then is the order marked
`NEVER_REACHED`, and it is not resent in the same check. Re-running a decision whose record
exists never sends again: it resolves or reports the existing order instead.

`CrashPoints` lets the crash-safety test kill the process between these steps.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from thunes.clock import Clock
from thunes.domain import ExitReason, Fill, OrderIntent, OrderState, RejectReason, Side
from thunes.events import Event, EventBus, EventKind
from thunes.exchange.types import (
    ExchangeError,
    ExchangeFill,
    ExchangeGateway,
    ExchangeOrder,
    PlacementStatus,
    SymbolRules,
)
from thunes.trading.orders import (
    NEVER_REACHED,
    check_transition,
    never_reached,
    state_from_exchange,
)
from thunes.trading.portfolio import PositionChange, PositionTracker, fill_facts
from thunes.trading.ports import Audit, NullAudit, OrderRecordView, RiskGate, TradingStore

log = logging.getLogger(__name__)

# Binance refuses a signed request older than recvWindow (python-binance sends 10 s) at arrival.
DEFAULT_ORDER_WINDOW_SECONDS = 15.0


class CrashPoints:
    """Hooks between the steps of the order path; no-ops in production."""

    def hit(self, name: str) -> None:
        return None


@dataclass(frozen=True, slots=True)
class ExecutionResult:
    """What one `execute` did: the order's state, whether a request went out, fills, position."""

    client_order_id: str
    symbol: str
    side: Side
    state: OrderState
    sent: bool = False
    fills: tuple[Fill, ...] = ()
    position: PositionChange | None = None
    reason: RejectReason | None = None
    detail: str = ""
    notes: tuple[str, ...] = field(default=())

    @property
    def filled(self) -> bool:
        return bool(self.fills)


def to_fill(fill: ExchangeFill, symbol: str, side: Side, coid: str, fallback: datetime) -> Fill:
    when = datetime.fromtimestamp(fill.time_ms / 1000, tz=UTC) if fill.time_ms else fallback
    return Fill(
        symbol=symbol,
        side=side,
        price=fill.price,
        quantity=fill.quantity,
        commission=fill.commission,
        commission_asset=fill.commission_asset,
        trade_id=fill.trade_id,
        client_order_id=coid,
        time=when,
    )


class Executor:
    """Sends an intent at most once and follows it to a final, recorded outcome."""

    def __init__(
        self,
        gateway: ExchangeGateway,
        store: TradingStore,
        clock: Clock,
        *,
        audit: Audit | None = None,
        events: EventBus | None = None,
        risk: RiskGate | None = None,
        crash_points: CrashPoints | None = None,
        resolve_attempts: int = 4,
        resolve_backoff: float = 0.5,
        order_window_seconds: float = DEFAULT_ORDER_WINDOW_SECONDS,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.clock = clock
        self.audit = audit or NullAudit()
        self.events = events
        self.risk = risk
        self.crash = crash_points or CrashPoints()
        self.positions = PositionTracker(store)
        self.resolve_attempts = resolve_attempts
        self.resolve_backoff = resolve_backoff
        self.order_window = timedelta(seconds=order_window_seconds)

    async def execute(
        self, intent: OrderIntent, rules: SymbolRules, check_started_at: datetime | None = None
    ) -> ExecutionResult:
        """Send `intent` unless its decision already has an order; return the outcome."""
        existing = self.store.get_order(intent.client_order_id)
        if existing is not None and not self._may_send(existing, check_started_at):
            if existing.state.is_final:
                return self._settle(existing, rules, sent=False)
            return await self.resolve(existing, rules)
        if existing is None:
            existing = self.store.record_intent(intent, self.clock.now())
            self.crash.hit("after_intent")
        return await self._send(intent, existing, rules)

    def _may_send(self, record: OrderRecordView, check_started_at: datetime | None) -> bool:
        if record.state is OrderState.NEW_INTENT:
            return True
        if record.state in (OrderState.REJECTED, OrderState.EXPIRED) and never_reached(
            record.error
        ):
            return check_started_at is None or record.updated_at < check_started_at
        return False

    async def _send(
        self, intent: OrderIntent, record: OrderRecordView, rules: SymbolRules
    ) -> ExecutionResult:
        coid = intent.client_order_id
        check_transition(coid, record.state, OrderState.SENT, record.error)
        record = self.store.update_order(coid, state=OrderState.SENT, now=self.clock.now())
        self.crash.hit("after_sent")
        self.audit.record(
            "order_sent",
            intent.correlation_id,
            client_order_id=coid,
            symbol=intent.symbol,
            side=intent.side,
            quantity=intent.quantity,
            quote_quantity=intent.quote_quantity,
        )
        result = await self.gateway.place_market_order(intent)
        self.crash.hit("after_response_before_fill_record")
        if result.status is PlacementStatus.ACCEPTED and result.order is not None:
            return await self._adopt(record, result.order, rules, sent=True)
        if result.status is PlacementStatus.REJECTED:
            return self._rejected(record, result.reason, result.error_code, result.message)
        record = self.store.update_order(
            coid, state=OrderState.UNKNOWN, now=self.clock.now(), error=result.message or None
        )
        self._outcome(record, "unknown", result.message)
        return await self.resolve(record, rules, sent=True)

    def _rejected(
        self,
        record: OrderRecordView,
        reason: RejectReason | None,
        code: int | None,
        message: str,
    ) -> ExecutionResult:
        not_sent = code is None or reason is RejectReason.BREAKER_OPEN
        error = f"{NEVER_REACHED}: {message}" if not_sent else f"{code}: {message}"
        updated = self.store.update_order(
            record.client_order_id, state=OrderState.REJECTED, now=self.clock.now(), error=error
        )
        self._outcome(updated, "rejected", error)
        if reason is not RejectReason.BREAKER_OPEN:  # a local refusal: the breaker alerts itself
            said = message if code is None else f"{message} (code {code})"
            self._report_rejection(updated, reason or RejectReason.EXCHANGE_REJECTED, said)
        return ExecutionResult(
            updated.client_order_id,
            updated.symbol,
            Side(str(updated.side)),
            OrderState.REJECTED,
            sent=not not_sent,
            reason=reason or RejectReason.EXCHANGE_REJECTED,
            detail=error,
        )

    async def resolve(
        self, record: OrderRecordView, rules: SymbolRules, sent: bool = False
    ) -> ExecutionResult:
        """Find out what became of an in-flight order by its client order id; never resend."""
        coid = record.client_order_id
        for attempt in range(self.resolve_attempts):
            try:
                order = await self.gateway.get_order(record.symbol, coid)
            except ExchangeError as exc:
                log.warning("lookup of %s failed: %s", coid, exc)
            else:
                if order is not None:
                    return await self._adopt(record, order, rules, sent=sent)
                if self.window_passed(record):
                    return self._never_reached(record, sent)
            if attempt + 1 < self.resolve_attempts:
                await self.clock.sleep(self.resolve_backoff * 2**attempt)
        if record.state is OrderState.SENT:
            record = self.store.update_order(coid, state=OrderState.UNKNOWN, now=self.clock.now())
        detail = "outcome still unknown; reconciliation will resolve it"
        return ExecutionResult(
            coid, record.symbol, Side(str(record.side)), record.state, sent=sent, detail=detail
        )

    def window_passed(self, record: OrderRecordView) -> bool:
        """Whether a request sent when `record` entered SENT can no longer be accepted."""
        return self.clock.now() >= record.updated_at + self.order_window

    def _never_reached(self, record: OrderRecordView, sent: bool) -> ExecutionResult:
        error = f"{NEVER_REACHED}: not found after the order-creation window"
        updated = self.store.update_order(
            record.client_order_id, state=OrderState.EXPIRED, now=self.clock.now(), error=error
        )
        self._outcome(updated, "never_reached", error)
        return ExecutionResult(
            updated.client_order_id,
            updated.symbol,
            Side(str(updated.side)),
            OrderState.EXPIRED,
            sent=sent,
            detail=error,
        )

    async def _adopt(
        self, record: OrderRecordView, order: ExchangeOrder, rules: SymbolRules, sent: bool
    ) -> ExecutionResult:
        """Record what the exchange says about the order: fills, state, then the position."""
        side = Side(str(record.side))
        exchange_fills = list(order.fills)
        if not exchange_fills and order.executed_qty > 0:
            exchange_fills = await self.gateway.my_trades(record.symbol, order_id=order.order_id)
        now = self.clock.now()
        coid = record.client_order_id
        fills = [to_fill(f, record.symbol, side, coid, now) for f in exchange_fills]
        known = {f.trade_id for f in self.store.fills_for(record.client_order_id)}
        new_fills = [f for f in fills if f.trade_id not in known]
        self.store.add_fills(fills)
        state = state_from_exchange(order.status)
        check_transition(record.client_order_id, record.state, state, record.error)
        avg = order.avg_price if order.executed_qty > 0 else None
        updated = self.store.update_order(
            record.client_order_id,
            state=state,
            now=now,
            exchange_order_id=order.order_id,
            executed_qty=order.executed_qty,
            cumulative_quote_qty=order.cumulative_quote_qty,
            avg_price=avg,
        )
        if new_fills or sent:
            self._outcome(updated, state.value.lower(), "")
        for fill in new_fills:
            self._record_fill(fill, updated.correlation_id)
        self.crash.hit("after_fill_before_position")
        ended = state.is_final and not record.state.is_final
        if ended and order.executed_qty <= 0 and state is not OrderState.FILLED:
            self._report_rejection(updated, RejectReason.EXCHANGE_REJECTED, f"order {state.value}")
        return self._settle(updated, rules, sent=sent, ended=ended)

    def settle(self, record: OrderRecordView, rules: SymbolRules) -> ExecutionResult:
        """Apply a final order's fills to the position if a crash left that undone."""
        return self._settle(record, rules, sent=False)

    def _settle(
        self, record: OrderRecordView, rules: SymbolRules, sent: bool, ended: bool = False
    ) -> ExecutionResult:
        """Apply the order's recorded fills to the position (idempotent) and report.

        `ended`: the order reached its final state in this call (it may add no new fills).
        """
        fills = self.store.fills_for(record.client_order_id)
        pending = bool(fills) and self.positions.pending(record, fills)
        change = self.positions.apply(record, fills, rules) if pending else None
        if change is not None and change.kind == "closed":
            self._closed(record, change)
        if fills and record.state.is_final and (pending or ended):
            self._report_fill(record, fills, rules)
        return ExecutionResult(
            record.client_order_id,
            record.symbol,
            Side(str(record.side)),
            record.state,
            sent=sent,
            fills=tuple(fills),
            position=change,
            detail=record.error or "",
        )

    def _closed(self, record: OrderRecordView, change: PositionChange) -> None:
        self.audit.record(
            "position_closed",
            record.correlation_id,
            symbol=record.symbol,
            realized_pnl=change.realized_pnl,
            dust=change.dust,
            exit_reason=record.exit_reason or ExitReason.SIGNAL,
        )
        if self.risk is not None:
            self.risk.record_exit(record.symbol, change.realized_pnl, self.clock.now())

    def _record_fill(self, fill: Fill, correlation_id: str) -> None:
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
        """Publish the order's one FILL event (after the position took it in), never twice."""
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
        self.store.kv_set(key, self.clock.now().isoformat())
        title = f"{data['action']} filled: {side.value} {record.symbol}"
        self.events.publish(
            Event(EventKind.FILL, title, self.clock.now(), data, record.correlation_id)
        )

    def _report_rejection(
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

    def _outcome(self, record: OrderRecordView, outcome: str, detail: str | None) -> None:
        self.audit.record(
            "order_outcome",
            record.correlation_id,
            client_order_id=record.client_order_id,
            symbol=record.symbol,
            outcome=outcome,
            state=record.state,
            executed_qty=record.executed_qty,
            detail=detail or "",
        )
