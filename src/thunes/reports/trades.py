"""Closed trades as the daily summary shows them: one row per round trip, in an aligned table.

A closed position knows its entry price, entry fees and net PnL; its exit price and quantity
come from the SELL fills THUNES recorded while it was open. The fees column is what the trade
paid beyond the price move, so each row adds up: (exit − entry) × quantity − fees = PnL.
(When a sell also clears dust left by an earlier trade, that dust's cost difference from this
entry price lands in the fees column (usually cents); the row still adds up.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from thunes.domain import ZERO, Fill, Position, Side
from thunes.reports.format import fmt_money, fmt_num, fmt_price

LONG = "long"  # THUNES trades spot long only: every round trip is a buy, then a sell
HEADERS = ("closed", "symbol", "side", "entry", "exit", "qty", "fees", "PnL", "reason")
_LEFT = frozenset({"closed", "symbol", "side", "reason"})  # text columns; numbers align right


@dataclass(frozen=True)
class TradeLine:
    symbol: str
    opened_at: datetime
    closed_at: datetime
    quantity: Decimal  # sold by THUNES over the trade (the position's size without sells)
    entry_price: Decimal
    realized_pnl: Decimal  # net of every fee
    exit_reason: str
    exit_price: Decimal | None = None  # average of the sell fills; None if none are recorded
    fees: Decimal | None = None  # entry and exit commissions, in the quote asset
    side: str = LONG


def trade_line(position: Position, fills: Sequence[Fill]) -> TradeLine:
    """The row of a closed `position`, given the symbol's fills while it was open.

    Without recorded sells (a position moved to dust, or sold outside THUNES) the exit price
    is unknown and the fees are the entry's.
    """
    assert position.closed_at is not None
    reason = position.exit_reason.value if position.exit_reason is not None else ""
    sells = [f for f in fills if f.side is Side.SELL]
    sold = sum((f.quantity for f in sells), ZERO)
    if sold <= 0:
        return TradeLine(
            position.symbol, position.opened_at, position.closed_at, position.quantity,
            position.avg_entry_price, position.realized_pnl, reason,
            fees=position.entry_fees_quote,
        )
    proceeds = sum((f.price * f.quantity for f in sells), ZERO)
    return TradeLine(
        position.symbol, position.opened_at, position.closed_at, sold,
        position.avg_entry_price, position.realized_pnl, reason,
        exit_price=proceeds / sold,
        fees=proceeds - position.avg_entry_price * sold - position.realized_pnl,
    )


def render_trade_table(trades: Sequence[TradeLine], time_format: str = "%H:%M") -> list[str]:
    """Header and one row per trade, columns padded to their widest cell."""
    rows = [HEADERS] + [_cells(t, time_format) for t in trades]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.ljust(width) if name in _LEFT else cell.rjust(width)
            for name, cell, width in zip(HEADERS, row, widths, strict=True)
        ]
        return "  ".join(cells).rstrip()

    return [line(row) for row in rows]


def _cells(t: TradeLine, time_format: str) -> tuple[str, ...]:
    return (
        t.closed_at.strftime(time_format),
        t.symbol,
        t.side,
        fmt_price(t.entry_price),
        fmt_price(t.exit_price) if t.exit_price is not None else "n/a",
        fmt_num(t.quantity),
        fmt_money(t.fees, asset=""),
        fmt_money(t.realized_pnl, asset="", signed=True),
        t.exit_reason,
    )
