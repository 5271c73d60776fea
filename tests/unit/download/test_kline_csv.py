"""The downloaded file: read back strictly, replaced only whole."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.download.stub_history import HOUR_MS, START_MS, bar, hourly
from thunes.market.kline_csv import csv_line, read_existing, temporary_path, write_atomic
from thunes.market.klines import KlineFileError, load_klines


def _lines(count: int) -> list[str]:
    return [csv_line(b.fields()) for b in hourly(count)]


def test_a_missing_file_is_no_existing_data(tmp_path: Path) -> None:
    assert read_existing(tmp_path / "BTCUSDT-1h.csv") is None


def test_an_existing_file_gives_its_span_and_bar_length(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    write_atomic(path, _lines(5))
    existing = read_existing(path)
    assert existing is not None
    assert existing.span == (START_MS, START_MS + 4 * HOUR_MS)
    assert existing.bar_ms == HOUR_MS
    assert existing.lines == _lines(5)
    assert not existing.torn_line_dropped


def test_a_cut_short_last_line_is_dropped_and_said(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    text = "\n".join(_lines(5)) + "\n"
    path.write_text(text[: len(text) - 40])
    existing = read_existing(path)
    assert existing is not None and existing.torn_line_dropped
    assert existing.lines == _lines(4)


def test_a_broken_line_inside_refuses_the_file(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    lines = _lines(5)
    lines[2] = "garbage"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(KlineFileError, match=r"BTCUSDT-1h.csv:3: not a 12-column kline row"):
        read_existing(path)


def test_bars_of_two_lengths_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    rows = [bar(START_MS), bar(START_MS + HOUR_MS, 5 * 60_000)]
    path.write_text("\n".join(csv_line(r.fields()) for r in rows) + "\n")
    with pytest.raises(KlineFileError, match=":2: a bar of another length"):
        read_existing(path)


def test_bars_out_of_order_refuse_the_file(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    path.write_text("\n".join(reversed(_lines(3))) + "\n")
    with pytest.raises(KlineFileError, match=":2: bar out of order"):
        read_existing(path)


def test_the_written_file_is_the_official_layout_the_loader_reads(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    write_atomic(path, _lines(48))
    first = path.read_text().splitlines()[0].split(",")
    assert len(first) == 12 and first[0] == str(START_MS) and first[1] == "100.00000000"
    data = load_klines(path)
    assert data.report.rows == 48 and data.report.interval_ms == HOUR_MS and data.report.clean
    assert not temporary_path(path).exists()


def test_a_write_that_fails_midway_leaves_the_old_file_whole(tmp_path: Path) -> None:
    path = tmp_path / "BTCUSDT-1h.csv"
    write_atomic(path, _lines(3))
    before = path.read_bytes()

    def failing() -> Iterator[str]:
        yield from _lines(10)[:5]
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_atomic(path, failing())
    assert path.read_bytes() == before
