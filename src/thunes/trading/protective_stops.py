"""Protective stops: a STOP_LOSS_LIMIT resting on the exchange for every open position.

THUNES' own stop-loss runs only while THUNES runs. With `exchange_stops` on (the default in
live), each open position also has exactly one protective sell on the exchange at its stop
price (limit a configured distance below), so the position is protected while the daemon is
down or cut off.

* Placed after the entry fills, through the executor like any order: a deterministic client
  order id (`th-p-…`, position + attempt number) committed before it is sent, never resent
  blindly, resolved by lookup after a crash.
* Exactly one per position: when the quantity to protect changes (a partial exit, dust), the
  old one is cancelled before a new one is placed; before THUNES sells the position itself,
  the stop is cancelled (its coins are locked by it), and if the exchange says it already
  filled, that fill *is* the exit.
* Its fill is an exit like any other: reconciliation finds it FILLED, the settlement applies
  it (PnL net of fees, cool-down, daily loss) and the operator gets the fill alert.

The current stop of a symbol is `protective:<SYMBOL>` = "<attempt>|<client order id>" in the
store's key-value table.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from thunes.clock import Clock
from thunes.domain import (
    PROTECTIVE_PREFIX,
    ExitReason,
    OrderIntent,
    OrderState,
    Position,
    Side,
)
from thunes.exchange.types import ExchangeError, ExchangeGateway, SymbolRules
from thunes.trading.decisions import exit_key
from thunes.trading.executor import ExecutionResult, Executor
from thunes.trading.ports import OrderRecordView, TradingStore

log = logging.getLogger(__name__)

KEY_PREFIX = "protective:"


@dataclass(frozen=True)
class StopSettings:
    enabled: bool = False
    limit_distance: Decimal = Decimal("0.005")  # limit price this fraction below the stop


def protective_order_id(position: Position, attempt: int) -> str:
    decision = f"{exit_key(position)}:PROTECT#{attempt}"
    digest = hashlib.sha256(f"{decision}|{position.symbol}".encode()).hexdigest()
    return f"{PROTECTIVE_PREFIX}{digest[:30]}"


class ProtectiveStops:
    """Keeps one resting stop per open position, and gets it out of the way of an exit."""

    def __init__(
        self, gateway: ExchangeGateway, store: TradingStore, executor: Executor, clock: Clock,
        settings: StopSettings,
    ) -> None:
        self.gateway = gateway
        self.store = store
        self.executor = executor
        self.clock = clock
        self.settings = settings

    def current(self, symbol: str) -> tuple[int, OrderRecordView | None]:
        """(attempt number, stored order) of the symbol's protective stop."""
        text = self.store.kv_get(KEY_PREFIX + symbol)
        if not text:
            return -1, None
        attempt, _, coid = text.partition("|")
        return int(attempt), self.store.get_order(coid)

    async def ensure(
        self, position: Position, quantity: Decimal, stop_pct: Decimal, price: Decimal,
        rules: SymbolRules, correlation_id: str,
    ) -> ExecutionResult | None:
        """Rest one stop for `quantity` (the position + dust it can sell); None if none is due."""
        if not self.settings.enabled or stop_pct <= 0 or quantity <= 0:
            return None
        attempt, record = self.current(position.symbol)
        if record is not None and record.state.in_flight:
            if record.quantity == quantity or record.state is not OrderState.ACKED:
                return None  # in place (or its placement still being resolved)
            if not await self._cancelled(record, rules):
                return None  # it filled or is being resolved: the next check sees the result
        stop = rules.round_price(position.avg_entry_price * (1 - stop_pct))
        limit = rules.round_price(stop * (1 - self.settings.limit_distance))
        if stop >= price or rules.check(limit, quantity, market=False) is not None:
            return None  # already through the stop (THUNES sells now) or too small to rest
        return await self._place(position, attempt + 1, quantity, stop, limit, rules,
                                 correlation_id)

    async def _place(
        self, position: Position, attempt: int, quantity: Decimal, stop: Decimal,
        limit: Decimal, rules: SymbolRules, correlation_id: str,
    ) -> ExecutionResult:
        coid = protective_order_id(position, attempt)
        intent = OrderIntent(coid, position.symbol, Side.SELL, quantity=quantity,
                             correlation_id=correlation_id, exit_reason=ExitReason.STOP_LOSS,
                             stop_price=stop, limit_price=limit)
        with self.store.atomic():
            self.store.record_intent(intent, self.clock.now())
            self.store.kv_set(KEY_PREFIX + position.symbol, f"{attempt}|{coid}")
        return await self.executor.execute(intent, rules)

    async def clear_for_exit(self, symbol: str, rules: SymbolRules) -> bool:
        """Cancel the symbol's stop before THUNES sells; False if it cannot be ruled out that
        the stop is (being) filled — then the exit waits for that answer."""
        _, record = self.current(symbol)
        if record is None or not record.state.in_flight:
            return True
        return await self._cancelled(record, rules)

    async def _cancelled(self, record: OrderRecordView, rules: SymbolRules) -> bool:
        """Cancel `record` and record how it ended; True when nothing of it is left working."""
        try:
            answer = await self.gateway.cancel_order(record.symbol, record.client_order_id)
        except ExchangeError as exc:
            log.warning("cannot cancel protective stop %s: %s", record.client_order_id, exc)
            return False
        if answer is None:  # unknown or no longer open: the lookup says how it ended
            result = await self.executor.resolve(record, rules)
        else:
            result = await self.executor.adopt(record, answer, rules)
        return not result.state.in_flight
