"""Replay of historical klines on a simulated clock.

The base data is one kline file per symbol at its own interval (5m for the bundled sample, 1m
for `BTCUSDT-1m-2020-01-01_03.csv.gz`). Any Binance interval that is a whole multiple of the base
one is served by aggregation, cached per interval; `1w` buckets start on Monday and `1M` on the
first day of each calendar month (UTC), as Binance's do. An interval finer than the base data is
unknown here (`/klines` answers -1120 "Invalid interval."), with one exception: `1s` over 1m
data is synthesised deterministically from the price path below. Each second of a minute gets
1/60 of its volume and quote volume and an even integer share of its trades; its OHLC is the
path over that second (the path's turning points fall on second boundaries, so each 1s bar is
one straight segment). Binance serves 1s bars only for seconds that had trades; the simulator's
price moves every second, so every second of the data has a bar.

Inside a bar the price walks open → low → high → close for a rising bar (open → high → low →
close for a falling one) at a constant pace, so the price moves between bars and the partial
state of the bar in progress is always consistent with the price at "now".
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from thunes.intervals import INTERVAL_MS, MINUTE_MS
from thunes.market.klines import load_klines
from thunes.sim.bars import (
    MONTH,
    SECOND_MS,
    Bars,
    BarState,
    aggregate,
    kline_row,
    synthesise_seconds,
)

__all__ = ["MONTH", "BarState", "SymbolReplay", "UnknownInterval", "kline_row", "load_replay"]


class UnknownInterval(ValueError):
    """An interval Binance does not know, or one finer than the replayed data."""


class SymbolReplay:
    """The replayed market of one symbol."""

    def __init__(self, symbol: str, path: Path, shift_ms: int = 0) -> None:
        frame = load_klines(path).frame
        self.symbol = symbol
        # `shift_ms` moves the whole replay in time (`thunes sim --clock wall`).
        open_ms = frame.index.as_unit("ms").asi8.astype("int64") + shift_ms
        step = np.diff(open_ms)
        self.base_interval_ms = int(np.min(step)) if len(step) else MINUTE_MS
        quote = frame["quote_volume"].to_numpy(dtype="float64")
        quote = np.where(
            np.isnan(quote), frame["volume"].to_numpy() * frame["close"].to_numpy(), quote
        )
        trades = np.nan_to_num(frame["trades"].to_numpy(dtype="float64")).astype("int64")
        index = np.arange(len(open_ms))
        self.base = Bars(
            interval_ms=self.base_interval_ms,
            open_ms=open_ms,
            close_ms=open_ms + self.base_interval_ms - 1,
            open=frame["open"].to_numpy(dtype="float64"),
            high=frame["high"].to_numpy(dtype="float64"),
            low=frame["low"].to_numpy(dtype="float64"),
            close=frame["close"].to_numpy(dtype="float64"),
            volume=frame["volume"].to_numpy(dtype="float64"),
            quote_volume=quote,
            trades=trades,
            first_base=index,
            end_base=index + 1,
        )
        self._cache: dict[int, Bars] = {self.base_interval_ms: self.base}
        self._rows: dict[int, list[str | None]] = {}

    @property
    def first_open_ms(self) -> int:
        return int(self.base.open_ms[0])

    @property
    def last_close_ms(self) -> int:
        return int(self.base.open_ms[-1]) + self.base_interval_ms

    def interval_ms(self, interval: str) -> int:
        """The cache key of a Binance interval name: its milliseconds (`MONTH` for `1M`).

        It must be a multiple of the base data's, or `1s` over 1m data (synthesised).
        """
        if interval == "1M":
            return MONTH
        ms = INTERVAL_MS.get(interval)
        if ms == SECOND_MS and self.base_interval_ms == MINUTE_MS:
            return ms
        if ms is None or ms < self.base_interval_ms or ms % self.base_interval_ms:
            raise UnknownInterval(interval)
        return ms

    def bars(self, interval_ms: int) -> Bars:
        cached = self._cache.get(interval_ms)
        if cached is None:
            if interval_ms < self.base_interval_ms and interval_ms != MONTH:
                cached = synthesise_seconds(self.base)
            else:
                cached = aggregate(self.base, interval_ms)
            self._cache[interval_ms] = cached
        return cached

    def _closed_rows(self, interval_ms: int, first: int, last: int) -> list[str]:
        """JSON text of bars [first, last) at this interval as if closed; each built once."""
        bars = self.bars(interval_ms)
        rows = self._rows.setdefault(interval_ms, [None] * len(bars.open_ms))
        out: list[str] = []
        for i in range(first, last):
            text = rows[i]
            if text is None:
                text = rows[i] = json.dumps(kline_row(self._bar(bars, i)))
            out.append(text)
        return out

    @staticmethod
    def _bar(bars: Bars, i: int) -> BarState:
        return BarState(
            open_ms=int(bars.open_ms[i]),
            close_ms=int(bars.close_ms[i]),
            open=float(bars.open[i]),
            high=float(bars.high[i]),
            low=float(bars.low[i]),
            close=float(bars.close[i]),
            volume=float(bars.volume[i]),
            quote_volume=float(bars.quote_volume[i]),
            trades=int(bars.trades[i]),
            closed=True,
        )

    # ---- the price path inside one base bar -------------------------------------------------

    def _path(self, i: int) -> tuple[float, float, float, float]:
        b = self.base
        o, h, lo, c = float(b.open[i]), float(b.high[i]), float(b.low[i]), float(b.close[i])
        return (o, lo, h, c) if c >= o else (o, h, lo, c)

    def _partial_base(self, i: int, now_ms: int) -> BarState:
        """Base bar `i` as seen at `now_ms` (inside it)."""
        b = self.base
        frac = min(1.0, max(0.0, (now_ms - int(b.open_ms[i])) / self.base_interval_ms))
        points = self._path(i)
        pos = frac * 3
        seg = min(int(pos), 2)
        price = points[seg] + (points[seg + 1] - points[seg]) * (pos - seg)
        seen = [*points[: seg + 1], price]
        return BarState(
            open_ms=int(b.open_ms[i]),
            close_ms=int(b.open_ms[i]) + self.base_interval_ms - 1,
            open=points[0],
            high=max(seen),
            low=min(seen),
            close=price,
            volume=float(b.volume[i]) * frac,
            quote_volume=float(b.quote_volume[i]) * frac,
            trades=int(int(b.trades[i]) * frac),
            closed=False,
        )

    def price_at(self, now_ms: int) -> float:
        """Replayed price at `now_ms`; before the data its first open, after it its last close."""
        b = self.base
        i = int(np.searchsorted(b.open_ms, now_ms, side="right")) - 1
        if i < 0:
            return float(b.open[0])
        if now_ms >= int(b.open_ms[i]) + self.base_interval_ms:
            return float(b.close[i])
        return self._partial_base(i, now_ms).close

    def current_bar(self, interval_ms: int, now_ms: int) -> BarState | None:
        """The bar at this interval containing `now_ms`, in its state at `now_ms`."""
        bars = self.bars(interval_ms)
        j = int(np.searchsorted(bars.open_ms, now_ms, side="right")) - 1
        if j < 0:
            return None
        return self._bar_at(bars, j, now_ms)

    def _bar_at(self, bars: Bars, j: int, now_ms: int) -> BarState:
        open_ms, close_ms = int(bars.open_ms[j]), int(bars.close_ms[j])
        if now_ms > close_ms:
            return self._bar(bars, j)
        if 0 < bars.interval_ms < self.base_interval_ms:
            return self._partial_second(bars, j, now_ms)
        b = self.base
        s, e = int(bars.first_base[j]), int(bars.end_base[j])
        done = int(np.searchsorted(b.open_ms[s:e] + self.base_interval_ms, now_ms, side="right"))
        k = s + done
        parts: list[BarState] = []
        if k > s:
            parts.append(self._bar(b, s) if k == s + 1 else self._merge_closed(s, k))
        if k < e and int(b.open_ms[k]) <= now_ms:
            parts.append(self._partial_base(k, now_ms))
        if not parts:
            parts.append(self._partial_base(s, int(b.open_ms[s])))
        return BarState(
            open_ms=open_ms,
            close_ms=close_ms,
            open=parts[0].open,
            high=max(p.high for p in parts),
            low=min(p.low for p in parts),
            close=parts[-1].close,
            volume=sum(p.volume for p in parts),
            quote_volume=sum(p.quote_volume for p in parts),
            trades=sum(p.trades for p in parts),
            closed=False,
        )

    def _partial_second(self, bars: Bars, j: int, now_ms: int) -> BarState:
        """A synthesised sub-base bar at `now_ms`: one straight piece of the path so far."""
        open_ms = int(bars.open_ms[j])
        frac = (now_ms - open_ms) / (int(bars.close_ms[j]) + 1 - open_ms)
        first, price = float(bars.open[j]), self.price_at(now_ms)
        return BarState(
            open_ms=open_ms,
            close_ms=int(bars.close_ms[j]),
            open=first,
            high=max(first, price),
            low=min(first, price),
            close=price,
            volume=float(bars.volume[j]) * frac,
            quote_volume=float(bars.quote_volume[j]) * frac,
            trades=int(int(bars.trades[j]) * frac),
            closed=False,
        )

    def _merge_closed(self, s: int, k: int) -> BarState:
        b = self.base
        return BarState(
            open_ms=int(b.open_ms[s]),
            close_ms=int(b.open_ms[k - 1]) + self.base_interval_ms - 1,
            open=float(b.open[s]),
            high=float(b.high[s:k].max()),
            low=float(b.low[s:k].min()),
            close=float(b.close[k - 1]),
            volume=float(b.volume[s:k].sum()),
            quote_volume=float(b.quote_volume[s:k].sum()),
            trades=int(b.trades[s:k].sum()),
            closed=True,
        )

    def klines_json(
        self,
        interval_ms: int,
        now_ms: int,
        start_ms: int | None = None,
        end_ms: int | None = None,
        limit: int = 500,
    ) -> str:
        """The `/api/v3/klines` body: bars opened by `now_ms`, the last one possibly partial."""
        bars = self.bars(interval_ms)
        available = int(np.searchsorted(bars.open_ms, now_ms, side="right"))
        if end_ms is not None:
            available = min(available, int(np.searchsorted(bars.open_ms, end_ms, side="right")))
        if start_ms is not None:
            first = int(np.searchsorted(bars.open_ms, start_ms, side="left"))
            last = min(available, first + limit)
        else:
            last = available
            first = max(0, last - limit)
        if last <= first:
            return "[]"
        pieces = self._closed_rows(interval_ms, first, last)
        tail = last - 1
        if now_ms <= int(bars.close_ms[tail]):
            pieces[-1] = json.dumps(kline_row(self._bar_at(bars, tail, now_ms)))
        return "[" + ",".join(pieces) + "]"

    def price_range(self, start_ms: int, end_ms: int) -> tuple[float, float]:
        """Lowest and highest replayed price over [start_ms, end_ms] (for resting orders)."""
        b = self.base
        prices = [self.price_at(start_ms), self.price_at(end_ms)]
        first = max(0, int(np.searchsorted(b.open_ms, start_ms, side="right")) - 1)
        last = int(np.searchsorted(b.open_ms, end_ms, side="right")) - 1
        if last < first:
            return min(prices), max(prices)
        if last - first > 1:
            prices.append(float(b.low[first + 1 : last].min()))
            prices.append(float(b.high[first + 1 : last].max()))
        third = self.base_interval_ms / 3
        for i in {first, last}:
            points = self._path(i)
            for k in (1, 2):
                when = int(b.open_ms[i]) + k * third
                if start_ms < when < end_ms:
                    prices.append(points[k])
        return min(prices), max(prices)

    def volume_between(self, start_ms: int, end_ms: int) -> tuple[float, float, int]:
        """Base volume, quote volume and trade count of base bars opened in [start_ms, end_ms)."""
        b = self.base
        first = int(np.searchsorted(b.open_ms, start_ms, side="left"))
        end = int(np.searchsorted(b.open_ms, end_ms, side="left"))
        return (
            float(b.volume[first:end].sum()),
            float(b.quote_volume[first:end].sum()),
            int(b.trades[first:end].sum()),
        )

    def closed_bars(
        self, interval_ms: int, from_open_ms: int, to_open_ms: int, limit: int = 10
    ) -> list[BarState]:
        """Complete bars opened in [from_open_ms, to_open_ms), the latest `limit` of them."""
        bars = self.bars(interval_ms)
        first = int(np.searchsorted(bars.open_ms, from_open_ms, side="left"))
        end = int(np.searchsorted(bars.open_ms, to_open_ms, side="left"))
        return [self._bar(bars, j) for j in range(max(first, end - limit), end)]


@lru_cache(maxsize=32)
def _cached(symbol: str, path: str, mtime_ns: int, shift_ms: int) -> SymbolReplay:
    return SymbolReplay(symbol, Path(path), shift_ms)


def load_replay(symbol: str, path: Path, shift_ms: int = 0) -> SymbolReplay:
    """A replay of `path` moved `shift_ms` later, shared between simulators in one process."""
    return _cached(symbol, str(path), path.stat().st_mtime_ns, shift_ms)
