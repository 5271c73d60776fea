"""The vectorised engine against a deliberately simple bar-by-bar reference of the same rules.

Rules (thunes.strategy.base): signal on bar i's close, fill at bar i+1's open; entry only when
flat and the entry passes the confidence threshold; exit when in position and exit is set; stop
on the bar's low at the stop price (or the open when it gapped below); fees on both sides;
slippage against the trader; an open position is closed at the last close.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from thunes.backtest import BacktestConfig, run_backtest, simulate
from thunes.market.klines import load_klines, sample_path
from thunes.strategy import SignalFrame, get_strategy

SAMPLES = (
    "BTCUSDT-5m-2023Q1.csv.gz",
    "ETHUSDT-5m-2023Q1.csv.gz",
    "BTCUSDT-1h-spot.csv.gz",
    "ETHUSDT-1h-spot.csv.gz",
)
REL = 1e-9


@dataclass
class RefTrade:
    entry_bar: int
    exit_bar: int
    entry_price: float
    exit_price: float
    quantity: float
    pnl: float
    reason: str


def reference_backtest(
    opens: list[float],
    lows: list[float],
    closes: list[float],
    entries: list[bool],
    exits: list[bool],
    stop_pct: float | None,
    fee: float,
    slippage_bps: float,
    cash: float,
    quote_amount: float | None,
    step: float | None,
) -> tuple[list[RefTrade], float]:
    """Walk the bars one by one, exactly as a trader following the rules would."""
    slip = slippage_bps / 10_000
    n = len(closes)
    pending_entry = pending_exit = False
    qty = entry_price = stop = 0.0
    entry_bar = -1
    in_position = False
    trades: list[RefTrade] = []

    def close_position(bar: int, raw_price: float, reason: str) -> None:
        nonlocal cash, in_position
        price = raw_price * (1 - slip)
        proceeds = qty * price
        cash += proceeds - proceeds * fee
        pnl = proceeds - proceeds * fee - qty * entry_price - qty * entry_price * fee
        trades.append(RefTrade(entry_bar, bar, entry_price, price, qty, pnl, reason))
        in_position = False

    for i in range(n):
        if pending_exit:
            close_position(i, opens[i], "signal")
            pending_exit = False
        if pending_entry:
            pending_entry = False
            price = opens[i] * (1 + slip)
            budget = quote_amount if quote_amount is not None else cash / (1 + fee)
            q = budget / price
            if step is not None:
                q = math.floor(q / step + 1e-9) * step
            if q > 0:
                qty, entry_price, entry_bar, in_position = q, price, i, True
                cash -= q * price + q * price * fee
                stop = price * (1 - stop_pct) if stop_pct else 0.0
        if in_position and stop_pct and lows[i] <= stop:
            close_position(i, min(opens[i], stop), "stop_loss")
        if in_position and exits[i]:
            pending_exit = i + 1 < n
        elif not in_position and entries[i] and not exits[i] and i + 1 < n:
            pending_entry = True
    if in_position:
        close_position(n - 1, closes[n - 1], "end_of_data")
    return trades, cash


def reference_sma_signals(
    closes: list[float], fast: int, slow: int
) -> tuple[list[bool], list[bool]]:
    """Entries on upward crossovers of exact decimal moving averages; exits while below."""
    prices = [Decimal(repr(c)) for c in closes]

    def above(i: int, sign: int) -> bool:
        f = sum(prices[i - fast + 1 : i + 1]) * slow
        s = sum(prices[i - slow + 1 : i + 1]) * fast
        return (f - s) * sign > 0

    entries = [False] * len(closes)
    exits = [False] * len(closes)
    for i in range(slow, len(closes)):
        entries[i] = above(i, 1) and not above(i - 1, 1)
        exits[i] = above(i, -1)
    return entries, exits


@functools.cache
def _frame(name: str) -> pd.DataFrame:
    return load_klines(sample_path(name)).frame


def _assert_same(
    result_trades: pd.DataFrame,
    final: float,
    ref: list[RefTrade],
    ref_cash: float,
    index: pd.DatetimeIndex,
) -> None:
    assert len(result_trades) == len(ref)
    assert len(ref) > 0
    got_entry = result_trades["entry_time"].to_numpy()
    assert list(got_entry) == [index[t.entry_bar] for t in ref]
    assert list(result_trades["exit_time"]) == [index[t.exit_bar] for t in ref]
    assert list(result_trades["exit_reason"]) == [t.reason for t in ref]
    for column, attr in (
        ("entry_price", "entry_price"),
        ("exit_price", "exit_price"),
        ("quantity", "quantity"),
        ("pnl", "pnl"),
    ):
        np.testing.assert_allclose(
            result_trades[column].to_numpy(), [getattr(t, attr) for t in ref], rtol=REL, atol=1e-9
        )
    assert final == pytest.approx(ref_cash, rel=REL)


@pytest.mark.parametrize("sample", SAMPLES)
def test_sma_matches_reference_signals_and_trades(sample: str) -> None:
    frame = _frame(sample).iloc[:6000]
    strategy = get_strategy("sma", fast=20, slow=50)
    config = BacktestConfig(fee_rate=0.001, min_confidence=0.0)
    result = run_backtest(strategy, frame, config)
    closes = frame["close"].tolist()
    entries, exits = reference_sma_signals(closes, 20, 50)
    signals = strategy.signals(frame)
    assert signals.entries.tolist() == entries
    assert signals.exits.tolist() == exits
    ref, cash = reference_backtest(
        frame["open"].tolist(),
        frame["low"].tolist(),
        closes,
        entries,
        exits,
        None,
        0.001,
        0.0,
        config.initial_cash,
        None,
        None,
    )
    _assert_same(result.trades, result.metrics.final_equity, ref, cash, frame.index)


CASES = [
    ("sma", {"fast": 20, "slow": 50}, BacktestConfig()),
    ("sma", {"fast": 10, "slow": 40, "stop_loss_pct": 0.01}, BacktestConfig(slippage_bps=5)),
    ("rsi", {}, BacktestConfig()),
    ("rsi", {}, BacktestConfig(quote_amount=100.0, slippage_bps=3, min_confidence=0.3)),
    ("rsi", {"stop_loss_pct": 0.0}, BacktestConfig(step_size=0.001, fee_rate=0.00075)),
    ("sma", {"fast": 5, "slow": 20}, BacktestConfig(quote_amount=50.0, step_size=0.0001)),
]


@pytest.mark.parametrize("sample", SAMPLES)
@pytest.mark.parametrize(("name", "params", "config"), CASES)
def test_engine_matches_reference_on_real_data(
    sample: str, name: str, params: dict[str, float], config: BacktestConfig
) -> None:
    frame = _frame(sample)
    strategy = get_strategy(name, **params)
    result = run_backtest(strategy, frame, config)
    signals = strategy.signals(frame)
    stop = signals.stop_at(0)
    ref, cash = reference_backtest(
        frame["open"].tolist(),
        frame["low"].tolist(),
        frame["close"].tolist(),
        signals.accepted_entries(config.min_confidence).tolist(),
        signals.exits.tolist(),
        stop,
        config.fee_rate,
        config.slippage_bps,
        config.initial_cash,
        config.quote_amount,
        config.step_size,
    )
    _assert_same(result.trades, result.metrics.final_equity, ref, cash, frame.index)
    assert result.equity.iloc[-1] == pytest.approx(cash, rel=REL)


@pytest.mark.parametrize("seed", range(8))
def test_engine_matches_reference_on_random_signals(seed: int) -> None:
    """Dense random flags, gaps through stops, signals on the last bar: the edge cases."""
    rng = np.random.default_rng(seed)
    n = 400
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opens = np.concatenate(([100.0], closes[:-1])) * np.exp(rng.normal(0, 0.01, n))
    lows = np.minimum(opens, closes) * (1 - np.abs(rng.normal(0, 0.01, n)))
    entries = rng.random(n) < 0.2
    exits = (rng.random(n) < 0.1) & ~entries
    entries[-1] = seed % 2 == 0
    if seed >= 4:
        exits[-40:] = False  # leave a position open: closed at the last close
    confidence = rng.choice([0.0, 0.3, 1.0, 1.3], n)
    stop = [None, 0.02][seed % 2]
    quote = [None, 25.0][(seed // 2) % 2]
    step = [None, 0.01][(seed // 4) % 2]
    config = BacktestConfig(fee_rate=0.001, slippage_bps=2, quote_amount=quote, step_size=step)
    signals = SignalFrame(entries=entries, exits=exits, confidence=confidence, stop_loss_pct=stop)
    sim = simulate(opens, lows, closes, signals, config)
    ref, cash = reference_backtest(
        opens.tolist(),
        lows.tolist(),
        closes.tolist(),
        signals.accepted_entries(0.5).tolist(),
        exits.tolist(),
        stop,
        0.001,
        2,
        10_000.0,
        quote,
        step,
    )
    assert sim.trades.entry_bar.tolist() == [t.entry_bar for t in ref]
    assert sim.trades.exit_bar.tolist() == [t.exit_bar for t in ref]
    np.testing.assert_allclose(sim.trades.pnl, [t.pnl for t in ref], rtol=REL, atol=1e-9)
    assert sim.equity[-1] == pytest.approx(cash, rel=REL)


def test_entry_too_small_for_the_step_size_is_not_a_trade() -> None:
    """Rounding 25 quote at ~100 down to whole units gives 0: no order, still flat."""
    n = 60
    closes = np.linspace(100.0, 110.0, n)
    opens, lows = closes.copy(), closes * 0.999
    entries = np.zeros(n, dtype=bool)
    exits = np.zeros(n, dtype=bool)
    entries[[5, 20]] = True
    exits[[10, 30]] = True
    signals = SignalFrame(entries=entries, exits=exits, confidence=np.ones(n))
    tiny = BacktestConfig(quote_amount=25.0, step_size=1.0)
    assert len(simulate(opens, lows, closes, signals, tiny).trades) == 0
    enough = BacktestConfig(quote_amount=250.0, step_size=1.0)
    sim = simulate(opens, lows, closes, signals, enough)
    assert sim.trades.entry_bar.tolist() == [6, 21]
    assert sim.trades.quantity.tolist() == [2.0, 2.0]
    ref, cash = reference_backtest(
        opens.tolist(),
        lows.tolist(),
        closes.tolist(),
        entries.tolist(),
        exits.tolist(),
        None,
        0.001,
        0.0,
        10_000.0,
        250.0,
        1.0,
    )
    assert [t.quantity for t in ref] == [2.0, 2.0]
    assert sim.equity[-1] == pytest.approx(cash, rel=REL)


def test_trades_convert_to_decimal_rounded_to_the_step() -> None:
    frame = _frame("BTCUSDT-1h-spot.csv.gz")
    config = BacktestConfig(quote_amount=100.0, step_size=0.00001)
    result = run_backtest(get_strategy("sma"), frame, config)
    trades = result.trade_list()
    assert len(trades) == result.metrics.trades > 0
    first = trades[0].as_decimal()
    assert isinstance(first["quantity"], Decimal) and isinstance(first["pnl"], Decimal)
    assert first["quantity"] % Decimal("0.00001") == 0
    assert first["quantity"] * Decimal(str(trades[0].entry_price)) <= Decimal("100")
    assert sum(t.pnl for t in trades) == pytest.approx(result.metrics.final_equity - 10_000.0)


@st.composite
def _market(draw: st.DrawFn) -> tuple[np.ndarray, ...]:
    n = draw(st.integers(min_value=2, max_value=60))
    prices = st.integers(min_value=100, max_value=20_000)
    closes = np.array(draw(st.lists(prices, min_size=n, max_size=n)), dtype=float) / 100
    opens = np.array(draw(st.lists(prices, min_size=n, max_size=n)), dtype=float) / 100
    dips = np.array(draw(st.lists(st.integers(0, 800), min_size=n, max_size=n))) / 10_000
    lows = np.minimum(opens, closes) * (1 - dips)
    flags = st.lists(st.sampled_from([0, 0, 1, 2, 3]), min_size=n, max_size=n)
    kinds = np.array(draw(flags))  # 3: both flags on one bar, where exit wins
    return opens, lows, closes, (kinds == 1) | (kinds == 3), kinds >= 2


@settings(max_examples=80, deadline=None)
@given(
    market=_market(),
    stop=st.sampled_from([None, 0.01, 0.05]),
    quote=st.sampled_from([None, 40.0]),
    step=st.sampled_from([None, 0.1]),
    slippage=st.sampled_from([0.0, 7.0]),
)
def test_engine_matches_reference_for_any_market(
    market: tuple[np.ndarray, ...],
    stop: float | None,
    quote: float | None,
    step: float | None,
    slippage: float,
) -> None:
    opens, lows, closes, entries, exits = market
    config = BacktestConfig(slippage_bps=slippage, quote_amount=quote, step_size=step)
    signals = SignalFrame(entries, exits, np.ones(entries.size), stop)
    sim = simulate(opens, lows, closes, signals, config)
    ref, cash = reference_backtest(
        opens.tolist(),
        lows.tolist(),
        closes.tolist(),
        entries.tolist(),
        exits.tolist(),
        stop,
        0.001,
        slippage,
        10_000.0,
        quote,
        step,
    )
    assert sim.trades.entry_bar.tolist() == [t.entry_bar for t in ref]
    assert sim.trades.exit_bar.tolist() == [t.exit_bar for t in ref]
    assert [("signal", "stop_loss", "end_of_data")[r] for r in sim.trades.reason] == [
        t.reason for t in ref
    ]
    # Markets here may lose 99.99 % of the capital: compare against the capital's scale, where
    # both sides carry rounding residues of about one ulp of the initial cash.
    scale = 1e-9 * 10_000.0
    np.testing.assert_allclose(sim.trades.pnl, [t.pnl for t in ref], rtol=REL, atol=scale)
    assert sim.equity[-1] == pytest.approx(cash, rel=REL, abs=scale)
