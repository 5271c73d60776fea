"""`/forceexit` in the whole daemon (sim mode, the fake Bot API): the app's wiring sells a
position the daemon opened, through its order path, with the kill-switch on, and alerts it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from tests.integration.app.test_telegram_daemon import CHAT, settings_for
from thunes.app import Built, Observer, run_app
from thunes.clock import SimClock
from thunes.domain import ExitReason, OrderState, Side
from thunes.orchestration.daemon import Daemon


def audit_entries(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.mark.slow
async def test_forceexit_through_the_daemon_sells_under_the_kill_switch(tmp_path: Path) -> None:
    bot = FakeBotApi()
    await bot.start()
    started: list[tuple[Daemon, Built]] = []
    observer = Observer(on_start=lambda daemon, built: started.append((daemon, built)))
    # SMA 20/50 on the 5m sample: BTCUSDT enters on the 19:00 bar.
    settings = settings_for(tmp_path, bot, "2023-02-01T18:45:00")
    task = asyncio.create_task(run_app(settings, observer=observer))
    try:
        await eventually(lambda: started or task.done(), timeout=30)
        assert started, f"daemon did not start: {task.exception() if task.done() else ''}"
        daemon, built = started[0]
        store, clock = built.store, built.clock
        assert isinstance(clock, SimClock)
        await eventually(lambda: store.open_positions(), timeout=40)
        clock.set_speed(1.0)  # the market all but stops while the operator talks to the bot
        bot.inject_message(CHAT, "/kill")
        bot.inject_message(CHAT, "/kill confirm")
        await eventually(lambda: store.risk_state().kill_switch, timeout=20)
        bot.inject_message(CHAT, "/forceexit BTCUSDT")
        await eventually(lambda: any("/forceexit confirm" in t for t in bot.sent_texts(CHAT)),
                         timeout=20)
        assert [p.symbol for p in store.open_positions()] == ["BTCUSDT"]
        bot.inject_message(CHAT, "/forceexit confirm")
        await eventually(lambda: store.closed_positions(), timeout=30)
        (closed,) = store.closed_positions()
        assert closed.exit_reason is ExitReason.FORCED and store.risk_state().kill_switch
        sells = [o for o in store.recent_orders(20) if o.side is Side.SELL]
        assert [o.state for o in sells] == [OrderState.FILLED]
        await eventually(lambda: any("sold" in t for t in bot.sent_texts(CHAT)), timeout=20)
        # The sell's fill alert reaches the chat like any exit's.
        await eventually(
            lambda: sum("filled" in t.lower() and "BTCUSDT" in t for t in bot.sent_texts(CHAT))
            == 2, timeout=20)
        audit = audit_entries(settings.log_dir / "audit_trail.jsonl")
        kinds = [e["kind"] for e in audit]
        assert "force_exit_requested" in kinds
        daemon.request_stop()
        assert await asyncio.wait_for(task, 30) == 0
    finally:
        if not task.done():
            task.cancel()
        await bot.stop()
