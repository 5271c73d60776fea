"""SIGKILL at many points of the order path: after restart, one order per decision, no drift.

The driver (crash_driver.py) is a separate process that kills itself at a chosen point; the
simulator runs here, so the exchange's state survives the kill. The driver is then run again
without the kill point: it reconciles and re-makes the same decisions.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.sim import Simulator
from thunes.store import Store

DRIVER = Path(__file__).with_name("crash_driver.py")
POINTS = ["after_intent", "after_sent", "after_response_before_fill_record", "after_fill_before_position"]


async def run_driver(sim: Simulator, db: Path, decisions: str, crash_at: str | None) -> tuple[int, dict[str, object] | None]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
    if crash_at:
        env["THUNES_CRASH_AT"] = crash_at
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(DRIVER), sim.api_url, str(db), decisions,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    if proc.returncode == 0:
        return 0, json.loads(out.decode().strip().splitlines()[-1])
    assert proc.returncode == -signal.SIGKILL, err.decode()[-2000:]
    return proc.returncode, None


def exchange_orders(sim: Simulator) -> Counter[str]:
    return Counter(o.client_order_id for o in sim.exchange.orders.values())


@pytest.mark.slow
@pytest.mark.parametrize("point", POINTS)
async def test_a_kill_during_an_entry_leaves_one_order_and_a_matching_position(
    point: str, live_sim: Simulator, tmp_path: Path
) -> None:
    db = tmp_path / "thunes.db"
    code, _ = await run_driver(live_sim, db, "enter", point)
    assert code == -signal.SIGKILL
    code, result = await run_driver(live_sim, db, "enter", None)
    assert code == 0 and result is not None and result["reconciled"], result
    assert result["states"] == {"enter": "FILLED"}
    orders = exchange_orders(live_sim)
    assert list(orders.values()) == [1], orders
    held = live_sim.exchange.balance("BTC").free + live_sim.exchange.balance("BTC").locked
    assert Decimal(str(result["position"])) == held > 0
    with Store.open(db) as store:
        assert len(store.fills_for(next(iter(orders)))) == 1


@pytest.mark.slow
@pytest.mark.parametrize("point", [f"{p}#2" for p in POINTS])
async def test_a_kill_during_an_exit_leaves_one_order_per_decision_and_a_closed_position(
    point: str, live_sim: Simulator, tmp_path: Path
) -> None:
    db = tmp_path / "thunes.db"
    code, _ = await run_driver(live_sim, db, "enter,exit", point)
    assert code == -signal.SIGKILL
    code, result = await run_driver(live_sim, db, "enter,exit", None)
    assert code == 0 and result is not None and result["reconciled"], result
    assert result["states"] == {"enter": "FILLED", "exit": "FILLED"}
    orders = exchange_orders(live_sim)
    assert sorted(orders.values()) == [1, 1], orders
    assert result["position"] is None and len(result["closed"]) == 1  # type: ignore[arg-type]
    held = live_sim.exchange.balance("BTC").free
    rules = live_sim.market.rules["BTCUSDT"]
    assert 0 <= held < rules.step_size  # only dust below one step is left
