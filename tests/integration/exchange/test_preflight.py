"""`thunes doctor`'s exchange checks against the simulator."""

from __future__ import annotations

from pydantic import SecretStr

from thunes.clock import ManualClock
from thunes.config import Settings
from thunes.exchange.preflight import preflight
from thunes.sim import Simulator


def statuses(checks: list) -> dict[str, str]:  # type: ignore[type-arg]
    return {c.name: c.status for c in checks}


async def test_all_green_against_a_healthy_simulator(sim: Simulator, clock: ManualClock) -> None:
    checks = await preflight(Settings(_env_file=None), clock, api_url=sim.api_url)
    assert statuses(checks) == {"exchange reachable": "ok", "clock drift": "ok", "API key": "ok"}


async def test_drift_and_a_refused_key_are_reported(sim: Simulator, clock: ManualClock) -> None:
    sim.faults.skew_clock(2_000)
    settings = Settings(
        _env_file=None, api_key=SecretStr("wrong-key"), api_secret=SecretStr("sim-secret")
    )
    checks = await preflight(settings, clock, api_url=sim.api_url)
    assert statuses(checks) == {
        "exchange reachable": "ok",
        "clock drift": "warn",
        "API key": "fail",
    }
    key = next(c for c in checks if c.name == "API key")
    assert "-2015" in key.detail and "wrong-key" not in key.detail


async def test_unreachable_exchange_fails_fast(sim: Simulator, clock: ManualClock) -> None:
    url = sim.api_url
    await sim.stop()
    checks = await preflight(Settings(_env_file=None), clock, api_url=url)
    assert statuses(checks) == {"exchange reachable": "fail"}


async def test_sim_mode_without_a_url_checks_an_embedded_simulator() -> None:
    checks = await preflight(Settings(_env_file=None))
    assert statuses(checks) == {"exchange reachable": "ok", "clock drift": "ok", "API key": "ok"}
