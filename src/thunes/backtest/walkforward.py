"""Walk-forward evaluation: rolling train/test windows, so the score that counts is unseen data.

Each symbol's bars are cut into `folds` rolling pairs: a train window of `train_ratio` test
lengths followed by a test window; the test windows tile the end of the data without overlap.
Every candidate is run on every window. In each fold the candidate with the best train score
is picked and only its test window counts: the concatenation of those test windows is the
walk-forward out-of-sample result the guardrails judge.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from thunes.backtest.engine import BacktestConfig
from thunes.backtest.metrics import Metrics, bars_per_year, sharpe_sortino
from thunes.backtest.sweep import Window, WindowResult, evaluate_windows
from thunes.strategy.base import Bars, ParamValue, Strategy


class OptimizeError(ValueError):
    """The optimisation cannot run as asked (caps exceeded, too little data, no candidates)."""


@dataclass(frozen=True)
class Fold:
    train: Window
    test: Window


def rolling_folds(n_bars: int, folds: int, train_ratio: float, min_bars: int) -> list[Fold]:
    """`folds` rolling (train, test) pairs; the last test window ends at the last bar."""
    if folds < 1:
        raise OptimizeError(f"need at least 1 fold, got {folds}")
    if train_ratio <= 0:
        raise OptimizeError(f"train ratio must be positive, got {train_ratio}")
    test = int(n_bars / (folds + train_ratio))
    train = n_bars - folds * test
    if test < min_bars or train < min_bars:
        raise OptimizeError(
            f"{n_bars} bars cannot make {folds} folds with train:test = {train_ratio}:1 where "
            f"each window has at least {min_bars} bars; use more data or fewer folds"
        )
    return [
        Fold(train=(k * test, k * test + train), test=(k * test + train, (k + 1) * test + train))
        for k in range(folds)
    ]


@dataclass(frozen=True)
class SymbolData:
    symbol: str
    bars: Bars
    interval: float
    folds: list[Fold]


@dataclass(frozen=True)
class OutOfSample:
    """Out-of-sample figures, averaged over symbols (drawdown: the worst; trades: the sum)."""

    sharpe: float
    total_return: float
    max_drawdown: float
    trades: int

    def as_dict(self) -> dict[str, float | int]:
        return {
            "oos_sharpe": _finite(self.sharpe),
            "oos_return": _finite(self.total_return),
            "oos_max_drawdown": _finite(self.max_drawdown),
            "oos_trades": self.trades,
        }


@dataclass(frozen=True)
class CandidateEval:
    """One parameter set on every fold of every symbol: [fold][symbol]."""

    params: dict[str, ParamValue]
    train: list[list[Metrics]]
    test: list[list[WindowResult]]

    def train_score(self, fold: int) -> float:
        return float(np.mean([m.sharpe for m in self.train[fold]]))

    def train_trades(self, fold: int) -> int:
        return sum(m.trades for m in self.train[fold])

    @property
    def in_sample_sharpe(self) -> float:
        return float(np.mean([self.train_score(f) for f in range(len(self.train))]))


def evaluate_candidate(
    strategy: Strategy, data: Sequence[SymbolData], config: BacktestConfig
) -> CandidateEval:
    folds = len(data[0].folds)
    train: list[list[Metrics]] = [[] for _ in range(folds)]
    test: list[list[WindowResult]] = [[] for _ in range(folds)]
    for item in data:
        windows = [w for fold in item.folds for w in (fold.train, fold.test)]
        results = evaluate_windows(strategy, item.bars, config, windows, item.interval)
        for k in range(folds):
            train[k].append(results[2 * k].metrics)
            test[k].append(results[2 * k + 1])
    return CandidateEval(params=dict(strategy.params), train=train, test=test)


def out_of_sample(
    picks: Sequence[Sequence[WindowResult]], intervals: Sequence[float]
) -> OutOfSample:
    """Join each symbol's test windows (one list per fold) into one out-of-sample record."""
    sharpes, returns, drawdowns, trades = [], [], [], 0
    for s, interval in enumerate(intervals):
        joined = np.concatenate([fold[s].returns for fold in picks])
        sharpe, _ = sharpe_sortino(joined, bars_per_year(interval))
        growth = np.cumprod(1.0 + joined)
        peak = np.maximum(np.maximum.accumulate(growth), 1.0)
        sharpes.append(sharpe)
        returns.append(float(growth[-1] - 1.0))
        drawdowns.append(float(np.max(1.0 - growth / peak)))
        trades += sum(fold[s].metrics.trades for fold in picks)
    return OutOfSample(
        sharpe=float(np.mean(sharpes)),
        total_return=float(np.mean(returns)),
        max_drawdown=float(np.max(drawdowns)),
        trades=trades,
    )


@dataclass(frozen=True)
class FoldPick:
    fold: int
    params: dict[str, ParamValue]
    train_sharpe: float
    test_sharpe: float


def walk_forward(
    candidates: Sequence[CandidateEval], intervals: Sequence[float]
) -> tuple[list[FoldPick], OutOfSample, CandidateEval]:
    """Pick the best-in-training candidate per fold; return the picks, their joined test
    result and the latest pick (the one to publish)."""
    if not candidates:
        raise OptimizeError("no valid parameter combination to evaluate")
    picks: list[FoldPick] = []
    chosen: list[CandidateEval] = []
    for k in range(len(candidates[0].train)):
        traded = [c for c in candidates if c.train_trades(k) > 0] or list(candidates)
        scores = [c.train_score(k) for c in traded]
        best = traded[int(np.argmax(scores))]
        chosen.append(best)
        test_sharpe = float(np.mean([r.metrics.sharpe for r in best.test[k]]))
        picks.append(FoldPick(k, best.params, best.train_score(k), test_sharpe))
    oos = out_of_sample([c.test[k] for k, c in enumerate(chosen)], intervals)
    return picks, oos, chosen[-1]


def candidate_oos(candidate: CandidateEval, intervals: Sequence[float]) -> OutOfSample:
    """A candidate's own out-of-sample record over all test windows (for the leaderboard)."""
    return out_of_sample(candidate.test, intervals)


def params_key(params: Mapping[str, ParamValue]) -> tuple[tuple[str, ParamValue], ...]:
    return tuple(sorted(params.items()))


def _finite(value: float) -> float:
    return value if math.isfinite(value) else 0.0
