"""Downloads against the simulator over real HTTP: pages, resume, closed bars, weight, gaps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.integration.download.conftest import (
    KlineRequests,
    make_gateway,
    ms,
    universe_files,
)
from thunes.clock import ManualClock
from thunes.data_download import download_symbol
from thunes.exchange.breakers import MARKET_DATA
from thunes.exchange.client import BinanceGateway
from thunes.exchange.ratelimit import RateLimiter
from thunes.exchange.types import BreakerOpenError, TemporaryError
from thunes.market.klines import load_klines
from thunes.sim import Simulator

H = 3_600_000
FROM, TO = ms("2021-01-01T00:00"), ms("2021-04-01T00:00")  # 2,160 hours, three pages


def _simulators_own(sim: Simulator, symbol: str, start: int, end: int) -> str:
    """The simulator's bars opened in [start, end − 1 h], as the official CSV's lines."""
    replay = sim.market.replays[symbol]
    rows = json.loads(replay.klines_json(H, sim.market.now_ms(), start, end - H, 1_000_000))
    return "".join(",".join(str(field) for field in row) + "\n" for row in rows)


async def test_a_download_of_several_pages_equals_the_simulators_own_data(
    sim: Simulator, gateway: BinanceGateway, requests: KlineRequests, tmp_path: Path
) -> None:
    result = await download_symbol(gateway, tmp_path, "BTCUSDT", "1h", FROM, TO)
    text = (tmp_path / "BTCUSDT-1h.csv").read_text()
    assert text == _simulators_own(sim, "BTCUSDT", FROM, TO)
    assert result.requests == len(requests.starts) == 3
    assert requests.starts[0] == FROM
    # The same bars as the real data file the simulator replays.
    source = load_klines(universe_files()["BTCUSDT"]).frame
    source = source[(source.index >= "2021-01-01") & (source.index < "2021-04-01")]
    downloaded = load_klines(tmp_path / "BTCUSDT-1h.csv").frame
    assert list(downloaded.index) == list(source.index)
    assert (downloaded["close"] == source["close"]).all()


async def test_a_resumed_download_after_a_shorter_run_fetches_only_the_missing_pages(
    gateway: BinanceGateway, requests: KlineRequests, tmp_path: Path
) -> None:
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    await download_symbol(gateway, whole, "BTCUSDT", "1h", FROM, TO)
    short_to = ms("2021-01-20T00:00")
    await download_symbol(gateway, resumed, "BTCUSDT", "1h", FROM, short_to)
    requests.reset()
    result = await download_symbol(gateway, resumed, "BTCUSDT", "1h", FROM, TO)
    # 2021-01-20 → 2021-04-01 is 1,704 hours: two pages, starting where the file stopped
    # (the second an hour later than a full grid would say: 2021-02-11 04:00 is a halt).
    assert requests.starts == [short_to, short_to + 1001 * H]
    assert result.kept == 456 and result.fetched == result.rows - 456
    assert (resumed / "BTCUSDT-1h.csv").read_bytes() == (whole / "BTCUSDT-1h.csv").read_bytes()


async def test_a_download_killed_midway_resumes_from_the_files_last_whole_bar(
    gateway: BinanceGateway, requests: KlineRequests, tmp_path: Path
) -> None:
    whole, killed = tmp_path / "whole", tmp_path / "killed"
    await download_symbol(gateway, whole, "BTCUSDT", "1h", FROM, TO)
    killed.mkdir()
    lines = (whole / "BTCUSDT-1h.csv").read_text().splitlines(keepends=True)
    # A kill after 1,500 bars, even one that cut the next line short.
    (killed / "BTCUSDT-1h.csv").write_text("".join(lines[:1500]) + lines[1500][:30])
    last_kept = int(lines[1499].split(",")[0])
    requests.reset()
    result = await download_symbol(gateway, killed, "BTCUSDT", "1h", FROM, TO)
    assert requests.starts == [last_kept + H]
    assert result.torn_line_dropped and result.kept == 1500
    assert (killed / "BTCUSDT-1h.csv").read_bytes() == (whole / "BTCUSDT-1h.csv").read_bytes()
    requests.reset()
    await download_symbol(gateway, killed, "BTCUSDT", "1h", FROM, TO)
    assert requests.starts == []


async def test_only_closed_bars_are_written(
    gateway: BinanceGateway, clock: ManualClock, requests: KlineRequests, tmp_path: Path
) -> None:
    later = ms("2021-05-03T00:00")  # past the exchange's now (2021-05-01 00:30)
    await download_symbol(gateway, tmp_path, "ETHUSDT", "1h", ms("2021-04-30T00:00"), later)
    path = tmp_path / "ETHUSDT-1h.csv"
    last = path.read_text().splitlines()[-1].split(",")
    assert int(last[0]) == ms("2021-04-30T23:00")
    assert int(last[6]) < clock.time_ms()
    clock.advance(3600)  # the 00:00 bar closes
    requests.reset()
    result = await download_symbol(gateway, tmp_path, "ETHUSDT", "1h", ms("2021-04-30T00:00"), later)
    assert requests.starts == [ms("2021-05-01T00:00")] and result.fetched == 1
    assert int(path.read_text().splitlines()[-1].split(",")[0]) == ms("2021-05-01T00:00")


async def test_the_exchanges_gaps_are_reported(gateway: BinanceGateway, tmp_path: Path) -> None:
    result = await download_symbol(
        gateway, tmp_path, "BTCUSDT", "1h", ms("2021-04-15T00:00"), ms("2021-05-01T00:00")
    )
    assert result.report is not None
    assert (result.report.gaps, result.report.missing_bars) == (2, 5)
    assert [f"{t:%Y-%m-%d %H:%M}" for t in result.report.gap_starts] == [
        "2021-04-20 02:00", "2021-04-25 05:00",
    ]


async def test_a_small_weight_budget_paces_the_pages_and_reports_its_peak(
    sim: Simulator, clock: ManualClock, tmp_path: Path
) -> None:
    limiter = RateLimiter(clock, weight_limit=5, margin=0.0)  # two pages a minute
    gateway = make_gateway(sim, clock, limiter)
    peaks: list[int] = []
    start = clock.time()
    try:
        result = await download_symbol(
            gateway, tmp_path, "BTCUSDT", "1h", ms("2020-01-01T00:00"), TO,
            after_request=lambda: peaks.append(limiter.used_weight),
        )
    finally:
        await gateway.close()
    assert result.requests == 11 and max(peaks) <= limiter.weight_budget == 5
    assert clock.time() - start >= 5 * 60  # it waited for the budget instead of a 429
    assert result.rows == load_klines(tmp_path / "BTCUSDT-1h.csv").report.rows


async def test_the_simulator_pages_klines_as_binance_does(gateway: BinanceGateway) -> None:
    """startTime and endTime bound open times, both inclusive; limit caps; gaps are skipped."""
    page = await gateway.klines_between("BTCUSDT", "1h", FROM, TO, limit=1000)
    assert len(page) == 1000 and page[0].open_time == FROM
    nxt = await gateway.klines_between("BTCUSDT", "1h", page[-1].open_time + H, TO, limit=1000)
    assert nxt[0].open_time == page[-1].open_time + H
    mid_bar = await gateway.klines_between("BTCUSDT", "1h", FROM + 1, FROM + 3 * H, limit=1000)
    assert [r.open_time for r in mid_bar] == [FROM + H, FROM + 2 * H, FROM + 3 * H]
    in_gap = await gateway.klines_between(
        "BTCUSDT", "1h", ms("2021-04-20T02:00"), ms("2021-04-20T05:00"), limit=1000
    )
    assert [r.open_time for r in in_gap] == [ms("2021-04-20T04:00"), ms("2021-04-20T05:00")]
    assert await gateway.klines_between("BTCUSDT", "1h", TO, FROM, limit=1000) == []


async def test_pages_go_through_the_market_data_breaker(
    gateway: BinanceGateway, requests: KlineRequests, tmp_path: Path
) -> None:
    await download_symbol(gateway, tmp_path, "BTCUSDT", "1h", FROM, ms("2021-02-01T00:00"))
    before = (tmp_path / "BTCUSDT-1h.csv").read_bytes()
    for _ in range(5):
        gateway.breakers.record(MARKET_DATA, TemporaryError("503"))
    requests.reset()
    with pytest.raises(BreakerOpenError):
        await download_symbol(gateway, tmp_path, "BTCUSDT", "1h", FROM, TO)
    assert requests.starts == []
    assert (tmp_path / "BTCUSDT-1h.csv").read_bytes() == before
