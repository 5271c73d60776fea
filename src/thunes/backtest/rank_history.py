"""The ranking re-run over history: `rank_universe`'s result at many as-of times, in one pass.

A portfolio backtest needs a ranking at every cadence point (thousands of them); calling
`rank_universe` at each costs about a millisecond per symbol. This module gives the same
rankings — the same indicators on the same last `HISTORY_BARS` closed bars, scored by the same
`score` — but computes the indicators of every as-of point of a symbol at once: the windows
are stacked as columns and each recursive mean steps through them together, with pandas'
own `ewm(adjust=False)` arithmetic, so each value is the one `compute_features` gives (the
tests check them equal to `rank_universe` on the shared universe). Rolling sums use the exact
integer sums of `RollingSums`, which do not depend on where a window starts.

Windows shorter than `HISTORY_BARS` (just after a listing) and symbols with unusable bars go
through `compute_features` itself, one point at a time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from thunes.intervals import INTERVAL_MS
from thunes.ranking.features import (
    DI_PERIOD,
    EMA_SPANS,
    HISTORY_BARS,
    LONG_MEAN,
    MACD_FAST,
    MACD_SIGNAL,
    MACD_SLOW,
    MOMENTUM_BARS,
    RANGE_BARS,
    RSI_PERIOD,
    VOL_LONG,
    VOL_SHORT,
    VOLUME_LOOKBACK,
    FeatureError,
    compute_features,
)
from thunes.ranking.score import score
from thunes.ranking.types import RankedSymbol, Ranking, SymbolFailure
from thunes.ranking.universe import DAY, DEFAULT_MIN_QUOTE_VOLUME
from thunes.strategy.indicators import RollingSums, volume_ratio

CHUNK = 4096  # as-of points stepped together (bounds memory: 500 × 4096 floats per array)
Features = dict[str, float]


def _ewm_factors(com: float) -> tuple[float, float, float]:
    """pandas' weights for `ewm(com=..., adjust=False)`: old factor, new weight, their sum."""
    alpha = 1.0 / (1.0 + com)
    old = 1.0 - alpha
    return old, alpha, old + alpha


SPAN_COM = {span: (span - 1) / 2.0 for span in (*EMA_SPANS, MACD_FAST, MACD_SLOW, MACD_SIGNAL)}
WILDER_COM = (1 - 1.0 / DI_PERIOD) / (1.0 / DI_PERIOD)
RSI_COM = (1 - 1.0 / RSI_PERIOD) / (1.0 / RSI_PERIOD)


class _Ewm:
    """Exponential means of several series (one per row of `first`'s leading axis) across
    columns, stepped as pandas steps one series: `(old·w + new·x) / (old + new)`, unchanged
    when the new value equals the mean."""

    def __init__(self, coms: tuple[float, ...], first: np.ndarray) -> None:
        factors = np.array([_ewm_factors(c) for c in coms]).reshape(len(coms), 3, 1)
        self.old, self.new, self.norm = factors[:, 0], factors[:, 1], factors[:, 2]
        self.value = np.array(first, dtype=np.float64, copy=True).reshape(len(coms), -1)
        self._moved = np.empty_like(self.value)
        self._scratch = np.empty_like(self.value)
        self._differs = np.empty(self.value.shape, dtype=bool)

    def step(self, cur: np.ndarray) -> np.ndarray:
        moved, scratch = self._moved, self._scratch
        np.multiply(self.old, self.value, out=moved)
        np.multiply(self.new, cur, out=scratch)
        moved += scratch
        moved /= self.norm
        np.not_equal(self.value, cur, out=self._differs)
        np.copyto(self.value, moved, where=self._differs)
        return self.value


CLOSE_COMS = tuple(SPAN_COM[s] for s in (*EMA_SPANS, MACD_FAST, MACD_SLOW))


