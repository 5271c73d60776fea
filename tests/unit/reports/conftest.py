"""A store holding real-looking books: round trips made of fills, as the order path records them.

Fees are Binance's 0.1 % in USDT; each trade's PnL is computed the way the position tracker does
(proceeds − every commission − cost), so a report that adds up shows exactly these numbers.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from itertools import count
from pathlib import Path

import pytest

from thunes.domain import DUST_KEY_PREFIX, Dust, ExitReason, Fill, Position, Side
from thunes.store import Store

DAY = date(2026, 3, 10)
MIDNIGHT = datetime(2026, 3, 10, tzinfo=UTC)
EVENING = MIDNIGHT + timedelta(hours=18)
FEE = Decimal("0.001")
_trade_ids = count(1)


def fill(symbol: str, side: Side, qty: str, price: str, at: datetime) -> Fill:
    q, p = Decimal(qty), Decimal(price)
    n = next(_trade_ids)
    return Fill(symbol, side, p, q, q * p * FEE, "USDT", n, f"{side.value.lower()}-{n}", at)


def round_trip(
    store: Store,
    symbol: str,
    opened: datetime,
    buy: tuple[str, str],
    sells: Sequence[tuple[datetime, str, str]],
    reason: ExitReason = ExitReason.SIGNAL,
) -> Decimal:
    """Buy `buy` (qty, price) at `opened`, sell each (time, qty, price), close; returns the PnL.
    Without sells the position is closed into tracked dust, as one too small to sell is."""
    entry = fill(symbol, Side.BUY, *buy, opened)
    exits = [fill(symbol, Side.SELL, qty, price, at) for at, qty, price in sells]
    store.add_fills([entry, *exits])
    cost = entry.price * entry.quantity + entry.commission
    store.save_position(
        Position(symbol, entry.quantity, entry.price, opened, entry.commission)
    )
    proceeds = sum((f.price * f.quantity - f.commission for f in exits), Decimal(0))
    pnl = proceeds - cost if exits else Decimal(0)  # moved to dust: the cost stays in the books
    if not exits:
        store.kv_set(DUST_KEY_PREFIX + symbol, Dust(entry.quantity, cost).encode())
    closed_at = max((f.time for f in exits), default=opened + timedelta(minutes=5))
    store.close_position(symbol, closed_at=closed_at, realized_pnl=pnl, exit_reason=reason)
    return pnl


@pytest.fixture
def books(tmp_path: Path) -> Iterator[Store]:
    """Yesterday one BTC trade; today a BTC win, an ETH loss sold in two parts, and an ADA
    position too small to sell (closed into dust, no sell recorded); SOL still open."""
    store = Store.open(tmp_path / "thunes.db")
    yesterday = MIDNIGHT - timedelta(hours=6)
    round_trip(store, "BTCUSDT", yesterday, ("0.00025", "39000"),
               [(yesterday + timedelta(hours=1), "0.00025", "39500")])
    round_trip(store, "BTCUSDT", MIDNIGHT + timedelta(hours=7), ("0.00025", "40000"),
               [(MIDNIGHT + timedelta(hours=10), "0.00025", "41000")])
    round_trip(store, "ETHUSDT", MIDNIGHT + timedelta(hours=8), ("0.005", "2000"),
               [(MIDNIGHT + timedelta(hours=11), "0.002", "1960"),
                (MIDNIGHT + timedelta(hours=13), "0.003", "1950")], ExitReason.STOP_LOSS)
    round_trip(store, "ADAUSDT", MIDNIGHT + timedelta(hours=14), ("1", "0.5123"), [])
    store.save_position(
        Position("SOLUSDT", Decimal("0.1"), Decimal("100"), MIDNIGHT + timedelta(hours=15),
                 Decimal("0.01"))
    )
    yield store
    store.close()


@pytest.fixture
def quiet(tmp_path: Path) -> Iterator[Store]:
    """A store with nothing closed on DAY (one trade long before, for the history bars)."""
    store = Store.open(tmp_path / "quiet.db")
    opened = MIDNIGHT - timedelta(days=4)
    round_trip(store, "BTCUSDT", opened, ("0.00025", "40000"),
               [(opened + timedelta(hours=2), "0.00025", "40400")])
    yield store
    store.close()
