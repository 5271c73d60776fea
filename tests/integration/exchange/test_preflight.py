"""`thunes doctor`'s exchange checks against the simulator."""

from __future__ import annotations

from pathlib import Path

from pydantic import SecretStr

import thunes.exchange
from thunes.app.exchange_checks import exchange_checks
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


async def test_sim_mode_doctor_checks_a_simulator_the_application_starts() -> None:
    checks = await exchange_checks(Settings(_env_file=None))
    assert statuses(checks) == {"exchange reachable": "ok", "clock drift": "ok", "API key": "ok"}


async def test_exchange_preflight_never_starts_a_simulator() -> None:
    """The exchange boundary does not know the simulator: without its address, sim mode fails."""
    checks = await preflight(Settings(_env_file=None))
    assert statuses(checks) == {"exchange reachable": "fail"}


def test_the_exchange_boundary_does_not_import_the_simulator() -> None:
    root = Path(thunes.exchange.__file__).parent
    sources = {path.name: path.read_text() for path in root.glob("*.py")}
    assert [name for name, text in sources.items() if "thunes.sim" in text] == []
