"""Simulator throughput: REST requests per second and stream messages per second.

REST is measured twice: against `thunes sim` in its own process (the way a daemon talks to it),
and in-process, where server and load generator share one event loop (the integration tests'
setting, a floor). Streams are measured in-process with forced ticks.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig, replay_clock

DURATION = 2.0
WORKERS = 8
STREAM_CLIENTS = 10
STREAMS = [
    f"{symbol}@{kind}"
    for symbol in ("btcusdt", "ethusdt")
    for kind in ("bookTicker", "trade", "kline_5m", "kline_15m", "kline_1h")
]


def _config() -> SimulatorConfig:
    start = replay_clock(speed=1).time()
    return SimulatorConfig(clock=ManualClock(start), weight_limit=10**9, stream_interval=3600)


async def _until(condition: Callable[[], bool], timeout: float) -> None:
    """Poll a condition (a benchmark is allowed to pace itself)."""
    deadline = time.perf_counter() + timeout
    while not condition() and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.01)


async def _rest_rate(sim: Simulator, path: str) -> float:
    count = 0
    deadline = time.perf_counter() + DURATION

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            async with session.get(sim.base_url + path) as response:
                await response.read()
                count += 1

    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(WORKERS)))
    return count / (time.perf_counter() - started)


async def _stream_rate(sim: Simulator) -> float:
    received = 0
    url = f"{sim.ws_url}/stream?streams={'/'.join(STREAMS)}"
    async with aiohttp.ClientSession() as session:
        sockets = [await session.ws_connect(url) for _ in range(STREAM_CLIENTS)]

        async def reader(ws: aiohttp.ClientWebSocketResponse) -> None:
            nonlocal received
            async for _ in ws:
                received += 1

        readers = [asyncio.create_task(reader(ws)) for ws in sockets]
        await _until(lambda: len(sim.streams.connections) >= STREAM_CLIENTS, timeout=10)
        started = time.perf_counter()
        clock = sim.clock
        assert isinstance(clock, ManualClock)
        while time.perf_counter() - started < DURATION:
            clock.advance(1)
            await sim.publish_tick()
            await asyncio.sleep(0)
        sent = sim.streams.messages_sent
        await _until(lambda: received >= sent, timeout=DURATION * 3)
        elapsed = time.perf_counter() - started
        for ws in sockets:
            await ws.close()
        for task in readers:
            task.cancel()
    return received / elapsed


PATHS = [
    ("ticker/price", "/api/v3/ticker/price?symbol=BTCUSDT"),
    ("klines 1h limit=100", "/api/v3/klines?symbol=BTCUSDT&interval=1h&limit=100"),
    ("bookTicker", "/api/v3/ticker/bookTicker?symbol=ETHUSDT"),
]


class _Remote:
    """Stands in for a Simulator running as `thunes sim` in a child process."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def _separate_process_rows() -> list[tuple[str, str]]:
    command = [sys.executable, "-m", "thunes", "sim", "--port", "0", "--weight-limit", "1000000000"]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)  # noqa: ASYNC220
    try:
        assert child.stdout is not None
        line = await asyncio.to_thread(child.stdout.readline)
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        if found is None:
            return [("REST (separate process)", f"could not start: {line!r}")]
        remote = _Remote(found.group(0))
        rows = []
        for label, path in PATHS:
            cpu_before = _cpu_seconds(child.pid)
            rate = await _rest_rate(remote, path)  # type: ignore[arg-type]
            served = rate * DURATION
            per_request = (_cpu_seconds(child.pid) - cpu_before) / max(served, 1)
            rows.append((f"REST {label} req/s, separate process", f"{rate:,.0f}"))
            rows.append(
                (
                    f"  server CPU per {label} request (capacity per core)",
                    f"{per_request * 1e6:,.0f} µs ({1 / per_request:,.0f} req/s)",
                )
            )
        return rows
    finally:
        child.terminate()
        child.wait(timeout=10)


async def _measure() -> list[tuple[str, str]]:
    rows = await _separate_process_rows()
    async with Simulator(_config()) as sim:
        for label, path in PATHS:
            rows.append((f"REST {label} req/s, in-process", f"{await _rest_rate(sim, path):,.0f}"))
    config = dataclasses.replace(_config())
    async with Simulator(config) as sim:
        rate = await _stream_rate(sim)
        rows.append(
            (f"stream msg/s ({STREAM_CLIENTS} clients x {len(STREAMS)} streams)", f"{rate:,.0f}")
        )
    rows.append(("targets", "REST >= 2,000 req/s, streams >= 20,000 msg/s"))
    return rows


def run() -> list[tuple[str, str]]:
    return asyncio.run(_measure())


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure}: {value}")
