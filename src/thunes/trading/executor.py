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
(the exchange's recvWindow plus margin) has passed since the request really left, measured on
the wire clock (the clock the exchange checks recvWindow against; `sent_at:<id>` is recorded
right before the request goes out, after rate-limit waits). Only then is the order marked
`NEVER_REACHED`; it is not resent in the same check, and it is looked up once more before it is.
Re-running a decision whose record exists never sends again: it resolves or reports the
existing order instead. Binance accepts a reused client order id once the first order is no
longer open, so this store is the only guard against a second order for one decision.

While a check works on an order, its client order id is in `owned`: reconciliation leaves it
alone instead of judging an answer that has not come back yet.

A fill's audit entries are written after the fill is committed; `audit_pending:<id>` (set in
the same transaction as the fills) makes a restart write them if a crash came in between.

`CrashPoints` lets the crash-safety test kill the process between these steps.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from thunes.clock import Clock
from thunes.domain import Fill, OrderIntent, OrderState, RejectReason, Side
from thunes.events import EventBus
from thunes.exchange.order_updates import OrderUpdates
from thunes.exchange.types import (
    ExchangeError,
    ExchangeFill,
    ExchangeGateway,
    ExchangeOrder,
    PlacementStatus,
    SymbolRules,
)
from thunes.trading.crash import CrashPoints
from thunes.trading.orders import (
    NEVER_REACHED,
    check_transition,
    never_reached,
    state_from_exchange,
)
from thunes.trading.portfolio import (
    PositionChange,
)
from thunes.trading.ports import Audit, NullAudit, OrderRecordView, RiskGate, TradingStore
from thunes.trading.settlement import Settlement

log = logging.getLogger(__name__)

