"""`thunes doctor`'s exchange checks for the configured mode; in `sim` the simulator is started
here, as the daemon would start it, because the exchange boundary must not know it exists."""

from __future__ import annotations

import dataclasses

from thunes.config import Mode, Settings
from thunes.exchange.preflight import PreflightCheck, preflight
from thunes.sim import Simulator


async def exchange_checks(settings: Settings) -> list[PreflightCheck]:
    """Reachability, clock drift and key checks; `sim` runs them against a fresh simulator."""
    if settings.mode is Mode.PAPER:
        return await _paper_checks(settings)
    if settings.mode is not Mode.SIM:
        return await preflight(settings)
    async with Simulator() as simulator:
        return await preflight(settings, simulator.clock, api_url=simulator.api_url)


async def _paper_checks(settings: Settings) -> list[PreflightCheck]:
    """Paper: the checks against a paper exchange over the configured source, its wallet kept
    in memory (doctor writes nothing into the state directory)."""
    from pydantic import SecretStr

    from thunes.paper import PaperExchange
    from thunes.paper.runtime import paper_config

    config = dataclasses.replace(paper_config(settings), snapshot_path=None, poll_seconds=0)
    async with PaperExchange(config) as paper:
        local = settings.model_copy(
            update={
                "api_key": SecretStr(paper.config.api_key),
                "api_secret": SecretStr(paper.config.api_secret),
            }
        )
        return await preflight(local, api_url=paper.api_url)
