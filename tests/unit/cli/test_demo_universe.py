"""`thunes demo --universe ranked:N`: the shared 22-symbol folder when present, else the samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.cli.conftest import DaemonStub
from thunes.cli import demo, main
from thunes.orchestration.sim_runtime import sim_data

SHARED = Path(__file__).resolve().parents[3].parent / "shared" / "data" / demo.UNIVERSE_FOLDER


def test_demo_universe_trades_the_shared_22_symbol_folder_when_present(
    workdir: Path, daemon: DaemonStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SHARED.is_dir(), f"{SHARED} is missing: the data set should sit beside the repo"
    monkeypatch.setattr(demo, "shared_universe", lambda: SHARED)
    assert main(["demo", "--universe", "ranked:5", "--duration", "1"]) == 0
    (settings,) = daemon.settings
    assert (settings.universe, settings.ranked_top, settings.timeframe) == ("ranked:5", 5, "1h")
    assert settings.sim_data_dir == SHARED
    assert len(sim_data(settings)) == 22


def test_demo_universe_falls_back_to_the_bundled_samples_with_a_clear_line(
    workdir: Path, daemon: DaemonStub, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(demo, "shared_universe", lambda: None)
    assert main(["demo", "--universe", "ranked:1", "--duration", "1"]) == 0
    (settings,) = daemon.settings
    assert settings.sim_data_dir is None and settings.ranked_top == 1
    assert sorted(sim_data(settings)) == ["BTCUSDT", "ETHUSDT"]
    assert "ranking the bundled BTCUSDT and ETHUSDT samples instead" in capsys.readouterr().out


def test_demo_without_universe_keeps_the_static_symbols(
    workdir: Path, daemon: DaemonStub
) -> None:
    assert main(["demo", "--duration", "1"]) == 0
    (settings,) = daemon.settings
    assert settings.universe == "static" and settings.symbols == ["BTCUSDT", "ETHUSDT"]


def test_demo_refuses_a_malformed_universe(workdir: Path) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["demo", "--universe", "top5"])
    assert exited.value.code == 2
