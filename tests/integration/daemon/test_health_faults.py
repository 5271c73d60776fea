"""In-process daemon on the embedded simulator: a silent stream and a stopped exchange.

`/health` must turn 503 with the reason while the fault lasts and 200 once it is gone; the
daemon keeps running throughout, trades nothing while the exchange is away, and recovers alone.
"""

from __future__ import annotations

import time
from typing import Any

import aiohttp
import pytest

from tests.helpers import eventually
from tests.integration.daemon.conftest import Running
from thunes.orchestration.daemon import DaemonState
from thunes.orchestration.job_runs import RunStatus
from thunes.orchestration.sim_runtime import sim_data, weight_scale
from thunes.sim import Simulator, SimulatorConfig

FAULT_BOUND_S = 15.0  # staleness (3 real s), watchdog and reconnect backoff (5 real s) in sim mode


async def health(session: aiohttp.ClientSession, running: Running) -> tuple[int, dict[str, Any]]:
    async with session.get(running.health_url) as response:
        return response.status, await response.json()


async def wait_status(
    session: aiohttp.ClientSession, running: Running, wanted: int
) -> dict[str, Any]:
    async def answered() -> dict[str, Any] | None:
        status, body = await health(session, running)
        return body if status == wanted else None

    result: dict[str, Any] = await eventually(
        answered, timeout=FAULT_BOUND_S, interval=0.05, message=f"/health {wanted}"
    )
    return result


def last_check(running: Running) -> Any:
    return running.daemon.c.health_probes.last_runs.get("signal_check")


async def started(start: Any, **overrides: Any) -> Running:
    running: Running = await start(**overrides)
    await eventually(lambda: running.daemon.health_server is not None, timeout=FAULT_BOUND_S)
    await eventually(
        lambda: running.daemon.checks_completed >= 1, timeout=FAULT_BOUND_S, message="a check"
    )
    return running


@pytest.mark.slow
async def test_health_turns_503_while_the_stream_is_silent(start_inprocess: Any) -> None:
    running = await started(start_inprocess)
    faults = running.built.sim.simulator.faults if running.built.sim else None
    assert faults is not None
    async with aiohttp.ClientSession() as session:
        await wait_status(session, running, 200)
        faults.silence_streams(True)
        body = await wait_status(session, running, 503)
        assert "stream" in body["unhealthy"]
        assert not all(body["components"]["stream"]["detail"]["fresh"].values())
        assert running.daemon.state is DaemonState.RUNNING
        faults.silence_streams(False)
        body = await wait_status(session, running, 200)
        assert all(body["components"]["stream"]["detail"]["fresh"].values())


def restarted_simulator(running: Running, port: int) -> Simulator:
    """A new simulator on the old port continuing the saved account on the shared clock."""
    settings, sim = running.built.settings, running.built.sim
    assert sim is not None
    return Simulator(
        SimulatorConfig(
            data=sim_data(settings),
            clock=sim.clock,
            fee_rate=settings.sim_fee_rate,
            weight_limit=int(6000 * weight_scale(settings)),
            snapshot_path=sim.snapshot_path,
        )
    )


@pytest.mark.slow
async def test_a_stopped_exchange_stops_trading_and_the_daemon_recovers(
    start_inprocess: Any,
) -> None:
    running = await started(start_inprocess, breaker_fail_max=2, breaker_reset_seconds=2.0)
    built, daemon = running.built, running.daemon
    assert built.sim is not None
    port = built.sim.simulator.port
    orders_before = built.store.count_orders()
    exchange_orders = len(built.sim.simulator.exchange.orders)
    async with aiohttp.ClientSession() as session:
        await wait_status(session, running, 200)

        await built.sim.simulator.stop()
        stopped_at = built.clock.now()
        body = await wait_status(session, running, 503)
        await eventually(
            lambda: (run := last_check(running)) is not None
            and run.finished_at > stopped_at
            and run.status in (RunStatus.FAILED, RunStatus.SKIPPED),
            timeout=FAULT_BOUND_S,
            message="a failed or skipped check while the exchange is down",
        )
        body = await wait_status(session, running, 503)  # still unhealthy, with the reason
        reasons = set(body["unhealthy"])
        assert reasons & {"breakers", "stream", "reconciliation"}, body
        assert daemon.state is DaemonState.RUNNING
        assert built.store.count_orders() == orders_before  # no order intent while it is away

        replacement = restarted_simulator(running, port)
        await replacement.start(port=port)
        built.sim.simulator = replacement  # the app's closer stops the live one
        restarted_at = built.clock.now()
        assert len(replacement.exchange.orders) == exchange_orders  # the same account came back
        await wait_status(session, running, 200)
        await eventually(
            lambda: (run := last_check(running)) is not None
            and run.status is RunStatus.OK
            and run.finished_at > restarted_at,
            timeout=FAULT_BOUND_S,
            message="a successful check after the exchange returned",
        )
        began = time.monotonic()
        await wait_status(session, running, 200)
        assert time.monotonic() - began < FAULT_BOUND_S
