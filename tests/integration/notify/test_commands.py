"""Commands over the fake Bot API, with the real store and risk manager behind them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.domain import Action, Dust, Position
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.notify.backend import StoreCommandBackend
from thunes.notify.bot_app import TelegramCommands
from thunes.notify.transport import build_bot
from thunes.store import Store
from thunes.trading.risk import RiskLimits, RiskManager

CHAT = 424242
STRANGER = 666


@dataclass
class Rig:
    api: FakeBotApi
    commands: TelegramCommands
    risk: RiskManager
    store: Store
    clock: ManualClock
    events: RecordingSink
    foreign: list[tuple[int, str]]

    def entry_allowed(self) -> bool:
        decision = self.risk.validate_trade(
            "BTCUSDT", Action.ENTER, price_fresh=True, breaker_open=False
        )
        return decision.approved

    async def say(self, text: str, chat: int = CHAT) -> str:
        """Send `text` from `chat` and wait for the bot's reply to the operator chat."""
        before = len(self.api.sent_texts(CHAT))
        self.api.inject_message(chat, text)
        await eventually(lambda: len(self.api.sent_texts(CHAT)) > before, timeout=10)
        return self.api.sent_texts(CHAT)[-1]


@pytest.fixture
async def rig(fake_api: FakeBotApi, store: Store) -> AsyncIterator[Rig]:
    clock = ManualClock(1_773_144_000.0)  # 2026-03-10 12:00 UTC
    bus, sink = EventBus(), RecordingSink()
    bus.subscribe(sink)
    limits = RiskLimits(Decimal("20"), 3, timedelta(minutes=60))
    risk = RiskManager(limits, store, clock, events=bus)
    backend = StoreCommandBackend(
        store,
        risk,
        clock,
        daily_loss_limit=Decimal("20"),
        mode="sim",
        prices=lambda: {"ETHUSDT": Decimal("2100")},
    )
    foreign: list[tuple[int, str]] = []
    bot = build_bot(fake_api.token, fake_api.base_url, timeout=3.0)
    commands = TelegramCommands(
        bot,
        CHAT,
        backend,
        clock,
        token=fake_api.token,
        poll_timeout=1.0,
        on_foreign_chat=lambda chat, text: foreign.append((chat, text)),
    )
    commands.start()
    await eventually(commands.ready.is_set, timeout=10)
    try:
        yield Rig(fake_api, commands, risk, store, clock, sink, foreign)
    finally:
        await commands.stop()


async def test_kill_needs_confirmation_then_stops_entries_and_resume_restores(rig: Rig) -> None:
    assert rig.entry_allowed()
    assert "/kill confirm" in await rig.say("/kill")
    assert rig.entry_allowed()  # armed, not yet done
    assert "Kill-switch ON" in await rig.say("/kill confirm")
    assert not rig.entry_allowed()
    assert rig.store.risk_state().kill_switch
    assert len(rig.events.of_kind(EventKind.KILL_SWITCH)) == 1
    assert "/resume confirm" in await rig.say("/resume")
    assert not rig.entry_allowed()
    assert "entries are allowed again" in await rig.say("/resume confirm")
    assert rig.entry_allowed()


async def test_a_late_confirmation_does_nothing(rig: Rig) -> None:
    await rig.say("/kill market looks broken")
    rig.clock.advance(61)
    assert "Nothing to confirm" in await rig.say("/kill confirm")
    assert rig.entry_allowed()


async def test_pause_and_unpause_stop_entries_without_the_kill_switch(rig: Rig) -> None:
    assert "paused" in await rig.say("/pause")
    assert not rig.entry_allowed() and not rig.store.risk_state().kill_switch
    await rig.say("/unpause")
    assert rig.entry_allowed()


async def test_a_command_from_another_chat_does_nothing(rig: Rig) -> None:
    rig.api.inject_message(STRANGER, "/kill")
    rig.api.inject_message(STRANGER, "/kill confirm")
    await eventually(lambda: len(rig.foreign) == 2, timeout=10)
    assert rig.foreign[0] == (STRANGER, "/kill")
    assert rig.entry_allowed() and not rig.store.risk_state().kill_switch
    assert rig.api.calls("sendMessage") == []  # nothing answered anywhere
    assert rig.commands.commands_handled == 0


async def test_read_commands_answer_from_the_store(rig: Rig) -> None:
    rig.store.save_position(
        Position("ETHUSDT", Decimal("0.01"), Decimal("2000"), rig.clock.now(), Decimal("0.02"))
    )
    rig.store.kv_set("dust:BTCUSDT", Dust(Decimal("0.00000913"), Decimal("0.21")).encode())
    positions = await rig.say("/positions")
    assert "ETHUSDT" in positions and "+0.98 USDT" in positions  # 21.00 - 20.02
    assert "Tracked dust       BTCUSDT 0.00000913" in positions  # kept, shown, not written off
    status = await rig.say("/status")
    assert "THUNES" in status and "(sim)" in status and "allowed" in status
    assert "Realised PnL, last 3 day(s)" in await rig.say("/pnl 3")
    assert "Usage" in await rig.say("/pnl lots")
    assert "not available" in await rig.say("/balance")
    assert "Health" in await rig.say("/health")
    assert "/kill" in await rig.say("/help")
    assert "sim mode" in await rig.say("/version")
    assert "Unknown command" in await rig.say("/moon")


async def test_daily_sends_the_chart_and_the_text(rig: Rig) -> None:
    text = await rig.say("/daily")
    assert "THUNES daily summary 2026-03-10" in text
    (photo,) = rig.api.photos()
    assert photo[:8] == b"\x89PNG\r\n\x1a\n"


async def test_commands_start_while_telegram_is_down_and_connect_later(
    fake_api: FakeBotApi, store: Store
) -> None:
    fake_api.unavailable = True
    clock = ManualClock()
    start = clock.time()
    risk = RiskManager(RiskLimits(Decimal("20"), 3, timedelta(0)), store, clock)
    backend = StoreCommandBackend(store, risk, clock, daily_loss_limit=Decimal("20"))
    bot = build_bot(fake_api.token, fake_api.base_url, timeout=2.0)
    commands = TelegramCommands(bot, CHAT, backend, clock, poll_timeout=1.0)
    commands.start()  # returns at once: the daemon is never held up by Telegram
    try:
        await eventually(lambda: clock.time() - start >= 3.0, timeout=10)  # backing off: 1 s, 2 s
        assert not commands.ready.is_set()
        fake_api.unavailable = False
        await eventually(commands.ready.is_set, timeout=10)
        fake_api.inject_message(CHAT, "/version")
        await eventually(lambda: fake_api.sent_texts(CHAT), timeout=10)
    finally:
        await commands.stop()
