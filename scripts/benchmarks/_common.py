"""Helpers shared by the benchmarks: synthetic bars, timing, the simulator's load generators.

`scripts/bench.py` skips modules whose name starts with "_", so this is not a benchmark itself.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp
import numpy as np
import pandas as pd

from thunes.clock import Clock, ManualClock
from thunes.exchange.binance_client import make_client
from thunes.exchange.breakers import CircuitBreakerMonitor
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.retry import RetryPolicy
from thunes.exchange.timesync import TimeSync
from thunes.sim import Simulator, SimulatorConfig

# The shared 22-symbol 1h universe, beside the repository.
UNIVERSE = Path(__file__).resolve().parents[3] / "shared" / "data" / "binance_spot_1h_universe"


# --- synthetic bars -------------------------------------------------------------------------


def synthetic_minutes(bars: int, seed: int = 7) -> pd.DataFrame:
    """A random walk on a 0.01 tick grid with 1-minute bars (like BTCUSDT)."""
    rng = np.random.default_rng(seed)
    close = np.round(30_000 * np.exp(np.cumsum(rng.normal(0, 0.0008, bars))), 2)
    open_ = np.round(np.concatenate(([30_000.0], close[:-1])), 2)
    spread = np.round(np.abs(rng.normal(0, 8, bars)), 2)
    high = np.maximum(open_, close) + spread
    low = np.maximum(np.minimum(open_, close) - spread, 0.01)
    volume = np.round(rng.lognormal(2.0, 0.8, bars), 5)
    index = pd.date_range("2023-01-01", periods=bars, freq="1min", tz="UTC", name="open_time")
    return pd.DataFrame(
        {"open": open_, "high": high, "low": low, "close": close, "volume": volume}, index=index
    )


def synthetic_hours(
    rng: np.random.Generator, bars: int, start: pd.Timestamp, drift: float, volume_mean: float
) -> pd.DataFrame:
    """Hourly bars on a 0.0001 price grid (like real klines), drifting by `drift` per bar (log),
    with a quote volume column; `rng` goes on from wherever its caller left it."""
    close = np.round(50.0 * np.exp(np.cumsum(drift + rng.normal(0, 0.01, bars))), 4)
    open_ = np.concatenate(([50.0], close[:-1]))
    spread = np.round(np.abs(rng.normal(0, 0.003, bars)) * close, 4)
    volume = np.round(rng.lognormal(volume_mean, 0.5, bars), 2)
    index = pd.date_range(start, periods=bars, freq="h", name="open_time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.minimum(open_, close) - spread,
            "close": close,
            "volume": volume,
            "quote_volume": np.round(volume * close, 2),
        },
        index=index,
    )


# --- timing ---------------------------------------------------------------------------------


def best_wall(action: Callable[[], object], repeats: int = 5, warm_up: bool = True) -> float:
    """Best wall seconds of `action` over `repeats` runs (after one warm-up run unless told not).

    Best-of-N because the machine is shared: the minimum is the run least disturbed by others.
    """
    if warm_up:
        action()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        action()
        best = min(best, time.perf_counter() - start)
    return best


def best_cpu_wall(action: Callable[[], object], repeats: int = 5) -> tuple[float, float]:
    """(best CPU seconds, best wall seconds) of `action`, after one warm-up run."""
    action()
    best_cpu = best = float("inf")
    for _ in range(repeats):
        wall, start = time.perf_counter(), time.process_time()
        action()
        best_cpu = min(best_cpu, time.process_time() - start)
        best = min(best, time.perf_counter() - wall)
    return best_cpu, best


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- the simulator --------------------------------------------------------------------------

DURATION = 2.0  # seconds of load per measure
WORKERS = 8  # concurrent REST clients


def sim_gateway(sim: Simulator, clock: Clock) -> BinanceGateway:
    """A gateway on the simulator's REST API, timed by `clock`."""
    client = make_client("sim-key", "sim-secret", api_url=sim.api_url)
    return BinanceGateway(
        client,
        clock,
        RateLimiter(clock),
        CircuitBreakerMonitor(clock),
        TimeSync(clock, samples=1),
        RetryPolicy(sleep=clock.sleep),
    )


class Remote:
    """Stands in for a Simulator running as `thunes sim` in a child process."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url


async def until(condition: Callable[[], bool], timeout: float) -> None:
    """Poll a condition (a benchmark is allowed to pace itself)."""
    deadline = time.perf_counter() + timeout
    while not condition() and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def rest_rate(
    sim: Simulator | Remote, path: str, duration: float = DURATION, workers: int = WORKERS
) -> float:
    """GET requests per second on `path`, `workers` at a time for `duration` seconds."""
    count = 0
    deadline = time.perf_counter() + duration

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            async with session.get(sim.base_url + path) as response:
                await response.read()
                count += 1

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(workers)))
    return count / (time.perf_counter() - started)


async def stream_rate(
    sim: Simulator, streams: list[str], clients: int, duration: float = DURATION
) -> float:
    """Stream messages per second received by `clients` connections to `streams`, the
    simulator's clock advanced and a tick forced as fast as it goes for `duration` seconds."""
    received = 0
    url = f"{sim.ws_url}/stream?streams={'/'.join(streams)}"
    async with aiohttp.ClientSession() as session:
        sockets = [await session.ws_connect(url) for _ in range(clients)]

        async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal received
            async for _ in ws:
                received += 1

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        await until(lambda: len(sim.streams.connections) >= clients, timeout=10)
        clock = sim.clock
        assert isinstance(clock, ManualClock)
        started = time.perf_counter()
        while time.perf_counter() - started < duration:
            clock.advance(1)
            await sim.publish_tick()
            await asyncio.sleep(0)
        sent = sim.streams.messages_sent
        await until(lambda: received >= sent, timeout=duration * 3)
        elapsed = time.perf_counter() - started
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
    return received / elapsed


async def stream_rows(
    config: SimulatorConfig, streams: list[str], clients: int
) -> list[tuple[str, str]]:
    """The stream rate row of a simulator on `config`, and the targets row."""
    async with Simulator(config) as sim:
        rate = await stream_rate(sim, streams, clients)
    return [
        (f"stream msg/s ({clients} clients x {len(streams)} streams)", f"{rate:,.0f}"),
        ("targets", "REST >= 2,000 req/s, streams >= 20,000 msg/s"),
    ]
