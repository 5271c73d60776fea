"""Look-ahead and warm-up detection: does the live pipeline see the signals the backtest used?

The backtest computes a strategy's signals once over the whole file; the live daemon computes
them at each check over the last `kline_limit` closed bars and reads the last row (see
`thunes.strategy.latest_signal`). Promise 1 holds only if, at every bar t, both agree. This
module replays the live view at chosen cut points (a seeded sample of bars plus every bar where
the backtest enters or starts an exit) and compares it with the whole-file signals.

A difference at bar t is classified by one more computation, over all bars up to t:

* **look-ahead** — the whole-file value at t differs from the value computed on bars up to t:
  the vectorised code used later bars (`shift(-1)`, a centred window, the series' max).
* **warm-up dependence** — bars up to t agree with the whole file, but the live window of
  `kline_limit` bars does not: a recursive indicator (an EMA) still remembers where its history
  began, beyond what the strategy declared in `warmup_bars` / `history_bars`.

Pure: frames in, a report out. No I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from thunes.strategy.base import SignalFrame, Strategy, StrategyError

# The daemon asks the exchange for max(500, history_bars) closed klines, at most 1000 (one
# request); `thunes.app.build.pipeline_config` uses the same numbers (a test checks they agree).
LIVE_MIN_KLINES = 500
LIVE_MAX_KLINES = 1000
DEFAULT_SAMPLES = 500
# Each classification costs one computation over all bars up to t: bound them.
CLASSIFY_LIMIT = 200
COLUMNS = ("entry", "exit", "confidence", "stop")
_RTOL = 1e-9
_ATOL = 1e-12


class Kind(StrEnum):
    LOOK_AHEAD = "look-ahead"
    WARM_UP = "warm-up dependence"


class CheckError(ValueError):
    """The strategy could not be replayed (it raised, or returned arrays of the wrong length)."""


def live_window(strategy: Strategy) -> int:
    """How many closed bars the live daemon passes to this strategy at each check."""
    return min(LIVE_MAX_KLINES, max(LIVE_MIN_KLINES, strategy.history_bars))


@dataclass(frozen=True)
class Finding:
    """The first bar where one column differs, of one kind; `expected` is what live sees."""

    bar: int
    time: pd.Timestamp
    column: str
    kind: Kind
    expected: float
    got: float
    count: int

    def describe(self) -> str:
        return f"{self.kind.value} in {self.column} at {self.time:%Y-%m-%d %H:%M}"


@dataclass(frozen=True)
class CheckReport:
    """What the replay compared and what differed."""

    strategy: str
    bars: int
    window: int
    checked: int
    signal_bars: int
    mismatched: int
    unclassified: int
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        return self.mismatched == 0

    @property
    def kinds(self) -> set[Kind]:
        return {f.kind for f in self.findings}

    @property
    def verdict(self) -> Kind | None:
        """Look-ahead if any bar shows it (the graver flaw), else warm-up dependence, else None."""
        for kind in Kind:
            if kind in self.kinds:
                return kind
        return None

    @property
    def first(self) -> Finding | None:
        """The earliest finding: the bar and column an operator should look at first."""
        if not self.findings:
            return None
        return min(self.findings, key=lambda f: (f.bar, COLUMNS.index(f.column)))

    def summary(self) -> str:
        scope = (
            f"{self.strategy}: {self.checked:,} of {self.bars:,} bars replayed on a live window "
            f"of {self.window} bars ({self.signal_bars:,} signal bars)"
        )
        if self.clean:
            return f"{scope}: clean, the live pipeline sees the backtest's signals"
        kinds = ", ".join(k.value for k in Kind if k in self.kinds)
        first = self.first
        where = f"; first: {first.describe()}" if first is not None else ""
        return f"{scope}: {self.mismatched:,} bars differ ({kinds}){where}"


def check_strategy(
    strategy: Strategy,
    frame: pd.DataFrame,
    *,
    window: int | None = None,
    samples: int = DEFAULT_SAMPLES,
    seed: int = 0,
    classify_limit: int = CLASSIFY_LIMIT,
) -> CheckReport:
    """Replay `strategy` as the live daemon would and compare with its whole-frame signals."""
    window = live_window(strategy) if window is None else window
    bars = len(frame)
    _check_sizes(strategy, bars, window)
    full = _columns(_signals(strategy, frame, bars - 1), bars)
    points, signal_bars = cut_points(full, strategy.warmup_bars - 1, bars, samples, seed)
    live = np.array([live_row(strategy, frame, t, window) for t in points])
    backtest = np.column_stack([full[c][points] for c in COLUMNS]) if points.size else live
    differs = ~_same(live, backtest) if points.size else np.zeros((0, len(COLUMNS)), bool)
    bad = np.flatnonzero(differs.any(axis=1))
    chosen = spread(bad, classify_limit)
    findings = _classify(strategy, frame, full, points, live, differs, chosen)
    return CheckReport(
        strategy=strategy.describe(),
        bars=bars,
        window=window,
        checked=int(points.size),
        signal_bars=signal_bars,
        mismatched=int(bad.size),
        unclassified=max(0, int(bad.size) - classify_limit),
        findings=findings,
    )


def _check_sizes(strategy: Strategy, bars: int, window: int) -> None:
    if window < strategy.warmup_bars:
        raise StrategyError(
            f"a window of {window} bars is below {strategy.name}'s warm-up "
            f"({strategy.warmup_bars} bars): it would never signal"
        )
    if bars < strategy.warmup_bars:
        raise StrategyError(
            f"{bars} bars are fewer than {strategy.name}'s warm-up "
            f"({strategy.warmup_bars} bars): nothing to check"
        )


def cut_points(
    full: dict[str, np.ndarray], start: int, bars: int, samples: int, seed: int
) -> tuple[np.ndarray, int]:
    """(sorted bars to replay, how many of them are signal bars).

    Signal bars are where the whole-frame run enters or an exit begins: the bars a look-ahead
    signal is made of. A seeded sample covers the rest, and the first and last bars are added.
    """
    start = max(start, 0)
    if start >= bars:
        return np.zeros(0, dtype=np.int64), 0
    entries = full["entry"] > 0
    exits = full["exit"] > 0
    onsets = exits & ~np.concatenate(([False], exits[:-1]))
    signal = np.flatnonzero(entries | onsets)
    signal = signal[signal >= start]
    rng = np.random.default_rng(seed)
    pool = bars - start
    sampled = start + rng.choice(pool, size=min(samples, pool), replace=False)
    chosen = np.union1d(np.union1d(signal, sampled), [start, bars - 1])
    return chosen.astype(np.int64), int(signal.size)


def spread(rows: np.ndarray, limit: int) -> np.ndarray:
    """At most `limit` of `rows`: the first half in order, the rest evenly over the remainder.

    The earliest differences name the first bar; the spread ones find a second kind of flaw
    that shows only later in the file.
    """
    if rows.size <= limit:
        return rows
    head = limit // 2
    rest = rows[head:]
    picks = np.unique(np.linspace(0, rest.size - 1, limit - head).round().astype(np.int64))
    return np.concatenate((rows[:head], rest[picks]))


def _signals(strategy: Strategy, frame: pd.DataFrame, bar: int) -> SignalFrame:
    try:
        return strategy.signals(frame)
    except StrategyError:
        raise
    except Exception as exc:
        raise CheckError(
            f"{strategy.name} failed on {len(frame)} bars up to {frame.index[-1]} "
            f"(bar {bar}): {type(exc).__name__}: {exc}"
        ) from exc


def _columns(signals: SignalFrame, bars: int) -> dict[str, np.ndarray]:
    """The compared columns as float arrays (flags as 0/1, no stop as 0)."""
    arrays = {
        "entry": np.asarray(signals.entries, dtype=np.float64),
        "exit": np.asarray(signals.exits, dtype=np.float64),
        "confidence": np.asarray(signals.confidence, dtype=np.float64),
        "stop": _stop_column(signals, bars),
    }
    for name, values in arrays.items():
        if values.shape != (bars,):
            raise CheckError(f"signals column {name} has shape {values.shape}, not ({bars},)")
    return arrays


def _stop_column(signals: SignalFrame, bars: int) -> np.ndarray:
    stop = signals.stop_loss_pct
    if stop is None:
        return np.zeros(bars)
    values = (
        np.broadcast_to(np.asarray(stop, dtype=np.float64), (bars,))
        if np.ndim(stop) == 0
        else np.asarray(stop, dtype=np.float64)
    )
    return np.where(values > 0, values, 0.0)


def live_row(strategy: Strategy, frame: pd.DataFrame, bar: int, window: int) -> np.ndarray:
    """The columns of `bar` computed on the `window` bars ending there, in `COLUMNS` order.

    This is what `latest_signal` reads at a live check whose newest closed bar is `bar`.
    """
    part = frame.iloc[max(0, bar - window + 1) : bar + 1]
    columns = _columns(_signals(strategy, part, bar), len(part))
    return np.array([columns[c][-1] for c in COLUMNS])


def _same(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        close: np.ndarray = np.isclose(a, b, rtol=_RTOL, atol=_ATOL)
    return close | both_nan


def _classify(
    strategy: Strategy,
    frame: pd.DataFrame,
    full: dict[str, np.ndarray],
    points: np.ndarray,
    live: np.ndarray,
    differs: np.ndarray,
    rows: Iterable[int],
) -> tuple[Finding, ...]:
    """First bar and counts per (column, kind), from a computation on all bars up to t."""
    first: dict[tuple[str, Kind], Finding] = {}
    counts: dict[tuple[str, Kind], int] = {}
    for row in rows:
        bar = int(points[row])
        prefix = live_row(strategy, frame, bar, bar + 1)
        for col_index, column in enumerate(COLUMNS):
            if not differs[row, col_index]:
                continue
            got = float(full[column][bar])
            ahead = not _same(np.array([prefix[col_index]]), np.array([got]))[0]
            key = (column, Kind.LOOK_AHEAD if ahead else Kind.WARM_UP)
            counts[key] = counts.get(key, 0) + 1
            if key not in first:
                time = pd.Timestamp(frame.index[bar])
                first[key] = Finding(bar, time, column, key[1], float(live[row, col_index]), got, 0)
    ordered = sorted(first.values(), key=lambda f: (f.bar, COLUMNS.index(f.column)))
    return tuple(
        Finding(f.bar, f.time, f.column, f.kind, f.expected, f.got, counts[(f.column, f.kind)])
        for f in ordered
    )
