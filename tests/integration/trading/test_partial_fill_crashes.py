"""SIGKILL during an exit the thin book fills only in part: nothing lost, nothing doubled.

The crash driver (crash_driver.py: THUNES' real per-symbol check in its own process) enters on
a bar whose book is thinner than its 50 USDT (the entry expires part-filled), is killed at
each crash point of an exit the next bar's book fills only in part, is restarted on that bar,
then runs once more on a bar with a deep book. Afterwards every client order id is on the
exchange once, the store's orders and fills equal the exchange's, every fill is audited, and
the position is closed with only tracked dust left on the exchange.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.sim.thin import bar_time, write_bars
from tests.integration.trading.crash_driver import DB_FILE, SYMBOL
from tests.integration.trading.rig import held
from tests.integration.trading.test_crash_safety import (
    POINTS,
    audit_entries,
    completed,
    killed,
    start_driver,
)
from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig
from thunes.store import AUDIT_FILE, Store, verify_audit
from thunes.trading.dust import DustLedger

WARMUP = 70
ENTRY_BAR, EXIT_BAR, LAST_BAR = WARMUP, WARMUP + 1, WARMUP + 2
VOLUMES = [Decimal(1)] * WARMUP + [Decimal("0.0015"), Decimal("0.001"), Decimal(1), Decimal(1)]


@pytest.fixture
async def thin_sim(tmp_path: Path) -> AsyncIterator[tuple[Simulator, ManualClock]]:
    data = write_bars(tmp_path / "BTCUSDT-5m.csv", Decimal(20000), VOLUMES)
    clock = ManualClock(bar_time(ENTRY_BAR))
    config = SimulatorConfig(data={SYMBOL: data}, clock=clock, stream_interval=3600)
    async with Simulator(config) as simulator:
        yield simulator, clock


def assert_settled(sim: Simulator, state: Path) -> None:
    orders = list(sim.exchange.orders.values())
    ids = Counter(o.client_order_id for o in orders)
    assert all(n == 1 for n in ids.values()), ids
    on_exchange = {o.client_order_id: o for o in orders}
    with Store.open(state / DB_FILE) as store:
        stored = [r for r in store.recent_orders(100) if r.client_order_id in on_exchange]
        assert {r.client_order_id for r in stored} == set(on_exchange)
        for record in stored:
            order = on_exchange[record.client_order_id]
            assert (record.state.value, record.executed_qty) == (order.status, order.executed_qty)
            fills = store.fills_for(record.client_order_id)
            assert sorted(f.trade_id for f in fills) == sorted(order.fills)
        assert store.open_position(SYMBOL) is None
        assert DustLedger(store).get(SYMBOL).quantity == held(sim, "BTC")
        every_fill = {(f.client_order_id, str(f.trade_id))
                      for r in stored for f in store.fills_for(r.client_order_id)}
    audited = {(str(e["data"]["client_order_id"]), str(e["data"]["trade_id"]))
               for e in audit_entries(state) if e["kind"] == "fill"}
    assert every_fill <= audited, every_fill - audited
    assert verify_audit(state / AUDIT_FILE).ok


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
async def test_a_kill_during_a_part_filled_exit_loses_and_doubles_nothing(
    point: str, thin_sim: tuple[Simulator, ManualClock], tmp_path: Path
) -> None:
    sim, clock = thin_sim
    await completed(sim, tmp_path, "enter")
    (buy,) = sim.exchange.orders.values()
    assert buy.status == "EXPIRED" and buy.executed_qty == Decimal("0.0015")
    clock.set(bar_time(EXIT_BAR))
    await killed(await start_driver(sim, tmp_path, "exit", f"exit:{point}"))
    await completed(sim, tmp_path, "exit")  # the restarted daemon, same bar
    clock.set(bar_time(LAST_BAR))
    await completed(sim, tmp_path, "exit")
    sells = [o for o in sim.exchange.orders.values() if o.side == "SELL"]
    assert sells[0].status == "EXPIRED" and sells[0].executed_qty == Decimal("0.001")
    assert [o.status for o in sells] == ["EXPIRED", "FILLED"]  # the remainder: a new attempt
    assert_settled(sim, tmp_path)
