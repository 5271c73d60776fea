"""`build_gateway` points python-binance at the simulator, testnet or live by mode."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from thunes.clock import ManualClock
from thunes.config import Mode, Settings
from thunes.exchange.factory import build_gateway

KEYS = {"api_key": SecretStr("k"), "api_secret": SecretStr("s")}


async def endpoint(settings: Settings, api_url: str | None = None) -> str:
    clock, wire = ManualClock(0.0), ManualClock(5.0)
    gateway = await build_gateway(settings, clock, api_url=api_url, wire_clock=wire)
    try:
        assert gateway.limiter.weight_budget == int(
            settings.rest_weight_limit * (1 - settings.rest_weight_margin)
        )
        assert gateway.wire_clock is wire and gateway.clock is clock
        return str(gateway.client._create_api_uri("ping", False))
    finally:
        await gateway.close()


async def test_each_mode_has_its_endpoint() -> None:
    sim = await endpoint(Settings(_env_file=None), api_url="http://127.0.0.1:9/api/")
    assert sim == "http://127.0.0.1:9/api/v3/ping"
    testnet = await endpoint(Settings(_env_file=None, mode=Mode.TESTNET, **KEYS))
    assert testnet == "https://testnet.binance.vision/api/v3/ping"
    live = Settings(_env_file=None, mode=Mode.LIVE, live_confirm=True, **KEYS)
    assert await endpoint(live) == "https://api.binance.com/api/v3/ping"


async def test_sim_mode_needs_the_simulator_url_and_uses_its_keys() -> None:
    with pytest.raises(ValueError):
        await build_gateway(Settings(_env_file=None), ManualClock(0.0))
    gateway = await build_gateway(
        Settings(_env_file=None), ManualClock(0.0), api_url="http://x/api"
    )
    try:
        assert gateway.client.API_KEY == "sim-key"
    finally:
        await gateway.close()
