"""The exchange-wide documents: `exchangeInfo` and `account`, built from the simulator's state."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from thunes.sim.orders import STOP_TYPES, fmt
from thunes.sim.tickers import ticker_24h

if TYPE_CHECKING:
    from thunes.sim.server import Simulator

ORDER_TYPES = frozenset({"MARKET", "LIMIT", "LIMIT_MAKER", *STOP_TYPES})
ORDERS_PER_DAY = 200_000
STP_MODES = ["NONE", "EXPIRE_MAKER", "EXPIRE_TAKER", "EXPIRE_BOTH", "DECREMENT"]


def _symbol_json(sim: Simulator, symbol: str) -> dict[str, Any]:
    rules = sim.market.rules[symbol]
    return {
        "symbol": symbol,
        "status": "TRADING",
        "baseAsset": rules.base_asset,
        "baseAssetPrecision": 8,
        "quoteAsset": rules.quote_asset,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": sorted(ORDER_TYPES),
        "icebergAllowed": False,
        "ocoAllowed": False,
        "otoAllowed": False,
        "opoAllowed": False,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": False,
        "cancelReplaceAllowed": False,
        "amendAllowed": False,
        "pegInstructionsAllowed": False,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": rules.filters_json(),
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": STP_MODES,
    }


def exchange_info_json(sim: Simulator, symbols: list[str]) -> dict[str, Any]:
    config = sim.config
    return {
        "timezone": "UTC",
        "serverTime": sim.market.now_ms(),
        "rateLimits": [
            {
                "rateLimitType": "REQUEST_WEIGHT",
                "interval": "MINUTE",
                "intervalNum": 1,
                "limit": config.weight_limit,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "SECOND",
                "intervalNum": 10,
                "limit": config.order_limit_10s,
            },
            {
                "rateLimitType": "ORDERS",
                "interval": "DAY",
                "intervalNum": 1,
                "limit": ORDERS_PER_DAY,
            },
            {
                "rateLimitType": "RAW_REQUESTS",
                "interval": "MINUTE",
                "intervalNum": 5,
                "limit": 61_000,
            },
        ],
        "exchangeFilters": [],
        "symbols": [_symbol_json(sim, s) for s in symbols],
    }


def account_json(sim: Simulator, omit_zero: bool) -> dict[str, Any]:
    fee = sim.config.fee_rate
    balances = [
        {"asset": asset, "free": fmt(b.free), "locked": fmt(b.locked)}
        for asset, b in sorted(sim.exchange.balances.items())
        if not (omit_zero and b.free == 0 and b.locked == 0)
    ]
    basis_points = int(fee * 10_000)
    return {
        "makerCommission": basis_points,
        "takerCommission": basis_points,
        "buyerCommission": 0,
        "sellerCommission": 0,
        "commissionRates": {
            "maker": fmt(fee),
            "taker": fmt(fee),
            "buyer": fmt(Decimal(0)),
            "seller": fmt(Decimal(0)),
        },
        "canTrade": True,
        "canWithdraw": False,
        "canDeposit": False,
        "brokered": False,
        "requireSelfTradePrevention": False,
        "preventSor": False,
        "updateTime": sim.market.now_ms(),
        "accountType": "SPOT",
        "balances": balances,
        "permissions": ["SPOT"],
        "uid": 1,
    }


def ticker_24h_json(sim: Simulator, symbol: str) -> dict[str, Any]:
    """Rolling 24-hour statistics of the replayed market, as `GET /api/v3/ticker/24hr`."""
    return ticker_24h(sim, sim.rest.market.tape(symbol), symbol)
