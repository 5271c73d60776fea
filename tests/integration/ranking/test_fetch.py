"""Ranking from the exchange: the simulator's klines give the ranking the files give."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd

from tests.integration.ranking.conftest import NOW, SYMBOLS, universe_files
from thunes.exchange.client import BinanceGateway
from thunes.market.klines import load_klines
from thunes.ranking.fetch import fetch_universe, rank_from_exchange
from thunes.ranking.rank import rank_universe
from thunes.ranking.types import SymbolFailure
from thunes.sim import Simulator

FLOOR = Decimal("10000000")


async def test_fetch_gets_closed_klines_of_every_universe_symbol(gateway: BinanceGateway) -> None:
    fetched = await fetch_universe(gateway, timeframe="1h", bars=300)
    assert set(fetched.frames) == set(SYMBOLS)
    assert fetched.as_of == NOW
    assert fetched.considered == len(SYMBOLS)
    for frame in fetched.frames.values():
        assert len(frame) == 300
        assert frame.index[-1] == pd.Timestamp("2021-04-30 23:00", tz="UTC")


async def test_fetch_reports_requests_and_the_peak_weight_within_budget(
    gateway: BinanceGateway,
) -> None:
    fetched = await fetch_universe(gateway, timeframe="1h")
    assert fetched.requests == len(SYMBOLS) + 1
    assert fetched.peak_weight == 20 + 2 * len(SYMBOLS)
    assert fetched.peak_weight <= fetched.weight_budget


async def test_the_deny_list_applies_to_the_exchange_universe(gateway: BinanceGateway) -> None:
    fetched = await fetch_universe(gateway, timeframe="1h", deny=["DOGEUSDT"])
    assert "DOGEUSDT" not in fetched.frames
    assert SymbolFailure("DOGEUSDT", "on the operator's deny-list") in fetched.skipped


async def test_ranking_from_the_exchange_equals_ranking_the_same_files(
    gateway: BinanceGateway,
) -> None:
    ranking, fetched = await rank_from_exchange(gateway, timeframe="1h", min_quote_volume=FLOOR)
    assert fetched.as_of == NOW
    files = {s: load_klines(p).frame for s, p in universe_files().items()}
    offline = rank_universe(files, timeframe="1h", as_of=NOW, min_quote_volume=FLOOR)
    assert ranking == offline
    assert len(ranking.ranked) >= 4


async def test_a_symbol_whose_klines_fail_is_skipped_and_the_rest_ranked(
    gateway: BinanceGateway, sim: Simulator
) -> None:
    # One request at a time, in listing order: the first symbol's klines (both attempts) fail.
    sim.faults.fail_next(2, 503, paths=("/klines",))
    fetched = await fetch_universe(gateway, timeframe="1h", concurrency=1)
    first = SYMBOLS[0]
    assert set(fetched.frames) == set(SYMBOLS) - {first}
    failure = next(f for f in fetched.skipped if f.symbol == first)
    assert failure.reason.startswith("klines not fetched:")
    ranking = rank_universe(
        fetched.frames, timeframe="1h", as_of=fetched.as_of, skipped=fetched.skipped
    )
    assert first not in ranking.top(10)
    assert len(ranking.ranked) >= 3
