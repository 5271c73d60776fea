"""THUNES' real per-symbol check, run as its own process for the SIGKILL crash-safety tests.

Usage (from the project root): python -m tests.integration.trading.crash_driver API_URL STATE_DIR STEPS

STEPS is a comma list of "enter" and "exit". For each step the scripted strategy says ENTER or
EXIT and the driver runs one `PaperTrader.run_strategy(SYMBOL)`: the real `CheckPipeline`
(reconciliation, then `check_symbol`), the real `RiskManager`, the real `Store` and audit trail
in STATE_DIR, and the real gateway against the simulator at API_URL. The simulator runs in the
test process, so the exchange outlives this one. Trading runs on the simulator's market clock
and the order window on the wall clock, as the daemon does in sim mode.

With THUNES_CRASH_AT="step:point" (or "step:point#N") the process SIGKILLs itself the first
(N-th) time the order path reaches `point` (see `thunes.trading.crash.CrashPoints`) during
`step`. With THUNES_EXCHANGE_STOP_PCT set, positions get a protective stop on the exchange at
that stop-loss; the step "hold" makes the strategy say HOLD.
It prints one JSON line: each step's outcome, reason and detail.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import aiohttp

from tests.integration.trading.rig import Scripted
from thunes.clock import SimClock, SystemClock
from thunes.config import Mode, Settings
from thunes.domain import Action
from thunes.events import EventBus
from thunes.exchange.factory import build_gateway
from thunes.store import AUDIT_FILE, AuditTrail, Store
from thunes.trading.crash import CrashPoints
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.risk import RiskLimits, RiskManager

SYMBOL = "BTCUSDT"
QUOTE = Decimal("50")
COOLDOWN = timedelta(minutes=60)
DB_FILE = "thunes.db"
STEPS = {"enter": Action.ENTER, "exit": Action.EXIT, "hold": Action.HOLD}


class KillAt(CrashPoints):
    """SIGKILLs this process at `point`, once `arm(step)` named the step it belongs to."""

    def __init__(self, spec: str) -> None:
        self.step, _, point = spec.partition(":")
        self.point, _, nth = point.partition("#")
        self.nth, self.seen = int(nth or 1), 0
        self.armed = False

    def arm(self, step: str) -> None:
        self.armed = step == self.step

    def hit(self, name: str) -> None:
        if self.armed and name == self.point:
            self.seen += 1
            if self.seen == self.nth:
                os.kill(os.getpid(), signal.SIGKILL)


async def market_clock(api_url: str) -> SimClock:
    """The simulator's market time, running at its speed (1×), as in the daemon's sim mode."""
    base = api_url.removesuffix("/api")
    async with aiohttp.ClientSession() as session, session.get(f"{base}/sim/state") as answer:
        state = await answer.json()
    return SimClock(state["now_ms"] / 1000, speed=1.0)


async def main(api_url: str, state_dir: Path, steps: list[str]) -> dict[str, object]:
    clock, wall = await market_clock(api_url), SystemClock()
    settings = Settings(mode=Mode.SIM, _env_file=None)  # type: ignore[call-arg]
    gateway = await build_gateway(settings, clock, api_url=api_url, request_timeout=10.0,
                                  wire_clock=wall)
    store = Store.open(state_dir / DB_FILE)
    try:
        spec = os.environ.get("THUNES_CRASH_AT")
        crash = KillAt(spec) if spec else None
        events = EventBus()
        audit = AuditTrail(state_dir / AUDIT_FILE, clock, events=events)
        risk = RiskManager(RiskLimits(Decimal(1000), 3, COOLDOWN), store, clock, events, audit)
        strategy = Scripted()
        stop = os.environ.get("THUNES_EXCHANGE_STOP_PCT")
        config = PipelineConfig(symbols=[SYMBOL], interval="5m", quote_amount=QUOTE,
                                min_confidence=0.0, stop_loss_pct=Decimal(stop or 0),
                                kline_limit=60, exchange_stops=stop is not None)
        pipeline = CheckPipeline(gateway, store, risk, strategy, clock, config, audit=audit,
                                 events=events, crash_points=crash, order_window_seconds=1.0,
                                 wire_clock=wall)
        paper = PaperTrader(pipeline)
        done: list[dict[str, str]] = []
        for step in steps:
            if crash is not None:
                crash.arm(step)
            strategy.say = STEPS[step]
            result = await paper.run_strategy(SYMBOL)
            done.append({"step": step, "outcome": result.outcome.value,
                         "reason": str(result.reason or ""), "detail": result.detail})
        return {"steps": done}
    finally:
        store.close()
        await gateway.close()


if __name__ == "__main__":
    outcome = asyncio.run(main(sys.argv[1], Path(sys.argv[2]), sys.argv[3].split(",")))
    print(json.dumps(outcome))
