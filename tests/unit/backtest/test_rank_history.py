"""The ranking re-run over history equals `rank_universe` at every as-of time."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from thunes.backtest.rank_history import rank_history
from thunes.market.klines import load_klines, sample_path
from thunes.ranking.files import load_folder
from thunes.ranking.rank import rank_universe
from thunes.ranking.types import Ranking

UNIVERSE = Path(__file__).resolve().parents[3].parent / "shared/data/binance_spot_1h_universe"


def rows(ranking: Ranking) -> list[tuple[object, ...]]:
    return [
        (r.rank, r.symbol, r.bullish_score, r.confidence, r.quote_volume_24h, r.reasons)
        for r in ranking.ranked
    ]


def assert_same(frames: dict[str, pd.DataFrame], times: list[pd.Timestamp], floor: Decimal) -> None:
    batch = rank_history(frames, timeframe="1h", as_of=times, min_quote_volume=floor)
    for moment, got in zip(times, batch, strict=True):
        want = rank_universe(frames, timeframe="1h", as_of=moment, min_quote_volume=floor)
        assert rows(got) == rows(want), moment
        assert [f.symbol for f in got.skipped] == [f.symbol for f in want.skipped], moment
        assert got.as_of == want.as_of


def test_rank_history_equals_rank_universe_on_the_shipped_sample() -> None:
    frames = {
        s: load_klines(sample_path(f"{s}-1h-spot.csv.gz")).frame for s in ("BTCUSDT", "ETHUSDT")
    }
    start = frames["BTCUSDT"].index[0]
    times = [start + pd.Timedelta(hours=h) for h in (0, 100, 260, 499, 500, 501, 777, 3001, 7000)]
    assert_same(frames, times, Decimal(0))


def test_rank_history_equals_rank_universe_on_the_shared_universe_with_staggered_listings() -> None:
    if not UNIVERSE.is_dir():
        pytest.skip(f"{UNIVERSE} is absent")
    frames = load_folder(UNIVERSE, "1h").frames
    listing = frames["AVAXUSDT"].index[0]
    times = [listing + pd.Timedelta(hours=h) for h in (-5, 1, 249, 250, 251, 499, 500, 501)]
    times += list(pd.date_range("2021-01-01", "2022-06-30", freq="613h", tz="UTC"))
    times.append(pd.Timestamp("2022-06-30 01:00", tz="UTC"))  # after the last bar's close
    assert_same(frames, times, Decimal("10000000"))
