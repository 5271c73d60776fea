"""Parameter optimisation with guardrails: grid or Optuna TPE, judged by walk-forward.

Nothing is published unless the walk-forward out-of-sample result passes every guardrail.
TPE maximises the mean train-window Sharpe only (it never sees a test score); the candidates it
tried then go through the same per-fold walk-forward selection as the grid.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from thunes.backtest.engine import BacktestConfig
from thunes.backtest.optimize_workers import TrialRecord, record_of, run_study
from thunes.backtest.runner import interval_seconds
from thunes.backtest.summary import summarise
from thunes.backtest.sweep import grid_combinations, valid_strategies
from thunes.backtest.walkforward import (
    CandidateEval,
    FoldPick,
    OptimizeError,
    OutOfSample,
    SymbolData,
    evaluate_candidate,
    params_key,
    rolling_folds,
    walk_forward,
)
from thunes.strategy.base import Bars, ParamValue, StrategyError
from thunes.strategy.registry import STRATEGIES, get_strategy

Progress = Callable[[int, int], None]
MIN_WINDOW_BARS = 100  # no train or test window shorter than this


@dataclass(frozen=True)
class Guardrails:
    """What a result must show out of sample, and caps on how much work may be asked for."""

    min_trades: int = 10
    min_oos_sharpe: float = 0.5
    max_drawdown: float = 0.25
    max_bars: int = 1_100_000
    max_symbols: int = 10
    max_combinations: int = 2_000

    def failures(self, oos: OutOfSample) -> list[str]:
        problems = []
        if oos.trades < self.min_trades:
            problems.append(
                f"{oos.trades} out-of-sample trades, fewer than the minimum {self.min_trades}"
            )
        if oos.sharpe < self.min_oos_sharpe:
            problems.append(
                f"out-of-sample Sharpe {oos.sharpe:.2f} is below the minimum "
                f"{self.min_oos_sharpe:.2f}"
            )
        if oos.max_drawdown > self.max_drawdown:
            problems.append(
                f"out-of-sample max drawdown {oos.max_drawdown:.1%} exceeds the limit "
                f"{self.max_drawdown:.1%}"
            )
        return problems


@dataclass(frozen=True)
class OptimizeSpec:
    strategy: str
    method: Literal["grid", "tpe"] = "grid"
    grid: Mapping[str, Sequence[ParamValue]] | None = None
    fixed: Mapping[str, ParamValue] = field(default_factory=dict)
    trials: int = 100
    folds: int = 4
    train_ratio: float = 3.0
    seed: int = 0
    top_n: int = 10
    config: BacktestConfig = field(default_factory=BacktestConfig)
    guardrails: Guardrails = field(default_factory=Guardrails)
    storage: str | None = None  # TPE study: None in memory, a database URL, or a journal file
    study: str | None = None  # the shared study's name (default: from the data and settings)
    workers: int = 1  # local worker processes


@dataclass(frozen=True)
class LeaderRow:
    rank: int
    params: dict[str, ParamValue]
    in_sample_sharpe: float
    oos: OutOfSample
    folds_picked: int
    is_candidate: bool


@dataclass(frozen=True)
class OptimizeReport:
    spec: OptimizeSpec
    symbols: list[str]
    combinations: int
    skipped: int
    data_start: pd.Timestamp
    data_end: pd.Timestamp
    data_sha256: str
    picks: list[FoldPick]
    oos: OutOfSample
    candidate: dict[str, ParamValue]
    leaderboard: list[LeaderRow]
    failures: list[str]
    summary: str = ""

    @property
    def passed(self) -> bool:
        return not self.failures

    def publication(self) -> dict[str, Any]:
        """The record the parameter file stores (without the publication time)."""
        latest = self.picks[-1]
        return {
            "strategy": self.spec.strategy,
            "params": self.candidate,
            "symbols": self.symbols,
            "data_window": {"start": self.data_start.isoformat(), "end": self.data_end.isoformat()},
            "score": {
                **self.oos.as_dict(),
                "train_sharpe_latest_fold": latest.train_sharpe,
                "test_sharpe_latest_fold": latest.test_sharpe,
                "method": self.spec.method,
                "combinations": self.combinations,
                "folds": self.spec.folds,
            },
            "data_sha256": self.data_sha256,
        }


def data_sha256(frames: Mapping[str, pd.DataFrame]) -> str:
    """A hash of exactly the bars used: symbols, open times and OHLCV values."""
    digest = hashlib.sha256()
    for symbol in sorted(frames):
        frame = frames[symbol]
        digest.update(symbol.encode())
        digest.update(np.ascontiguousarray(frame.index.asi8).tobytes())
        for column in ("open", "high", "low", "close", "volume"):
            digest.update(np.ascontiguousarray(frame[column].to_numpy(np.float64)).tobytes())
    return digest.hexdigest()


def optimize(
    spec: OptimizeSpec, frames: Mapping[str, pd.DataFrame], progress: Progress | None = None
) -> OptimizeReport:
    """Search, walk forward, judge. Raises `OptimizeError` for work past the caps."""
    data = prepare(spec, frames)
    digest = data_sha256(frames)
    found = search(spec, frames, data, digest, progress)
    return judge(spec, data, found, rank(spec, data, found), digest)


# The stages of `optimize`, public so that a recorded run (`thunes.backtest.pipeline_run`)
# can observe and record each one. Keep `optimize` a plain chain of them.


@dataclass(frozen=True)
class Searched:
    """What the sweep found: every record, the full evaluations walk-forward needs, skips."""

    records: list[TrialRecord]
    candidates: list[CandidateEval]
    skipped: int


@dataclass(frozen=True)
class Ranked:
    """The walk-forward picks, their joined out-of-sample result and the leaderboard."""

    picks: list[FoldPick]
    oos: OutOfSample
    latest: CandidateEval
    leaderboard: list[LeaderRow]


def prepare(spec: OptimizeSpec, frames: Mapping[str, pd.DataFrame]) -> list[SymbolData]:
    """Check the caps and cut each symbol's bars into walk-forward folds."""
    return _prepare(spec, frames)


