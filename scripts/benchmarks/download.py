"""Download benchmark: the whole 1h BTCUSDT history (2017-08 → 2022-06, ~42,500 bars, 43 pages)
from the simulator over HTTP into the 12-column CSV, then a rerun that finds nothing missing,
then `list-data` over the folder. Wall time, bars per second, requests and the peak request
weight against the budget. Falls back to the bundled 1h sample without ../shared.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from pathlib import Path

from thunes.clock import ManualClock
from thunes.data_download import SymbolDownload, download_symbol
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.market.inventory import inventory
from thunes.market.klines import sample_path
from thunes.sim import Simulator, SimulatorConfig
from thunes.sim.replay import load_replay

UNIVERSE = Path(__file__).resolve().parents[2].parent / "shared/data/binance_spot_1h_universe"


def _source() -> tuple[str, Path]:
    path = UNIVERSE / "BTCUSDT_1h.csv"
    return "BTCUSDT", path if path.exists() else sample_path("BTCUSDT-1h-spot.csv.gz")


async def _download(out: Path) -> tuple[SymbolDownload, float, SymbolDownload, float, int, int]:
    symbol, path = _source()
    replay = load_replay(symbol, path)
    clock = ManualClock(replay.last_close_ms / 1000)
    config = SimulatorConfig(data={symbol: path}, clock=clock, stream_interval=3600)
    async with Simulator(config, wire_clock=clock) as sim:
        limiter = RateLimiter(clock)
        client = make_client("sim-key", "sim-secret", api_url=sim.api_url, request_timeout=10.0)
        gateway = BinanceGateway(
            client, clock, limiter, CircuitBreakerMonitor(clock), TimeSync(clock, samples=1),
            RetryPolicy(sleep=clock.sleep, rng=random.Random(1)),
        )
        peak = 0

        def sample() -> None:
            nonlocal peak
            peak = max(peak, limiter.used_weight)

        try:
            start_ms, end_ms = replay.first_open_ms, replay.last_close_ms
            began = time.perf_counter()
            first = await download_symbol(
                gateway, out, symbol, "1h", start_ms, end_ms, after_request=sample
            )
            fetched = time.perf_counter() - began
            began = time.perf_counter()
            again = await download_symbol(gateway, out, symbol, "1h", start_ms, end_ms)
            rerun = time.perf_counter() - began
        finally:
            await gateway.close()
    return first, fetched, again, rerun, peak, limiter.weight_budget


def run() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        first, fetched, again, rerun, peak, budget = asyncio.run(_download(out))
        began = time.perf_counter()
        listed = inventory(out)
        listing = time.perf_counter() - began
    return [
        ("bars downloaded (1h BTCUSDT)", f"{first.rows:,}"),
        ("kline requests", str(first.requests)),
        ("download wall time", f"{fetched:.2f} s"),
        ("bars per second", f"{first.rows / fetched:,.0f}"),
        ("peak request weight", f"{peak} of {budget} per minute"),
        ("gaps reported", f"{first.report.gaps if first.report else 0}"),
        ("rerun with nothing missing", f"{again.requests} requests, {rerun * 1000:.0f} ms"),
        ("list-data over the folder", f"{len(listed)} file, {listing * 1000:.0f} ms"),
    ]
