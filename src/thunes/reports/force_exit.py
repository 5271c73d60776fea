"""An operator's force-exit, in words: what would be sold, and what selling it did.

Transport-neutral: Telegram's `/forceexit` and the dashboard ask the same questions and show
the same answers. The selling itself is the daemon's (`trading.pipeline.force_exit_now`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from thunes.reports.daily import render_position_rows
from thunes.reports.format import fmt_money, fmt_num, fmt_price
from thunes.reports.snapshot import PositionLine

ALL = "all"


@dataclass(frozen=True)
class ExitAttempt:
    """What one symbol's immediate forced check ended with."""

    symbol: str
    outcome: str  # the check's outcome: exited, pending, failed, dust, error, ...
    detail: str = ""
    quantity: Decimal | None = None  # sold now
    price: Decimal | None = None  # average fill price
    realized_pnl: Decimal | None = None  # of the closed position, net of fees


def chosen(lines: Sequence[PositionLine], target: str) -> tuple[PositionLine, ...]:
    """The open positions `target` names: one symbol (any case) or `all`."""
    wanted = target.strip().upper()
    return tuple(p for p in lines if wanted == ALL.upper() or p.symbol == wanted)


def render_prompt(lines: Sequence[PositionLine], command: str, window: int) -> str:
    """The question asked before selling."""
    rows = "\n".join(f"  {row}" for row in render_position_rows(tuple(lines)))
    return (
        f"Sell at market now, through the order path (the kill-switch does not stop exits):\n"
        f"{rows}\nSend /{command} confirm within {window} s."
    )


def render_nothing_to_sell(target: str, held: Sequence[str]) -> str:
    if not held:
        return "No open position: nothing to sell."
    return f"No open position for {target.upper()}: holding {', '.join(held)}."


def render_attempts(attempts: Sequence[ExitAttempt]) -> str:
    """One line per symbol; anything not sold now is retried at every check."""
    if not attempts:
        return "No open position any more: nothing was sold."
    out = ["Force-exit"]
    for a in attempts:
        if a.outcome == "exited":
            sold = f"sold {fmt_num(a.quantity)}" if a.quantity is not None else "sold"
            price = f" @ {fmt_price(a.price)}" if a.price is not None else ""
            pnl = (
                f", PnL {fmt_money(a.realized_pnl, signed=True)} (net of fees)"
                if a.realized_pnl is not None
                else ""
            )
            out.append(f"  {a.symbol:<10} {sold}{price}{pnl}")
        elif a.outcome == "refused":
            out.append(f"  {a.symbol:<10} not sold, nothing sent: {a.detail}")
        elif a.outcome == "dust":
            out.append(f"  {a.symbol:<10} too small to sell: kept as dust, sold with the next exit")
        else:
            detail = f": {a.detail}" if a.detail else ""
            out.append(
                f"  {a.symbol:<10} {a.outcome}{detail} (requested: retried at every check)"
            )
    return "\n".join(out)
