"""`thunes run` validates what it needs before starting anything; `thunes doctor` runs the same
checks and reports each refusal as a failure, so it never says ok where `run` would refuse."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from thunes.app.validate import doctor_problems, listing_problems, run_problems
from thunes.cli import main
from thunes.config import load_settings
from thunes.exchange.errors import BAD_SYMBOL_CODE
from thunes.exchange.rules import parse_symbol_rules
from thunes.exchange.types import InvalidRequestError, SymbolRules
from thunes.store import db_path


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port some other program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def flat(text: str) -> str:
    return " ".join(text.split())


REFUSALS = {
    "THUNES_STRATEGY=macd": "THUNES_STRATEGY: unknown strategy 'macd'; available: rsi, sma",
    "THUNES_TIMEFRAME=1m": (
        "THUNES_TIMEFRAME: 1m cannot be made from the 5m bars of BTCUSDT-5m-2023Q1.csv.gz "
        "(BTCUSDT); use 5m or a multiple of it"
    ),
    "THUNES_SYMBOLS=BTCUSDT,XRPUSDT": (
        "THUNES_SIM_DATA: no kline data for XRPUSDT (have BTCUSDT, ETHUSDT)"
    ),
}


@pytest.mark.parametrize("setting", list(REFUSALS))
def test_run_refuses_with_one_line_and_exit_2_before_anything_starts(
    setting: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    name, value = setting.split("=")
    monkeypatch.setenv(name, value)
    assert main(["run", "--duration", "1"]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [REFUSALS[setting]]
    assert "Traceback" not in captured.err
    assert not (tmp_path / "state").exists() and not (tmp_path / "logs").exists()


@pytest.mark.parametrize("setting", list(REFUSALS))
def test_doctor_reports_as_a_failure_the_line_run_refuses_with(
    setting: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name, value = setting.split("=")
    monkeypatch.setenv(name, value)
    assert main(["doctor", "--offline"]) == 1
    out = flat(capsys.readouterr().out)
    assert f"fail run: {REFUSALS[setting]}" in out
    assert "thunes run would start" not in out


def test_doctor_says_run_would_start_on_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["doctor", "--offline"]) == 0
    assert "ok run: strategy sma" in flat(capsys.readouterr().out)


@pytest.mark.parametrize("timeframe", ["1m", "3m"])
async def test_a_timeframe_finer_than_the_sim_data_or_not_a_multiple_is_refused(
    timeframe: str,
) -> None:
    problems = await run_problems(load_settings(timeframe=timeframe))
    assert [p.split(":")[0] for p in problems] == ["THUNES_TIMEFRAME"]


@pytest.mark.parametrize("timeframe", ["5m", "15m", "1h", "1d"])
async def test_a_timeframe_made_of_whole_sim_bars_is_accepted(timeframe: str) -> None:
    assert await run_problems(load_settings(timeframe=timeframe)) == []


async def test_sim_data_that_does_not_exist_is_refused(tmp_path: Path) -> None:
    missing = tmp_path / "BTCUSDT-5m-2024.csv"
    problems = await run_problems(load_settings(sim_data=[missing]))
    assert problems == [f"THUNES_SIM_DATA: {missing}: No such file or directory"]


class ListedSymbols:
    """A gateway's `symbol_rules` over a fixed exchangeInfo listing."""

    def __init__(self, *entries: dict[str, Any]) -> None:
        self.rules = {e["symbol"]: parse_symbol_rules({"filters": [], **e}) for e in entries}

    async def symbol_rules(self, symbol: str) -> SymbolRules:
        try:
            return self.rules[symbol]
        except KeyError:
            raise InvalidRequestError(BAD_SYMBOL_CODE, f"unknown symbol {symbol}") from None


async def test_symbols_must_be_listed_trading_and_spot_on_the_exchange() -> None:
    settings = load_settings(
        mode="live",
        api_key="k",
        api_secret="s",
        live_confirm="true",
        symbols="BTCUSDT,ETHUSDT,LUNAUSDT,XRPUSDT,BNBUSDT",
    )
    exchange = ListedSymbols(
        {"symbol": "BTCUSDT", "status": "TRADING", "isSpotTradingAllowed": True},
        {"symbol": "ETHUSDT", "status": "TRADING"},
        {"symbol": "LUNAUSDT", "status": "BREAK", "isSpotTradingAllowed": True},
        {"symbol": "BNBUSDT", "status": "TRADING", "isSpotTradingAllowed": False},
    )
    assert await listing_problems(settings, exchange) == [
        "THUNES_SYMBOLS: LUNAUSDT is not trading on Binance (status BREAK)",
        "THUNES_SYMBOLS: XRPUSDT is not listed on Binance",
        "THUNES_SYMBOLS: BNBUSDT is not open to spot trading on Binance",
    ]


def test_a_health_port_in_use_is_a_start_up_error_naming_the_port(
    busy_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("THUNES_HEALTH_PORT", str(busy_port))
    assert main(["run", "--duration", "1"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f"THUNES_HEALTH_PORT: cannot listen on 127.0.0.1:{busy_port}: ")
    assert not db_path(tmp_path / "state").exists()
    assert main(["doctor", "--offline"]) == 1
    assert f"fail run: THUNES_HEALTH_PORT: cannot listen on 127.0.0.1:{busy_port}" in flat(
        capsys.readouterr().out
    )


async def test_doctor_asks_the_exchange_whether_it_lists_the_symbols() -> None:
    from thunes.sim import Simulator, SimulatorConfig

    config = SimulatorConfig(api_key="key-1", api_secret="secret-1")
    async with Simulator(config) as sim:
        settings = load_settings(
            None,
            mode="testnet",
            testnet_url=sim.base_url,
            api_key="key-1",
            api_secret="secret-1",
            symbols="BTCUSDT,DOGEUSDT",
        )
        problems = await doctor_problems(settings, ask_exchange=True)
    assert problems == ["THUNES_SYMBOLS: DOGEUSDT is not listed on the testnet"]


async def test_the_daemon_refuses_a_symbol_the_exchange_does_not_list(tmp_path: Path) -> None:
    """Testnet against the simulator: the rules the daemon loads at start show the symbol is
    not listed, so it stops with the refusal before any reconciliation or check."""
    from thunes.app import run_app
    from thunes.config import SettingsError
    from thunes.sim import Simulator, SimulatorConfig

    config = SimulatorConfig(api_key="key-1", api_secret="secret-1")
    async with Simulator(config) as sim:
        settings = load_settings(
            None,
            mode="testnet",
            testnet_url=sim.base_url,
            api_key="key-1",
            api_secret="secret-1",
            symbols="BTCUSDT,DOGEUSDT",
            state_dir=tmp_path / "state",
            log_dir=tmp_path / "logs",
            health_port=0,
        )
        with pytest.raises(SettingsError) as refused:
            await run_app(settings, duration_s=30)
    assert refused.value.problems == ["THUNES_SYMBOLS: DOGEUSDT is not listed on the testnet"]
    audit = (settings.log_dir / "audit_trail.jsonl").read_text()
    assert '"reconciliation"' not in audit


def test_doctor_beside_a_running_daemon_warns_about_its_health_port_instead_of_failing(
    busy_port: int,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from thunes.orchestration.lock import StateLock

    monkeypatch.setenv("THUNES_HEALTH_PORT", str(busy_port))
    with StateLock(tmp_path / "state"):
        assert main(["doctor", "--offline"]) == 0
    out = flat(capsys.readouterr().out)
    assert f"warn run: THUNES_HEALTH_PORT: cannot listen on 127.0.0.1:{busy_port}" in out
    assert "this state's daemon is running" in out
