"""The report's tables: per pair, per exit reason, per day/week/month, and the report itself."""

from __future__ import annotations

import pandas as pd
import pytest

from thunes.backtest.report import report_dict, report_of
from thunes.backtest.runner import BacktestResult, run_backtest
from thunes.backtest.trade_tables import breakdown_rows, exit_rows, pair_rows
from thunes.market.klines import load_klines, sample_path
from thunes.strategy import get_strategy


def trades(rows: list[tuple[str, str, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "symbol": [r[0] for r in rows],
            "entry_time": pd.to_datetime([r[1] for r in rows], utc=True),
            "exit_time": pd.to_datetime([r[2] for r in rows], utc=True),
            "entry_price": 1.0,
            "exit_price": 1.0,
            "quantity": 1.0,
            "entry_fee": 0.5,
            "exit_fee": 0.25,
            "pnl": [r[3] for r in rows],
            "exit_reason": [r[4] for r in rows],
        }
    )


HAND_MADE = trades(
    [
        ("BTCUSDT", "2021-01-01 10:00", "2021-01-01 12:00", 5.0, "signal"),
        ("ETHUSDT", "2021-01-01 11:00", "2021-01-03 23:00", -2.0, "stop_loss"),  # Sunday
        ("BTCUSDT", "2021-01-03 00:00", "2021-01-04 01:00", 3.0, "signal"),  # Monday
        ("ETHUSDT", "2021-01-20 00:00", "2021-02-01 00:00", -1.0, "end_of_data"),
    ]
)


def test_breakdown_groups_closed_trades_by_utc_exit_day_week_and_month() -> None:
    days = breakdown_rows(HAND_MADE, "day")
    assert [(r["period"], r["trades"], r["pnl"]) for r in days] == [
        ("2021-01-01", 1, 5.0),
        ("2021-01-03", 1, -2.0),
        ("2021-01-04", 1, 3.0),
        ("2021-02-01", 1, -1.0),
    ]
    weeks = breakdown_rows(HAND_MADE, "week")  # weeks run Monday to Sunday
    assert [(r["period"], r["trades"], r["wins"], r["losses"]) for r in weeks] == [
        ("2020-12-28", 2, 1, 1),
        ("2021-01-04", 1, 1, 0),
        ("2021-02-01", 1, 0, 1),
    ]
    months = breakdown_rows(HAND_MADE, "month")
    assert [(r["period"], r["trades"], r["pnl"]) for r in months] == [
        ("2021-01", 3, 6.0),
        ("2021-02", 1, -1.0),
    ]
    with pytest.raises(ValueError, match="breakdown must be one of"):
        breakdown_rows(HAND_MADE, "year")


def test_pair_rows_one_row_per_symbol_best_first() -> None:
    rows = pair_rows(HAND_MADE)
    assert [(r["symbol"], r["trades"], r["pnl"], r["fees"]) for r in rows] == [
        ("BTCUSDT", 2, 8.0, 1.5),
        ("ETHUSDT", 2, -3.0, 1.5),
    ]
    assert rows[1]["stop_loss"] == 1 and rows[1]["end_of_data"] == 1 and rows[1]["signal"] == 0


def test_exit_rows_list_every_reason() -> None:
    rows = {r["exit_reason"]: r for r in exit_rows(HAND_MADE)}
    assert (rows["signal"]["trades"], rows["signal"]["pnl"], rows["signal"]["win_rate"]) == (
        2,
        8.0,
        1.0,
    )
    assert (rows["stop_loss"]["trades"], rows["end_of_data"]["trades"]) == (1, 1)


@pytest.fixture(scope="module")
def sample_result() -> BacktestResult:
    frame = load_klines(sample_path("BTCUSDT-1h-spot.csv.gz")).frame
    return run_backtest(get_strategy("rsi"), frame)


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_breakdown_sums_to_the_total(sample_result: BacktestResult, period: str) -> None:
    rows = breakdown_rows(sample_result.trades, period)
    m = sample_result.metrics
    assert sum(r["trades"] for r in rows) == m.trades > 20
    total = m.final_equity - sample_result.config.initial_cash
    assert sum(r["pnl"] for r in rows) == pytest.approx(total, rel=1e-9)


def test_single_symbol_report_has_no_pair_table_and_a_full_summary(
    sample_result: BacktestResult,
) -> None:
    report = report_of(sample_result, "BTCUSDT", ("month",))
    assert report.pairs == []
    s = report.summary
    assert s.max_consecutive_wins >= 1 and s.max_consecutive_losses >= 1
    assert s.best is not None and s.worst is not None
    assert s.best["pnl"] == sample_result.trades["pnl"].max()
    assert s.worst["pnl"] == sample_result.trades["pnl"].min()
    assert s.drawdown is not None
    assert s.drawdown.depth == pytest.approx(sample_result.metrics.max_drawdown)
    assert s.calmar == pytest.approx(
        sample_result.metrics.cagr / sample_result.metrics.max_drawdown
    )
    data = report_dict(report)
    assert data["summary"]["drawdown"]["start"] < data["summary"]["drawdown"]["end"]
    assert len(data["breakdown"]["month"]) > 1
