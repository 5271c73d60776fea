from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import ValidationError

from thunes.config import Mode, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("THUNES_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def test_defaults_follow_the_design() -> None:
    s = load_settings(env_file=None)
    assert s.mode is Mode.SIM
    assert s.symbols == ["BTCUSDT"]
    assert s.timeframe == "1h"
    assert s.check_interval_minutes == 10
    assert s.daily_summary_time == "23:00"
    assert s.quote_amount == Decimal("10")
    assert s.daily_loss_limit == Decimal("20")
    assert s.max_open_positions == 3
    assert s.cooldown_minutes == 60
    assert s.breaker_fail_max == 5 and s.breaker_reset_seconds == 60
    assert s.ws_watchdog_seconds == 60
    assert not s.telegram_enabled


def test_environment_and_env_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("THUNES_SYMBOLS=BTCUSDT, ETHUSDT\nTHUNES_QUOTE_AMOUNT=12.5\n")
    monkeypatch.setenv("THUNES_MAX_OPEN_POSITIONS", "2")
    s = load_settings(env_file=tmp_path / ".env")
    assert s.symbols == ["BTCUSDT", "ETHUSDT"]
    assert s.quote_amount == Decimal("12.5")
    assert s.max_open_positions == 2


def test_every_problem_is_reported_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUNES_MODE", "bogus")
    monkeypatch.setenv("THUNES_QUOTE_AMOUNT", "-5")
    monkeypatch.setenv("THUNES_SYMBOLS", "btcusdt")
    monkeypatch.setenv("THUNES_TYPO_SETTING", "1")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    problems = caught.value.problems
    named = {line.split(":")[0] for line in problems}
    assert named == {"THUNES_MODE", "THUNES_QUOTE_AMOUNT", "THUNES_SYMBOLS", "THUNES_TYPO_SETTING"}


def test_cross_field_rules(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUNES_MODE", "live")
    monkeypatch.setenv("THUNES_DAILY_LOSS_LIMIT", "5")
    with pytest.raises(SettingsError) as caught:
        load_settings(env_file=None)
    named = sorted(line.split(":")[0] for line in caught.value.problems)
    assert named == ["THUNES_API_KEY", "THUNES_DAILY_LOSS_LIMIT", "THUNES_LIVE_CONFIRM"]


def test_secrets_are_not_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THUNES_API_SECRET", "very-secret-value-123")
    s = load_settings(env_file=None)
    assert "very-secret-value-123" not in repr(s)
    assert s.secrets() == ["very-secret-value-123"]


def test_settings_are_frozen() -> None:
    s = load_settings(env_file=None)
    with pytest.raises(ValidationError):
        s.quote_amount = Decimal("1")  # type: ignore[misc]


def test_cli_exits_2_with_one_line_per_problem(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "THUNES_MODE": "bogus", "THUNES_MAX_OPEN_POSITIONS": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "thunes", "doctor", "--offline"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("THUNES_MODE:") or lines[1].startswith("THUNES_MODE:")
    assert "Traceback" not in result.stderr
