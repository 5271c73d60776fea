"""Fetch what a ranking needs from the exchange: listings, then klines for every universe symbol.

The one I/O part of ranking, kept apart from the pure core so the CLI, the scheduled job and
the portfolio backtest share it. Every request goes through the gateway, so the rate limiter
paces it (a 300-symbol universe is ~300 kline requests of weight 2, plus exchangeInfo's 20,
well under Binance's 6,000 a minute) and the breakers guard it. The peak of the limiter's
rolling-minute weight during the fetch is reported so an operator sees the headroom. A symbol
whose klines fail is skipped with the error; the others are still ranked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd

from thunes.exchange.client import BinanceGateway
from thunes.exchange.types import ExchangeError, SymbolRules
from thunes.ranking.features import HISTORY_BARS
from thunes.ranking.rank import rank_universe
from thunes.ranking.types import Ranking, SymbolFailure
from thunes.ranking.universe import (
    DEFAULT_MIN_QUOTE_VOLUME,
    DEFAULT_QUOTE_ASSET,
    SymbolListing,
    select_universe,
)

DEFAULT_CONCURRENCY = 8


@dataclass(frozen=True)
class FetchedUniverse:
    """Klines of the universe as of one exchange time, and what the fetch could not get."""

    as_of: datetime
    frames: dict[str, pd.DataFrame]
    skipped: tuple[SymbolFailure, ...]
    considered: int  # listings in the quote asset, before any filter
    requests: int
    peak_weight: int  # highest rolling-minute request weight seen during the fetch
    weight_budget: int


def listing_from_rules(rules: SymbolRules) -> SymbolListing:
    """exchangeInfo's parsed entry → what the universe filter reads."""
    spot = rules.extra.get("isSpotTradingAllowed", "True").lower() == "true"
    return SymbolListing(
        rules.symbol,
        rules.base_asset,
        rules.quote_asset,
        status=rules.extra.get("status", "TRADING"),
        spot_allowed=spot,
    )


class _WeightWatch:
    """Samples the limiter's rolling-minute weight after every request."""

    def __init__(self, gateway: BinanceGateway) -> None:
        self.gateway = gateway
        self.peak = gateway.limiter.used_weight
        self.requests = 0

    def sample(self) -> None:
        self.requests += 1
        self.peak = max(self.peak, self.gateway.limiter.used_weight)


async def _klines(
    gateway: BinanceGateway,
    symbol: str,
    timeframe: str,
    bars: int,
    gate: asyncio.Semaphore,
    watch: _WeightWatch,
) -> pd.DataFrame | SymbolFailure:
    async with gate:
        try:
            return await gateway.closed_klines(symbol, timeframe, bars)
        except ExchangeError as error:
            return SymbolFailure(symbol, f"klines not fetched: {error}")
        finally:
            watch.sample()


async def fetch_universe(
    gateway: BinanceGateway,
    *,
    timeframe: str,
    quote_asset: str = DEFAULT_QUOTE_ASSET,
    deny: Iterable[str] = (),
    bars: int = HISTORY_BARS,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> FetchedUniverse:
    """exchangeInfo, the universe filter, then the last `bars` closed klines of each symbol.

    `as_of` is the exchange's time before the klines are asked for, so a bar that closes
    during the fetch is left out for every symbol alike. exchangeInfo failing raises (there is
    no universe without it); a symbol's klines failing skips that symbol.
    """
    watch = _WeightWatch(gateway)
    rules = await gateway.refresh_rules()
    watch.sample()
    listings = [listing_from_rules(r) for r in rules.values()]
    considered = sum(1 for item in listings if item.quote_asset.upper() == quote_asset.upper())
    selection = select_universe(listings, quote_asset=quote_asset, deny=deny)
    as_of = datetime.fromtimestamp(gateway.time_sync.now_ms() / 1000, UTC)
    gate = asyncio.Semaphore(max(1, concurrency))
    answers = await asyncio.gather(
        *(_klines(gateway, s, timeframe, bars, gate, watch) for s in selection.kept)
    )
    frames: dict[str, pd.DataFrame] = {}
    failures = list(selection.skipped)
    for symbol, answer in zip(selection.kept, answers, strict=True):
        if isinstance(answer, SymbolFailure):
            failures.append(answer)
        else:
            frames[symbol] = answer
    return FetchedUniverse(
        as_of=as_of,
        frames=frames,
        skipped=tuple(failures),
        considered=considered,
        requests=watch.requests,
        peak_weight=watch.peak,
        weight_budget=gateway.limiter.weight_budget,
    )


async def rank_from_exchange(
    gateway: BinanceGateway,
    *,
    timeframe: str,
    quote_asset: str = DEFAULT_QUOTE_ASSET,
    deny: Iterable[str] = (),
    min_quote_volume: Decimal = DEFAULT_MIN_QUOTE_VOLUME,
) -> tuple[Ranking, FetchedUniverse]:
    """Fetch the universe and rank it as of the exchange's time (the scheduled job's path)."""
    fetched = await fetch_universe(gateway, timeframe=timeframe, quote_asset=quote_asset, deny=deny)
    ranking = rank_universe(
        fetched.frames,
        timeframe=timeframe,
        as_of=fetched.as_of,
        min_quote_volume=min_quote_volume,
        skipped=fetched.skipped,
    )
    return ranking, fetched
