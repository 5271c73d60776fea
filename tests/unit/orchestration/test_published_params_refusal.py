"""The daemon uses published parameters only when they were tuned for its strategy and interval."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from thunes.app.parts import StartupError, choose_strategy, load_strategy
from thunes.clock import ManualClock
from thunes.config import Settings, load_settings
from thunes.events import Event, EventKind
from thunes.params_store import params_path
from thunes.reports.alerts import describe_event
from thunes.reports.format import Severity
from thunes.reports.health_notes import health_note_rows
from thunes.reports.snapshot import HealthSnapshot
from thunes.strategy import get_strategy

TUNED = {"fast": 15, "slow": 150}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "state_dir": tmp_path / "state",
        "log_dir": tmp_path / "logs",
        "strategy": "sma",
        "timeframe": "1h",
        **overrides,
    }
    return load_settings(env_file=None, **values)


def write_params(settings: Settings, **fields: Any) -> Path:
    record: dict[str, Any] = {
        "strategy": "sma",
        "interval": "1h",
        "params": TUNED,
        "symbols": ["BTCUSDT"],
        "data_window": {"start": "2023-01-01T00:00:00+00:00", "end": "2023-03-31T23:00:00+00:00"},
        "score": {"oos_sharpe": 1.2},
        "data_sha256": "ab" * 32,
        "published_at": "2023-04-01T00:00:00+00:00",
        **fields,
    }
    record = {k: v for k, v in record.items() if v is not None}
    path = params_path(settings.state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record))
    return path


def defaults() -> dict[str, Any]:
    return dict(get_strategy("sma").params)


def test_parameters_tuned_for_this_strategy_and_interval_are_used(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    write_params(settings)
    choice = choose_strategy(settings)
    assert {k: choice.strategy.params[k] for k in TUNED} == TUNED
    assert choice.refused is None
    detail = choice.health_detail()
    assert detail["source"] == "published" and detail["interval"] == "1h"
    assert detail["data_sha256"] == "ab" * 32


def test_daemon_on_1h_bars_refuses_parameters_tuned_on_5m_bars(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, timeframe="1h")
    path = write_params(settings, interval="5m")
    choice = choose_strategy(settings)
    assert dict(choice.strategy.params) == defaults() != TUNED
    assert choice.refused == (
        f"{path}: published parameters were tuned on 5m bars, the daemon trades 1h bars; "
        "trading on the default parameters"
    )
    assert dict(load_strategy(settings).params) == defaults()


def test_daemon_refuses_parameters_published_for_another_strategy(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, strategy="sma")
    write_params(settings, strategy="rsi", params={"period": 14})
    choice = choose_strategy(settings)
    assert choice.strategy.name == "sma" and dict(choice.strategy.params) == defaults()
    assert choice.refused is not None
    assert "published parameters are for strategy rsi, the daemon trades sma" in choice.refused


def test_parameters_published_without_an_interval_are_refused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    write_params(settings, interval=None)
    choice = choose_strategy(settings)
    assert dict(choice.strategy.params) == defaults()
    assert choice.refused is not None and "do not say which bar interval" in choice.refused


def test_a_malformed_parameter_file_still_stops_the_start(tmp_path: Path) -> None:
    settings = settings_for(tmp_path)
    params_path(settings.state_dir).parent.mkdir(parents=True)
    params_path(settings.state_dir).write_text("{not json")
    with pytest.raises(StartupError, match="cannot read parameter file"):
        choose_strategy(settings)


def test_refused_parameters_show_in_the_health_snapshot_rows(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, timeframe="1h")
    write_params(settings, interval="5m")
    detail = choose_strategy(settings).health_detail()
    strategy = {"ok": True, "detail": detail}
    body = {"status": "ok", "unhealthy": [], "components": {"strategy": strategy}}
    rows = health_note_rows(HealthSnapshot.from_health_json(body))
    assert rows == [
        "  parameters       sma on 1h bars, DEFAULTS: "
        f"{params_path(settings.state_dir)}: published parameters were tuned on 5m bars, "
        "the daemon trades 1h bars; trading on the default parameters"
    ]


def test_the_refusal_alert_is_a_warning_that_says_why(tmp_path: Path) -> None:
    why = "published parameters were tuned on 5m bars, the daemon trades 1h bars"
    title = "Published parameters refused: trading on the defaults"
    event = Event(EventKind.LIFECYCLE, title, ManualClock().now(), {"mode": "sim", "why": why})
    message = describe_event(event)
    assert message.severity is Severity.WARN
    assert message.title == title and ("why", why) in message.lines