# Binance refuses a signed request older than recvWindow (python-binance sends 10 s) at arrival.
DEFAULT_ORDER_WINDOW_SECONDS = 15.0
SENT_AT_PREFIX = "sent_at:"
AUDIT_PENDING_PREFIX = "audit_pending:"


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
        wire_clock: Clock | None = None,
        order_updates: OrderUpdates | None = None,
    ) -> None:
        self.gateway = gateway
        # The account stream's execution reports: a final one stands in for a lookup, and any
        # ends the wait between lookups (the composition root sets it when there is a stream).
        self.order_updates = order_updates
        self.store = store
        self.clock = clock
        self.wire_clock = wire_clock or clock
        self.owned: set[str] = set()
        self.audit = audit or NullAudit()
        self.events = events
        self.risk = risk
        self.crash = crash_points or CrashPoints()
        self.settlement = Settlement(
            gateway, store, clock, self.audit, events, risk, self.crash
        )
        self.positions = self.settlement.positions
        self.resolve_attempts = resolve_attempts
        self.resolve_backoff = resolve_backoff
        self.order_window = timedelta(seconds=order_window_seconds)

    async def execute(
        self, intent: OrderIntent, rules: SymbolRules, check_started_at: datetime | None = None
    ) -> ExecutionResult:
        """Send `intent` unless its decision already has an order; return the outcome."""
        with self._owning(intent.client_order_id):
            existing = self.store.get_order(intent.client_order_id)
            if existing is not None and not self.may_send(existing, check_started_at):
                if existing.state.is_final:
                    return await self._settle(existing, rules, sent=False)
                return await self.resolve(existing, rules)
            if existing is None:
                existing = self.store.record_intent(intent, self.clock.now())
            if existing.state is OrderState.NEW_INTENT:
                # The intent is committed (here or by the check that decided it), nothing sent.
                self.crash.hit("after_intent")
            else:
                found = await self._look_up_before_resend(existing, rules)
                if found is not None:
                    return found
            return await self._send(intent, existing, rules)

    @contextmanager
    def _owning(self, client_order_id: str) -> Iterator[None]:
        self.owned.add(client_order_id)
        try:
            yield
        finally:
            self.owned.discard(client_order_id)

    async def _look_up_before_resend(
        self, record: OrderRecordView, rules: SymbolRules
    ) -> ExecutionResult | None:
        """A 'never reached' order is asked for once more before it is sent again."""
        try:
            order = await self.gateway.get_order(record.symbol, record.client_order_id)
        except ExchangeError as exc:
            detail = f"lookup before resending failed: {exc}"
            return ExecutionResult(record.client_order_id, record.symbol, Side(str(record.side)),
                                   record.state, detail=detail)
        if order is None:
            return None
        return await self._adopt(record, order, rules, sent=False)

    def may_send(self, record: OrderRecordView, check_started_at: datetime | None) -> bool:
        """Whether this stored order may (still) be sent: a bare intent, or one that never
        reached the exchange, and then not again in the check that found it so."""
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
            stop_price=intent.stop_price,
        )

        def on_send() -> None:
            self.store.kv_set(SENT_AT_PREFIX + coid, repr(self.wire_clock.time()))
            self.crash.hit("request_in_flight")

        place = (self.gateway.place_stop_loss_limit if intent.is_protective_stop
                 else self.gateway.place_market_order)
        result = await place(intent, on_send=on_send)
        self.crash.hit("after_response_before_fill_record")
        if result.status is PlacementStatus.ACCEPTED and result.order is not None:
            return await self._adopt(record, result.order, rules, sent=True)
        if result.status is PlacementStatus.REJECTED:
            return self._rejected(record, result.reason, result.error_code, result.message)
        record = self._transition(coid, OrderState.UNKNOWN, error=result.message or None)
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
        updated = self._transition(record.client_order_id, OrderState.REJECTED, error=error)
        self._outcome(updated, "rejected", error)
        if reason is not RejectReason.BREAKER_OPEN:  # a local refusal: the breaker alerts itself
            said = message if code is None else f"{message} (code {code})"
            refusal = reason or RejectReason.EXCHANGE_REJECTED
            self.settlement.report_rejection(updated, refusal, said)
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
        with self._owning(record.client_order_id):
            return await self._resolve(record, rules, sent)

    async def _resolve(
        self, record: OrderRecordView, rules: SymbolRules, sent: bool
    ) -> ExecutionResult:
        coid = record.client_order_id
        for attempt in range(self.resolve_attempts):
            reported = self.order_updates.final(coid) if self.order_updates else None
            if reported is not None:
                return await self._adopt(record, reported, rules, sent=sent)
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
                pause = self.clock.sleep(self.resolve_backoff * 2**attempt)
                await (self.order_updates.wait(coid, pause) if self.order_updates else pause)
        current = self.store.get_order(coid) or record
        if current.state is OrderState.SENT:
            record = self._transition(coid, OrderState.UNKNOWN)
        detail = "outcome still unknown; reconciliation will resolve it"
        return ExecutionResult(
            coid, record.symbol, Side(str(record.side)), record.state, sent=sent, detail=detail
        )

    def window_passed(self, record: OrderRecordView) -> bool:
        """Whether the order's request can no longer be accepted by the exchange.

        Counted on the wire clock from the moment the request left (`sent_at`). No `sent_at`
        means the request never left (it is recorded before the send); then the trading clock
        from the SENT commit is used, which errs only on the side of waiting.
        """
        sent_at = self.store.kv_get(SENT_AT_PREFIX + record.client_order_id)
        if sent_at is not None:
            return self.wire_clock.time() >= float(sent_at) + self.order_window.total_seconds()
        return self.clock.now() >= record.updated_at + self.order_window

    def seconds_to_window(self, record: OrderRecordView) -> float:
        """Wire seconds until `window_passed` (0 when it has)."""
        sent_at = self.store.kv_get(SENT_AT_PREFIX + record.client_order_id)
        if sent_at is not None:
            left = float(sent_at) + self.order_window.total_seconds() - self.wire_clock.time()
        else:
            left = (record.updated_at + self.order_window - self.clock.now()).total_seconds()
        return max(0.0, left)

    def _transition(self, client_order_id: str, target: OrderState, **fields: object) -> Any:
        """Move the *stored* row to `target` through the state machine, then write it."""
        current = self.store.get_order(client_order_id)
        if current is None:
            raise ValueError(f"no order {client_order_id}")
        check_transition(client_order_id, current.state, target, current.error)
        return self.store.update_order(
            client_order_id, state=target, now=self.clock.now(), **fields  # type: ignore[arg-type]
        )

    def _never_reached(self, record: OrderRecordView, sent: bool) -> ExecutionResult:
        error = f"{NEVER_REACHED}: not found after the order-creation window"
        updated = self._transition(record.client_order_id, OrderState.EXPIRED, error=error)
        self._outcome(updated, "never_reached", error)
        return ExecutionResult(
            updated.client_order_id,
            updated.symbol,
            Side(str(updated.side)),
            OrderState.EXPIRED,
            sent=sent,
            detail=error,
        )

    async def adopt(
        self, record: OrderRecordView, order: ExchangeOrder, rules: SymbolRules
    ) -> ExecutionResult:
        """Record an answer about `record` obtained elsewhere (a cancel's answer)."""
        with self._owning(record.client_order_id):
            return await self._adopt(record, order, rules, sent=False)

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
        state = state_from_exchange(order.status)
        before = self.store.get_order(coid) or record
        with self.store.atomic():
            new_fills = self.store.add_fills(fills)
            if new_fills:
                self.store.kv_set(AUDIT_PENDING_PREFIX + coid, now.isoformat())
            updated = self._transition(
                coid, state,
                exchange_order_id=order.order_id,
                executed_qty=order.executed_qty,
                cumulative_quote_qty=order.cumulative_quote_qty,
                avg_price=order.avg_price if order.executed_qty > 0 else None,
            )
        self.crash.hit("after_fill_before_audit")
        if new_fills or sent:
            self._outcome(updated, state.value.lower(), "")
        self.settlement.write_pending_audit(updated)
        self.crash.hit("after_fill_before_position")
        ended = state.is_final and not before.state.is_final
        if ended and order.executed_qty <= 0 and state is not OrderState.FILLED:
            self.settlement.report_rejection(
                updated, RejectReason.EXCHANGE_REJECTED, f"order {state.value}"
            )
        return await self._settle(updated, rules, sent=sent, ended=ended)

    async def settle(self, record: OrderRecordView, rules: SymbolRules) -> ExecutionResult:
        """Apply a final order's fills to the position if a crash left that undone."""
        return await self._settle(record, rules, sent=False)

    async def _settle(
        self, record: OrderRecordView, rules: SymbolRules, sent: bool, ended: bool = False
    ) -> ExecutionResult:
        settled = await self.settlement.settle(record, rules, ended)
        return ExecutionResult(
            record.client_order_id, record.symbol, Side(str(record.side)), record.state,
            sent=sent, fills=settled.fills, position=settled.position, detail=settled.detail,
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
