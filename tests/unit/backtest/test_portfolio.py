"""The portfolio engine on small hand-made frames: one cash balance, the live entry rules."""

from __future__ import annotations

import numpy as np
import pandas as pd

from thunes.backtest.engine import simulate
from thunes.backtest.portfolio import SymbolInput, Universe, run_portfolio
from thunes.backtest.types import REASON_END, REASON_SIGNAL, REASON_STOP, BacktestConfig
from thunes.strategy.base import Bars, SignalFrame

START = pd.Timestamp("2024-01-01", tz="UTC")
BARS = 10


def config(**overrides: object) -> BacktestConfig:
    values: dict[str, object] = {
        "fee_rate": 0.0,
        "initial_cash": 100.0,
        "quote_amount": 10.0,
        "stop_loss_pct": 0.0,
        "cooldown_seconds": 0.0,
        "daily_loss_limit": None,
    }
    values.update(overrides)
    return BacktestConfig(**values)  # type: ignore[arg-type]


def item(
    symbol: str,
    enter: list[int],
    leave: list[int],
    *,
    opens: list[float] | None = None,
    start: int = 0,
    bars: int = BARS,
) -> SymbolInput:
    """Bars from hour `start`; signals at the given local bars (fills at the next open)."""
    index = pd.date_range(START + pd.Timedelta(hours=start), periods=bars, freq="h")
    price = np.array(opens if opens is not None else [100.0] * bars)
    frame = Bars(index, price, price, price, price, np.ones(bars))
    entries, exits = np.zeros(bars, bool), np.zeros(bars, bool)
    entries[enter], exits[leave] = True, True
    return SymbolInput(symbol, frame, SignalFrame(entries, exits, np.ones(bars)))


def traded(run: object) -> list[tuple[str, int, int, int]]:
    return [(t.symbol, t.row[0], t.row[1], t.row[8]) for t in run.trades]  # type: ignore[attr-defined]


def test_one_cash_balance_refuses_entries_it_cannot_pay() -> None:
    items = [item(s, [1], [6]) for s in ("AAAUSDT", "BBBUSDT", "CCCUSDT")]
    run = run_portfolio(items, config(initial_cash=25.0), max_open_positions=3)
    assert [t[0] for t in traded(run)] == ["AAAUSDT", "BBBUSDT"]
    assert run.refusals["cash"] == 1
    assert run.equity[-1] == 25.0


def test_max_positions_hold_across_symbols() -> None:
    items = [item(s, [1], [6]) for s in ("AAAUSDT", "BBBUSDT", "CCCUSDT")]
    run = run_portfolio(items, config(), max_open_positions=2)
    assert sorted(t[0] for t in traded(run)) == ["AAAUSDT", "BBBUSDT"]
    assert run.refusals["max_positions"] == 1


def test_an_exit_frees_its_slot_for_a_later_symbol_of_the_same_check() -> None:
    first = item("AAAUSDT", [0], [3])  # exits at bar 4's open
    second = item("BBBUSDT", [3], [8])  # enters at bar 4's open, after AAA in the check
    run = run_portfolio([first, second], config(), max_open_positions=1)
    assert traded(run) == [("AAAUSDT", 1, 4, REASON_SIGNAL), ("BBBUSDT", 4, 9, REASON_SIGNAL)]


def test_a_symbol_dropped_from_the_universe_keeps_its_exit() -> None:
    ns = pd.date_range(START, periods=2, freq="3h").as_unit("ns").asi8
    universe = Universe(ns, (frozenset({"AAAUSDT"}), frozenset({"BBBUSDT"})))
    items = [item("AAAUSDT", [1, 7], [5]), item("BBBUSDT", [7], [8])]
    run = run_portfolio(items, config(), max_open_positions=3, universe=universe)
    # AAA entered while ranked, exited at bar 6 after it dropped out, never re-entered.
    assert traded(run) == [("AAAUSDT", 2, 6, REASON_SIGNAL), ("BBBUSDT", 8, 9, REASON_SIGNAL)]
    assert run.refusals["not_in_universe"] == 1


def test_a_dropped_symbol_keeps_its_stop_loss() -> None:
    ns = pd.date_range(START, periods=2, freq="3h").as_unit("ns").asi8
    universe = Universe(ns, (frozenset({"AAAUSDT"}), frozenset()))
    opens = [100.0] * 5 + [90.0] * 5
    run = run_portfolio(
        [item("AAAUSDT", [1], [], opens=opens)],
        config(stop_loss_pct=0.03),
        max_open_positions=3,
        universe=universe,
    )
    assert traded(run) == [("AAAUSDT", 2, 5, REASON_STOP)]


