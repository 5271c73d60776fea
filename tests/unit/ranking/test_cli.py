"""`thunes rank --data DIR`: the 22-symbol universe ranked offline, and bad arguments refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.cli import main
from thunes.market.klines import load_klines, symbol_from_filename
from thunes.ranking.rank import rank_universe

AT = "2021-05-01T00:00"


def _symbol(path: Path) -> str:
    symbol = symbol_from_filename(path)
    assert symbol is not None
    return symbol


def test_rank_data_ranks_the_universe_folder_and_writes_json(
    workdir: Path, universe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = workdir / "out" / "ranking.json"
    code = main(["rank", "--data", str(universe), "--at", AT, "--top", "5", "--json", str(out)])
    assert code == 0
    document = json.loads(out.read_text())
    symbols = [r["symbol"] for r in document["ranked"]] + [s["symbol"] for s in document["skipped"]]
    frames = {_symbol(p): load_klines(p).frame for p in universe.glob("*.csv")}
    assert sorted(symbols) == sorted(frames)
    assert len(symbols) == 22
    assert document["as_of"] == "2021-05-01T00:00:00+00:00"
    assert document["min_quote_volume"] == "10000000"
    expected = rank_universe(frames, timeframe="1h", as_of=datetime(2021, 5, 1, tzinfo=UTC))
    assert [r["symbol"] for r in document["ranked"]] == expected.top(22)
    assert [Decimal(r["bullish_score"]) for r in document["ranked"]] == [
        r.bullish_score for r in expected.ranked
    ]
    printed = capsys.readouterr().out
    assert expected.ranked[0].symbol in printed
    assert expected.ranked[5].symbol not in printed.split("ranked ")[0]


def test_rank_data_defaults_to_the_newest_close_in_the_folder(
    workdir: Path, universe: Path
) -> None:
    out = workdir / "r.json"
    assert main(["rank", "--data", str(universe), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["as_of"] == "2022-06-30T01:00:00+00:00"


def test_the_volume_floor_and_deny_list_options_skip_symbols_with_reasons(
    workdir: Path, universe: Path
) -> None:
    out = workdir / "r.json"
    args = ["rank", "--data", str(universe), "--at", AT, "--json", str(out)]
    assert main([*args, "--min-quote-volume", "1_000_000_000", "--deny", "btcusdt,ETHUSDT"]) == 0
    document = json.loads(out.read_text())
    reasons = {s["symbol"]: s["reason"] for s in document["skipped"]}
    assert reasons["BTCUSDT"] == reasons["ETHUSDT"] == "on the operator's deny-list"
    assert {r["symbol"] for r in document["ranked"]} == {"DOGEUSDT", "XRPUSDT", "BNBUSDT"}
    assert all(Decimal(r["quote_volume_24h"]) >= 10**9 for r in document["ranked"])


def test_rank_data_on_four_hour_bars_from_hourly_files(workdir: Path, universe: Path) -> None:
    out = workdir / "r.json"
    assert (
        main(["rank", "--data", str(universe), "--at", AT, "--timeframe", "4h", "--json", str(out)])
        == 0
    )
    document = json.loads(out.read_text())
    assert document["timeframe"] == "4h"
    assert len(document["ranked"]) >= 15


@pytest.mark.parametrize(
    ("extra", "option"),
    [
        (["--min-quote-volume", "-1"], "--min-quote-volume"),
        (["--min-quote-volume", "lots"], "--min-quote-volume"),
        (["--at", "yesterday"], "--at"),
        (["--top", "0"], "--top"),
        (["--timeframe", "7m"], "--timeframe"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    workdir: Path,
    universe: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    option: str,
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["rank", "--data", str(universe), *extra])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and option in err


def test_a_data_path_that_is_not_a_folder_is_one_line_and_exit_2(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rank", "--data", str(workdir / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a directory" in err


def test_an_unwritable_json_path_is_refused_before_any_work(
    workdir: Path, universe: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = workdir / "file"
    blocker.write_text("")
    assert main(["rank", "--data", str(universe), "--json", str(blocker / "r.json")]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_at_outside_sim_mode_without_data_is_refused(
    workdir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THUNES_MODE", "testnet")
    monkeypatch.setenv("THUNES_API_KEY", "key")
    monkeypatch.setenv("THUNES_API_SECRET", "secret")
    assert main(["rank", "--at", AT]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--at" in err


def test_the_rank_settings_are_the_defaults_of_the_options(
    workdir: Path, universe: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THUNES_RANK_MIN_QUOTE_VOLUME", "1000000000")
    monkeypatch.setenv("THUNES_RANK_DENY", "BTCUSDT,ETHUSDT")
    out = workdir / "r.json"
    assert main(["rank", "--data", str(universe), "--at", AT, "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["min_quote_volume"] == "1000000000"
    assert document["deny"] == ["BTCUSDT", "ETHUSDT"]
    assert {r["symbol"] for r in document["ranked"]} == {"DOGEUSDT", "XRPUSDT", "BNBUSDT"}


def test_a_bad_rank_setting_is_one_line_and_exit_2(
    workdir: Path,
    universe: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("THUNES_RANK_QUOTE_ASSET", "usd-t")
    assert main(["rank", "--data", str(universe)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "THUNES_RANK_QUOTE_ASSET" in err
