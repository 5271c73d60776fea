"""Optimiser: walk-forward windows, guardrails, caps, and publication only when passing."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest

from thunes.backtest.optimize import Guardrails, OptimizeSpec, data_sha256, optimize
from thunes.backtest.walkforward import OptimizeError, rolling_folds
from thunes.clock import ManualClock
from thunes.market.klines import load_klines, sample_path
from thunes.params_store import (
    NotPublishable,
    ParamsFileError,
    load_published_params,
    params_path,
    publish,
)

SMALL_GRID = {"fast": [10, 20, 30], "slow": [60, 120, 200]}
LOOSE = Guardrails(min_trades=5, min_oos_sharpe=0.5, max_drawdown=0.5)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return {
        s: load_klines(sample_path(f"{s}-5m-2023Q1.csv.gz")).frame for s in ("BTCUSDT", "ETHUSDT")
    }


def test_rolling_folds_tile_the_end_of_the_data() -> None:
    folds = rolling_folds(1000, folds=4, train_ratio=3.0, min_bars=50)
    assert [f.test for f in folds] == [(432, 574), (574, 716), (716, 858), (858, 1000)]
    assert [f.train for f in folds] == [(0, 432), (142, 574), (284, 716), (426, 858)]
    for fold in folds:
        assert fold.train[1] == fold.test[0]
        assert fold.test[1] - fold.test[0] == 142
    for earlier, later in itertools.pairwise(folds):
        assert earlier.test[1] == later.test[0]
    with pytest.raises(OptimizeError, match="cannot make 4 folds"):
        rolling_folds(300, folds=4, train_ratio=3.0, min_bars=50)


def test_passing_result_is_published_with_window_score_and_hash(
    frames: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    spec = OptimizeSpec("sma", grid=SMALL_GRID, guardrails=LOOSE)
    seen: list[tuple[int, int]] = []
    report = optimize(spec, frames, progress=lambda done, total: seen.append((done, total)))
    assert report.passed, report.failures
    assert seen[-1] == (9, 9)
    assert report.combinations == 9
    assert report.oos.sharpe >= 0.5
    assert report.candidate == report.picks[-1].params
    assert sum(row.is_candidate for row in report.leaderboard) <= 1
    assert "passed the guardrails" in report.summary and "2 symbols" in report.summary
    target = params_path(tmp_path / "state")
    clock = ManualClock(1_700_000_000.0)
    publish(target, report, clock, "5m")
    saved = json.loads(target.read_text())
    assert saved["data_window"] == {
        "start": "2023-01-01T00:00:00+00:00",
        "end": "2023-03-31T23:55:00+00:00",
    }
    assert saved["score"]["oos_sharpe"] == pytest.approx(report.oos.sharpe)
    assert saved["data_sha256"] == data_sha256(frames)
    assert saved["symbols"] == ["BTCUSDT", "ETHUSDT"]
    assert saved["strategy"] == "sma" and saved["interval"] == "5m"
    loaded = load_published_params(target)
    assert loaded is not None
    assert loaded.params == report.candidate
    assert loaded.published_at == clock.now()
    assert loaded.build().name == "sma"
    assert [p.name for p in target.parent.iterdir()] == ["strategy_params.json"]


def test_failing_guardrails_refuse_to_publish(
    frames: dict[str, pd.DataFrame], tmp_path: Path
) -> None:
    strict = Guardrails(min_trades=10_000, min_oos_sharpe=50.0, max_drawdown=0.001)
    report = optimize(OptimizeSpec("sma", grid=SMALL_GRID, guardrails=strict), frames)
    assert not report.passed
    assert len(report.failures) == 3
    assert "Nothing was published" in report.summary
    assert "below the minimum 50.00" in report.summary
    target = tmp_path / "strategy_params.json"
    target.write_text("previous\n")
    with pytest.raises(NotPublishable):
        publish(target, report, ManualClock(), "5m")
    assert target.read_text() == "previous\n"


def test_changed_data_changes_the_hash(frames: dict[str, pd.DataFrame]) -> None:
    changed = {k: v.copy() for k, v in frames.items()}
    changed["BTCUSDT"].iloc[100, 3] += 0.01
    assert data_sha256(changed) != data_sha256(frames)


@pytest.mark.parametrize(
    ("spec_kwargs", "message"),
    [
        ({"guardrails": Guardrails(max_symbols=1)}, "2 symbols is more than the cap of 1"),
        ({"guardrails": Guardrails(max_bars=1000)}, "more than the cap of 1000"),
        ({"guardrails": Guardrails(max_combinations=5)}, "9 combinations, more than the cap of 5"),
        ({"grid": {"fast": [50], "slow": [20, 40]}}, "no valid parameter combination"),
        ({"folds": 300}, "cannot make 300 folds"),
    ],
)
def test_caps_and_impossible_requests_are_clear_errors(
    frames: dict[str, pd.DataFrame], spec_kwargs: dict[str, object], message: str
) -> None:
    spec = OptimizeSpec("sma", **{"grid": SMALL_GRID, **spec_kwargs})  # type: ignore[arg-type]
    with pytest.raises(OptimizeError, match=message):
        optimize(spec, frames)


def test_invalid_grid_points_are_skipped_not_fatal(frames: dict[str, pd.DataFrame]) -> None:
    report = optimize(OptimizeSpec("sma", grid={"fast": [20, 50], "slow": [40, 120]}), frames)
    assert report.combinations == 3 and report.skipped == 1


def test_tpe_is_reproducible_with_a_seed(frames: dict[str, pd.DataFrame]) -> None:
    btc = {"BTCUSDT": frames["BTCUSDT"]}
    spec = OptimizeSpec("rsi", method="tpe", trials=12, seed=7, guardrails=LOOSE)
    first, second = optimize(spec, btc), optimize(spec, btc)
    assert first.candidate == second.candidate
    assert first.oos == second.oos
    assert 1 <= first.combinations <= 12


def test_walk_forward_picks_by_training_score_only(frames: dict[str, pd.DataFrame]) -> None:
    report = optimize(OptimizeSpec("sma", grid=SMALL_GRID, guardrails=LOOSE), frames)
    for pick in report.picks:
        assert pick.train_sharpe == max(p.train_sharpe for p in report.picks if p.fold == pick.fold)
    by_params = {tuple(sorted(r.params.items())): r for r in report.leaderboard}
    assert sum(r.folds_picked for r in by_params.values()) <= len(report.picks)


def test_missing_and_bad_parameter_files(tmp_path: Path) -> None:
    assert load_published_params(tmp_path / "none.json") is None
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ParamsFileError, match="cannot read"):
        load_published_params(bad)
    bad.write_text(json.dumps({"strategy": "sma"}))
    with pytest.raises(ParamsFileError, match="lacks params"):
        load_published_params(bad)
    record = {
        "strategy": "sma",
        "params": {"fast": 50, "slow": 20},
        "symbols": ["BTCUSDT"],
        "data_window": {"start": "2023-01-01T00:00:00+00:00", "end": "2023-02-01T00:00:00+00:00"},
        "score": {},
        "data_sha256": "x",
        "published_at": "2023-02-02T00:00:00+00:00",
    }
    bad.write_text(json.dumps(record))
    with pytest.raises(ParamsFileError, match="must be greater than fast"):
        load_published_params(bad)
