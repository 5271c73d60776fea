"""Value types shared by every layer. Money and quantities are `Decimal`, always."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

ZERO = Decimal("0")


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Action(StrEnum):
    ENTER = "ENTER"
    EXIT = "EXIT"
    HOLD = "HOLD"


class ExitReason(StrEnum):
    SIGNAL = "signal"
    STOP_LOSS = "stop_loss"
    MANUAL = "manual"  # sold outside THUNES (found by reconciliation)
    FORCED = "forced"  # an operator's force-exit (CLI, Telegram, dashboard)


class RejectReason(StrEnum):
    """Why an entry (or an order) was not made; recorded in the audit trail."""

    KILL_SWITCH = "KILL_SWITCH"
    DAILY_LOSS_LIMIT = "DAILY_LOSS_LIMIT"
    MAX_POSITIONS = "MAX_POSITIONS"
    POSITION_EXISTS = "POSITION_EXISTS"
    NO_POSITION = "NO_POSITION"
    COOLDOWN = "COOLDOWN"
    PAUSED = "PAUSED"
    BREAKER_OPEN = "BREAKER_OPEN"
    STALE_PRICE = "STALE_PRICE"
    LOW_CONFIDENCE = "LOW_CONFIDENCE"
    NOT_RECONCILED = "NOT_RECONCILED"
    NOT_IN_UNIVERSE = "NOT_IN_UNIVERSE"  # not in the top N of the latest ranking
    RANKING_STALE = "RANKING_STALE"  # no ranking recent enough: no entries anywhere
    FILTER_PRICE = "FILTER_PRICE"
    FILTER_LOT_SIZE = "FILTER_LOT_SIZE"
    FILTER_MARKET_LOT_SIZE = "FILTER_MARKET_LOT_SIZE"
    FILTER_MIN_NOTIONAL = "FILTER_MIN_NOTIONAL"
    FILTER_NOTIONAL = "FILTER_NOTIONAL"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    EXCHANGE_REJECTED = "EXCHANGE_REJECTED"
    DUST = "DUST"
    AUDIT_DEGRADED = "AUDIT_DEGRADED"


class OrderState(StrEnum):
    """The order state machine; SENT and UNKNOWN are the in-flight states."""

    NEW_INTENT = "NEW_INTENT"
    SENT = "SENT"
    ACKED = "ACKED"
    UNKNOWN = "UNKNOWN"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_STATES

    @property
    def in_flight(self) -> bool:
        return not self.is_final


_FINAL_STATES = frozenset(
    {OrderState.FILLED, OrderState.CANCELED, OrderState.REJECTED, OrderState.EXPIRED}
)


@dataclass(frozen=True, slots=True)
class Bar:
    """One closed kline."""

    open_time: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal


@dataclass(frozen=True, slots=True)
class Signal:
    """What the strategy says about the last closed bar."""

    action: Action
    confidence: float = 1.0
    reason: str = ""
    bar_time: datetime | None = None
    stop_loss_pct: Decimal | None = None


@dataclass(frozen=True, slots=True)
class OrderIntent:
    """A decision to trade, persisted before anything is sent."""

    client_order_id: str
    symbol: str
    side: Side
    quantity: Decimal | None = None
    quote_quantity: Decimal | None = None
    correlation_id: str = ""
    exit_reason: ExitReason | None = None
    # A protective STOP_LOSS_LIMIT resting on the exchange (None for a MARKET order).
    stop_price: Decimal | None = None
    limit_price: Decimal | None = None

    @property
    def is_protective_stop(self) -> bool:
        return self.stop_price is not None


PROTECTIVE_PREFIX = "th-p-"  # client order ids of protective stops resting on the exchange


def is_protective(client_order_id: str) -> bool:
    """Whether an order is a protective stop (it rests on the exchange by design)."""
    return client_order_id.startswith(PROTECTIVE_PREFIX)


@dataclass(frozen=True, slots=True)
class Fill:
    """One execution of an order, as the exchange reported it."""

    symbol: str
    side: Side
    price: Decimal
    quantity: Decimal
    commission: Decimal
    commission_asset: str
    trade_id: int
    client_order_id: str
    time: datetime


@dataclass(slots=True)
class Position:
    """An open (or closed) long spot position; `avg_entry_price` is the actual fill average."""

    symbol: str
    quantity: Decimal
    avg_entry_price: Decimal
    opened_at: datetime
    entry_fees_quote: Decimal = ZERO
    closed_at: datetime | None = None
    realized_pnl: Decimal = ZERO
    exit_reason: ExitReason | None = None

    @property
    def is_open(self) -> bool:
        return self.closed_at is None and self.quantity > ZERO

    @property
    def cost_basis(self) -> Decimal:
        """Everything paid for the held quantity, entry fees included."""
        return self.avg_entry_price * self.quantity + self.entry_fees_quote


DUST_KEY_PREFIX = "dust:"  # the store's key-value entry of each symbol's tracked dust


@dataclass(frozen=True, slots=True)
class Dust:
    """Coins bought but not sellable yet (below one step or the minimum notional), with their
    cost in the quote asset. Kept in the books, sold with the symbol's next exit."""

    quantity: Decimal = ZERO
    cost: Decimal = ZERO

    def __add__(self, other: Dust) -> Dust:
        return Dust(self.quantity + other.quantity, self.cost + other.cost)

    def encode(self) -> str:
        return f"{self.quantity}|{self.cost}" if self.quantity > 0 else ""

    @classmethod
    def decode(cls, text: str | None) -> Dust:
        if not text:
            return cls()
        quantity, _, cost = text.partition("|")
        return cls(Decimal(quantity), Decimal(cost or "0"))


def tracked_dust(entries: dict[str, str]) -> dict[str, Dust]:
    """Each symbol's dust from the store's `dust:` key-value entries (empty ones left out)."""
    found = {k.removeprefix(DUST_KEY_PREFIX): Dust.decode(v) for k, v in entries.items()}
    return {symbol: dust for symbol, dust in found.items() if dust.quantity > 0}


@dataclass(frozen=True, slots=True)
class StageResult(Generic[T]):
    """The outcome of one pipeline stage: `ok`, `output`, `error`, `elapsed_ms`."""

    ok: bool
    output: T | None = None
    error: str | None = None
    elapsed_ms: float = 0.0
    details: dict[str, object] = field(default_factory=dict)


def client_order_id(decision_id: str, symbol: str, side: Side) -> str:
    """A deterministic client order id for one decision (Binance allows up to 36 chars).

    The same decision always yields the same id, so a restart re-derives it and finds the
    order recorded in SQLite instead of sending another. The exchange is no guard: Binance
    refuses a reused id only while the first order is still open, and accepts it again once
    that order is filled. A lookup by this id resolves an unknown outcome.
    """
    digest = hashlib.sha256(f"{decision_id}|{symbol}|{side.value}".encode()).hexdigest()
    return f"th-{side.value[0].lower()}-{digest[:30]}"


@dataclass(frozen=True, slots=True)
class PriceQuote:
    """The best bid/ask of a symbol and when it was seen (epoch seconds of THUNES' clock)."""

    symbol: str
    bid: Decimal
    ask: Decimal
    time: float

    @property
    def mid(self) -> Decimal:
        return (self.bid + self.ask) / 2

    def age(self, now: float) -> float:
        return max(0.0, now - self.time)
