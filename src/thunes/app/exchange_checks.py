"""`thunes doctor`'s exchange checks for the configured mode; in `sim` the simulator is started
here, as the daemon would start it, because the exchange boundary must not know it exists."""

from __future__ import annotations

from thunes.config import Mode, Settings
from thunes.exchange.preflight import PreflightCheck, preflight
from thunes.sim import Simulator


async def exchange_checks(settings: Settings) -> list[PreflightCheck]:
    """Reachability, clock drift and key checks; `sim` runs them against a fresh simulator."""
    if settings.mode is not Mode.SIM:
        return await preflight(settings)
    async with Simulator() as simulator:
        return await preflight(settings, simulator.clock, api_url=simulator.api_url)
