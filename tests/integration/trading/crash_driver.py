"""A minimal THUNES order path run as its own process, for the SIGKILL crash-safety test.

Usage: python crash_driver.py API_URL STATE_DB DECISIONS
DECISIONS is "enter" or "enter,exit". With THUNES_CRASH_AT="point" (or "point#N" for the N-th
time the point is reached) the process SIGKILLs itself there. Each run reconciles at start (as
the daemon does), then makes the same decisions again; it prints one JSON line of what it saw.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from decimal import Decimal
from pathlib import Path

from thunes.clock import SystemClock
from thunes.config import Mode, Settings
from thunes.domain import ExitReason, OrderIntent, Side, client_order_id
from thunes.exchange.factory import build_gateway
from thunes.store import Store
from thunes.trading.executor import CrashPoints, Executor
from thunes.trading.portfolio import sell_quantity
from thunes.trading.reconcile import Reconciler

SYMBOL = "BTCUSDT"
QUOTE = Decimal("50")


class KillAt(CrashPoints):
    def __init__(self, spec: str) -> None:
        name, _, nth = spec.partition("#")
        self.name, self.nth, self.seen = name, int(nth or 1), 0

    def hit(self, name: str) -> None:
        if name == self.name:
            self.seen += 1
            if self.seen == self.nth:
                os.kill(os.getpid(), signal.SIGKILL)


def coid(decision: str, side: Side) -> str:
    return client_order_id(f"crash-test:{decision}", SYMBOL, side)


async def main(api_url: str, db: Path, decisions: list[str]) -> dict[str, object]:
    clock = SystemClock()
    settings = Settings(mode=Mode.SIM, _env_file=None)  # type: ignore[call-arg]
    gateway = await build_gateway(settings, clock, api_url=api_url, request_timeout=5.0)
    store = Store.open(db)
    try:
        crash = KillAt(os.environ["THUNES_CRASH_AT"]) if os.environ.get("THUNES_CRASH_AT") else None
        executor = Executor(gateway, store, clock, crash_points=crash, order_window_seconds=1.0,
                            resolve_attempts=3, resolve_backoff=0.2)
        reconciler = Reconciler(gateway, store, executor, clock, [SYMBOL])
        report = await reconciler.reconcile(at_start=True)
        if not report.ok:
            return {"reconciled": False, "why": report.why()}
        rules = await gateway.symbol_rules(SYMBOL)
        states = {}
        if "enter" in decisions:
            intent = OrderIntent(coid("enter", Side.BUY), SYMBOL, Side.BUY, quote_quantity=QUOTE)
            states["enter"] = (await executor.execute(intent, rules, clock.now())).state.value
        if "exit" in decisions:
            sell_id = coid("exit", Side.SELL)
            position = store.open_position(SYMBOL)
            if position is not None or store.get_order(sell_id) is not None:
                price = await gateway.price(SYMBOL)
                qty = sell_quantity(position, rules, price)[0] if position else None
                intent = OrderIntent(sell_id, SYMBOL, Side.SELL, quantity=qty,
                                     exit_reason=ExitReason.SIGNAL)
                states["exit"] = (await executor.execute(intent, rules, clock.now())).state.value
        position = store.open_position(SYMBOL)
        return {
            "reconciled": True,
            "adopted_fills": report.adopted_fills,
            "states": states,
            "position": str(position.quantity) if position else None,
            "closed": [str(p.realized_pnl) for p in store.closed_positions()],
        }
    finally:
        store.close()
        await gateway.close()


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3].split(",")))
    print(json.dumps(result))
