"""The dashboard in a real browser over the whole daemon on the embedded simulator.

The daemon (SMA 20/50 on the bundled 5m sample) opens a BTCUSDT position on the 19:00 bar;
the replay is then slowed so nothing but the operator moves it. Headless chromium logs in,
sees the position, force-exits it through the confirmation page, sees it closed and in the
trades, and a screenshot of the overview shows a drawn equity curve. The audit trail holds the
dashboard's request, the forced exit and its fill.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver

from tests.helpers import eventually
from tests.integration.web.browser import Operator, curve_pixels, drawn_pixels, start_chromium
from thunes.app import Built, Observer, run_app
from thunes.clock import SimClock
from thunes.config import load_settings
from thunes.domain import ExitReason
from thunes.orchestration.daemon import Daemon

TOKEN = "browser-TOKEN-5e1d0b"


@dataclass
class Running:
    daemon: Daemon
    built: Built
    task: asyncio.Task[int]

    @property
    def url(self) -> str:
        assert self.built.dashboard is not None, "the dashboard did not start"
        return self.built.dashboard.url


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    settings = load_settings(
        env_file=None, mode="sim", symbols=["BTCUSDT"], timeframe="5m",
        check_interval_minutes=5.0, sim_speed=200.0, sim_start="2023-02-01T18:45:00",
        quote_amount="25", daily_loss_limit="50", state_dir=tmp_path / "state",
        log_dir=tmp_path / "logs", health_port=0, web_port=0, api_token=TOKEN,
    )
    started: list[tuple[Daemon, Built]] = []
    observer = Observer(on_start=lambda daemon, built: started.append((daemon, built)))
    task = asyncio.create_task(run_app(settings, observer=observer))
    await eventually(lambda: started or task.done(), timeout=30)
    assert started, f"daemon did not start: {task.exception() if task.done() else ''}"
    daemon, built = started[0]
    try:
        yield Running(daemon, built, task)
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(task, 30) == 0


@pytest.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[webdriver.Chrome]:
    driver = await asyncio.to_thread(start_chromium, tmp_path / "profile")
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(driver.quit)


def audit_entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.slow
async def test_an_operator_force_exits_a_position_from_the_browser(
    running: Running, chromium: webdriver.Chrome, tmp_path: Path
) -> None:
    built = running.built
    store, clock = built.store, built.clock
    assert isinstance(clock, SimClock)
    await eventually(lambda: store.open_position("BTCUSDT"), timeout=60,
                     message="the daemon opens a BTCUSDT position")
    clock.set_speed(0.5)  # from here only the operator moves the position
    operator = Operator(chromium, running.url)

    assert await asyncio.to_thread(operator.log_in, TOKEN) == "SIM"
    positions = await asyncio.to_thread(operator.positions_text)
    assert "BTCUSDT" in positions and "Force exit" in positions

    question, result = await asyncio.to_thread(operator.force_exit, "BTCUSDT")
    assert "BTCUSDT" in question and "now" in question
    assert "BTCUSDT" in result and "sold" in result, result
    assert "No open positions" in await asyncio.to_thread(operator.no_open_positions)
    (closed,) = store.closed_positions()
    assert closed.exit_reason is ExitReason.FORCED
    trades = await asyncio.to_thread(operator.trades_text)
    assert "BTCUSDT" in trades and "forced" in trades

    entries = audit_entries(built.settings.log_dir / "audit_trail.jsonl")
    kinds = [(e["kind"], e["data"]) for e in entries]
    assert ("web_action", {"action": "force-exit", "symbol": "BTCUSDT"}) in kinds
    assert any(k == "force_exit_requested" and d.get("source") == "dashboard" for k, d in kinds)
    assert any(k == "fill" and d["symbol"] == "BTCUSDT" and d["side"] == "SELL"
               for k, d in kinds)
    assert any(k == "position_closed" and d["exit_reason"] == "forced" for k, d in kinds)

    shot = tmp_path / "overview.png"
    chart, points = await asyncio.to_thread(operator.overview_screenshot, shot)
    assert shot.stat().st_size > 0
    assert points == "2"  # zero, then the forced exit's realised PnL
    assert curve_pixels(chart) > 100, "the equity curve is not drawn"
    assert drawn_pixels(chart) > 200
