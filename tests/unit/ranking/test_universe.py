"""The universe filter: which listings a ranking considers, and the 24 h quote volume."""

from __future__ import annotations

import math

import pandas as pd

from tests.unit.ranking.bars import HOUR, end_of, frame
from thunes.ranking.types import SymbolFailure
from thunes.ranking.universe import (
    SymbolListing,
    is_leveraged_token,
    quote_volume_24h,
    select_universe,
)


def listing(symbol: str, base: str, quote: str = "USDT", **kw: object) -> SymbolListing:
    return SymbolListing(symbol, base, quote, **kw)  # type: ignore[arg-type]


def test_trading_spot_symbols_in_the_quote_asset_are_kept_in_listing_order() -> None:
    chosen = select_universe(
        [listing("ETHUSDT", "ETH"), listing("BTCUSDT", "BTC"), listing("SOLUSDT", "SOL")]
    )
    assert chosen.kept == ("ETHUSDT", "BTCUSDT", "SOLUSDT")
    assert chosen.skipped == ()


def test_symbols_in_another_quote_asset_are_outside_the_universe_and_not_reported() -> None:
    chosen = select_universe([listing("ETHBTC", "ETH", "BTC"), listing("BTCUSDT", "BTC")])
    assert chosen.kept == ("BTCUSDT",)
    assert chosen.skipped == ()


def test_the_quote_asset_is_configurable() -> None:
    chosen = select_universe(
        [listing("ETHBTC", "ETH", "BTC"), listing("BTCUSDT", "BTC")], quote_asset="btc"
    )
    assert chosen.kept == ("ETHBTC",)


def test_stablecoin_to_stablecoin_pairs_are_skipped_with_a_reason() -> None:
    chosen = select_universe([listing("USDCUSDT", "USDC"), listing("FDUSDUSDT", "FDUSD")])
    assert chosen.kept == ()
    assert chosen.skipped == (
        SymbolFailure("USDCUSDT", "stablecoin-to-stablecoin pair"),
        SymbolFailure("FDUSDUSDT", "stablecoin-to-stablecoin pair"),
    )


def test_leveraged_tokens_are_skipped_with_a_reason() -> None:
    names = ["BTCUPUSDT", "ETHDOWNUSDT", "BNBBULLUSDT", "XRPBEARUSDT"]
    chosen = select_universe([listing(n, n.removesuffix("USDT")) for n in names])
    assert chosen.kept == ()
    assert {f.reason for f in chosen.skipped} == {"leveraged token"}


def test_tokens_that_merely_end_like_leveraged_ones_are_kept() -> None:
    assert not is_leveraged_token("JUP")
    assert not is_leveraged_token("SYRUP")
    assert is_leveraged_token("LINKUP")


def test_the_operator_deny_list_drops_symbols_case_insensitively() -> None:
    chosen = select_universe(
        [listing("DOGEUSDT", "DOGE"), listing("BTCUSDT", "BTC")], deny=["dogeusdt"]
    )
    assert chosen.kept == ("BTCUSDT",)
    assert chosen.skipped == (SymbolFailure("DOGEUSDT", "on the operator's deny-list"),)


def test_symbols_not_trading_or_closed_to_spot_are_skipped() -> None:
    chosen = select_universe(
        [
            listing("LUNAUSDT", "LUNA", status="BREAK"),
            listing("XYZUSDT", "XYZ", spot_allowed=False),
        ]
    )
    assert chosen.kept == ()
    assert chosen.skipped == (
        SymbolFailure("LUNAUSDT", "not trading (status BREAK)"),
        SymbolFailure("XYZUSDT", "not open to spot trading"),
    )


def test_quote_volume_24h_sums_the_closed_bars_of_the_last_day() -> None:
    data = frame(bars=100, quote_volume=1.0)
    data.loc[data.index[-24:], "quote_volume"] = 5.0
    assert quote_volume_24h(data, end_of(data), HOUR) == 24 * 5.0


def test_quote_volume_24h_is_unknown_when_the_last_day_has_no_bar() -> None:
    data = frame(bars=100)
    assert math.isnan(quote_volume_24h(data, end_of(data) + pd.Timedelta(days=2), HOUR))


def test_quote_volume_24h_is_unknown_without_a_quote_volume_column() -> None:
    data = frame(bars=100).drop(columns="quote_volume")
    assert math.isnan(quote_volume_24h(data, end_of(data), HOUR))


def test_quote_volume_of_multi_day_bars_is_pro_rated_from_the_last_bar() -> None:
    data = frame(bars=10, quote_volume=3_000.0)
    week = pd.Timedelta(days=7)
    data.index = pd.date_range("2022-01-03", periods=10, freq="7D", tz="UTC", name="open_time")
    assert quote_volume_24h(data, data.index[-1] + week, week) == 3_000.0 / 7
