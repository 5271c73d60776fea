"""What trading needs from its neighbours, as Protocols.

The store, the risk manager, the audit trail and the price stream are built elsewhere; trading
codes against these narrow shapes so its unit tests can run on small hand-written stubs and the
real components plug in unchanged (`thunes.store.Store`, `thunes.trading.risk.RiskManager`,
`thunes.store.audit.AuditTrail`, `thunes.market.stream.PriceStream`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from thunes.domain import Action, ExitReason, Fill, OrderIntent, OrderState, Position, PriceQuote
from thunes.ranking.types import Ranking


class OrderRecordView(Protocol):
    """A persisted order (read-only view of `thunes.store.OrderRecord`)."""

    @property
    def client_order_id(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def side(self) -> object: ...
    @property
    def state(self) -> OrderState: ...
    @property
    def quantity(self) -> Decimal | None: ...
    @property
    def quote_quantity(self) -> Decimal | None: ...
    @property
    def exchange_order_id(self) -> int | None: ...
    @property
    def executed_qty(self) -> Decimal: ...
    @property
    def cumulative_quote_qty(self) -> Decimal: ...
    @property
    def correlation_id(self) -> str: ...
    @property
    def exit_reason(self) -> ExitReason | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def updated_at(self) -> datetime: ...
    @property
    def error(self) -> str | None: ...


class TradingStore(Protocol):
    """The part of `thunes.store.Store` the order path uses."""

    def record_intent(self, intent: OrderIntent, now: datetime) -> OrderRecordView: ...
    def get_order(self, client_order_id: str) -> OrderRecordView | None: ...
    def update_order(
        self,
        client_order_id: str,
        *,
        state: OrderState,
        now: datetime,
        exchange_order_id: int | None = None,
        executed_qty: Decimal | None = None,
        cumulative_quote_qty: Decimal | None = None,
        avg_price: Decimal | None = None,
        error: str | None = None,
    ) -> OrderRecordView: ...
    def orders_in_states(self, states: Iterable[OrderState]) -> Sequence[OrderRecordView]: ...
    def recent_orders(self, limit: int = 50) -> Sequence[OrderRecordView]: ...
    def add_fills(self, fills: Sequence[Fill]) -> int: ...
    def fills_for(self, client_order_id: str) -> list[Fill]: ...
    def open_position(self, symbol: str) -> Position | None: ...
    def open_positions(self) -> list[Position]: ...
    def save_position(self, position: Position) -> None: ...
    def close_position(
        self, symbol: str, *, closed_at: datetime, realized_pnl: Decimal, exit_reason: ExitReason
    ) -> Position: ...
    def kv_get(self, key: str) -> str | None: ...
    def kv_set(self, key: str, value: str) -> None: ...
    def kv_delete(self, key: str) -> None: ...
    def kv_prefixed(self, prefix: str) -> dict[str, str]: ...
    def atomic(self) -> AbstractContextManager[None]: ...


class RiskVerdict(Protocol):
    @property
    def approved(self) -> bool: ...
    @property
    def reason(self) -> object: ...
    @property
    def detail(self) -> str: ...


class RiskGate(Protocol):
    """The part of `thunes.trading.risk.RiskManager` the pipeline uses."""

    def validate_trade(
        self,
        symbol: str,
        action: Action,
        *,
        price_fresh: bool,
        breaker_open: bool,
        correlation_id: str = "",
    ) -> RiskVerdict: ...

    def record_exit(self, symbol: str, realized_pnl: Decimal, now: datetime) -> None: ...


class Audit(Protocol):
    def record(self, kind: str, correlation_id: str = "", **data: object) -> None: ...


class PriceSource(Protocol):
    """Latest best bid/ask per symbol (the WebSocket stream implements it)."""

    def latest(self, symbol: str) -> PriceQuote | None: ...


class LatestRanking(Protocol):
    """The latest successful ranking snapshot of a timeframe (the ranking store implements it)."""

    def latest(self, timeframe: str) -> Ranking | None: ...


class NullAudit:
    """An audit trail that keeps nothing (for tools and tests that do not need one)."""

    def record(self, kind: str, correlation_id: str = "", **data: object) -> None:
        return None
