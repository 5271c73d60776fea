"""Which symbols a ranking considers: the exchange's listings, then a liquidity floor (pure).

Two stages, both returning what they dropped as `SymbolFailure`s with a reason, so a run can
say why a symbol is absent instead of silently forgetting it:

1. `select_universe` — from the listings (exchangeInfo), keep TRADING spot symbols quoted in the
   configured quote asset, minus stablecoin-to-stablecoin pairs (`STABLECOINS`), leveraged
   tokens (`is_leveraged_token`) and the operator's deny-list. Symbols in another quote asset
   are outside the universe altogether and are not reported.
2. `quote_volume_24h` — the rolling 24 h quote volume from the klines' `quote_volume` column
   over the closed bars of the last 24 h before as-of; `rank_universe` drops symbols below the
   floor (default `DEFAULT_MIN_QUOTE_VOLUME`) and those without enough history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from thunes.ranking.types import SymbolFailure

DEFAULT_QUOTE_ASSET = "USDT"
DEFAULT_MIN_QUOTE_VOLUME = Decimal("10000000")
DAY = pd.Timedelta(hours=24)

# Assets pegged to a fiat currency: a pair of two of them only tracks the peg, never a trend.
# USD stablecoins (current and retired on Binance), EUR ones, and the fiat currencies Binance
# lists against stablecoins (EURUSDT and the like move with FX rates, not with crypto markets).
STABLECOINS = frozenset(
    {
        "USDT", "USDC", "BUSD", "TUSD", "USDP", "PAX", "DAI", "FDUSD", "UST", "USTC", "USDD",
        "GUSD", "PYUSD", "USD1", "USDS", "USDE", "SUSD", "AEUR", "EURI", "EUR", "GBP", "AUD",
    }
)  # fmt: skip

# Binance leveraged tokens (BTCUP, ETHDOWN, BNBBULL, XRPBEAR, ...) rebalance daily: their
# price path is not the market's. A base asset ending in one of these suffixes after a root of
# at least 3 characters is one; real tokens that happen to end that way are listed below.
LEVERAGED_SUFFIXES = ("UP", "DOWN", "BULL", "BEAR")
NOT_LEVERAGED = frozenset({"SYRUP"})


@dataclass(frozen=True, slots=True)
class SymbolListing:
    """What the universe filter needs from one exchangeInfo `symbols[]` entry."""

    symbol: str
    base_asset: str
    quote_asset: str
    status: str = "TRADING"
    spot_allowed: bool = True


@dataclass(frozen=True, slots=True)
class UniverseSelection:
    """The symbols kept (in listing order) and those dropped, each with why."""

    kept: tuple[str, ...]
    skipped: tuple[SymbolFailure, ...] = ()


def is_leveraged_token(base_asset: str) -> bool:
    base = base_asset.upper()
    if base in NOT_LEVERAGED:
        return False
    return any(
        base.endswith(suffix) and len(base) - len(suffix) >= 3 for suffix in LEVERAGED_SUFFIXES
    )


def _exclusion(listing: SymbolListing, deny: frozenset[str]) -> str | None:
    """Why a listing in the quote asset is not ranked, or None to keep it."""
    if listing.symbol in deny:
        return "on the operator's deny-list"
    if listing.status != "TRADING":
        return f"not trading (status {listing.status})"
    if not listing.spot_allowed:
        return "not open to spot trading"
    if listing.base_asset.upper() in STABLECOINS:
        return "stablecoin-to-stablecoin pair"
    if is_leveraged_token(listing.base_asset):
        return "leveraged token"
    return None


def select_universe(
    listings: Iterable[SymbolListing],
    *,
    quote_asset: str = DEFAULT_QUOTE_ASSET,
    deny: Iterable[str] = (),
) -> UniverseSelection:
    """The listings worth ranking; only those quoted in `quote_asset` are considered at all."""
    denied = frozenset(s.upper() for s in deny)
    quote = quote_asset.upper()
    kept: list[str] = []
    skipped: list[SymbolFailure] = []
    for listing in listings:
        if listing.quote_asset.upper() != quote:
            continue
        reason = _exclusion(listing, denied)
        if reason is None:
            kept.append(listing.symbol)
        else:
            skipped.append(SymbolFailure(listing.symbol, reason))
    return UniverseSelection(tuple(kept), tuple(skipped))


def quote_volume_24h(closed: pd.DataFrame, as_of: datetime, interval: pd.Timedelta) -> float:
    """Quote volume of the closed bars that opened in the 24 h before `as_of`.

    `closed` holds only bars closed by `as_of`. Bars longer than a day (3d, 1w) are pro-rated
    from the last one. NaN when the window holds no bar (stale data) or no quote volume.
    """
    if "quote_volume" not in closed.columns or closed.empty:
        return float("nan")
    if interval > DAY:
        last = float(closed["quote_volume"].iloc[-1])
        return last * (DAY / interval) if closed.index[-1] + interval > as_of - DAY else np.nan
    start = closed.index.searchsorted(pd.Timestamp(as_of) - DAY, side="left")
    window = closed["quote_volume"].to_numpy()[start:]
    if window.size == 0 or np.isnan(window).any():
        return float("nan")
    return float(window.sum())
