"""Per-symbol trading rules, as `exchangeInfo` publishes them and as the matching engine enforces.

BTCUSDT and ETHUSDT use Binance's real spot values; other symbols get values derived from their
price level. A violation raises `FilterFailure` with the Binance filter name.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

QUOTE_ASSETS = ("USDT", "FDUSD", "USDC", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY")


class FilterFailure(Exception):
    """An order breaks a symbol filter; `name` is the filterType (e.g. LOT_SIZE)."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Filter failure: {name}")
        self.name = name


@dataclass(frozen=True)
class SymbolRules:
    symbol: str
    base_asset: str
    quote_asset: str
    tick_size: Decimal
    min_price: Decimal
    max_price: Decimal
    step_size: Decimal
    min_qty: Decimal
    max_qty: Decimal
    market_max_qty: Decimal
    min_notional: Decimal = Decimal("5")
    max_notional: Decimal = Decimal("9000000")
    bid_multiplier_up: Decimal = Decimal("5")
    bid_multiplier_down: Decimal = Decimal("0.2")
    ask_multiplier_up: Decimal = Decimal("5")
    ask_multiplier_down: Decimal = Decimal("0.2")
    avg_price_mins: int = 5
    max_num_orders: int = 200
    max_num_algo_orders: int = 5

    @property
    def base_precision(self) -> int:
        return 8

    def round_price(self, price: Decimal) -> Decimal:
        """Price on the tick grid (half-up), never below one tick."""
        ticks = (price / self.tick_size).to_integral_value()
        return max(self.tick_size, ticks * self.tick_size).quantize(self.tick_size)

    def floor_qty(self, qty: Decimal) -> Decimal:
        """Quantity rounded down to the step grid."""
        return (
            (qty / self.step_size).to_integral_value(rounding="ROUND_FLOOR") * self.step_size
        ).quantize(self.step_size)

    def check_price(self, price: Decimal) -> None:
        if price < self.min_price or price > self.max_price:
            raise FilterFailure("PRICE_FILTER")
        if (price - self.min_price) % self.tick_size != 0:
            raise FilterFailure("PRICE_FILTER")

    def check_lot(self, qty: Decimal, market: bool) -> None:
        if qty < self.min_qty or qty > self.max_qty or (qty - self.min_qty) % self.step_size != 0:
            raise FilterFailure("LOT_SIZE")
        if market and qty > self.market_max_qty:
            raise FilterFailure("MARKET_LOT_SIZE")

    def check_percent_price(self, side: str, price: Decimal, average: Decimal) -> None:
        """PERCENT_PRICE_BY_SIDE: a BUY within [avg * bidDown, avg * bidUp], a SELL likewise."""
        up, down = (
            (self.bid_multiplier_up, self.bid_multiplier_down)
            if side == "BUY"
            else (self.ask_multiplier_up, self.ask_multiplier_down)
        )
        if price > average * up or price < average * down:
            raise FilterFailure("PERCENT_PRICE_BY_SIDE")

    def check_open_orders(self, open_orders: int, open_algo: int, algo: bool) -> None:
        """MAX_NUM_ORDERS (algo orders count too) and MAX_NUM_ALGO_ORDERS, for one more order."""
        if open_orders >= self.max_num_orders:
            raise FilterFailure("MAX_NUM_ORDERS")
        if algo and open_algo >= self.max_num_algo_orders:
            raise FilterFailure("MAX_NUM_ALGO_ORDERS")

    def check_notional(self, price: Decimal, qty: Decimal) -> None:
        notional = price * qty
        if notional < self.min_notional or notional > self.max_notional:
            raise FilterFailure("NOTIONAL")

    def filters_json(self) -> list[dict[str, Any]]:
        """The `filters` array of this symbol in `exchangeInfo`."""
        return [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": _s(self.min_price),
                "maxPrice": _s(self.max_price),
                "tickSize": _s(self.tick_size),
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": _s(self.min_qty),
                "maxQty": _s(self.max_qty),
                "stepSize": _s(self.step_size),
            },
            {"filterType": "ICEBERG_PARTS", "limit": 10},
            {
                "filterType": "MARKET_LOT_SIZE",
                "minQty": _s(Decimal(0)),
                "maxQty": _s(self.market_max_qty),
                "stepSize": _s(Decimal(0)),
            },
            {
                "filterType": "TRAILING_DELTA",
                "minTrailingAboveDelta": 10,
                "maxTrailingAboveDelta": 2000,
                "minTrailingBelowDelta": 10,
                "maxTrailingBelowDelta": 2000,
            },
            {
                "filterType": "PERCENT_PRICE_BY_SIDE",
                "bidMultiplierUp": str(self.bid_multiplier_up),
                "bidMultiplierDown": str(self.bid_multiplier_down),
                "askMultiplierUp": str(self.ask_multiplier_up),
                "askMultiplierDown": str(self.ask_multiplier_down),
                "avgPriceMins": self.avg_price_mins,
            },
            {
                "filterType": "NOTIONAL",
                "minNotional": _s(self.min_notional),
                "applyMinToMarket": True,
                "maxNotional": _s(self.max_notional),
                "applyMaxToMarket": False,
                "avgPriceMins": 5,
            },
            {"filterType": "MAX_NUM_ORDERS", "maxNumOrders": self.max_num_orders},
            {"filterType": "MAX_NUM_ALGO_ORDERS", "maxNumAlgoOrders": self.max_num_algo_orders},
        ]


def _s(value: Decimal) -> str:
    """Binance prints filter values with 8 decimals."""
    return f"{value:.8f}"


def split_symbol(symbol: str) -> tuple[str, str]:
    """`BTCUSDT` → (`BTC`, `USDT`)."""
    for quote in QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol[:-4], symbol[-4:]


_KNOWN = {
    "BTCUSDT": ("0.01", "0.00001", "9000", "118"),
    "ETHUSDT": ("0.01", "0.0001", "9000", "2500"),
}


def rules_for(symbol: str, reference_price: float) -> SymbolRules:
    """Rules for `symbol`: the real ones for known pairs, else derived from its price level
    (`reference_price`: the highest the replay reaches, so a small order is never below a step)."""
    if symbol in _KNOWN:
        tick, step, max_qty, market_max = (Decimal(v) for v in _KNOWN[symbol])
    else:
        magnitude = math.floor(math.log10(max(reference_price, 1e-8)))
        tick = Decimal(1).scaleb(max(-8, magnitude - 5))
        step = Decimal(1).scaleb(min(0, max(-8, -magnitude - 1)))
        max_qty = Decimal(9_000_000) * step * 1000
        market_max = max_qty / 10
    base, quote = split_symbol(symbol)
    return SymbolRules(
        symbol=symbol,
        base_asset=base,
        quote_asset=quote,
        tick_size=tick,
        min_price=tick,
        max_price=Decimal(1_000_000),
        step_size=step,
        min_qty=step,
        max_qty=max_qty,
        market_max_qty=market_max,
    )
