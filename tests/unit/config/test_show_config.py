"""`thunes show-config`: the effective settings, where each came from, secrets never shown."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from thunes.cli import main

SECRETS = {
    "THUNES_API_KEY": "key-7f3a9c1d2e",
    "THUNES_API_SECRET": "secret-55b1e0aa93",
    "THUNES_TELEGRAM_TOKEN": "123456:token-c0ffee42",
}


def shown(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, dict[str, str]]:
    assert main(["show-config", "--json", *args]) == 0
    data: dict[str, dict[str, str]] = json.loads(capsys.readouterr().out)
    return data


def test_show_config_says_where_each_setting_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("THUNES_QUOTE_AMOUNT=12.5\nTHUNES_SYMBOLS=ETHUSDT\n")
    monkeypatch.setenv("THUNES_SYMBOLS", "BTCUSDT,ETHUSDT")  # the environment wins
    data = shown(capsys)
    assert data["THUNES_QUOTE_AMOUNT"] == {"value": "12.5", "source": ".env"}
    assert data["THUNES_SYMBOLS"] == {"value": "BTCUSDT,ETHUSDT", "source": "environment"}
    assert data["THUNES_MODE"] == {"value": "sim", "source": "default"}
    assert data["THUNES_LIVE_CONFIRM"] == {"value": "false", "source": "default"}


def test_show_config_names_the_env_file_it_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env_file = tmp_path / "thunes.env"
    env_file.write_text("THUNES_STATE_DIR=/var/lib/thunes\n")
    data = shown(capsys, "--env-file", str(env_file))
    assert data["THUNES_STATE_DIR"] == {"value": "/var/lib/thunes", "source": str(env_file)}


def test_show_config_table_has_a_line_per_setting(capsys: pytest.CaptureFixture[str]) -> None:
    from thunes.config import Settings

    assert main(["show-config"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(Settings.model_fields)
    assert lines[0].split() == ["THUNES_MODE", "sim", "default"]


def test_show_config_never_prints_a_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text(f"THUNES_API_SECRET={SECRETS['THUNES_API_SECRET']}\n")
    monkeypatch.setenv("THUNES_API_KEY", SECRETS["THUNES_API_KEY"])
    monkeypatch.setenv("THUNES_TELEGRAM_TOKEN", SECRETS["THUNES_TELEGRAM_TOKEN"])
    for args in (["show-config"], ["show-config", "--json"]):
        assert main(args) == 0
        out = capsys.readouterr()
        for secret in SECRETS.values():
            assert secret not in out.out + out.err
            assert secret.split(":")[-1][:8] not in out.out
    data = shown(capsys)
    assert data["THUNES_API_SECRET"] == {"value": "(set, hidden)", "source": ".env"}
    assert data["THUNES_API_KEY"]["value"] == "(set, hidden)"
