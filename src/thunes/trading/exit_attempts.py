"""The numbered attempts of each position's exit, and when repeated refusals need an operator.

Attempt numbers live in the store (`exit_attempt:<decision>`), written in the same transaction
as the attempt's order intent, so a restart continues the count instead of reusing an id.
Consecutive refusals (`exit_refusals:<decision>`) are counted; the N-th in a row publishes one
EXIT_BLOCKED alert, and any fill starts the count again.
"""

from __future__ import annotations

from dataclasses import dataclass

from thunes.clock import Clock
from thunes.domain import OrderState, Position
from thunes.events import Event, EventBus, EventKind
from thunes.trading.decisions import ATTEMPT_PREFIX, REFUSALS_PREFIX, exit_key, exit_order_id
from thunes.trading.orders import never_reached
from thunes.trading.ports import OrderRecordView, TradingStore

EXIT_REFUSALS_BEFORE_ALERT = 3


@dataclass(frozen=True, slots=True)
class Attempt:
    number: int
    client_order_id: str
    record: OrderRecordView | None  # the stored order of this attempt, if any

    @property
    def is_new(self) -> bool:
        return self.record is None


class ExitAttempts:
    def __init__(
        self,
        store: TradingStore,
        clock: Clock,
        events: EventBus | None = None,
        alert_after: int = EXIT_REFUSALS_BEFORE_ALERT,
    ) -> None:
        self.store = store
        self.clock = clock
        self.events = events
        self.alert_after = alert_after

    def next(self, position: Position) -> Attempt:
        """The attempt this check makes: the current one if it is open or never reached the
        exchange, else a new number."""
        text = self.store.kv_get(ATTEMPT_PREFIX + exit_key(position))
        if text is None:
            return Attempt(0, exit_order_id(position, 0), None)
        number = int(text)
        coid = exit_order_id(position, number)
        record = self.store.get_order(coid)
        if record is None:
            return Attempt(number, coid, None)
        reusable = record.state is OrderState.NEW_INTENT or never_reached(record.error)
        if record.state.in_flight or reusable:
            return Attempt(number, coid, record)
        return Attempt(number + 1, exit_order_id(position, number + 1), None)

    def mark(self, position: Position, attempt: Attempt) -> None:
        """Record the attempt number (call in the transaction that records its intent)."""
        self.store.kv_set(ATTEMPT_PREFIX + exit_key(position), str(attempt.number))

    def refused(self, position: Position, detail: str, correlation_id: str) -> int:
        """Count one more refusal in a row; the `alert_after`-th publishes one alert."""
        key = REFUSALS_PREFIX + exit_key(position)
        count = int(self.store.kv_get(key) or "0") + 1
        self.store.kv_set(key, str(count))
        if count == self.alert_after and self.events is not None:
            title = f"{position.symbol} exit refused {count} times in a row"
            data = {"symbol": position.symbol, "refusals": count, "last_error": detail,
                    "quantity": position.quantity}
            self.events.publish(
                Event(EventKind.EXIT_BLOCKED, title, self.clock.now(), data, correlation_id)
            )
        return count

    def filled(self, position: Position) -> None:
        self.store.kv_delete(REFUSALS_PREFIX + exit_key(position))