def test_the_better_ranked_symbol_takes_the_last_free_slot() -> None:
    ns = pd.date_range(START, periods=1, freq="h").as_unit("ns").asi8
    universe = Universe(ns, (("BBBUSDT", "AAAUSDT"),))  # BBB ranked first
    items = [item("AAAUSDT", [0], [5]), item("BBBUSDT", [0], [5])]
    run = run_portfolio(items, config(), max_open_positions=1, universe=universe)
    assert traded(run) == [("BBBUSDT", 1, 6, REASON_SIGNAL)]
    assert run.refusals["max_positions"] == 1


def test_a_dropped_symbols_exit_comes_after_the_leaders_entries() -> None:
    ns = pd.date_range(START, periods=2, freq="2h").as_unit("ns").asi8
    universe = Universe(ns, (("AAAUSDT",), ("BBBUSDT",)))
    # AAA (dropped at hour 2) exits at bar 4's open, where BBB (a leader) wants to enter: the
    # daemon checks the leaders first, so the slot is still taken.
    items = [item("AAAUSDT", [0], [3]), item("BBBUSDT", [3], [8])]
    run = run_portfolio(items, config(), max_open_positions=1, universe=universe)
    assert traded(run) == [("AAAUSDT", 1, 4, REASON_SIGNAL)]
    assert run.refusals["max_positions"] == 1


def test_a_symbol_is_never_entered_before_its_listing() -> None:
    early = item("AAAUSDT", [1], [8])
    late = item("NEWUSDT", [0, 2], [5], start=5, bars=7)  # listed at hour 5
    run = run_portfolio([early, late], config(), max_open_positions=3)
    assert ("NEWUSDT", 1, 6, REASON_SIGNAL) in traded(run)
    new = next(t for t in run.trades if t.symbol == "NEWUSDT")
    assert run.inputs["NEWUSDT"].bars.index[new.row[0]] == START + pd.Timedelta(hours=6)
    assert len(run.equity) == 12  # the common timeline spans both symbols


def test_cool_down_is_per_symbol() -> None:
    loser = [100.0, 100.0, 90.0, 90.0, 90.0, 90.0, 90.0, 90.0, 90.0, 90.0]
    items = [item("AAAUSDT", [0, 2], [1], opens=loser), item("BBBUSDT", [2], [6])]
    run = run_portfolio(items, config(cooldown_seconds=7200.0), max_open_positions=3)
    # AAA lost at bar 2; its re-entry at bar 3 waits (until bar 4), BBB enters at bar 3.
    assert traded(run) == [("AAAUSDT", 1, 2, REASON_SIGNAL), ("BBBUSDT", 3, 7, REASON_SIGNAL)]
    assert run.refusals["cooldown"] == 1


def test_daily_loss_limit_stops_entries_of_every_symbol() -> None:
    loser = [100.0, 100.0, 50.0] + [50.0] * 7
    items = [item("AAAUSDT", [0], [1], opens=loser), item("BBBUSDT", [3], [6])]
    run = run_portfolio(items, config(daily_loss_limit=4.0), max_open_positions=3)
    assert traded(run) == [("AAAUSDT", 1, 2, REASON_SIGNAL)]
    assert run.refusals["daily_loss_limit"] == 1


def test_a_position_open_at_the_end_closes_at_the_last_close() -> None:
    run = run_portfolio([item("AAAUSDT", [2], [])], config(), max_open_positions=1)
    assert traded(run) == [("AAAUSDT", 3, 9, REASON_END)]


def test_one_symbol_alone_trades_as_the_single_symbol_backtest() -> None:
    rng = np.random.default_rng(3)
    opens = list(100 * np.exp(np.cumsum(rng.normal(0, 0.02, 300))))
    enter = sorted(rng.choice(300, 40, replace=False).tolist())
    leave = sorted(set(rng.choice(300, 40, replace=False).tolist()) - set(enter))
    one = item("AAAUSDT", enter, leave, opens=opens, bars=300)
    rules = config(
        stop_loss_pct=0.03,
        cooldown_seconds=3600.0,
        daily_loss_limit=5.0,
        fee_rate=0.001,
        initial_cash=1000.0,
    )
    single = simulate(one.bars, one.signals, rules).trades
    run = run_portfolio([one], rules, max_open_positions=1)
    rows = np.array([t.row[:8] for t in run.trades])
    assert rows.shape[0] == len(single)
    np.testing.assert_array_equal(rows[:, 0], single.entry_bar)
    np.testing.assert_array_equal(rows[:, 1], single.exit_bar)
    np.testing.assert_allclose(rows[:, 7], single.pnl)
    np.testing.assert_allclose(run.equity[-1], 1000.0 + single.pnl.sum())
