"""Force-exit requests: an operator asks THUNES to sell a position now.

A request is a row in the store's key-value table (`force_exit:<SYMBOL>` = when it was asked),
so it crosses processes: `thunes force-exit` from a shell, Telegram `/forceexit`, or the web
dashboard. The symbol's next check (run at once by the daemon when it can) decides EXIT with
reason `forced` and sells through the executor like any exit: a deterministic client order id
per attempt, committed before the send, audited, alerted, tried again at every check until the
position is closed, and never refused by the kill-switch or any entry rule. The request is
cleared once the symbol holds no position.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from thunes.trading.ports import TradingStore

PREFIX = "force_exit:"
ALL = "ALL"


def request_force_exit(store: TradingStore, targets: Iterable[str], now: datetime) -> list[str]:
    """Record a request for each held symbol named (or every one for "all"); returns them."""
    held = {p.symbol for p in store.open_positions()}
    wanted = {t.upper() for t in targets}
    chosen = sorted(held if ALL in wanted else held & wanted)
    with store.atomic():
        for symbol in chosen:
            store.kv_set(PREFIX + symbol, now.isoformat())
    return chosen


def force_exit_requested(store: TradingStore, symbol: str) -> bool:
    return bool(store.kv_get(PREFIX + symbol))


def clear_force_exit(store: TradingStore, symbol: str) -> None:
    store.kv_delete(PREFIX + symbol)
