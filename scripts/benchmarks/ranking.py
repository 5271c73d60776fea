"""Ranking benchmark: the pure core on 300 synthetic symbols × 500 1h bars (target < 1 s CPU,
frames already in memory), the 22-symbol real universe, and the exchange fetch of a 300-symbol
universe from the simulator over HTTP (requests and peak request weight against the budget).

CPU is the best of a few runs after a warm-up (the machine is shared: the least disturbed run).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
from _common import UNIVERSE, best_cpu_wall, sim_gateway, synthetic_hours

from thunes.clock import ManualClock
from thunes.ranking.fetch import fetch_universe
from thunes.ranking.files import load_folder
from thunes.ranking.rank import rank_universe
from thunes.sim import Simulator, SimulatorConfig

SYMBOLS, BARS = 300, 500
START = pd.Timestamp("2022-01-01", tz="UTC")


def synthetic(seed: int, bars: int = BARS) -> pd.DataFrame:
    """Hourly bars on a 0.0001 price grid (like real klines), a random drift per symbol."""
    rng = np.random.default_rng(seed)
    frame = synthetic_hours(rng, bars, START, rng.normal(0.0, 0.001), 10.0)
    frame["trades"] = np.full(bars, 1000.0)
    return frame


def _core_rows() -> list[tuple[str, str]]:
    frames = {f"S{i:03d}USDT": synthetic(i) for i in range(SYMBOLS)}
    as_of = (START + BARS * pd.Timedelta(hours=1)).to_pydatetime()
    result = rank_universe(frames, timeframe="1h", as_of=as_of, min_quote_volume=Decimal(0))

    def rank() -> object:
        return rank_universe(frames, timeframe="1h", as_of=as_of, min_quote_volume=Decimal(0))

    seconds, wall = best_cpu_wall(rank)
    verdict = "ok" if seconds < 1.0 else "OVER TARGET"
    return [
        (f"rank {SYMBOLS} symbols × {BARS} bars: CPU (target < 1 s)", f"{seconds:.3f} s {verdict}"),
        (f"rank {SYMBOLS} × {BARS}: wall", f"{wall:.3f} s"),
        ("per symbol", f"{seconds / SYMBOLS * 1000:.2f} ms"),
        ("ranked / skipped", f"{len(result.ranked)} / {len(result.skipped)}"),
    ]


def _universe_rows() -> list[tuple[str, str]]:
    if not UNIVERSE.is_dir():
        return [("22-symbol 1h universe", f"not found at {UNIVERSE}")]
    started = time.perf_counter()
    folder = load_folder(UNIVERSE, "1h")
    loaded = time.perf_counter() - started
    as_of = datetime(2021, 5, 1, tzinfo=UTC)
    seconds, _ = best_cpu_wall(lambda: rank_universe(folder.frames, timeframe="1h", as_of=as_of))
    return [
        ("22-symbol universe: load the files (I/O)", f"{loaded:.2f} s"),
        ("22-symbol universe: rank CPU (full history frames)", f"{seconds * 1000:.1f} ms"),
    ]


def _write_files(folder: Path, count: int) -> dict[str, Path]:
    files = {}
    for i in range(count):
        frame = synthetic(i)
        path = folder / f"S{i:03d}USDT_1h.csv"
        lines = ["open_time,open,high,low,close,volume,close_time,quote_volume"]
        for stamp, row in zip(frame.index, frame.itertuples(), strict=True):
            ms = stamp.value // 10**6
            lines.append(
                f"{ms},{row.open},{row.high},{row.low},{row.close},{row.volume},"
                f"{ms + 3_599_999},{row.quote_volume}"
            )
        path.write_text("\n".join(lines) + "\n")
        files[f"S{i:03d}USDT"] = path
    return files


async def _fetch(files: dict[str, Path]) -> tuple[float, int, int, int, int]:
    now = (START + BARS * pd.Timedelta(hours=1)).timestamp() + 60
    clock = ManualClock(now)
    config = SimulatorConfig(data=files, clock=clock, stream_interval=3600)
    async with Simulator(config) as sim:
        gateway = sim_gateway(sim, clock)
        try:
            started = time.perf_counter()
            fetched = await fetch_universe(gateway, timeframe="1h")
            wall = time.perf_counter() - started
        finally:
            await gateway.close()
    return wall, len(fetched.frames), fetched.requests, fetched.peak_weight, fetched.weight_budget


def _fetch_rows() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        files = _write_files(Path(tmp), SYMBOLS)
        wall, fetched, requests, peak, budget = asyncio.run(_fetch(files))
    return [
        (f"fetch {SYMBOLS} symbols from the simulator: wall", f"{wall:.2f} s"),
        ("fetch: symbols / requests", f"{fetched} / {requests}"),
        ("fetch: peak request weight per minute", f"{peak} of {budget} (limit 6000)"),
    ]


def run() -> list[tuple[str, str]]:
    return _core_rows() + _universe_rows() + _fetch_rows()
