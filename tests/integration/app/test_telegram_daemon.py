"""The whole daemon on the embedded simulator, talking to a local fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from thunes.app import Built, Observer, run_app
from thunes.clock import SimClock
from thunes.config import Settings, load_settings
from thunes.domain import OrderState
from thunes.orchestration.daemon import Daemon

CHAT = 424242
FOREIGN = 999


@dataclass
class Running:
    daemon: Daemon
    built: Built
    bot: FakeBotApi
    task: asyncio.Task[int]


def settings_for(tmp_path: Path, bot: FakeBotApi, start: str) -> Settings:
    return load_settings(
        env_file=None,
        mode="sim",
        symbols=["BTCUSDT", "ETHUSDT"],
        timeframe="5m",
        check_interval_minutes=5.0,
        sim_speed=200.0,
        sim_start=start,
        quote_amount="25",
        daily_loss_limit="50",
        state_dir=tmp_path / "state",
        log_dir=tmp_path / "logs",
        health_port=0,
        telegram_token=bot.token,
        telegram_chat_id=CHAT,
        telegram_base_url=bot.base_url,
    )


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    bot = FakeBotApi()
    await bot.start()
    started: list[tuple[Daemon, Built]] = []
    observer = Observer(on_start=lambda daemon, built: started.append((daemon, built)))
    # SMA 20/50 on the 5m sample: BTCUSDT enters on the 19:00 bar, ETHUSDT on the 19:45 bar.
    settings = settings_for(tmp_path, bot, "2023-02-01T18:45:00")
    task = asyncio.create_task(run_app(settings, observer=observer))
    await eventually(lambda: started or task.done(), timeout=30)
    assert started, f"daemon did not start: {task.exception() if task.done() else ''}"
    daemon, built = started[0]
    try:
        yield Running(daemon, built, bot, task)
    finally:
        daemon.request_stop()
        assert await asyncio.wait_for(task, 30) == 0
        await bot.stop()


def fill_alerts(bot: FakeBotApi) -> list[str]:
    return [t for t in bot.sent_texts(CHAT) if "filled" in t.lower()]


def audit_kinds(path: Path) -> list[tuple[str, dict[str, object]]]:
    lines = path.read_text().splitlines() if path.exists() else []
    return [(entry["kind"], entry) for entry in map(json.loads, lines)]


@pytest.mark.slow
async def test_alerts_commands_and_kill_switch_through_telegram(running: Running) -> None:
    built, bot = running.built, running.bot
    store = built.store
    clock = built.clock
    assert isinstance(clock, SimClock)
    # Once BTC has filled, the replay slows down while the operator talks to the bot, so the
    # ETH entry (19:45) comes after the kill-switch however busy the machine is.
    await eventually(lambda: any(o.state is OrderState.FILLED for o in store.recent_orders(50)),
                     timeout=40)
    clock.set_speed(2.0)
    # A fill produces exactly one alert.
    await eventually(lambda: any("BTCUSDT" in t for t in fill_alerts(bot)), timeout=40)
    filled = [o for o in store.recent_orders(50) if o.state is OrderState.FILLED]
    assert len(filled) == 1
    assert len(fill_alerts(bot)) == 1
    started_alerts = [t for t in bot.sent_texts(CHAT) if "started" in t.lower()]
    assert len(started_alerts) == 1

    audit = built.settings.log_dir / "audit_trail.jsonl"
    # /kill asks for confirmation, then stops entries at the next check.
    bot.inject_message(CHAT, "/kill")
    await eventually(lambda: any("confirm" in t for t in bot.sent_texts(CHAT)), timeout=20)
    assert not store.risk_state().kill_switch
    bot.inject_message(CHAT, "/kill confirm")
    await eventually(lambda: store.risk_state().kill_switch, timeout=20)
    clock.set_speed(200.0)

    # A command from another chat does nothing (and is audited).
    bot.inject_message(FOREIGN, "/resume")
    bot.inject_message(FOREIGN, "/resume confirm")
    await eventually(
        lambda: any(k == "telegram_foreign_chat" for k, _ in audit_kinds(audit)), timeout=20
    )
    assert store.risk_state().kill_switch
    assert bot.sent_texts(FOREIGN) == []

    # ETHUSDT's entry signal (19:45 bar) comes while the kill-switch is on: refused.
    def eth_refused() -> bool:
        return any(
            k == "decision"
            and e["data"].get("symbol") == "ETHUSDT"  # type: ignore[attr-defined]
            and "KILL_SWITCH" in json.dumps(e)
            for k, e in audit_kinds(audit)
        )

    await eventually(eth_refused, timeout=40)
    assert not [o for o in store.recent_orders(50) if o.symbol == "ETHUSDT"]

    # /resume restores entries.
    bot.inject_message(CHAT, "/resume")
    bot.inject_message(CHAT, "/resume confirm")
    await eventually(lambda: not store.risk_state().kill_switch, timeout=20)
    assert len(fill_alerts(bot)) == len(
        [o for o in store.recent_orders(50) if o.state is OrderState.FILLED]
    )
