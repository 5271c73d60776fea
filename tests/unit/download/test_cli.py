"""`thunes download` / `thunes list-data` refusals: one line on stderr, exit 2, nothing made."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.unit.download.stub_history import START_MS, bar, hourly
from thunes.cli import main
from thunes.market.kline_csv import csv_line, write_atomic
from thunes.market.klines import sample_path

GOOD = ["download", "--symbols", "BTCUSDT", "--interval", "1h", "--from", "2023-01-01"]


@pytest.fixture(autouse=True)
def workdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("THUNES_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def _parser_refuses(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    return _one_line(capsys)


def test_from_after_to_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*GOOD, "--to", "2022-12-31", "--out", "out"]) == 2
    assert "--from" in _one_line(capsys)
    assert not (workdir / "out").exists()


def test_an_unknown_interval_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = _parser_refuses([*GOOD, "--interval", "7m", "--out", "out"], capsys)
    assert "--interval" in line and "7m" in line


def test_a_bad_time_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = _parser_refuses(["download", "--symbols", "BTCUSDT", "--from", "soon", "--out", "o"],
                           capsys)
    assert "--from" in line and "ISO" in line


def test_a_bad_symbol_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    line = _parser_refuses(["download", "--symbols", "BTC/USDT", "--from", "2023-01-01",
                            "--out", "o"], capsys)
    assert "--symbols" in line


def test_an_unwritable_out_is_refused(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = workdir / "a-file"
    blocker.write_text("not a directory")
    assert main([*GOOD, "--out", str(blocker / "out")]) == 2
    assert "--out" in _one_line(capsys)


def test_a_folder_with_another_interval_of_the_symbol_is_refused_before_any_request(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workdir / "out"
    out.mkdir()
    write_atomic(out / "BTCUSDT-5m.csv", [csv_line(bar(START_MS, 300_000).fields())])
    assert main([*GOOD, "--out", str(out)]) == 2
    assert "refusing to mix intervals" in _one_line(capsys)
    assert [p.name for p in out.iterdir()] == ["BTCUSDT-5m.csv"]


def test_list_data_of_a_missing_folder_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list-data", "nowhere"]) == 2
    assert "not a directory" in _one_line(capsys)


def test_list_data_reads_every_format_the_loader_reads(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = workdir / "data"
    folder.mkdir()
    shutil.copy(sample_path("BTCUSDT-1h-spot.csv.gz"), folder / "BTCUSDT-1h-spot.csv.gz")
    write_atomic(folder / "ETHUSDT-1h.csv", [csv_line(b.fields()) for b in hourly(30)])
    (folder / "XRPUSDT-1h.csv").write_text("not,kline,data\n")
    (folder / ".ETHUSDT-1h.csv.partial").write_text("an unfinished write\n")
    assert main(["list-data", str(folder), "--json"]) == 0
    listed = {f["file"]: f for f in json.loads(capsys.readouterr().out)}
    assert sorted(listed) == ["BTCUSDT-1h-spot.csv.gz", "ETHUSDT-1h.csv", "XRPUSDT-1h.csv"]
    assert listed["ETHUSDT-1h.csv"]["rows"] == 30 and listed["ETHUSDT-1h.csv"]["gaps"] == 0
    assert listed["BTCUSDT-1h-spot.csv.gz"]["interval"] == "1h"
    assert listed["BTCUSDT-1h-spot.csv.gz"]["rows"] > 1000
    assert listed["XRPUSDT-1h.csv"]["problem"] and listed["XRPUSDT-1h.csv"]["rows"] == 0


def test_list_data_of_an_empty_folder_says_so(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (workdir / "empty").mkdir()
    assert main(["list-data", str(workdir / "empty")]) == 0
    assert "no kline files" in capsys.readouterr().out
