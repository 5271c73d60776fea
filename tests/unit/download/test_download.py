"""The downloader's rules against a hand-written exchange: pages, resume, refusals, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.download.stub_history import HOUR_MS, START_MS, StubHistory, bar, hourly
from thunes.data_download import DownloadRefused, download_symbol
from thunes.exchange.types import KlineRow, TemporaryError
from thunes.market.kline_csv import csv_line, write_atomic

END_MS = START_MS + 2500 * HOUR_MS  # 2,500 bars: three pages


def _expected(rows: list[KlineRow]) -> str:
    return "".join(csv_line(r.fields()) + "\n" for r in rows)


async def test_a_range_of_three_pages_takes_three_requests(tmp_path: Path) -> None:
    stub = StubHistory(hourly(3000))
    result = await download_symbol(stub, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert result.requests == 3 and result.fetched == 2500 and result.rows == 2500
    assert (tmp_path / "BTCUSDT-1h.csv").read_text() == _expected(hourly(2500))
    assert [c[0] for c in stub.calls] == [START_MS + i * 1000 * HOUR_MS for i in range(3)]
    assert {c[1] for c in stub.calls} == {END_MS - HOUR_MS}


async def test_a_rerun_of_a_complete_file_sends_nothing(tmp_path: Path) -> None:
    await download_symbol(StubHistory(hourly(3000)), tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    again = StubHistory(hourly(3000))
    result = await download_symbol(again, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert again.calls == [] and result.fetched == 0 and result.kept == 2500


async def test_a_longer_rerun_fetches_only_the_bars_after_the_file(tmp_path: Path) -> None:
    short_end = START_MS + 1200 * HOUR_MS
    await download_symbol(StubHistory(hourly(3000)), tmp_path, "BTCUSDT", "1h", START_MS, short_end)
    stub = StubHistory(hourly(3000))
    result = await download_symbol(stub, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert [c[0] for c in stub.calls] == [short_end, short_end + 1000 * HOUR_MS]
    assert result.fetched == 1300 and result.kept == 1200
    assert (tmp_path / "BTCUSDT-1h.csv").read_text() == _expected(hourly(2500))


async def test_an_earlier_start_fetches_only_the_bars_before_the_file(tmp_path: Path) -> None:
    late = START_MS + 500 * HOUR_MS
    await download_symbol(StubHistory(hourly(3000)), tmp_path, "BTCUSDT", "1h", late, END_MS)
    stub = StubHistory(hourly(3000))
    result = await download_symbol(stub, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert stub.calls == [(START_MS, late - 1, 1000)]
    assert result.fetched == 500
    assert (tmp_path / "BTCUSDT-1h.csv").read_text() == _expected(hourly(2500))


async def test_exchange_gaps_are_kept_and_reported(tmp_path: Path) -> None:
    stub = StubHistory(hourly(3000, skip=frozenset({10, 11, 1500})))
    result = await download_symbol(stub, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert result.report is not None
    assert (result.report.gaps, result.report.missing_bars) == (2, 3)
    assert [int(t.timestamp() * 1000) for t in result.report.gap_starts] == [
        START_MS + 10 * HOUR_MS, START_MS + 1500 * HOUR_MS,
    ]
    # A rerun does not try to fill the exchange's own holes.
    again = StubHistory(stub.bars)
    await download_symbol(again, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert again.calls == []


async def test_an_outage_midway_keeps_every_page_already_fetched(tmp_path: Path) -> None:
    stub = StubHistory(hourly(3000), fail_after=2)
    with pytest.raises(TemporaryError):
        await download_symbol(stub, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert (tmp_path / "BTCUSDT-1h.csv").read_text() == _expected(hourly(2000))
    resumed = StubHistory(hourly(3000))
    result = await download_symbol(resumed, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert len(resumed.calls) == 1 and result.fetched == 500
    assert (tmp_path / "BTCUSDT-1h.csv").read_text() == _expected(hourly(2500))


async def test_the_file_is_saved_every_few_pages(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    seen: list[int] = []

    def look() -> None:
        seen.append(len(path.read_text().splitlines()) if path.exists() else 0)

    stub = StubHistory(hourly(3000))
    await download_symbol(
        stub, tmp_path, "BTCUSDT", "1h", START_MS, END_MS, limit=100, checkpoint_pages=10,
        after_request=look,
    )
    assert seen[:10] == [0] * 10 and seen[10] == 1000 and seen[20] == 2000
    assert len(path.read_text().splitlines()) == 2500


async def test_an_outage_before_the_file_adds_nothing_before_it(tmp_path: Path) -> None:
    late = START_MS + 2000 * HOUR_MS
    await download_symbol(StubHistory(hourly(3000)), tmp_path, "BTCUSDT", "1h", late, END_MS)
    before = (tmp_path / "BTCUSDT-1h.csv").read_bytes()
    with pytest.raises(TemporaryError):
        await download_symbol(
            StubHistory(hourly(3000), fail_after=1), tmp_path, "BTCUSDT", "1h", START_MS, END_MS
        )
    assert (tmp_path / "BTCUSDT-1h.csv").read_bytes() == before


async def test_another_intervals_file_of_the_symbol_is_refused(tmp_path: Path) -> None:
    write_atomic(tmp_path / "BTCUSDT-5m.csv", [csv_line(bar(START_MS, 300_000).fields())])
    stub = StubHistory(hourly(10))
    with pytest.raises(DownloadRefused, match=r"BTCUSDT-5m\.csv holds 5m bars"):
        await download_symbol(stub, tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert stub.calls == []
    # Another symbol's 5m file is no conflict.
    await download_symbol(stub, tmp_path, "ETHUSDT", "1h", START_MS, START_MS + 10 * HOUR_MS)


async def test_a_target_file_holding_another_interval_is_refused(tmp_path: Path) -> None:
    rows = [bar(START_MS + i * 4 * HOUR_MS, 4 * HOUR_MS) for i in range(3)]
    write_atomic(tmp_path / "BTCUSDT-1h.csv", [csv_line(r.fields()) for r in rows])
    with pytest.raises(DownloadRefused, match="holds 4h bars, not 1h"):
        await download_symbol(StubHistory(hourly(10)), tmp_path, "BTCUSDT", "1h", START_MS, END_MS)


async def test_a_range_with_no_bars_writes_no_file(tmp_path: Path) -> None:
    result = await download_symbol(StubHistory([]), tmp_path, "BTCUSDT", "1h", START_MS, END_MS)
    assert result.report is None and result.requests == 1
    assert not (tmp_path / "BTCUSDT-1h.csv").exists()
