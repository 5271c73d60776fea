"""`thunes check-strategy` benchmark: the look-ahead and warm-up check over 15,000 1h bars.

Data: the last 15,000 bars of the shared 1h universe file for BTCUSDT when ../shared is there,
else the bundled ETHUSDT 1h sample (10,999 bars). Figures: the pure check for each built-in
and for a deliberately biased strategy (best of 3 runs, wall and CPU), and the whole command
(load, check, print) once for sma. Target: under 5 s.
"""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

import numpy as np
import pandas as pd

from thunes.backtest.lookahead import check_strategy
from thunes.cli import main
from thunes.market.klines import load_klines, sample_path
from thunes.strategy import Bars, SmaCrossover, Strategy, available_strategies, get_strategy

BARS = 15_000
TARGET_SECONDS = 5.0
SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
UNIVERSE_BTC = SHARED / "binance_spot_1h_universe" / "BTCUSDT_1h.csv"


class _ShiftAhead(SmaCrossover):
    """The SMA crossover on the next bar's averages: every signal bar differs."""

    name: ClassVar[str] = "sma_shift_ahead"

    def _compute(self, bars: Bars) -> tuple[np.ndarray, np.ndarray, float | None]:
        entries, exits, stop = super()._compute(bars)
        return np.append(entries[1:], False), np.append(exits[1:], True), stop


def _data() -> tuple[Path, pd.DataFrame, str | None]:
    """(file, its last BARS bars, the --from that selects them)."""
    path = UNIVERSE_BTC if UNIVERSE_BTC.exists() else sample_path("ETHUSDT-1h-spot.csv.gz")
    frame = load_klines(path).frame.iloc[-BARS:]
    return path, frame, frame.index[0].isoformat()


def _timed(action: Callable[[], object], repeats: int = 3) -> tuple[float, float, object]:
    best = best_cpu = float("inf")
    result: object = None
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        result = action()
        best = min(best, time.perf_counter() - start)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best, best_cpu, result


def _check_row(strategy: Strategy, frame: pd.DataFrame) -> tuple[str, str]:
    wall, cpu, report = _timed(lambda: check_strategy(strategy, frame))
    checked = getattr(report, "checked", 0)
    verdict = getattr(report, "verdict", None)
    outcome = "clean" if verdict is None else verdict.value
    return (
        f"check {strategy.name} ({checked:,} bars replayed, {outcome})",
        f"{wall:.2f} s wall, {cpu:.2f} s CPU",
    )


def run() -> list[tuple[str, str]]:
    path, frame, start = _data()
    rows: list[tuple[str, str]] = [("data", f"{path.name}: {len(frame):,} 1h bars")]
    for name in available_strategies():
        rows.append(_check_row(get_strategy(name), frame))
    rows.append(_check_row(_ShiftAhead(), frame))
    argv = ["check-strategy", "sma", "--data", str(path), "--from", str(start)]
    with contextlib.redirect_stdout(io.StringIO()):
        wall, cpu, code = _timed(lambda: main(argv), repeats=1)
    rows.append((f"thunes check-strategy sma (exit {code})", f"{wall:.2f} s wall, {cpu:.2f} s CPU"))
    rows.append(("target", f"< {TARGET_SECONDS:.0f} s"))
    return rows
