"""A symbol's trading rules as the source's `exchangeInfo` publishes them, for the matching engine.

The simulator's `SymbolRules` holds what its admission checks enforce; here they are read from
the real filters, so a paper order is refused exactly where the exchange would refuse it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from thunes.sim.filters import SymbolRules

UNBOUNDED = Decimal("1e15")


def _filters(info: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["filterType"]: f for f in info.get("filters", []) if "filterType" in f}


def _d(f: dict[str, Any] | None, key: str, default: Decimal) -> Decimal:
    if f is None or key not in f:
        return default
    value = Decimal(str(f[key]))
    return value if value > 0 else default


def rules_from_info(info: dict[str, Any]) -> SymbolRules:
    """`SymbolRules` from one `symbols[]` entry of `exchangeInfo`."""
    f = _filters(info)
    price, lot, market = f.get("PRICE_FILTER"), f.get("LOT_SIZE"), f.get("MARKET_LOT_SIZE")
    notional = f.get("NOTIONAL") or f.get("MIN_NOTIONAL")
    side = f.get("PERCENT_PRICE_BY_SIDE")
    step = _d(lot, "stepSize", Decimal("0.00000001"))
    max_qty = _d(lot, "maxQty", UNBOUNDED)
    tick = _d(price, "tickSize", Decimal("0.00000001"))
    return SymbolRules(
        symbol=str(info["symbol"]),
        base_asset=str(info["baseAsset"]),
        quote_asset=str(info["quoteAsset"]),
        tick_size=tick,
        min_price=_d(price, "minPrice", tick),
        max_price=_d(price, "maxPrice", UNBOUNDED),
        step_size=step,
        min_qty=_d(lot, "minQty", step),
        max_qty=max_qty,
        market_max_qty=_d(market, "maxQty", max_qty),
        min_notional=_d(notional, "minNotional", Decimal(0)),
        max_notional=_d(notional, "maxNotional", UNBOUNDED),
        bid_multiplier_up=_d(side, "bidMultiplierUp", Decimal(5)),
        bid_multiplier_down=_d(side, "bidMultiplierDown", Decimal("0.2")),
        ask_multiplier_up=_d(side, "askMultiplierUp", Decimal(5)),
        ask_multiplier_down=_d(side, "askMultiplierDown", Decimal("0.2")),
        max_num_orders=int((f.get("MAX_NUM_ORDERS") or {}).get("maxNumOrders", 200)),
        max_num_algo_orders=int((f.get("MAX_NUM_ALGO_ORDERS") or {}).get("maxNumAlgoOrders", 5)),
    )
