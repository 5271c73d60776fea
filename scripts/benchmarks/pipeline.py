"""Check pipeline CPU time: one check of 10 symbols × 500 closed bars, network excluded.

The exchange is an in-memory stand-in answering at once (klines included: the gateway's
kline cache and parsing are measured by the exchange benchmarks), so what is measured is
THUNES' own work per check: strategy signal over 500 bars, decision, SQLite reads, audit,
report, and optionally the per-check reconciliation. Target: under 50 ms of CPU time per check.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from thunes.clock import ManualClock
from thunes.domain import Action, OrderIntent
from thunes.exchange.types import (
    Balance,
    BookTicker,
    ExchangeFill,
    ExchangeOrder,
    PlacementResult,
    PlacementStatus,
    SymbolRules,
)
from thunes.store import Store
from thunes.strategy import get_strategy
from thunes.trading.pipeline import CheckPipeline, PipelineConfig

SYMBOLS = [f"S{i:02d}USDT" for i in range(10)]
BARS = 500
RUNS = 30


def _rules(symbol: str) -> SymbolRules:
    d = Decimal
    return SymbolRules(symbol, symbol[:3], "USDT", d("0.01"), d("0.01"), d("1000000"),
                       d("0.00001"), d("0.00001"), d("9000"), d("0.00001"), d("0.00001"),
                       d("100"), d("5"))


class InstantGateway:
    """Answers every call from memory; never fills (the benchmark measures HOLD checks)."""

    def __init__(self, frames: dict[str, pd.DataFrame]) -> None:
        self.frames = frames

    async def server_time_ms(self) -> int:
        return 0

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        return _rules(symbol)

    async def closed_klines(self, symbol: str, interval: str, limit: int = 500) -> pd.DataFrame:
        return self.frames[symbol]

    async def price(self, symbol: str) -> Decimal:
        return Decimal("100.00")

    async def book_ticker(self, symbol: str) -> BookTicker:
        return BookTicker(symbol, Decimal(100), Decimal(100), 0)

    async def balances(self) -> dict[str, Balance]:
        return {"USDT": Balance("USDT", Decimal(1000), Decimal(0))}

    async def place_market_order(self, intent: OrderIntent, on_send: object = None
                                 ) -> PlacementResult:
        return PlacementResult(PlacementStatus.REJECTED, intent.client_order_id, message="bench")

    async def get_order(self, symbol: str, client_order_id: str) -> ExchangeOrder | None:
        return None

    async def open_orders(self, symbol: str | None = None) -> list[ExchangeOrder]:
        return []

    async def my_trades(self, symbol: str, order_id: int | None = None,
                        start_ms: int | None = None) -> list[ExchangeFill]:
        return []

    def breaker_open(self, name: str) -> bool:
        return False


class ApproveAll:
    def validate_trade(self, symbol: str, action: Action, **_: object) -> object:
        raise AssertionError("no trade expected in the benchmark")

    def record_exit(self, *_: object) -> None:
        return None


def _frames() -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(7)
    index = pd.date_range("2023-01-01", periods=BARS, freq="1h", tz="UTC", name="open_time")
    frames = {}
    for symbol in SYMBOLS:
        close = 100 + np.cumsum(rng.normal(0, 0.01, BARS))
        frames[symbol] = pd.DataFrame(
            {"open": close, "high": close + 0.1, "low": close - 0.1, "close": close,
             "volume": rng.uniform(5, 15, BARS), "quote_volume": close * 10,
             "trades": np.full(BARS, 5.0)}, index=index)
    return frames


async def _measure(reconcile: bool) -> list[float]:
    frames = _frames()
    clock = ManualClock(frames[SYMBOLS[0]].index[-1].timestamp() + 3600)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "bench.db")
        config = PipelineConfig(symbols=SYMBOLS, interval="1h", concurrency=10,
                                reconcile_every_check=reconcile)
        # A strategy that rarely crosses: the check computes signals, then holds.
        strategy = get_strategy("sma", fast=20, slow=50)
        pipeline = CheckPipeline(InstantGateway(frames), store, ApproveAll(),  # type: ignore[arg-type]
                                 strategy, clock, config)
        await pipeline.reconcile()
        samples = []
        for _ in range(RUNS):
            began = time.process_time()
            report = await pipeline.run_check()
            samples.append((time.process_time() - began) * 1000)
            assert not report.errors, report.errors
        store.close()
    return samples


def run() -> list[tuple[str, str]]:
    rows = []
    for label, reconcile in (
        ("10 symbols × 500 bars", False),
        ("… plus per-check reconciliation", True),
    ):
        samples = asyncio.run(_measure(reconcile))
        rows.append((f"{label}: median CPU ms", f"{statistics.median(samples):.1f}"))
        rows.append((f"{label}: max CPU ms", f"{max(samples):.1f}"))
    rows.append(("target", "< 50 ms CPU per check"))
    return rows


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure}: {value}")
