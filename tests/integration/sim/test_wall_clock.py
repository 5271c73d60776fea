"""`thunes sim --clock wall`: exchange time is now, and the replayed data is moved to it."""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import AsyncIterator
from decimal import Decimal

import aiohttp
import pytest

from tests.integration.sim.conftest import call
from thunes.cli import sim as sim_command
from thunes.clock import ManualClock, SystemClock
from thunes.sim import Simulator, SimulatorConfig
from thunes.sim.wallclock import WEEK_MS, wall_clock_config

# 2026-03-04 15:27:13.250 UTC, a Wednesday: three years after the bundled data.
NOW_MS = 1_772_638_033_250
HOUR_MS = 3_600_000


@pytest.fixture
async def wall() -> AsyncIterator[Simulator]:
    config = wall_clock_config(SimulatorConfig(stream_interval=3600), ManualClock(NOW_MS / 1000))
    async with Simulator(config) as simulator:
        yield simulator


async def test_wall_clock_serves_a_day_of_klines_since_now_minus_a_day(
    wall: Simulator, http: aiohttp.ClientSession
) -> None:
    _, time, _ = await call(http, wall, "GET", "/api/v3/time")
    assert time["serverTime"] == NOW_MS
    since = {"symbol": "BTCUSDT", "interval": "1h", "startTime": NOW_MS - 24 * HOUR_MS}
    status, bars, _ = await call(http, wall, "GET", "/api/v3/klines", since)
    assert status == 200 and len(bars) == 24
    assert bars[0][0] == (NOW_MS - 23 * HOUR_MS) // HOUR_MS * HOUR_MS
    assert bars[-1][0] <= NOW_MS <= bars[-1][6]
    assert abs(Decimal(bars[-1][4]) - wall.price("BTCUSDT")) < Decimal("0.01")
    _, trades, _ = await call(http, wall, "GET", "/api/v3/trades", {"symbol": "BTCUSDT"})
    assert NOW_MS - 60_000 < trades[-1]["time"] <= NOW_MS


async def test_wall_clock_shift_keeps_weekdays_and_the_warm_up(wall: Simulator) -> None:
    shift = wall.config.shift_ms
    assert shift > 0 and shift % WEEK_MS == 0
    replay = wall.market.replays["BTCUSDT"]
    into_data = NOW_MS - replay.first_open_ms
    assert 30 * 86_400_000 <= into_data < 37 * 86_400_000


async def test_wall_clock_orders_trade_at_the_shifted_price(
    wall: Simulator, http: aiohttp.ClientSession
) -> None:
    order = {"symbol": "BTCUSDT", "side": "BUY", "type": "MARKET", "quantity": "0.001"}
    status, body, _ = await call(http, wall, "POST", "/api/v3/order", order, signed=True)
    assert status == 200 and body["transactTime"] == NOW_MS


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="thunes")
    sim_command.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_thunes_sim_clock_wall_runs_on_the_system_clock() -> None:
    problems, config = sim_command._problems_and_config(_parse(["sim", "--clock", "wall"]))
    assert problems == [] and config is not None
    assert isinstance(config.clock, SystemClock) and config.shift_ms % WEEK_MS == 0
    default = dataclasses.replace(config, clock=None, shift_ms=0)
    assert default.resolved_clock().time() < 1_700_000_000


@pytest.mark.parametrize(
    ("argv", "problem"),
    [
        (["--start", "2023-02-01"], "--start cannot be used with --clock wall"),
        (["--speed", "600"], "--speed cannot be used with --clock wall"),
    ],
)
def test_thunes_sim_clock_wall_refuses_a_replay_time(argv: list[str], problem: str) -> None:
    problems, config = sim_command._problems_and_config(_parse(["sim", "--clock", "wall", *argv]))
    assert config is None and problems == [problem]
