"""Recorded optimisation run benchmark: the build stage from the files and from its cache, and
what recording a run costs, on the bundled BTCUSDT and ETHUSDT 5m samples (2 × 25,920 bars).

The build from the files parses and validates both CSV archives and hashes the bars; the cached
build hashes the files' bytes, unpickles the frames and checks the bars' hash. The recorded run
is `thunes optimize` over a 9-combination grid, end to end in-process (build from the cache,
sweep, leaderboard, guardrails, the row's writes), compared with the same stages unrecorded.
Best of a few runs.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
from pathlib import Path

from _common import best_wall
from rich.console import Console

from thunes.backtest.optimize import OptimizeSpec, optimize
from thunes.cli import main
from thunes.cli.kline_inputs import group_inputs
from thunes.cli.optimize_run import build_dataset
from thunes.market.dataset_cache import DatasetCache
from thunes.market.klines import sample_path

FILES = [str(sample_path("BTCUSDT-5m-2023Q1.csv.gz")), str(sample_path("ETHUSDT-5m-2023Q1.csv.gz"))]
GRID = {"fast": [10, 20, 30], "slow": [60, 120, 200]}


def run() -> list[tuple[str, str]]:
    quiet = Console(file=io.StringIO())
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        cache = DatasetCache(state)

        def build(write: bool) -> object:
            return build_dataset(
                list(group_inputs(FILES).values()), (None, None), quiet, cache, write
            )

        cold = best_wall(lambda: build(False), repeats=3, warm_up=False)
        build(True)
        warm = best_wall(lambda: build(False), warm_up=False)
        frames = build(False).frames  # type: ignore[attr-defined]
        spec = OptimizeSpec("sma", grid=GRID)
        bare = best_wall(lambda: optimize(spec, frames), repeats=3, warm_up=False)
        argv = ["optimize", "--data", FILES[0], "--data", FILES[1], "--no-publish"]
        argv += ["--grid", "fast=10,20,30", "--grid", "slow=60,120,200"]
        argv += ["--state-dir", str(state)]
        with contextlib.redirect_stdout(io.StringIO()):
            recorded = best_wall(lambda: main(argv), repeats=3, warm_up=False)
    return [
        ("build from the files (2 × 25,920 5m bars)", f"{cold * 1000:.0f} ms"),
        ("build from the cache (hash checked)", f"{warm * 1000:.0f} ms"),
        ("optimise 9 combinations, unrecorded (frames in memory)", f"{bare * 1000:.0f} ms"),
        ("thunes optimize, recorded, cached build", f"{recorded * 1000:.0f} ms"),
    ]
