"""Backtest benchmark: SMA 20/50 on 525,600 1-minute bars and on the bundled data, and a
100-combination sweep (fast 5..50 step 5 × slow 20..200 step 20) on 100,000 bars.

Wall time is the best of a few runs (after a warm-up run); peak memory is tracemalloc's peak
of numpy/Python allocations during one run.
"""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable

from _common import best_cpu_wall, synthetic_minutes

from thunes.backtest import BacktestConfig, run_backtest
from thunes.backtest.sweep import grid_sweep
from thunes.market.klines import load_klines, sample_path
from thunes.strategy import get_strategy


def measure(action: Callable[[], object], repeats: int = 15) -> tuple[float, float, float]:
    """(best wall seconds, best CPU seconds, peak MiB)."""
    best_cpu, best = best_cpu_wall(action, repeats)
    tracemalloc.start()
    action()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return best, best_cpu, peak / 2**20


def run() -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    sma = get_strategy("sma", fast=20, slow=50)
    config = BacktestConfig()
    year = synthetic_minutes(525_600)
    seconds, cpu, peak = measure(lambda: run_backtest(sma, year, config))
    trades = run_backtest(sma, year, config).metrics.trades
    rows.append(("SMA 20/50, 525,600 1m bars: wall (target < 0.06 s)", f"{seconds:.4f} s"))
    rows.append(("SMA 20/50, 525,600 1m bars: CPU", f"{cpu:.4f} s"))
    rows.append(("SMA 20/50, 525,600 1m bars: peak memory", f"{peak:.1f} MiB"))
    rows.append(("SMA 20/50, 525,600 1m bars: trades", str(trades)))
    for name in ("BTCUSDT-5m-2023Q1.csv.gz", "ETHUSDT-1h-spot.csv.gz"):
        frame = load_klines(sample_path(name)).frame
        seconds, _, peak = measure(lambda frame=frame: run_backtest(sma, frame, config))
        rows.append((f"SMA 20/50, {name} ({len(frame)} bars): wall", f"{seconds:.4f} s"))
        rows.append((f"SMA 20/50, {name}: peak memory", f"{peak:.1f} MiB"))
    frame = synthetic_minutes(100_000, seed=11)
    grid = {"fast": list(range(5, 51, 5)), "slow": list(range(20, 201, 20))}
    seconds, cpu, peak = measure(lambda: grid_sweep("sma", frame, grid, config), repeats=9)
    evaluated = len(grid_sweep("sma", frame, grid, config))
    rows.append(("sweep 10×10 grid, 100,000 bars: wall (target < 0.2 s)", f"{seconds:.4f} s"))
    rows.append(("sweep 10×10 grid, 100,000 bars: CPU", f"{cpu:.4f} s"))
    rows.append(("sweep: valid combinations evaluated (slow > fast)", str(evaluated)))
    rows.append(("sweep: peak memory", f"{peak:.1f} MiB"))
    return rows
