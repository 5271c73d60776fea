"""Kline columns at one interval, and how each interval is built from the replayed base bars.

Coarser intervals aggregate whole base bars into buckets (`1w` from Monday, `1M` by calendar
month, others from the epoch, as Binance's klines open); `1s` bars are synthesised from base
bars along the replay's intra-bar price path (rules in `thunes.sim.replay`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from thunes.intervals import INTERVAL_MS, MINUTE_MS

# Binance weeks start on Monday; the epoch was a Thursday.
WEEK_OFFSET_MS = 4 * 1440 * MINUTE_MS
# `1M` has no fixed length: this key stands for it in the interval-keyed caches.
MONTH = -1
SECOND_MS = 1_000


@dataclass(frozen=True)
class Bars:
    """Columns of bars at one interval, plus the base-bar range each one covers."""

    interval_ms: int
    open_ms: np.ndarray
    close_ms: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    quote_volume: np.ndarray
    trades: np.ndarray
    first_base: np.ndarray
    end_base: np.ndarray


@dataclass(frozen=True)
class BarState:
    """One bar as of some moment (complete or in progress)."""

    open_ms: int
    close_ms: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    quote_volume: float
    trades: int
    closed: bool


def _fmt(value: float) -> str:
    return f"{value:.8f}"


def kline_row(bar: BarState) -> list[object]:
    """The 12-element array Binance returns for one kline."""
    return [
        bar.open_ms,
        _fmt(bar.open),
        _fmt(bar.high),
        _fmt(bar.low),
        _fmt(bar.close),
        _fmt(bar.volume),
        bar.close_ms,
        _fmt(bar.quote_volume),
        bar.trades,
        _fmt(bar.volume / 2),
        _fmt(bar.quote_volume / 2),
        "0",
    ]


def _buckets(base: Bars, interval_ms: int) -> tuple[np.ndarray, np.ndarray]:
    """Each base bar's bucket open time and the bucket's close time (ms)."""
    opens = base.open_ms
    if interval_ms == MONTH:
        months = opens.astype("datetime64[ms]").astype("datetime64[M]")
        bucket = months.astype("datetime64[ms]").astype("int64")
        return bucket, (months + 1).astype("datetime64[ms]").astype("int64") - 1
    offset = WEEK_OFFSET_MS if interval_ms == INTERVAL_MS["1w"] else 0
    bucket = (opens - offset) // interval_ms * interval_ms + offset
    return bucket, bucket + interval_ms - 1


def aggregate(base: Bars, interval_ms: int) -> Bars:
    """Bars at a whole multiple of the base interval (or `MONTH`), from the base bars."""
    bucket, close_ms = _buckets(base, interval_ms)
    starts = np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]])
    ends = np.r_[starts[1:], len(bucket)]
    return Bars(
        interval_ms=interval_ms,
        open_ms=bucket[starts],
        close_ms=close_ms[starts],
        open=base.open[starts],
        high=np.maximum.reduceat(base.high, starts),
        low=np.minimum.reduceat(base.low, starts),
        close=base.close[ends - 1],
        volume=np.add.reduceat(base.volume, starts),
        quote_volume=np.add.reduceat(base.quote_volume, starts),
        trades=np.add.reduceat(base.trades, starts),
        first_base=starts,
        end_base=ends,
    )


def synthesise_seconds(base: Bars) -> Bars:
    """1s bars from base bars along the replay's price path (see `thunes.sim.replay`)."""
    per = base.interval_ms // SECOND_MS
    n = len(base.open_ms)
    rising = base.close >= base.open
    points = np.stack(
        [
            base.open,
            np.where(rising, base.low, base.high),
            np.where(rising, base.high, base.low),
            base.close,
        ],
        axis=1,
    )
    k = np.arange(per + 1)
    pos = (k * SECOND_MS / base.interval_ms) * 3
    seg = np.minimum(pos.astype("int64"), 2)
    prices = points[:, seg] + (points[:, seg + 1] - points[:, seg]) * (pos - seg)
    shares = (base.trades[:, None] * k[None, :]) // per
    index = np.repeat(np.arange(n), per)
    return Bars(
        interval_ms=SECOND_MS,
        open_ms=(base.open_ms[:, None] + k[None, :per] * SECOND_MS).ravel(),
        close_ms=(base.open_ms[:, None] + k[None, 1:] * SECOND_MS - 1).ravel(),
        open=prices[:, :per].ravel(),
        high=np.maximum(prices[:, :per], prices[:, 1:]).ravel(),
        low=np.minimum(prices[:, :per], prices[:, 1:]).ravel(),
        close=prices[:, 1:].ravel(),
        volume=np.repeat(base.volume / per, per),
        quote_volume=np.repeat(base.quote_volume / per, per),
        trades=np.diff(shares, axis=1).ravel(),
        first_base=index,
        end_base=index + 1,
    )
