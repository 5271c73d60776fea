"""The tables of a backtest report, as rows of plain data built from a trades frame.

A trades frame has the columns of `runner.TRADE_COLUMNS` (plus `symbol` for several symbols);
the single-symbol and the portfolio reports build their per-pair, exit-reason and per-period
tables here, so they read the same and render with the same code.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from thunes.backtest.types import REASON_NAMES

BREAKDOWNS = {"day": "D", "week": "W-SUN", "month": "M"}


def pair_rows(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """Per symbol: trades, win rate, PnL net of fees, fees, exits by reason; best PnL first."""
    out = []
    for symbol, group in trades.groupby("symbol", sort=True):
        reasons = group["exit_reason"].value_counts()
        out.append(
            {
                "symbol": symbol,
                "trades": len(group),
                "win_rate": float((group["pnl"] > 0).mean()),
                "pnl": float(group["pnl"].sum()),
                "fees": float((group["entry_fee"] + group["exit_fee"]).sum()),
                **{name: int(reasons.get(name, 0)) for name in REASON_NAMES},
            }
        )
    return sorted(out, key=lambda row: -row["pnl"])


def exit_rows(trades: pd.DataFrame) -> list[dict[str, Any]]:
    """Per exit reason (every reason, even unused): trades, win rate, PnL."""
    out = []
    for name in REASON_NAMES:
        group = trades[trades["exit_reason"] == name]
        out.append(
            {
                "exit_reason": name,
                "trades": len(group),
                "win_rate": float((group["pnl"] > 0).mean()) if len(group) else 0.0,
                "pnl": float(group["pnl"].sum()),
            }
        )
    return out


def breakdown_rows(trades: pd.DataFrame, period: str) -> list[dict[str, Any]]:
    """Closed trades per UTC day, week (Monday to Sunday) or month, by exit time.

    Only periods with an exit are listed; their PnL adds up to the run's total PnL.
    """
    if period not in BREAKDOWNS:
        raise ValueError(f"breakdown must be one of {', '.join(BREAKDOWNS)}, got {period!r}")
    if trades.empty:
        return []
    exits = pd.DatetimeIndex(trades["exit_time"]).tz_convert("UTC").tz_localize(None)
    keys = exits.to_period(BREAKDOWNS[period]).start_time
    out = []
    for start, group in trades.groupby(keys.to_numpy(), sort=True):
        pnl = group["pnl"]
        out.append(
            {
                "period": pd.Timestamp(start).strftime(
                    "%Y-%m-%d" if period != "month" else "%Y-%m"
                ),
                "trades": len(group),
                "wins": int((pnl > 0).sum()),
                "losses": int((pnl < 0).sum()),
                "win_rate": float((pnl > 0).mean()),
                "pnl": float(pnl.sum()),
            }
        )
    return out
