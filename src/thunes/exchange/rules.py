"""Symbol rules from exchangeInfo: the filters THUNES applies before any order is sent.

Values are parsed as `Decimal` straight from Binance's strings; "NaN", infinite, negative or
absurd values are a `MalformedResponse` naming the filter field. A filter the symbol does not
publish is disabled (zero bounds), as the filter docs define a zero value to disable a rule.
MIN_NOTIONAL (older) and NOTIONAL (newer) are both understood; the stricter minimum wins.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from thunes.exchange.parse import amount
from thunes.exchange.types import MalformedResponse, SymbolRules

ZERO = Decimal("0")


class RulesError(MalformedResponse):
    """exchangeInfo did not describe the symbol in a usable way."""


def _decimal(entry: Mapping[str, Any], key: str, default: Decimal = ZERO) -> Decimal:
    raw = entry.get(key)
    if raw is None or raw == "":
        return default
    try:
        return amount(raw, f"exchangeInfo {entry.get('filterType')}.{key}")
    except MalformedResponse as error:
        raise RulesError(str(error)) from None


def _filters(symbol_info: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    filters = symbol_info.get("filters") or []
    return {str(f.get("filterType")): f for f in filters if isinstance(f, Mapping)}


def parse_symbol_rules(symbol_info: Mapping[str, Any]) -> SymbolRules:
    """One `symbols[]` entry of exchangeInfo → `SymbolRules`."""
    symbol = str(symbol_info.get("symbol") or "")
    if not symbol:
        raise RulesError("symbol entry without a name")
    found = _filters(symbol_info)
    price = found.get("PRICE_FILTER", {})
    lot = found.get("LOT_SIZE", {})
    market_lot = found.get("MARKET_LOT_SIZE", {})
    notional = found.get("NOTIONAL")
    legacy = found.get("MIN_NOTIONAL")
    min_notional, apply_min, max_notional = ZERO, False, None
    if notional is not None:
        min_notional = _decimal(notional, "minNotional")
        apply_min = bool(notional.get("applyMinToMarket", True))
        maximum = _decimal(notional, "maxNotional")
        max_notional = maximum if maximum > 0 else None
    if legacy is not None:
        legacy_min = _decimal(legacy, "minNotional")
        if legacy_min >= min_notional:
            min_notional = legacy_min
            apply_min = bool(legacy.get("applyToMarket", True)) or apply_min
    band = found.get("PERCENT_PRICE_BY_SIDE")
    percent_price = None
    if band is not None:
        percent_price = (
            _decimal(band, "bidMultiplierUp"), _decimal(band, "bidMultiplierDown"),
            _decimal(band, "askMultiplierUp"), _decimal(band, "askMultiplierDown"),
        )
    extra = {
        k: str(v)
        for k, v in symbol_info.items()
        if k in ("status", "quoteOrderQtyMarketAllowed", "isSpotTradingAllowed")
    }
    return SymbolRules(
        symbol=symbol,
        base_asset=str(symbol_info.get("baseAsset", "")),
        quote_asset=str(symbol_info.get("quoteAsset", "")),
        tick_size=_decimal(price, "tickSize"),
        min_price=_decimal(price, "minPrice"),
        max_price=_decimal(price, "maxPrice"),
        step_size=_decimal(lot, "stepSize"),
        min_qty=_decimal(lot, "minQty"),
        max_qty=_decimal(lot, "maxQty"),
        market_step_size=_decimal(market_lot, "stepSize"),
        market_min_qty=_decimal(market_lot, "minQty"),
        market_max_qty=_decimal(market_lot, "maxQty"),
        min_notional=min_notional,
        apply_min_to_market=apply_min,
        max_notional=max_notional,
        extra=extra,
        percent_price=percent_price,
    )


def parse_exchange_info(info: Mapping[str, Any]) -> dict[str, SymbolRules]:
    """Every symbol of an exchangeInfo answer, by name."""
    symbols = info.get("symbols")
    if not isinstance(symbols, list):
        raise RulesError("exchangeInfo has no symbols list")
    rules = (parse_symbol_rules(entry) for entry in symbols if isinstance(entry, Mapping))
    return {r.symbol: r for r in rules}


def rate_limits(info: Mapping[str, Any]) -> tuple[int | None, int | None]:
    """(request weight per minute, orders per 10 seconds) announced in `rateLimits`."""
    weight: int | None = None
    orders: int | None = None
    for entry in info.get("rateLimits") or []:
        kind = entry.get("rateLimitType")
        span = (entry.get("interval"), int(entry.get("intervalNum", 1)))
        limit = int(entry.get("limit", 0))
        if limit <= 0:
            raise RulesError(f"exchangeInfo rateLimits {kind}.limit is not positive: {limit}")
        if kind == "REQUEST_WEIGHT" and span == ("MINUTE", 1):
            weight = limit
        elif kind == "ORDERS" and span == ("SECOND", 10):
            orders = limit
    return weight, orders
