"""The parameters of a new order, checked as Binance checks them before any filter runs.

Each order type takes its own parameters (rest-api.md, "Additional mandatory parameters based on
order type"); one it does not take is -1106 "Parameter '%s' sent when not required." (price on a
MARKET order, timeInForce on a LIMIT_MAKER). Amounts must be plain decimals (-1100) of at most
the asset precision (-1111); ids and enums keep their own codes in the matching engine.
"""

from __future__ import annotations

from thunes.sim.orders import SimError
from thunes.sim.params import SIGNED, Params

COMMON = frozenset(
    {
        "symbol",
        "side",
        "type",
        "newClientOrderId",
        "strategyId",
        "strategyType",
        "newOrderRespType",
        "selfTradePreventionMode",
        "pegPriceType",
        "pegOffsetValue",
        "pegOffsetType",
    }
)
TYPED = frozenset(
    {
        "timeInForce",
        "quantity",
        "quoteOrderQty",
        "price",
        "stopPrice",
        "trailingDelta",
        "icebergQty",
    }
)
NEW_ORDER = COMMON | TYPED | SIGNED
TEST_ORDER = NEW_ORDER | {"computeCommissionRates"}

# What each order type takes besides COMMON.
BY_TYPE: dict[str, frozenset[str]] = {
    "MARKET": frozenset({"quantity", "quoteOrderQty"}),
    "LIMIT": frozenset({"timeInForce", "quantity", "price", "icebergQty"}),
    "LIMIT_MAKER": frozenset({"quantity", "price", "icebergQty"}),
    "STOP_LOSS": frozenset({"quantity", "stopPrice", "trailingDelta"}),
    "TAKE_PROFIT": frozenset({"quantity", "stopPrice", "trailingDelta"}),
    "STOP_LOSS_LIMIT": frozenset(
        {"timeInForce", "quantity", "price", "stopPrice", "trailingDelta", "icebergQty"}
    ),
    "TAKE_PROFIT_LIMIT": frozenset(
        {"timeInForce", "quantity", "price", "stopPrice", "trailingDelta", "icebergQty"}
    ),
}
AMOUNTS = ("quantity", "quoteOrderQty", "price", "stopPrice", "icebergQty")
INTEGERS = ("strategyId", "strategyType", "trailingDelta", "pegOffsetValue")


def check_new_order(params: Params) -> None:
    """Raise the error Binance gives for a malformed or misplaced order parameter."""
    params.symbol()
    for name in AMOUNTS:
        params.decimal(name)
    for name in INTEGERS:
        params.integer(name)
    allowed = BY_TYPE.get(params.text("type") or "")
    if allowed is None:
        return  # unknown or missing type: the matching engine answers -1116 / -1102
    for name in sorted(TYPED - allowed):
        if params.sent(name):
            raise SimError(-1106, f"Parameter '{name}' sent when not required.")
