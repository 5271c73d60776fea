"""`rank_universe`: point-in-time, ordered, and a bad symbol skipped with its reason."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.ranking.bars import HOUR, frame
from thunes.ranking.rank import rank_universe
from thunes.ranking.types import Ranking, SymbolFailure

FLOOR = Decimal("1000000")
AS_OF = pd.Timestamp("2022-01-16 00:00", tz="UTC")  # bar 360 of the synthetic frames


def universe() -> dict[str, pd.DataFrame]:
    return {
        "UPUSDT": frame(drift=0.003, seed=1, quote_volume=100_000.0),
        "FLATUSDT": frame(drift=0.0, seed=2, quote_volume=100_000.0),
        "DOWNUSDT": frame(drift=-0.003, seed=3, quote_volume=100_000.0),
    }


def rank(frames: dict[str, pd.DataFrame], at: datetime = AS_OF, **kw: object) -> Ranking:
    return rank_universe(
        frames,
        timeframe="1h",
        as_of=at,
        min_quote_volume=FLOOR,
        **kw,  # type: ignore[arg-type]
    )


def test_symbols_are_ranked_by_score_with_ranks_from_one() -> None:
    result = rank(universe())
    assert [r.symbol for r in result.ranked] == ["UPUSDT", "FLATUSDT", "DOWNUSDT"]
    assert [r.rank for r in result.ranked] == [1, 2, 3]
    assert result.top(1) == ["UPUSDT"]
    assert result.ranked[0].quote_volume_24h == Decimal("2400000.00")
    assert result.skipped == ()


def test_ties_are_broken_by_quote_volume_then_name() -> None:
    same = frame(drift=0.002, seed=5)
    frames = {"BBBUSDT": same, "AAAUSDT": same.copy(), "CCCUSDT": same.assign(quote_volume=2e6)}
    result = rank(frames)
    assert [r.symbol for r in result.ranked] == ["CCCUSDT", "AAAUSDT", "BBBUSDT"]


def _mutate_after(frames: dict[str, pd.DataFrame], at: pd.Timestamp, seed: int) -> None:
    rng = np.random.default_rng(seed)
    for data in frames.values():
        later = data.index + HOUR > at
        for column in ("open", "high", "low", "close", "volume", "quote_volume"):
            data.loc[later, column] = rng.uniform(1.0, 1e6, int(later.sum()))


@settings(max_examples=25, deadline=None)
@given(hours=st.integers(min_value=300, max_value=399), seed=st.integers(0, 2**32 - 1))
def test_changing_bars_after_as_of_does_not_change_the_ranking(hours: int, seed: int) -> None:
    at = pd.Timestamp("2022-01-01", tz="UTC") + hours * HOUR
    before = rank(universe(), at.to_pydatetime())
    frames = universe()
    _mutate_after(frames, at, seed)
    assert rank(frames, at.to_pydatetime()) == before


def test_a_bar_closing_exactly_at_as_of_is_included_and_one_closing_after_is_not() -> None:
    frames = universe()
    data = frames["FLATUSDT"]
    closing_at = data.index[data.index + HOUR == AS_OF][0]
    closing_after = closing_at + HOUR
    data.loc[closing_at, "quote_volume"] = 50_000_000.0
    data.loc[closing_after, "quote_volume"] = 900_000_000.0
    result = rank(frames)
    flat = next(r for r in result.ranked if r.symbol == "FLATUSDT")
    assert flat.quote_volume_24h == Decimal(23 * 100_000 + 50_000_000)
    assert flat.features["close"] == round(float(data.loc[closing_at, "close"]), 6)


def test_a_naive_as_of_is_utc() -> None:
    naive = rank(universe(), AS_OF.tz_convert(None).to_pydatetime())
    assert naive == rank(universe())
    assert naive.as_of == AS_OF.to_pydatetime()


def test_a_symbol_below_the_volume_floor_is_skipped_with_its_volume() -> None:
    frames = universe()
    frames["THINUSDT"] = frame(seed=9, quote_volume=1_000.0)
    result = rank(frames)
    assert "THINUSDT" not in result.top(10)
    assert result.skipped == (
        SymbolFailure("THINUSDT", "24 h quote volume 24,000 below the floor 1,000,000"),
    )


def test_the_exchange_ticker_volume_replaces_the_klines_figure() -> None:
    frames = universe()
    frames["THINUSDT"] = frame(seed=9, quote_volume=1_000.0)
    result = rank(frames, quote_volumes={"THINUSDT": Decimal("5000000.123")})
    row = next(r for r in result.ranked if r.symbol == "THINUSDT")
    assert row.quote_volume_24h == Decimal("5000000.12")


def test_failing_symbols_are_skipped_with_their_reason_and_the_rest_ranked() -> None:
    frames = universe()
    nan = frame(seed=4, quote_volume=100_000.0)
    nan.iloc[-100, nan.columns.get_loc("close")] = np.nan
    frames["NANUSDT"] = nan
    frames["NEWUSDT"] = frame(bars=100, seed=5, start=AS_OF - 100 * HOUR, quote_volume=1e6)
    frames["LATEUSDT"] = frame(seed=6, start=AS_OF + HOUR)
    frames["MESSUSDT"] = frame(seed=7).iloc[::-1]
    frames["ODDUSDT"] = pd.DataFrame({"close": [1.0, 2.0]})
    result = rank(frames)
    assert result.top(10) == ["UPUSDT", "FLATUSDT", "DOWNUSDT"]
    reasons = dict((f.symbol, f.reason) for f in result.skipped)
    assert reasons["NANUSDT"].startswith("bad data: close")
    assert reasons["NEWUSDT"] == "100 closed bars, the indicators need 250"
    assert reasons["LATEUSDT"] == "no closed bar before as-of"
    assert reasons["MESSUSDT"] == "bad data: bars are not in time order"
    assert reasons["ODDUSDT"] == "bad data: bars are not indexed by open time"


def test_an_unexpected_error_in_one_symbol_is_its_failure() -> None:
    frames = universe()
    broken = frame(seed=8, quote_volume=100_000.0)
    broken["close"] = broken["close"].astype(object)
    broken.iloc[-100, broken.columns.get_loc("close")] = "x"
    frames["BADUSDT"] = broken
    result = rank(frames)
    assert len(result.ranked) == 3
    assert [f.symbol for f in result.skipped] == ["BADUSDT"]
    assert result.skipped[0].reason.startswith("error: ")


def test_earlier_failures_are_carried_ahead_of_the_rankings_own() -> None:
    frames = universe()
    frames["THINUSDT"] = frame(seed=9, quote_volume=1.0)
    earlier = SymbolFailure("USDCUSDT", "stablecoin-to-stablecoin pair")
    result = rank(frames, skipped=[earlier])
    assert [f.symbol for f in result.skipped] == ["USDCUSDT", "THINUSDT"]


def test_only_the_last_history_bars_before_as_of_are_used() -> None:
    long = frame(bars=1500, drift=0.001, seed=3, quote_volume=100_000.0)
    at = long.index[-1] + HOUR
    full = rank({"XUSDT": long}, at.to_pydatetime())
    tail = rank({"XUSDT": long.iloc[-500:]}, at.to_pydatetime())
    assert full == tail
