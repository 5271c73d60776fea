"""State survives a restart of the simulator when a snapshot path is configured."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import aiohttp

from tests.integration.sim.conftest import call
from thunes.sim import Simulator, SimulatorConfig


async def test_restart_against_the_same_exchange(
    sim_config: SimulatorConfig, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    config = dataclasses.replace(sim_config, snapshot_path=tmp_path / "exchange.json")
    buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    resting = {
        "symbol": "ETHUSDT",
        "side": "BUY",
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": "0.1",
        "price": "500.00",
        "newClientOrderId": "keep-1",
    }
    async with Simulator(config) as first:
        await call(http, first, "POST", "/api/v3/order", buy, signed=True)
        await call(http, first, "POST", "/api/v3/order", resting, signed=True)
        before = first.exchange.snapshot()
    assert config.snapshot_path is not None and config.snapshot_path.exists()

    async with Simulator(config) as second:
        assert second.exchange.snapshot() == before
        query = {"symbol": "ETHUSDT", "origClientOrderId": "keep-1"}
        status, order, _ = await call(http, second, "GET", "/api/v3/order", query, signed=True)
        assert (status, order["status"]) == (200, "NEW")
        _, again, _ = await call(http, second, "POST", "/api/v3/order", resting, signed=True)
        assert again["code"] == -2010  # still open, so the client id is still taken
        _, placed, _ = await call(http, second, "POST", "/api/v3/order", buy, signed=True)
        assert placed["orderId"] == 3
        assert second.exchange.balance("USDT").locked == Decimal("50")


async def test_snapshot_round_trip_without_restart(sim: Simulator, tmp_path: Path) -> None:
    target = tmp_path / "state.json"
    sim.save_snapshot(target)
    config = dataclasses.replace(sim.config, snapshot_path=target)
    assert Simulator(config).snapshot() == sim.snapshot()


async def test_every_change_is_persisted_at_once(
    sim_config: SimulatorConfig, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    config = dataclasses.replace(sim_config, snapshot_path=tmp_path / "exchange.json")
    buy = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.01"}
    async with Simulator(config) as running:
        await call(http, running, "POST", "/api/v3/order", buy, signed=True)
        # As if the process were killed now: a fresh simulator reads the file.
        assert Simulator(config).exchange.snapshot() == running.exchange.snapshot()
