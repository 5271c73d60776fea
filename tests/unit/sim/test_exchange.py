"""The matching engine alone: locking, fills at the limit price, fees, stops, snapshots."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from thunes.clock import ManualClock
from thunes.sim.exchange import Exchange
from thunes.sim.faults import FaultInjector
from thunes.sim.filters import rules_for
from thunes.sim.market import Market
from thunes.sim.orders import SimError

D = Decimal
BID, ASK = D("20000.00"), D("20000.01")


@pytest.fixture
def engine() -> Exchange:
    rules = {"BTCUSDT": rules_for("BTCUSDT", 20000.0)}
    return Exchange(rules, D("0.001"), {"USDT": D("1000"), "BTC": D("0.5")})


def limit(side: str, price: str, qty: str, cid: str, **extra: str) -> dict[str, str]:
    return {
        "symbol": "BTCUSDT",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "price": price,
        "quantity": qty,
        "newClientOrderId": cid,
        **extra,
    }


def test_resting_sell_fills_at_its_limit_when_the_high_reaches_it(engine: Exchange) -> None:
    order, trades = engine.place(limit("SELL", "21000.00", "0.1", "s1"), BID, ASK, 1)
    assert (order.status, trades) == ("NEW", [])
    assert (engine.balance("BTC").free, engine.balance("BTC").locked) == (D("0.4"), D("0.1"))
    assert engine.match("BTCUSDT", D("19900"), D("20999.99"), 2) == []
    (trade,) = engine.match("BTCUSDT", D("19900"), D("21000.00"), 3)
    assert (trade.price, trade.qty, trade.is_maker) == (D("21000.00"), D("0.1"), True)
    assert trade.commission == D("2.1") and trade.commission_asset == "USDT"
    assert engine.balance("USDT").free == D("1000") + D("2100") - D("2.1")
    assert engine.balance("BTC").locked == 0 and order.status == "FILLED"


def test_buy_limit_below_the_fill_price_refunds_the_difference(engine: Exchange) -> None:
    order, trades = engine.place(limit("BUY", "20100.00", "0.01", "b1"), BID, ASK, 1)
    assert order.status == "FILLED" and trades[0].price == ASK
    assert engine.balance("USDT").free == D("1000") - ASK * D("0.01")
    assert engine.balance("USDT").locked == 0
    assert engine.balance("BTC").free == D("0.5") + D("0.01") * D("0.999")


def test_cancel_returns_exactly_what_was_locked(engine: Exchange) -> None:
    engine.place(limit("BUY", "19000.00", "0.05", "b2"), BID, ASK, 1)
    assert engine.balance("USDT").locked == D("950")
    engine.cancel("BTCUSDT", None, "b2", 2)
    assert (engine.balance("USDT").free, engine.balance("USDT").locked) == (D("1000"), 0)
    with pytest.raises(SimError) as again:
        engine.cancel("BTCUSDT", None, "b2", 3)
    assert again.value.code == -2011


def test_take_profit_waits_for_its_trigger(engine: Exchange) -> None:
    params = limit("SELL", "22000.00", "0.1", "tp", stopPrice="22000.00")
    params["type"] = "TAKE_PROFIT_LIMIT"
    order, _ = engine.place(params, BID, ASK, 1)
    assert not order.working
    assert engine.match("BTCUSDT", D("19000"), D("21999.99"), 2) == []
    assert len(engine.match("BTCUSDT", D("21000"), D("22000.00"), 3)) == 1
    assert order.status == "FILLED" and order.working_ms == 3


def test_snapshot_round_trip_keeps_the_open_order_index(engine: Exchange) -> None:
    engine.place(limit("BUY", "19000.00", "0.01", "keep"), BID, ASK, 1)
    copy = Exchange(engine.rules, engine.fee_rate, {})
    copy.restore(engine.snapshot())
    assert copy.snapshot() == engine.snapshot()
    with pytest.raises(SimError, match=r"Duplicate order sent\."):
        copy.place(limit("BUY", "19000.00", "0.01", "keep"), BID, ASK, 2)
    assert copy.find("BTCUSDT", None, "keep").price == D("19000.00")


def test_a_symbol_listed_far_below_its_later_price_stays_buyable_for_a_few_usdt(
    tmp_path: Path,
) -> None:
    """LINK-like history: 0.2 at listing, 50 later; 10 USDT must buy at least one step then."""
    header = "open_time,open,high,low,close,volume"
    rows = [f"{1_600_000_000_000 + i * 3_600_000},{p},{p},{p},{p},1000"
            for i, p in enumerate(["0.2"] * 300 + ["50"] * 300)]
    path = tmp_path / "LINKUSDT-1h.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    market = Market({"LINKUSDT": path}, ManualClock(1_600_000_000.0), FaultInjector())
    rules = market.rules["LINKUSDT"]
    assert rules.floor_qty(Decimal(10) / Decimal(50)) >= rules.step_size
    assert rules.floor_qty(Decimal(10) / Decimal("0.2")) > 0
