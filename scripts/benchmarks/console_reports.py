"""Operator console reports benchmark: what Telegram's /trades, /profit, /performance, /weekly,
/monthly and /logs cost on a store holding 5,000 closed trades (two fills each, three symbols)
and on a full 10 MB log file. They run on the daemon's event loop, so they must stay short.

Wall time is the best of a few runs after a warm-up run.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from _common import best_wall, ms

from thunes.domain import ExitReason, Fill, Position, Side
from thunes.log import LOG_FILE
from thunes.reports.log_tail import tail
from thunes.reports.performance import build_performance, build_periods, build_profit, recent_trades
from thunes.reports.performance_text import render_profit_text, render_trades_text
from thunes.store import Store

TRADES = 5_000
SYMBOLS = ("BTCUSDT", "ETHUSDT", "SOLUSDT")
START = datetime(2025, 1, 1, tzinfo=UTC)


def fill_store(store: Store) -> datetime:
    """TRADES round trips, one every 2 hours per symbol in turn; returns the last close."""
    when = START
    for i in range(TRADES):
        symbol = SYMBOLS[i % len(SYMBOLS)]
        opened, closed = when, when + timedelta(hours=1)
        buy = Fill(symbol, Side.BUY, Decimal("100"), Decimal("0.2"), Decimal("0.02"), "USDT",
                   2 * i, f"b{i}", opened)
        sell_price = Decimal("100") + Decimal((i % 7) - 3)
        sell = Fill(symbol, Side.SELL, sell_price, Decimal("0.2"), Decimal("0.02"), "USDT",
                    2 * i + 1, f"s{i}", closed)
        store.add_fills([buy, sell])
        store.save_position(Position(symbol, Decimal("0.2"), Decimal("100"), opened,
                                     Decimal("0.02")))
        pnl = (sell_price - Decimal("100")) * Decimal("0.2") - Decimal("0.04")
        store.close_position(symbol, closed_at=closed, realized_pnl=pnl,
                             exit_reason=ExitReason.SIGNAL)
        when += timedelta(hours=2)
    return when


def fill_log(log_dir: Path) -> int:
    line = json.dumps({"time": START.isoformat(), "level": "INFO", "logger": "thunes.bench",
                       "message": "check done: BTCUSDT hold, ETHUSDT hold " + "x" * 80})
    count = 10_000_000 // (len(line) + 1)
    (log_dir / LOG_FILE).write_text((line + "\n") * count)
    return count


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        store = Store.open(root / "thunes.db")
        try:
            last = fill_store(store)
            today = last.date()
            rows = [
                ("closed trades in the store", f"{TRADES:,}"),
                ("/trades 50", ms(best_wall(lambda: render_trades_text(
                    recent_trades(store, 50), 50)))),
                ("/profit (all time, with fees)", ms(best_wall(lambda: render_profit_text(
                    build_profit(store, today))))),
                ("/profit 30", ms(best_wall(lambda: build_profit(store, today, 30)))),
                ("/performance", ms(best_wall(lambda: build_performance(store)))),
                ("/weekly 52", ms(best_wall(lambda: build_periods(store, today, "week", 52)))),
                ("/monthly 24", ms(best_wall(lambda: build_periods(store, today, "month", 24)))),
            ]
        finally:
            store.close()
        lines = fill_log(root)
        rows.append(("log lines in a 10 MB thunes.log", f"{lines:,}"))
        rows.append(("/logs 100 (redacted)", ms(best_wall(lambda: tail(root, 100, ["s" * 32])))))
    return rows

