"""`thunes rank` against the exchange of sim mode: a simulator replaying universe files.

The command starts its own simulator (as `thunes doctor` does) at `--at`, fetches exchangeInfo
and the klines of every symbol over HTTP, and ranks what had closed by then: the same ranking
the files give offline at that time, with the peak request weight reported.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from tests.integration.ranking.conftest import SYMBOLS, universe_files
from thunes.cli import main
from thunes.market.klines import load_klines
from thunes.ranking.rank import rank_universe


@pytest.fixture
def sim_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    for name in list(os.environ):
        if name.startswith("THUNES_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    files = ",".join(str(p) for p in universe_files().values())
    monkeypatch.setenv("THUNES_SIM_DATA", files)
    return tmp_path


def test_rank_in_sim_mode_ranks_the_simulators_universe_like_the_files(
    sim_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = sim_env / "ranking.json"
    assert main(["rank", "--at", "2021-05-01T00:30", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    as_of = datetime.fromisoformat(document["as_of"])
    assert as_of >= datetime.fromisoformat("2021-05-01T00:30:00+00:00")
    assert document["source"] == "exchange (sim)"
    fetch = document["fetch"]
    assert fetch["considered"] == len(SYMBOLS)
    assert fetch["requests"] == len(SYMBOLS) + 1
    assert 20 + 2 * len(SYMBOLS) <= fetch["peak_weight"] <= fetch["weight_budget"]
    files = {s: load_klines(p).frame for s, p in universe_files().items()}
    offline = rank_universe(files, timeframe="1h", as_of=as_of)
    assert [r["symbol"] for r in document["ranked"]] == offline.top(len(SYMBOLS))
    assert [Decimal(r["bullish_score"]) for r in document["ranked"]] == [
        r.bullish_score for r in offline.ranked
    ]
    printed = capsys.readouterr().out
    assert "peak request weight" in printed
    assert offline.ranked[0].symbol in printed


def test_rank_in_sim_mode_skips_what_the_volume_floor_drops(sim_env: Path) -> None:
    out = sim_env / "ranking.json"
    args = ["rank", "--at", "2021-05-01T00:30", "--json", str(out)]
    assert main([*args, "--min-quote-volume", "1000000000", "--deny", "DOGEUSDT"]) == 0
    document = json.loads(out.read_text())
    assert {r["symbol"] for r in document["ranked"]} == {"BTCUSDT", "ETHUSDT"}
    reasons = {s["symbol"]: s["reason"] for s in document["skipped"]}
    assert reasons["DOGEUSDT"] == "on the operator's deny-list"
    assert "below the floor" in reasons["SOLUSDT"]