def _trend_block(close: np.ndarray, high: np.ndarray, low: np.ndarray) -> dict[str, np.ndarray]:
    """EMAs, ADX/±DI, ATR, MACD histogram and RSI at the last row of each column."""
    means = _Ewm(CLOSE_COMS, np.broadcast_to(close[0], (len(CLOSE_COMS), close.shape[1])))
    signal = _Ewm((SPAN_COM[MACD_SIGNAL],), close[0] - close[0])
    directional = np.stack(_directional_inputs(close, high, low), axis=1)  # (rows, 3, cols)
    dmi = _Ewm((WILDER_COM,) * 3, directional[0])
    adx = _Ewm((WILDER_COM,), _dx(*dmi.value)[0])
    delta = close[1:] - close[:-1]
    moves = np.stack((np.where(delta > 0, delta, 0.0), np.where(delta < 0, -delta, 0.0)), axis=1)
    averages = _Ewm((RSI_COM, RSI_COM), moves[0])
    macd = means.value[3] - means.value[4]
    for i in range(1, close.shape[0]):
        means.step(close[i])
        macd = means.value[3] - means.value[4]
        signal.step(macd)
        j = i - 1  # the diff-based series are one row shorter
        if j >= 1:
            dmi.step(directional[j])
            adx.step(_dx(*dmi.value)[0])
            averages.step(moves[j])
    dx_parts = _dx(*dmi.value)
    out = {f"ema{span}": means.value[k] for k, span in enumerate(EMA_SPANS)}
    out.update(adx=adx.value[0], plus_di=dx_parts[1], minus_di=dx_parts[2], atr=dmi.value[0])
    out["macd_hist"] = macd - signal.value[0]
    out["rsi"] = _rsi(averages.value[0], averages.value[1])
    return out


