"""`rank_universe`: the pure core of a ranking, point-in-time, one symbol's failure its own.

A ranking at `as_of` sees only bars that had closed by then (`open_time + interval <= as_of`),
so the same frames ranked at the same time give the same result whatever bars come later: a
backtest re-running the ranking over history sees what the daemon would have seen. Each symbol
goes through the same steps; the first that fails skips that symbol with its reason:

1. closed bars before as-of (none: no data before as-of),
2. the liquidity floor: rolling 24 h quote volume (`universe.quote_volume_24h`, or the
   exchange's 24 h ticker value when given) at least `min_quote_volume`,
3. enough history for the indicators (`features.MIN_HISTORY_BARS`), clean values,
4. the features of the last `HISTORY_BARS` closed bars, then the score (`score`).

Ranked by score, then confidence, then 24 h quote volume (all descending), then symbol name.
Each row's `features` holds the raw indicators (`features.compute_features`) and, as
`score_<name>`, each indicator's sub-score (`score.WEIGHTS`), so a ranking can be explained.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pandas as pd

from thunes.intervals import INTERVAL_MS
from thunes.ranking.features import HISTORY_BARS, FeatureError, compute_features
from thunes.ranking.score import score
from thunes.ranking.types import RankedSymbol, Ranking, SymbolFailure
from thunes.ranking.universe import DEFAULT_MIN_QUOTE_VOLUME, quote_volume_24h

VOLUME_PLACES = Decimal("0.01")


class _Skip(Exception):
    """This symbol is not ranked; the message is its reason."""


def closed_bars(frame: pd.DataFrame, as_of: datetime, interval: pd.Timedelta) -> pd.DataFrame:
    """The rows of `frame` (indexed by open time, ascending) closed by `as_of`."""
    if not isinstance(frame.index, pd.DatetimeIndex):
        raise _Skip("bad data: bars are not indexed by open time")
    if not frame.index.is_monotonic_increasing:
        raise _Skip("bad data: bars are not in time order")
    cutoff = pd.Timestamp(as_of) - interval
    if frame.index.tz is None:
        cutoff = cutoff.tz_convert(None)
    end = frame.index.searchsorted(cutoff, side="right")
    return frame.iloc[:end]


def _quote_volume(
    closed: pd.DataFrame, as_of: datetime, interval: pd.Timedelta, ticker: Decimal | None
) -> Decimal:
    if ticker is not None:
        return ticker.quantize(VOLUME_PLACES)
    value = quote_volume_24h(closed, as_of, interval)
    if not np.isfinite(value):
        raise _Skip("no quote volume in the 24 h before as-of")
    return Decimal(f"{value:.2f}")


def _rank_one(
    symbol: str,
    frame: pd.DataFrame,
    as_of: datetime,
    interval: pd.Timedelta,
    floor: Decimal,
    ticker: Decimal | None,
) -> RankedSymbol:
    closed = closed_bars(frame, as_of, interval)
    if closed.empty:
        raise _Skip("no closed bar before as-of")
    volume = _quote_volume(closed, as_of, interval, ticker)
    if volume < floor:
        raise _Skip(f"24 h quote volume {volume:,.0f} below the floor {floor:,.0f}")
    try:
        features = compute_features(closed.iloc[-HISTORY_BARS:])
        result = score(features)
    except FeatureError as error:
        raise _Skip(str(error)) from None
    rounded = {k: round(v, 6) for k, v in features.items()}
    rounded.update({f"score_{k}": round(v, 4) for k, v in result.parts.items()})
    return RankedSymbol(
        0, symbol, result.bullish_score, result.confidence, volume, result.reasons, rounded
    )


def _order(row: RankedSymbol) -> tuple[Decimal, int, Decimal, str]:
    return (-row.bullish_score, -row.confidence, -row.quote_volume_24h, row.symbol)


def _aware(moment: datetime) -> datetime:
    """`moment` as a plain datetime in UTC (a pandas Timestamp is converted too)."""
    if isinstance(moment, pd.Timestamp):
        moment = moment.to_pydatetime()
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def rank_universe(
    frames: Mapping[str, pd.DataFrame],
    *,
    timeframe: str,
    as_of: datetime,
    min_quote_volume: Decimal = DEFAULT_MIN_QUOTE_VOLUME,
    quote_volumes: Mapping[str, Decimal] | None = None,
    skipped: Iterable[SymbolFailure] = (),
) -> Ranking:
    """Rank `frames` (symbol → klines indexed by UTC open time) as of `as_of`.

    `quote_volumes` (the exchange's 24 h tickers) replaces the klines' figure for the symbols
    it names; `skipped` (what the universe filter or the fetch dropped) is carried into the
    result ahead of this ranking's own failures. A naive `as_of` is taken as UTC.
    """
    if timeframe not in INTERVAL_MS:
        raise ValueError(f"unknown timeframe {timeframe!r}")
    interval = pd.Timedelta(milliseconds=INTERVAL_MS[timeframe])
    moment = _aware(as_of)
    tickers = quote_volumes or {}
    ranked: list[RankedSymbol] = []
    failures = list(skipped)
    for symbol, frame in frames.items():
        try:
            ranked.append(
                _rank_one(symbol, frame, moment, interval, min_quote_volume, tickers.get(symbol))
            )
        except _Skip as reason:
            failures.append(SymbolFailure(symbol, str(reason)))
        except Exception as error:  # one symbol's surprise never fails the run
            failures.append(SymbolFailure(symbol, f"error: {type(error).__name__}: {error}"))
    ranked.sort(key=_order)
    rows = tuple(replace(row, rank=i) for i, row in enumerate(ranked, start=1))
    return Ranking(timeframe, moment, rows, tuple(failures))
