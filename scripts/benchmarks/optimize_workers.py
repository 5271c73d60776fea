"""Shared-study benchmark: a 200-trial TPE study of the RSI mean reversion (256 parameter sets)
over a year of 1-minute bars (525,600 bars, two symbols, 4 walk-forward folds), run by 1 worker
and by 2 local worker processes against a journal file. Target: 2 workers ≥ 1.6× faster on 2
cores. Each journal write (about 8 per trial) is appended under a file lock, which the workers
take in turn, and flushed rather than fsynced: that serial part, TPE's sampling (each worker
reads the whole study) and spawning are what keep the speed-up below 2×.

Both runs include everything the command does after loading: the study, the trials, reading
the study back, the walk-forward and the leaderboard; the 2-worker run also pays for spawning
its processes and for each of them preparing its own data.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from thunes.backtest.optimize import Guardrails, OptimizeSpec, optimize

TRIALS = 200
BARS = 525_600  # 365 days of 1-minute bars


def _walk(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    close = np.round(30_000 * np.exp(np.cumsum(rng.normal(0, 0.0009, BARS))), 2)
    open_ = np.concatenate(([close[0]], close[:-1]))
    spread = np.abs(rng.normal(0, 20, BARS))
    index = pd.date_range("2023-01-01", periods=BARS, freq="1min", tz="UTC", name="open_time")
    return pd.DataFrame(
        {
            "open": open_,
            "high": np.maximum(open_, close) + spread,
            "low": np.maximum(np.minimum(open_, close) - spread, 0.01),
            "close": close,
            "volume": rng.lognormal(2.0, 0.8, BARS),
        },
        index=index,
    )


def _timed(frames: dict[str, pd.DataFrame], workers: int, folder: Path) -> tuple[float, int]:
    spec = OptimizeSpec(
        "rsi",
        method="tpe",
        trials=TRIALS,
        storage=str(folder / f"bench-{workers}.journal"),
        study=f"bench-{workers}",
        workers=workers,
        guardrails=Guardrails(),
    )
    start = time.perf_counter()
    report = optimize(spec, frames)
    return time.perf_counter() - start, report.combinations


def run() -> list[tuple[str, str]]:
    frames = {"BTCUSDT": _walk(7), "ETHUSDT": _walk(11)}
    with tempfile.TemporaryDirectory(prefix="thunes-bench-") as folder:
        one, combos_one = _timed(frames, 1, Path(folder))
        two, combos_two = _timed(frames, 2, Path(folder))
    return [
        ("study", f"{TRIALS} TPE trials, rsi, 2 symbols × {BARS:,} 1m bars, 4 folds"),
        ("1 worker (wall)", f"{one:.2f} s ({combos_one} distinct parameter sets)"),
        ("2 workers (wall)", f"{two:.2f} s ({combos_two} distinct parameter sets)"),
        ("speed-up (target ≥ 1.6×)", f"{one / two:.2f}×"),
    ]


if __name__ == "__main__":
    for figure, value in run():
        print(f"{figure}: {value}")