def search(
    spec: OptimizeSpec,
    frames: Mapping[str, pd.DataFrame],
    data: Sequence[SymbolData],
    digest: str,
    progress: Progress | None = None,
) -> Searched:
    """The sweep. `progress(done, total)` is called between configurations; an exception it
    raises stops the sweep there (a recorded run stops cleanly on Ctrl-C this way)."""
    intervals = [d.interval for d in data]
    if spec.method == "grid":
        candidates, skipped = _run_grid(spec, data, progress)
        records = [record_of(i, c, intervals) for i, c in enumerate(candidates)]
    elif spec.method == "tpe":
        records, skipped = _run_tpe(spec, frames, data, digest, progress)
        candidates = _finalists(spec, data, records)
    else:
        raise OptimizeError(f"unknown method {spec.method!r}; use grid or tpe")
    if not records:
        raise OptimizeError(
            f"no valid parameter combination for {spec.strategy} ({skipped} skipped)"
        )
    return Searched(list(records), list(candidates), skipped)


def search_size(spec: OptimizeSpec) -> int:
    """How many configurations the sweep will try: grid combinations or TPE trials."""
    return len(grid_combinations(_grid(spec))) if spec.method == "grid" else spec.trials


def rank(spec: OptimizeSpec, data: Sequence[SymbolData], found: Searched) -> Ranked:
    """Walk forward over what the sweep found, and the leaderboard."""
    intervals = [d.interval for d in data]
    picks, oos, latest = walk_forward(found.candidates, intervals)
    board = _leaderboard(found.records, picks, latest, spec.top_n)
    return Ranked(picks, oos, latest, board)


def judge(
    spec: OptimizeSpec, data: Sequence[SymbolData], found: Searched, ranked: Ranked, digest: str
) -> OptimizeReport:
    """The guardrails' verdict on the ranked result: the report that may be published."""
    report = OptimizeReport(
        spec=spec,
        symbols=[d.symbol for d in data],
        combinations=len(found.records),
        skipped=found.skipped,
        data_start=min(d.bars.index[0] for d in data),
        data_end=max(d.bars.index[-1] for d in data),
        data_sha256=digest,
        picks=ranked.picks,
        oos=ranked.oos,
        candidate=ranked.latest.params,
        leaderboard=ranked.leaderboard,
        failures=spec.guardrails.failures(ranked.oos),
    )
    return OptimizeReport(**{**report.__dict__, "summary": summarise(report)})


