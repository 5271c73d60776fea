"""Portfolio benchmark: 22 symbols × 15,000 1h bars, SMA 20/50 with the shipped rules, the
ranking re-run point-in-time every 4 h and the top 5 traded with one cash balance (target
< 10 s), plus the same strategy on the static list of all 22.

Data: the shared universe folder's common window (../shared/data/binance_spot_1h_universe),
or synthetic hourly bars on a 0.0001 price grid when that folder is absent. The figure is the
best of a few runs after a warm-up, in CPU seconds (the machine is shared), with the wall time
of that run beside it; loading the files is excluded.
"""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd
from _common import UNIVERSE, best_cpu_wall, synthetic_hours

from thunes.backtest.portfolio_report import RankedUniverse, backtest_portfolio
from thunes.backtest.types import BacktestConfig
from thunes.ranking.files import load_folder
from thunes.strategy import get_strategy
from thunes.strategy.rules import TradingRules

SYMBOLS, BARS = 22, 15_000
COMMON_START = pd.Timestamp("2020-09-22 06:00", tz="UTC")


def synthetic(seed: int) -> pd.DataFrame:
    return synthetic_hours(np.random.default_rng(seed), BARS, COMMON_START, 0.0001, 12.0)


def frames() -> tuple[dict[str, pd.DataFrame], str]:
    if UNIVERSE.is_dir():
        loaded = load_folder(UNIVERSE, "1h").frames
        window = {s: f.loc[COMMON_START:].iloc[:BARS] for s, f in sorted(loaded.items())}
        return window, "shared universe"
    return {f"S{i:02d}USDT": synthetic(i) for i in range(SYMBOLS)}, "synthetic"


def run() -> list[tuple[str, str]]:
    data, source = frames()
    bars = min(len(f) for f in data.values())
    config = BacktestConfig.from_rules(TradingRules(), initial_cash=1_000.0)
    strategy = get_strategy("sma")
    ranked = RankedUniverse(5, 240, Decimal(0) if source == "synthetic" else Decimal(10_000_000))
    holder: dict[str, object] = {}

    def portfolio() -> None:
        holder["report"] = backtest_portfolio(
            strategy, data, config, timeframe="1h", max_open_positions=3, ranked=ranked
        )

    cpu, wall = best_cpu_wall(portfolio, repeats=3)
    report = holder["report"]
    main, static = report.main, report.static  # type: ignore[attr-defined]
    verdict = "ok" if cpu < 10 else "over"
    return [
        (
            f"portfolio backtest {len(data)} symbols × {bars} 1h bars ({source}), "
            "ranking every 4 h, top 5 (target < 10 s)",
            f"{cpu:.2f} s CPU ({wall:.2f} s wall) {verdict}",
        ),
        (
            "  ranked:5",
            f"{main.metrics.trades} trades, {main.snapshots} ranking snapshots, "
            f"return {main.metrics.total_return:+.2%}",
        ),
        (
            "  static list of all",
            f"{static.metrics.trades} trades, return {static.metrics.total_return:+.2%}",
        ),
    ]


if __name__ == "__main__":
    for name, value in run():
        print(f"{name}: {value}")
