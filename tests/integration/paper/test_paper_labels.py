"""PAPER everywhere the operator looks, and paper mode's settings."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from thunes.config import Mode, SettingsError, load_settings
from thunes.events import Event, EventKind
from thunes.notify.render import event_html, event_html_for
from thunes.orchestration.health import ComponentHealth, HealthReport
from thunes.reports.snapshot import HealthSnapshot
from thunes.reports.status import PAPER_BANNER, StatusView, render_status_text

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def view(mode: str) -> StatusView:
    return StatusView(
        now=NOW, mode=mode, version="1.0", kill_switch=False, kill_reason="", paused=False,
        cooldowns={}, open_positions=(), unrealized_pnl=None, today_pnl=Decimal(0),
        daily_loss_used=Decimal(0), daily_loss_limit=Decimal(20), health=HealthSnapshot(),
        failing_jobs=(),
    )


def test_status_header_says_paper_with_a_banner() -> None:
    lines = render_status_text(view("paper")).splitlines()
    assert lines[0].startswith("THUNES 1.0 (PAPER) at ")
    assert lines[1] == PAPER_BANNER


def test_status_of_other_modes_has_no_paper_banner() -> None:
    text = render_status_text(view("live"))
    assert text.startswith("THUNES 1.0 (live) at ")
    assert PAPER_BANNER not in text


def test_telegram_alerts_start_with_paper_in_paper_mode() -> None:
    event = Event(EventKind.LIFECYCLE, "THUNES started", NOW, {"mode": "paper"})
    assert event_html_for("paper")(event) == "[PAPER] " + event_html(event)
    assert event_html_for("live")(event) == event_html(event)


def test_health_json_names_the_mode() -> None:
    report = HealthReport({"database": ComponentHealth(True)}, mode="paper")
    assert report.as_json()["mode"] == "paper"
    assert HealthSnapshot.from_health_json(report.as_json()).healthy is True


def test_paper_mode_needs_no_keys_and_reads_live_public_data_by_default() -> None:
    settings = load_settings(None, mode="paper")
    assert settings.mode is Mode.PAPER and not settings.has_keys
    assert settings.paper_rest_url == "https://api.binance.com"
    assert settings.paper_stream_url == "wss://stream.binance.com:9443"
    assert settings.paper_wallet == Decimal("1000")
    assert settings.exchange_stops_on  # the protective stops rest, as in live mode


def test_paper_source_testnet_and_the_url_override() -> None:
    testnet = load_settings(None, mode="paper", paper_source="testnet")
    assert testnet.paper_rest_url == "https://testnet.binance.vision"
    local = load_settings(None, mode="paper", paper_source_url="http://127.0.0.1:8765/")
    assert local.paper_rest_url == "http://127.0.0.1:8765"
    assert local.paper_stream_url == "ws://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("field", "value", "variable"),
    [
        ("paper_source", "mainnet", "THUNES_PAPER_SOURCE"),
        ("paper_source_url", "ftp://example", "THUNES_PAPER_SOURCE_URL"),
        ("paper_wallet", "0", "THUNES_PAPER_WALLET"),
    ],
)
def test_bad_paper_settings_are_one_line_each(field: str, value: str, variable: str) -> None:
    with pytest.raises(SettingsError) as refused:
        overrides: dict[str, Any] = {field: value}
        load_settings(None, mode="paper", **overrides)
    assert [p.split(":")[0] for p in refused.value.problems] == [variable]


def test_live_still_needs_keys_and_the_confirmation() -> None:
    with pytest.raises(SettingsError) as refused:
        load_settings(None, mode="live")
    names = sorted(p.split(":")[0] for p in refused.value.problems)
    assert names == ["THUNES_API_KEY", "THUNES_LIVE_CONFIRM"]
