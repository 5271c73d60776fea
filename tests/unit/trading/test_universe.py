"""The symbol sources of THUNES_UNIVERSE: static, ranked, stale, and the symbols held."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from thunes.clock import ManualClock
from thunes.config import SettingsError, load_settings
from thunes.domain import RejectReason
from thunes.orchestration.sim_runtime import SimSetupError, sim_data
from thunes.ranking.types import RankedSymbol, Ranking
from thunes.trading.universe import RankedUniverse, StaticUniverse, check_symbols

START = datetime(2023, 2, 1, tzinfo=UTC)
UNIVERSE = (
    Path(__file__).resolve().parents[3].parent / "shared" / "data" / "binance_spot_1h_universe"
)


class Rankings:
    """A hand-written `LatestRanking`: whatever ranking the test set."""

    def __init__(self) -> None:
        self.ranking: Ranking | None = None

    def set(self, as_of: datetime, *symbols: str) -> None:
        rows = tuple(
            RankedSymbol(i + 1, s, Decimal("0.5"), 50, Decimal(10**8))
            for i, s in enumerate(symbols)
        )
        self.ranking = Ranking("1h", as_of, rows)

    def latest(self, timeframe: str) -> Ranking | None:
        return self.ranking if timeframe == "1h" else None


def test_static_universe_trades_every_configured_symbol() -> None:
    view = StaticUniverse(["BTCUSDT", "ETHUSDT"]).current()
    assert view.tradable == ("BTCUSDT", "ETHUSDT") and view.healthy
    assert view.entry_block("BTCUSDT") is None
    block = view.entry_block("SOLUSDT")
    assert block is not None and block.reason is RejectReason.NOT_IN_UNIVERSE


def test_ranked_universe_is_the_top_n_of_the_latest_ranking() -> None:
    rankings, clock = Rankings(), ManualClock(START.timestamp())
    rankings.set(START, "SOLUSDT", "ETHUSDT", "BTCUSDT")
    view = RankedUniverse(rankings, "1h", 2, clock).current()
    assert view.tradable == ("SOLUSDT", "ETHUSDT") and view.blocked is None
    assert view.entry_block("BTCUSDT") is not None


def test_a_ranking_older_than_two_cadences_is_stale() -> None:
    rankings, clock = Rankings(), ManualClock(START.timestamp())
    rankings.set(START, "SOLUSDT")
    universe = RankedUniverse(rankings, "1h", 2, clock)
    clock.advance(30 * 60)  # exactly two 15-minute cadences: still fresh
    assert universe.current().blocked is None
    clock.advance(1)
    view = universe.current()
    assert not view.healthy
    block = view.entry_block("SOLUSDT")
    assert block is not None and block.reason is RejectReason.RANKING_STALE


def test_check_symbols_are_the_tradable_then_the_held() -> None:
    view = StaticUniverse(["ETHUSDT", "BTCUSDT"]).current()
    assert check_symbols(view, ["ADAUSDT", "BTCUSDT"]) == ["ETHUSDT", "BTCUSDT", "ADAUSDT"]


@pytest.mark.parametrize(
    ("env", "line"),
    [
        ({"universe": "ranked:0"}, "THUNES_UNIVERSE: must be static or ranked:N"),
        ({"universe": "top5"}, "THUNES_UNIVERSE: must be static or ranked:N"),
        ({"universe": "ranked:5", "timeframe": "5m"}, "THUNES_UNIVERSE: ranked:5 needs a ranked"),
    ],
)
def test_a_bad_universe_setting_is_one_line(env: dict[str, str], line: str) -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings(None, **env)
    assert len(caught.value.problems) == 1 and caught.value.problems[0].startswith(line)


def test_ranked_universe_setting_reads_n() -> None:
    assert load_settings(None, universe="ranked:5").ranked_top == 5
    assert load_settings(None).ranked_top is None


def test_the_embedded_simulator_serves_the_whole_data_folder() -> None:
    settings = load_settings(None, sim_data_dir=str(UNIVERSE))
    data = sim_data(settings)
    assert len(data) == 22 and data["BTCUSDT"].parent == UNIVERSE


def test_the_embedded_simulator_without_a_folder_serves_the_configured_symbols() -> None:
    assert list(sim_data(load_settings(None))) == ["BTCUSDT"]


def test_a_missing_data_folder_is_a_setup_error(tmp_path: Path) -> None:
    with pytest.raises(SimSetupError, match=r"THUNES_SIM_DATA_DIR: .*no such folder"):
        sim_data(load_settings(None, sim_data_dir=str(tmp_path / "nope")))
