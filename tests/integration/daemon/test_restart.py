"""SIGKILL after an entry fill, then restart on the same state: reconciled, nothing duplicated."""

from __future__ import annotations

import signal
from collections import Counter
from decimal import Decimal

import pytest

from tests.helpers import wait_until
from tests.integration.daemon.conftest import START_BOUND_S, DaemonFactory, DaemonProcess

# ETHUSDT's SMA entry is decided at 19:45 on the bundled sample: a few real seconds away.
SIM_START = "2023-02-01T19:30:00"
STEP = Decimal("0.0001")  # ETHUSDT's step size in the bundled exchange rules


def has_fill(factory: DaemonFactory, daemon: DaemonProcess) -> bool:
    assert daemon.proc is not None and daemon.proc.poll() is None, daemon.stderr
    state = factory.state
    return bool(state.open_positions()) or any(row[3] == "FILLED" for row in state.orders())


def reconciled_ok(daemon: DaemonProcess) -> bool:
    assert daemon.proc is not None and daemon.proc.poll() is None, daemon.stderr
    status, body = daemon.health()
    return status in (200, 503) and bool(body["components"]["reconciliation"]["ok"])


@pytest.mark.slow
def test_sigkill_after_a_fill_then_restart_loses_and_duplicates_nothing(
    daemons: DaemonFactory,
) -> None:
    first = daemons.spawn("first", THUNES_SIM_START=SIM_START)
    first.wait_healthy_answer()
    wait_until(lambda: has_fill(daemons, first), timeout=START_BOUND_S, message="an entry fill")
    first.signal(signal.SIGKILL)
    assert first.wait() == -signal.SIGKILL
    orders_at_kill = daemons.state.orders()
    checks_at_kill = len(daemons.state.job_runs("signal_check", "ok"))

    second = daemons.spawn("second", THUNES_SIM_START=SIM_START)
    second.wait_healthy_answer()
    wait_until(lambda: reconciled_ok(second), timeout=START_BOUND_S, message="reconciliation")
    wait_until(
        lambda: len(daemons.state.job_runs("signal_check", "ok")) >= checks_at_kill + 3,
        timeout=START_BOUND_S,
        message="checks after the restart",
    )
    second.signal(signal.SIGTERM)
    assert second.wait() == 0, second.stderr

    exchange = daemons.state.snapshot()
    by_client = Counter(o["client_order_id"] for o in exchange["orders"])
    assert by_client and max(by_client.values()) == 1, by_client  # one order per decision
    stored = {row[0]: row for row in daemons.state.orders()}
    sent = {cid for cid, row in stored.items() if row[4] is not None}
    assert set(by_client) == sent, (by_client, stored)
    for order in exchange["orders"]:
        row = stored[order["client_order_id"]]
        assert row[3] == order["status"], (row, order)
        assert Decimal(row[5]) == Decimal(order["executed_qty"])
    for cid, *_ in orders_at_kill:  # nothing the killed daemon knew was lost
        assert cid in stored

    positions = {s: Decimal(q) for s, q in daemons.state.open_positions().items()}
    for asset in ("BTC", "ETH"):
        balance = exchange["balances"].get(asset, {"free": "0", "locked": "0"})
        held = Decimal(balance["free"]) + Decimal(balance["locked"])
        assert abs(held - positions.get(f"{asset}USDT", Decimal(0))) < STEP, (asset, held)