def _prepare(spec: OptimizeSpec, frames: Mapping[str, pd.DataFrame]) -> list[SymbolData]:
    rails = spec.guardrails
    if spec.strategy not in STRATEGIES:
        raise OptimizeError(
            f"unknown strategy {spec.strategy!r}; available: {', '.join(STRATEGIES)}"
        )
    if not frames:
        raise OptimizeError("no data given")
    if len(frames) > rails.max_symbols:
        raise OptimizeError(f"{len(frames)} symbols is more than the cap of {rails.max_symbols}")
    minimum = get_strategy(spec.strategy, **spec.fixed).warmup_bars if spec.fixed else 0
    data = []
    for symbol, frame in frames.items():
        if len(frame) > rails.max_bars:
            raise OptimizeError(
                f"{symbol}: {len(frame)} bars is more than the cap of {rails.max_bars}; "
                "narrow the data window (--from/--to)"
            )
        bars = Bars.from_frame(frame)
        folds = rolling_folds(
            len(frame), spec.folds, spec.train_ratio, max(minimum, MIN_WINDOW_BARS)
        )
        data.append(SymbolData(symbol, bars, interval_seconds(bars.index), folds))
    return data


def _grid(spec: OptimizeSpec) -> dict[str, Sequence[ParamValue]]:
    if spec.grid is not None:
        return dict(spec.grid)
    space = STRATEGIES[spec.strategy].param_space
    return {k: r.grid() for k, r in space.items() if k not in spec.fixed}


def _run_grid(
    spec: OptimizeSpec, data: Sequence[SymbolData], progress: Progress | None
) -> tuple[list[CandidateEval], int]:
    combos = grid_combinations(_grid(spec))
    if len(combos) > spec.guardrails.max_combinations:
        raise OptimizeError(
            f"the grid has {len(combos)} combinations, more than the cap of "
            f"{spec.guardrails.max_combinations}; coarsen the steps or use --method tpe"
        )
    try:
        strategies, skipped = valid_strategies(spec.strategy, combos, spec.fixed)
    except StrategyError as error:
        raise OptimizeError(str(error)) from None
    candidates = []
    for done, strategy in enumerate(strategies, start=1):
        candidates.append(evaluate_candidate(strategy, data, spec.config))
        if progress:
            progress(done, len(strategies))
    return candidates, len(skipped)


def _run_tpe(
    spec: OptimizeSpec,
    frames: Mapping[str, pd.DataFrame],
    data: Sequence[SymbolData],
    digest: str,
    progress: Progress | None,
) -> tuple[list[TrialRecord], int]:
    """The study's records: in memory, or shared by local workers and other machines."""
    if spec.trials > spec.guardrails.max_combinations:
        raise OptimizeError(
            f"{spec.trials} trials is more than the cap of {spec.guardrails.max_combinations}"
        )
    if spec.workers < 1:
        raise OptimizeError(f"need at least 1 worker, got {spec.workers}")
    return run_study(spec, frames, data, digest, progress)


def _finalists(
    spec: OptimizeSpec, data: Sequence[SymbolData], records: Sequence[TrialRecord]
) -> list[CandidateEval]:
    """Full evaluations of every record that could win a fold (the best by train Sharpe among
    those that traded, and among all), in study order, so `walk_forward` picks as it would
    over the whole study while re-running only a handful of backtests."""
    chosen: set[int] = set()
    for k in range(spec.folds):
        traded = [i for i, r in enumerate(records) if r.train_trades[k] > 0]
        for pool in (traded, range(len(records))):
            if pool:
                chosen.add(max(pool, key=lambda i: (records[i].train_sharpe[k], -i)))
    return [
        evaluate_candidate(
            get_strategy(spec.strategy, **{**spec.fixed, **records[i].params}), data, spec.config
        )
        for i in sorted(chosen)
    ]


def _leaderboard(
    records: Sequence[TrialRecord],
    picks: Sequence[FoldPick],
    latest: CandidateEval,
    top_n: int,
) -> list[LeaderRow]:
    scored = sorted(records, key=lambda r: r.oos.sharpe, reverse=True)
    picked = [params_key(p.params) for p in picks]
    chosen = params_key(latest.params)
    return [
        LeaderRow(
            rank=rank,
            params=rec.params,
            in_sample_sharpe=rec.in_sample_sharpe,
            oos=rec.oos,
            folds_picked=picked.count(params_key(rec.params)),
            is_candidate=params_key(rec.params) == chosen,
        )
        for rank, rec in enumerate(scored[:top_n], start=1)
    ]
