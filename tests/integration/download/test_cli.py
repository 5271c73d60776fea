"""`thunes download` and `thunes list-data` in sim mode: the command starts its own simulator
over THUNES_SIM_DATA (its clock at the end of the data) and fetches over HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.integration.download.conftest import universe_files
from thunes.cli import main
from thunes.market.klines import load_klines


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("THUNES_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("THUNES_SIM_DATA", ",".join(str(p) for p in universe_files().values()))
    return tmp_path


def test_download_in_sim_mode_writes_one_file_per_symbol_and_reports_weight_and_gaps(
    sim_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = sim_env / "klines"
    args = ["download", "--symbols", "BTCUSDT,ETHUSDT", "--interval", "1h",
            "--from", "2021-04-01", "--to", "2021-06-01", "--out", str(out)]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["BTCUSDT-1h.csv", "ETHUSDT-1h.csv"]
    for symbol in ("BTCUSDT", "ETHUSDT"):
        report = load_klines(out / f"{symbol}-1h.csv").report
        assert f"{report.first:%Y-%m-%d %H:%M}" == "2021-04-01 00:00"
        assert f"{report.last:%Y-%m-%d %H:%M}" == "2021-05-31 23:00"
        assert report.gaps == 2
    assert "4 requests; peak request weight" in printed
    assert "BTCUSDT: gaps start at 2021-04-20 02:00, 2021-04-25 05:00" in printed

    assert main(args) == 0  # a rerun: nothing missing, no kline request
    assert "0 requests" in capsys.readouterr().out


def test_download_refuses_to_mix_intervals_in_one_folder(
    sim_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = sim_env / "klines"
    base = ["download", "--symbols", "BTCUSDT", "--from", "2021-05-01", "--to", "2021-05-02",
            "--out", str(out)]
    assert main([*base, "--interval", "1h"]) == 0
    before = (out / "BTCUSDT-1h.csv").read_bytes()
    capsys.readouterr()
    assert main([*base, "--interval", "4h"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "refusing to mix intervals" in err[0]
    assert sorted(p.name for p in out.iterdir()) == ["BTCUSDT-1h.csv"]
    assert (out / "BTCUSDT-1h.csv").read_bytes() == before


def test_a_symbol_the_exchange_does_not_list_fails_alone(
    sim_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = sim_env / "klines"
    args = ["download", "--symbols", "NOPEUSDT,ETHUSDT", "--from", "2021-05-01", "--to",
            "2021-05-02", "--out", str(out)]
    assert main(args) == 1
    assert "NOPEUSDT: not downloaded: -1121" in capsys.readouterr().out
    assert [p.name for p in out.iterdir()] == ["ETHUSDT-1h.csv"]


def test_list_data_shows_each_downloaded_file(
    sim_env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    out = sim_env / "klines"
    assert main(["download", "--symbols", "BTCUSDT,ETHUSDT", "--from", "2021-04-19",
                 "--to", "2021-04-21", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["list-data", str(out), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(f["file"], f["symbol"], f["interval"], f["rows"], f["gaps"]) for f in listed] == [
        ("BTCUSDT-1h.csv", "BTCUSDT", "1h", 46, 1),
        ("ETHUSDT-1h.csv", "ETHUSDT", "1h", 46, 1),
    ]
    assert listed[0]["first"] == "2021-04-19T00:00:00+00:00"
    assert listed[0]["gap_starts"] == ["2021-04-20T02:00:00+00:00"]
    monkeypatch.setenv("COLUMNS", "160")  # rich's width: one line per file
    assert main(["list-data", str(out)]) == 0
    table = capsys.readouterr().out
    rows = [line.split() for line in table.splitlines() if "USDT-1h.csv" in line]
    assert [r[:3] + r[-5:] for r in rows] == [
        ["BTCUSDT-1h.csv", "BTCUSDT", "1h", "23:00", "46", "1", "(2", "bars)"],
        ["ETHUSDT-1h.csv", "ETHUSDT", "1h", "23:00", "46", "1", "(2", "bars)"],
    ]
