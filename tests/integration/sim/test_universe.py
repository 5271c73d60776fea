"""The simulator serving a whole folder: the 22-symbol 1h universe, staggered listings included."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from thunes.cli import sim as sim_command
from thunes.clock import ManualClock
from thunes.sim import Simulator, SimulatorConfig
from thunes.sim.universe import DataDirError, folder_data

UNIVERSE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_spot_1h_universe"
)
# Inside the common window (every symbol listed), half an hour into a bar.
COMMON = datetime(2021, 5, 1, 0, 30, tzinfo=UTC).timestamp()
AVAX_FIRST_MS = 1_600_754_400_000  # AVAXUSDT's first bar: 2020-09-22 06:00 UTC


@pytest.fixture
def folder() -> dict[str, Path]:
    assert UNIVERSE.is_dir(), f"{UNIVERSE} is missing: the data set should sit beside the repo"
    return folder_data(UNIVERSE)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(COMMON)


@pytest.fixture
async def sim(folder: dict[str, Path], clock: ManualClock) -> AsyncIterator[Simulator]:
    config = SimulatorConfig(data=folder, clock=clock, stream_interval=3600)
    async with Simulator(config, wire_clock=clock) as simulator:
        yield simulator


async def _get(sim: Simulator, path: str, **params: Any) -> tuple[int, Any]:
    url = f"{sim.api_url}/v3/{path}"
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as response:
        return response.status, await response.json()


def test_folder_data_reads_one_file_per_symbol(folder: dict[str, Path]) -> None:
    assert len(folder) == 22
    assert folder["AVAXUSDT"].name == "AVAXUSDT_1h.csv"
    assert list(folder) == sorted(folder)


def test_folder_with_two_files_of_one_symbol_is_refused(tmp_path: Path) -> None:
    for name in ("BTCUSDT_1h.csv", "BTCUSDT-1h-2022.csv"):
        (tmp_path / name).write_text("Open Time,Open,High,Low,Close,Volume\n")
    with pytest.raises(DataDirError, match="BTCUSDT has two files"):
        folder_data(tmp_path)


async def test_exchange_info_lists_all_22_symbols(sim: Simulator) -> None:
    status, info = await _get(sim, "exchangeInfo")
    assert status == 200
    assert {s["symbol"] for s in info["symbols"]} == set(folder_data(UNIVERSE))
    assert all(s["status"] == "TRADING" for s in info["symbols"])


async def test_tickers_24hr_have_quote_volume_for_every_symbol(sim: Simulator) -> None:
    status, tickers = await _get(sim, "ticker/24hr")
    assert status == 200 and len(tickers) == 22
    assert all(float(t["quoteVolume"]) > 0 for t in tickers)


async def test_klines_serve_every_symbol_closed_bars(sim: Simulator) -> None:
    for symbol in folder_data(UNIVERSE):
        status, bars = await _get(sim, "klines", symbol=symbol, interval="1h", limit=3)
        assert status == 200 and len(bars) == 3, symbol
        assert bars[-2][0] == int(COMMON * 1000) - 30 * 60_000 - 3_600_000  # the last closed


async def test_a_symbol_is_not_listed_before_its_first_bar(
    sim: Simulator, clock: ManualClock
) -> None:
    clock.set(AVAX_FIRST_MS / 1000 - 1)
    _, info = await _get(sim, "exchangeInfo")
    assert "AVAXUSDT" not in {s["symbol"] for s in info["symbols"]}
    _, tickers = await _get(sim, "ticker/24hr")
    assert "AVAXUSDT" not in {t["symbol"] for t in tickers} and len(tickers) == 21
    status, error = await _get(sim, "klines", symbol="AVAXUSDT", interval="1h")
    assert (status, error["code"]) == (400, -1121)


async def test_a_symbol_is_listed_from_its_first_bar(sim: Simulator, clock: ManualClock) -> None:
    clock.set(AVAX_FIRST_MS / 1000 + 1)
    _, info = await _get(sim, "exchangeInfo")
    assert "AVAXUSDT" in {s["symbol"] for s in info["symbols"]}
    status, bars = await _get(
        sim, "klines", symbol="AVAXUSDT", interval="1h", startTime=AVAX_FIRST_MS - 86_400_000
    )
    assert status == 200 and [b[0] for b in bars] == [AVAX_FIRST_MS]  # nothing before it


async def test_streams_of_an_unlisted_symbol_stay_silent(
    sim: Simulator, clock: ManualClock
) -> None:
    clock.set(AVAX_FIRST_MS / 1000 - 60)
    async with aiohttp.ClientSession() as session:
        url = f"{sim.ws_url}/stream?streams=avaxusdt@kline_1h/btcusdt@kline_1h"
        async with session.ws_connect(url) as ws:
            await sim.publish_tick()
            first = await ws.receive_json(timeout=5)
            assert first["stream"] == "btcusdt@kline_1h"
            clock.advance(120)  # AVAXUSDT lists
            await sim.publish_tick()
            streams = {(await ws.receive_json(timeout=5))["stream"] for _ in range(2)}
            assert streams == {"avaxusdt@kline_1h", "btcusdt@kline_1h"}


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="thunes")
    sim_command.register(parser.add_subparsers())
    return parser.parse_args(argv)


def test_thunes_sim_data_dir_serves_the_folder() -> None:
    problems, config = sim_command._problems_and_config(_parse(["sim", "--data-dir", str(UNIVERSE)]))
    assert problems == [] and config is not None
    assert len(config.data) == 22


def test_thunes_sim_data_dir_missing_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _parse(["sim", "--data-dir", str(tmp_path / "nope")])
    assert args.handler(args) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"--data-dir {tmp_path / 'nope'}: no such folder"
    ]
