"""SIGKILL inside the real per-symbol check, on entries and on exits: nothing lost, nothing doubled.

The driver (crash_driver.py) runs THUNES' own check (`PaperTrader.run_strategy`: reconciliation,
then `check_symbol`) with the real RiskManager, Store, audit trail and gateway, in a process of
its own; the simulator runs here, so the exchange's state survives the kill. Each test kills the
driver once — at one of the executor's crash points, or from outside while the simulator has
executed a create-order request whose answer has not come back — then runs it again without a
kill point, as a restarted daemon would, and checks the state against the exchange:

* every client order id is on the exchange at most once, and each decision has one order;
* the store's orders equal the exchange's (state and executed quantity, every fill recorded);
* the position plus the tracked dust equals the exchange's base balance;
* every fill in the store has its `fill` entry in the audit trail, and the trail verifies;
* a closed losing position has its cool-down recorded (the close and `record_exit` went
  together).
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import eventually
from tests.integration.trading.crash_driver import DB_FILE, SYMBOL
from tests.integration.trading.rig import held
from thunes.domain import ZERO, OrderState
from thunes.sim import Simulator
from thunes.store import AUDIT_FILE, Store, verify_audit
from thunes.trading.dust import DustLedger
from thunes.trading.orders import never_reached

ROOT = Path(__file__).resolve().parents[3]
DRIVER = "tests.integration.trading.crash_driver"
POINTS = [
    "after_intent",
    "after_sent",
    "request_in_flight",
    "after_response_before_fill_record",
    "after_fill_before_audit",
    "after_fill_before_position",
    "inside_position_update",
]
DRIVER_TIMEOUT = 60.0


async def start_driver(
    sim: Simulator, state: Path, steps: str, crash_at: str | None = None,
    **extra_env: str,
) -> asyncio.subprocess.Process:
    env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0", **extra_env}
    if crash_at:
        env["THUNES_CRASH_AT"] = crash_at
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", DRIVER, sim.api_url, str(state), steps, cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )


async def killed(proc: asyncio.subprocess.Process) -> None:
    """The driver died by SIGKILL (not by an error, not by finishing)."""
    out, err = await asyncio.wait_for(proc.communicate(), timeout=DRIVER_TIMEOUT)
    assert proc.returncode == -signal.SIGKILL, (proc.returncode, out.decode(), err.decode()[-3000:])


async def completed(
    sim: Simulator, state: Path, steps: str, **extra_env: str
) -> list[dict[str, str]]:
    """Run the driver to its end (no kill point); every check ends without an error."""
    proc = await start_driver(sim, state, steps, **extra_env)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=DRIVER_TIMEOUT)
    assert proc.returncode == 0, err.decode()[-3000:]
    done: list[dict[str, str]] = json.loads(out.decode().strip().splitlines()[-1])["steps"]
    assert all(step["outcome"] != "error" for step in done), done
    return done


def audit_entries(state: Path) -> list[dict[str, Any]]:
    lines = (state / AUDIT_FILE).read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def assert_consistent(sim: Simulator, state: Path, *, closed: bool) -> None:
    """The invariants a restart must restore (see the module docstring)."""
    orders = list(sim.exchange.orders.values())
    ids = Counter(o.client_order_id for o in orders)
    assert all(n == 1 for n in ids.values()), f"a client order id sent twice: {ids}"
    # One entry decision and, when it closed, one exit decision: one order each.
    sides = Counter(o.side for o in orders)
    assert sides == (Counter(BUY=1, SELL=1) if closed else Counter(BUY=1)), sides
    on_exchange = {o.client_order_id: o for o in orders}

    with Store.open(state / DB_FILE) as store:
        stored = store.recent_orders(1000)
        assert set(on_exchange) <= {r.client_order_id for r in stored}
        for record in stored:
            order = on_exchange.get(record.client_order_id)
            if order is None:  # an attempt that provably never reached the exchange
                assert record.state in (OrderState.REJECTED, OrderState.EXPIRED), record
                assert never_reached(record.error), record
                assert store.fills_for(record.client_order_id) == []
                continue
            assert (record.state.value, record.executed_qty) == (order.status, order.executed_qty)
            fills = store.fills_for(record.client_order_id)
            assert sum((f.quantity for f in fills), ZERO) == order.executed_qty > 0

        position = store.open_position(SYMBOL)
        dust = DustLedger(store).get(SYMBOL)
        tracked = (position.quantity if position is not None else ZERO) + dust.quantity
        assert tracked == held(sim, "BTC"), (position, dust)

        every_fill = {(f.client_order_id, str(f.trade_id))
                      for r in stored for f in store.fills_for(r.client_order_id)}
        entries = audit_entries(state)
        audited = {(str(e["data"]["client_order_id"]), str(e["data"]["trade_id"]))
                   for e in entries if e["kind"] == "fill"}
        assert every_fill and every_fill <= audited, every_fill - audited
        verdict = verify_audit(state / AUDIT_FILE)
        assert verdict.ok, verdict.summary()

        if closed:
            assert position is None
            (done,) = store.closed_positions()
            # Bought at the ask and sold at the bid, both with fees: a loss, so a cool-down.
            assert done.realized_pnl < 0
            assert SYMBOL in store.risk_state().cooldowns
            rules = sim.market.rules[SYMBOL]
            assert ZERO <= held(sim, "BTC") < rules.step_size  # only dust below one step is left
        else:
            assert position is not None and position.quantity > 0
            assert store.closed_positions() == []
            assert SYMBOL not in store.risk_state().cooldowns


async def wait_for_order(sim: Simulator, side: str) -> None:
    """Until the simulator holds (has executed) an order on `side`."""
    await eventually(lambda: any(o.side == side for o in sim.exchange.orders.values()),
                     timeout=DRIVER_TIMEOUT, message=f"the simulator never got the {side}")


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
async def test_a_kill_during_an_entry_leaves_one_order_and_a_matching_position(
    point: str, live_sim: Simulator, tmp_path: Path
) -> None:
    await killed(await start_driver(live_sim, tmp_path, "enter", f"enter:{point}"))
    await completed(live_sim, tmp_path, "enter")
    assert_consistent(live_sim, tmp_path, closed=False)


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
async def test_a_kill_during_an_exit_leaves_one_order_per_decision_and_a_closed_position(
    point: str, live_sim: Simulator, tmp_path: Path
) -> None:
    await killed(await start_driver(live_sim, tmp_path, "enter,exit", f"exit:{point}"))
    assert held(live_sim, "BTC") > 0  # the entry went through before the kill
    await completed(live_sim, tmp_path, "exit")
    assert_consistent(live_sim, tmp_path, closed=True)


@pytest.mark.slow
async def test_a_kill_while_an_entry_request_is_in_flight_adopts_the_executed_order(
    live_sim: Simulator, tmp_path: Path
) -> None:
    # The simulator executes the order but holds the answer back: the driver is still waiting.
    live_sim.faults.lose_order_response(n=1, hang=DRIVER_TIMEOUT)
    proc = await start_driver(live_sim, tmp_path, "enter")
    await wait_for_order(live_sim, "BUY")
    proc.kill()
    await killed(proc)
    with Store.open(tmp_path / DB_FILE) as store:
        (record,) = store.recent_orders(10)
        assert record.state is OrderState.SENT and store.open_position(SYMBOL) is None
    await completed(live_sim, tmp_path, "enter")
    assert_consistent(live_sim, tmp_path, closed=False)


@pytest.mark.slow
async def test_a_kill_while_an_exit_request_is_in_flight_adopts_the_executed_order(
    live_sim: Simulator, tmp_path: Path
) -> None:
    await completed(live_sim, tmp_path, "enter")
    live_sim.faults.lose_order_response(n=1, hang=DRIVER_TIMEOUT)
    proc = await start_driver(live_sim, tmp_path, "exit")
    await wait_for_order(live_sim, "SELL")
    proc.kill()
    await killed(proc)
    with Store.open(tmp_path / DB_FILE) as store:
        sells = [r for r in store.recent_orders(10) if str(r.side) == "SELL"]
        assert [r.state for r in sells] == [OrderState.SENT]
        assert store.open_position(SYMBOL) is not None
    await completed(live_sim, tmp_path, "exit")
    assert_consistent(live_sim, tmp_path, closed=True)
