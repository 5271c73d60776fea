"""Performance reports as aligned plain text (Telegram `<pre>` blocks, the CLI).

Only layout lives here; every number comes from `thunes.reports.performance`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from thunes.reports.format import fmt_money, fmt_pct, fmt_time
from thunes.reports.performance import (
    PairPerformance,
    PeriodPnl,
    ProfitView,
    Unit,
    total,
)
from thunes.reports.trades import TradeLine, render_trade_table

NET = "UTC, net of fees"


def render_trades_text(trades: Sequence[TradeLine], asked: int) -> str:
    if not trades:
        return "No closed trades yet."
    head = f"Last {len(trades)} closed trade(s), newest first ({NET}; prices in USDT)"
    if len(trades) < asked:
        head = f"All {len(trades)} closed trade(s), newest first ({NET}; prices in USDT)"
    return "\n".join([head, *render_trade_table(trades, "%Y-%m-%d %H:%M")])


def render_profit_text(view: ProfitView) -> str:
    v = view
    span = "all time" if v.days is None else f"last {v.days} day(s)"
    out = [f"Profit, {span} ({NET})"]
    out.append(f"Realised PnL       {fmt_money(v.realized_pnl, signed=True)}")
    if v.trades == 0:
        out.append("Trades closed      0")
        return "\n".join(out)
    out += [
        f"Trades closed      {v.trades}  (wins {v.wins}, losses {v.losses},"
        f" win rate {fmt_pct(v.win_rate)})",
        f"Average per trade  {fmt_money(v.average, signed=True)}",
        f"Fees paid          {fmt_money(v.fees)}",
    ]
    if v.best is not None and v.worst is not None:
        out.append(f"Best trade         {_trade(v.best)}")
        out.append(f"Worst trade        {_trade(v.worst)}")
    out.append(f"First closed       {fmt_time(v.first_closed)}")
    out.append(f"Last closed        {fmt_time(v.last_closed)}")
    return "\n".join(out)


def _trade(t: TradeLine) -> str:
    return f"{t.symbol} {fmt_money(t.realized_pnl, signed=True)} ({t.closed_at:%Y-%m-%d})"


def render_performance_text(rows: Sequence[PairPerformance]) -> str:
    if not rows:
        return "Performance per pair: no closed trades yet."
    width = max(len("pair"), *(len(r.symbol) for r in rows))
    out = [f"Performance per pair, all time ({NET})"]
    out.append(f"{'pair':<{width}}  {'trades':>6}  {'win rate':>8}  {'PnL':>16}")
    for r in rows:
        out.append(
            f"{r.symbol:<{width}}  {r.trades:>6}  {fmt_pct(r.win_rate):>8}"
            f"  {fmt_money(r.realized_pnl, signed=True):>16}"
        )
    trades, pnl = sum(r.trades for r in rows), fmt_money(total(rows), signed=True)
    out.append(f"{'total':<{width}}  {trades:>6}  {'':>8}  {pnl:>16}")
    return "\n".join(out)


def render_periods_text(rows: Sequence[PeriodPnl], unit: Unit) -> str:
    """One line per week (from Monday) or month, newest first, with the total."""
    title = "Weekly" if unit == "week" else "Monthly"
    start = "Monday" if unit == "week" else "the 1st"
    out = [f"{title} realised PnL, last {len(rows)} ({NET}; from {start})"]
    for r in rows:
        label = (
            f"{r.start.isoformat()}..{(r.end - timedelta(days=1)).isoformat()}"
            if unit == "week"
            else r.start.strftime("%Y-%m")
        )
        out.append(
            f"  {label:<22}  {fmt_money(r.realized_pnl, signed=True):>16}  {r.trades} trade(s)"
        )
    trades = sum(r.trades for r in rows)
    out.append(f"Total                     {fmt_money(total(rows), signed=True):>16}  "
               f"{trades} trade(s)")
    return "\n".join(out)