def _directional_inputs(
    close: np.ndarray, high: np.ndarray, low: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    prev_close, h, lo = close[:-1], high[1:], low[1:]
    true_range = np.maximum(h - lo, np.maximum(np.abs(h - prev_close), np.abs(lo - prev_close)))
    up, down = h - high[:-1], low[:-1] - lo
    plus_dm = np.where((up > down) & (up > 0), up, 0.0)
    minus_dm = np.where((down > up) & (down > 0), down, 0.0)
    return true_range, plus_dm, minus_dm


def _dx(
    atr: np.ndarray, plus: np.ndarray, minus: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(DX, +DI, −DI) from the smoothed values, as `features._directional` divides them."""
    with np.errstate(divide="ignore", invalid="ignore"):
        plus_di = np.where(atr > 0, 100.0 * plus / atr, 0.0)
        minus_di = np.where(atr > 0, 100.0 * minus / atr, 0.0)
        total = plus_di + minus_di
        dx = np.where(total > 0, 100.0 * np.abs(plus_di - minus_di) / total, 0.0)
    return dx, plus_di, minus_di


def _rsi(avg_gain: np.ndarray, avg_loss: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        rsi = 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    result: np.ndarray = np.where(avg_loss == 0, np.where(avg_gain == 0, 50.0, 100.0), rsi)
    return result


@dataclass
class _Series:
    """One symbol's bars as arrays plus the whole-series sums the windows share."""

    times: np.ndarray  # open times, int64 ns
    cols: dict[str, np.ndarray]
    quote: np.ndarray | None
    long_mean: np.ndarray
    vol_ratio: np.ndarray
    log_close: np.ndarray
    clean: bool

    @classmethod
    def of(cls, frame: pd.DataFrame) -> _Series:
        cols = {
            c: frame[c].to_numpy(dtype="float64")
            for c in ("open", "high", "low", "close", "volume")
        }
        prices = (cols["open"], cols["high"], cols["low"], cols["close"])
        clean = all(np.isfinite(v).all() for v in cols.values()) and not (
            any((p <= 0).any() for p in prices) or (cols["volume"] < 0).any()
        )
        quote = frame["quote_volume"].to_numpy(dtype="float64") if "quote_volume" in frame else None
        with np.errstate(all="ignore"):
            long_mean = RollingSums(cols["close"], LONG_MEAN).mean(LONG_MEAN)
            ratio = volume_ratio(RollingSums(cols["volume"]), VOLUME_LOOKBACK)
            log_close = np.log(cols["close"])
        times = frame.index.as_unit("ns").asi8 if len(frame) else np.zeros(0, np.int64)
        return cls(times, cols, quote, long_mean, ratio, log_close, clean)


def _window_features(s: _Series, ends: np.ndarray) -> list[Features]:
    """The features of the `HISTORY_BARS` bars before each end (ends ≥ HISTORY_BARS)."""
    out: list[Features] = []
    for lo in range(0, ends.size, CHUNK):
        out += _chunk_features(s, ends[lo : lo + CHUNK])
    return out


def _stack(values: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Rows = positions in the window, columns = as-of points (contiguous per row)."""
    return np.ascontiguousarray(sliding_window_view(values, width)[ends - width].T)


def _chunk_features(s: _Series, ends: np.ndarray) -> list[Features]:
    close = _stack(s.cols["close"], ends, HISTORY_BARS)
    trend = _trend_block(
        close, _stack(s.cols["high"], ends, HISTORY_BARS), _stack(s.cols["low"], ends, HISTORY_BARS)
    )
    last = ends - 1
    returns = np.diff(_stack(s.log_close, ends, VOL_LONG + 1), axis=0).T.copy()
    long_sd = returns.std(axis=1)
    short_sd = np.ascontiguousarray(returns[:, -VOL_SHORT:]).std(axis=1)
    highs = sliding_window_view(s.cols["high"], RANGE_BARS)[ends - RANGE_BARS].max(axis=1)
    lows = sliding_window_view(s.cols["low"], RANGE_BARS)[ends - RANGE_BARS].min(axis=1)
    last_close = s.cols["close"][last]
    move = np.log(last_close / s.cols["close"][last - MOMENTUM_BARS])
    direction = np.sign(last_close - s.cols["open"][last])
    rows: list[Features] = []
    for k in range(ends.size):
        f: Features = {"close": float(last_close[k])}
        for span in EMA_SPANS:
            f[f"ema{span}"] = float(trend[f"ema{span}"][k])
        f.update(
            adx=float(trend["adx"][k]),
            plus_di=float(trend["plus_di"][k]),
            minus_di=float(trend["minus_di"][k]),
            rsi=float(trend["rsi"][k]),
        )
        atr = float(trend["atr"][k])
        f["macd_atr"] = float(trend["macd_hist"][k]) / atr if atr > 0 else 0.0
        f["mean_distance"] = float(last_close[k] / s.long_mean[last[k]] - 1.0)
        f["volume_ratio"] = float(s.vol_ratio[last[k]])
        f["bar_direction"] = float(direction[k])
        f["volatility_ratio"], f["momentum_z"] = _returns_pair(
            float(long_sd[k]), float(short_sd[k]), float(move[k])
        )
        top, bottom = float(highs[k]), float(lows[k])
        f["range_position"] = 0.5 if top <= bottom else (f["close"] - bottom) / (top - bottom)
        rows.append(f)
    return rows


def _returns_pair(long_sd: float, short_sd: float, move: float) -> tuple[float, float]:
    """`features._returns_features` from its three inputs."""
    if long_sd <= 0:
        return (1.0 if short_sd <= 0 else np.inf), 0.0
    return short_sd / long_sd, move / (long_sd * np.sqrt(MOMENTUM_BARS))


@dataclass(frozen=True)
class _Row:
    score: Decimal
    confidence: int
    volume: Decimal
    reasons: tuple[str, ...]


def _symbol_rows(
    frame: pd.DataFrame, as_of_ns: np.ndarray, interval_ns: int, floor: Decimal
) -> list[_Row | str]:
    """Per as-of point: the symbol's scored row, or why it is not ranked (`rank._rank_one`)."""
    s = _Series.of(frame)
    ends = s.times.searchsorted(as_of_ns - interval_ns, side="right")
    starts = s.times.searchsorted(as_of_ns - DAY.value, side="left")
    volumes: list[Decimal | str] = []
    items: dict[int, Features | str] = {}
    batch: list[int] = []
    for k, end in enumerate(ends.tolist()):
        verdict = _volume_verdict(s, int(starts[k]), end, floor)
        volumes.append(verdict)
        if isinstance(verdict, str):
            continue
        if s.clean and end >= HISTORY_BARS:
            batch.append(k)
        else:
            items[k] = _single_features(frame, end)
    if batch:
        for k, feats in zip(batch, _window_features(s, ends[batch]), strict=True):
            items[k] = feats
    return [_scored(items.get(k, ""), volume) for k, volume in enumerate(volumes)]


def _volume_verdict(s: _Series, start: int, end: int, floor: Decimal) -> str | Decimal:
    """`rank._quote_volume` and the floor: the 24 h quote volume, or the skip reason."""
    if end == 0:
        return "no closed bar before as-of"
    if s.quote is None:
        return "no quote volume in the 24 h before as-of"
    window = s.quote[min(start, end) : end]
    if window.size == 0 or np.isnan(window).any():
        return "no quote volume in the 24 h before as-of"
    volume = Decimal(f"{float(window.sum()):.2f}")
    if volume < floor:
        return f"24 h quote volume {volume:,.0f} below the floor {floor:,.0f}"
    return volume


def _single_features(frame: pd.DataFrame, end: int) -> Features | str:
    try:
        return compute_features(frame.iloc[max(0, end - HISTORY_BARS) : end])
    except FeatureError as error:
        return str(error)


def _scored(item: Features | str, volume: Decimal | str) -> _Row | str:
    if isinstance(volume, str):
        return volume
    if isinstance(item, str):
        return item
    try:
        result = score(item)
    except FeatureError as error:
        return str(error)
    return _Row(result.bullish_score, result.confidence, volume, result.reasons)


def rank_history(
    frames: Mapping[str, pd.DataFrame],
    *,
    timeframe: str,
    as_of: Sequence[pd.Timestamp],
    min_quote_volume: Decimal = DEFAULT_MIN_QUOTE_VOLUME,
) -> list[Ranking]:
    """`rank_universe(frames, timeframe=..., as_of=t)` for every t of `as_of` (UTC)."""
    if timeframe not in INTERVAL_MS:
        raise ValueError(f"unknown timeframe {timeframe!r}")
    interval_ns = INTERVAL_MS[timeframe] * 1_000_000
    moments = pd.DatetimeIndex(as_of)
    moments = moments.tz_localize("UTC") if moments.tz is None else moments.tz_convert("UTC")
    as_of_ns = moments.as_unit("ns").asi8
    per_symbol = {
        symbol: _symbol_rows(frame, as_of_ns, interval_ns, min_quote_volume)
        for symbol, frame in frames.items()
    }
    return [_ranking(timeframe, moment, k, per_symbol) for k, moment in enumerate(moments)]


def _ranking(
    timeframe: str, moment: pd.Timestamp, k: int, per_symbol: Mapping[str, list[_Row | str]]
) -> Ranking:
    scored: list[tuple[str, _Row]] = []
    failures: list[SymbolFailure] = []
    for symbol, rows in per_symbol.items():
        row = rows[k]
        if isinstance(row, str):
            failures.append(SymbolFailure(symbol, row))
        else:
            scored.append((symbol, row))
    # rank_universe's order: score, confidence, 24 h quote volume (descending), then name.
    scored.sort(key=lambda p: (-p[1].score, -p[1].confidence, -p[1].volume, p[0]))
    ranked = tuple(
        RankedSymbol(i, symbol, row.score, row.confidence, row.volume, row.reasons)
        for i, (symbol, row) in enumerate(scored, start=1)
    )
    return Ranking(timeframe, moment.to_pydatetime(), ranked, tuple(failures))
