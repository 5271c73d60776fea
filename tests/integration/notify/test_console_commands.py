"""Telegram's operator console over the fake Bot API: the real store, the real pipeline selling
against the simulator, and every answer checked against the store's facts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from tests.integration.trading.rig import Scripted
from thunes import __version__
from thunes.app.compose import PipelineReconciler
from thunes.app.force_exits import PipelineForceExits
from thunes.app.live_key import LiveKeyGate
from thunes.clock import ManualClock
from thunes.config import Settings, load_settings
from thunes.domain import Action, ExitReason, Fill, Position, Side
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.exchange.client import BinanceGateway
from thunes.log import LOG_FILE
from thunes.notify.backend import StoreCommandBackend
from thunes.notify.bot_app import TelegramCommands
from thunes.notify.transport import build_bot
from thunes.reports.format import fmt_money
from thunes.reports.status import build_status
from thunes.store import AuditTrail, Store, audit_path
from thunes.trading.pipeline import CheckPipeline, PaperTrader, PipelineConfig
from thunes.trading.results import Outcome
from thunes.trading.risk import RiskLimits, RiskManager

CHAT = 424242
STRANGER = 666
SECRET = "apiSecretThatMustNeverReachTelegram"
VERSION_REPLY = f"<pre>THUNES {__version__} (sim mode)</pre>"


@dataclass
class Console:
    api: FakeBotApi
    commands: TelegramCommands
    store: Store
    clock: ManualClock
    strategy: Scripted
    pipeline: CheckPipeline
    events: RecordingSink
    settings: Settings
    foreign: list[tuple[int, str]]

    async def say(self, text: str) -> str:
        """Send `text` from the operator chat; every message of the reply, joined, unescaped.

        A `/version` sent behind it marks the end: updates are handled in order."""
        before = len(self.api.sent_texts(CHAT))
        self.api.inject_message(CHAT, text)
        self.api.inject_message(CHAT, "/version")
        await eventually(lambda: VERSION_REPLY in self.api.sent_texts(CHAT)[before:], timeout=20)
        new = self.api.sent_texts(CHAT)[before:]
        texts = [t.removeprefix("<pre>").removesuffix("</pre>") for t in new]
        return unescape("\n".join(texts[: new.index(VERSION_REPLY)]))

    def audit(self) -> list[dict[str, object]]:
        path = audit_path(self.settings.log_dir)
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


@pytest.fixture
async def console(
    fake_api: FakeBotApi, gateway: BinanceGateway, store: Store, clock: ManualClock,
    tmp_path: Path,
) -> AsyncIterator[Console]:
    settings = load_settings(
        env_file=None, state_dir=tmp_path, log_dir=tmp_path / "logs", api_key="k" * 20,
        api_secret=SECRET, telegram_token=fake_api.token, telegram_chat_id=CHAT,
        telegram_base_url=fake_api.base_url,
    )
    bus, sink = EventBus(), RecordingSink()
    bus.subscribe(sink)
    risk = RiskManager(RiskLimits(Decimal(1000), 3, timedelta(0)), store, clock, bus)
    strategy = Scripted()
    config = PipelineConfig(symbols=["BTCUSDT", "ETHUSDT"], interval="5m",
                            quote_amount=Decimal("20"), min_confidence=0.0,
                            stop_loss_pct=Decimal(0))
    pipeline = CheckPipeline(gateway, store, risk, strategy, clock, config, events=bus,
                             order_window_seconds=1.0)
    audit = AuditTrail(audit_path(settings.log_dir), clock, settings.secrets())
    gated = PipelineReconciler(pipeline, LiveKeyGate(gateway.api_restrictions, required=False))
    backend = StoreCommandBackend(
        store, risk, clock, daily_loss_limit=Decimal(1000), mode="sim", settings=settings,
        force_exits=PipelineForceExits(gated.force_exit, audit, "telegram"),
    )
    foreign: list[tuple[int, str]] = []
    commands = TelegramCommands(
        build_bot(fake_api.token, fake_api.base_url, timeout=3.0), CHAT, backend, clock,
        token=fake_api.token, poll_timeout=1.0,
        on_foreign_chat=lambda chat, text: foreign.append((chat, text)),
    )
    commands.start()
    await eventually(commands.ready.is_set, timeout=10)
    try:
        yield Console(fake_api, commands, store, clock, strategy, pipeline, sink, settings,
                      foreign)
    finally:
        await commands.stop()


async def enter(console: Console, symbol: str) -> None:
    console.strategy.say = Action.ENTER
    result = await PaperTrader(console.pipeline).run_strategy(symbol)
    assert result.outcome is Outcome.ENTERED, result.detail
    console.strategy.say = Action.HOLD  # left alone, the strategy would keep holding


async def test_forceexit_asks_for_confirmation_then_sells_under_the_kill_switch(
    console: Console,
) -> None:
    await enter(console, "BTCUSDT")
    await console.say("/kill maintenance")
    assert "Kill-switch ON" in await console.say("/kill confirm")
    question = await console.say("/forceexit btcusdt")
    assert "BTCUSDT" in question and "/forceexit confirm within 60 s" in question
    assert [p.symbol for p in console.store.open_positions()] == ["BTCUSDT"]  # asked, not sold
    answer = await console.say("/forceexit confirm")
    (closed,) = console.store.closed_positions()
    assert closed.exit_reason is ExitReason.FORCED and console.store.open_positions() == []
    assert f"PnL {fmt_money(closed.realized_pnl, signed=True)}" in answer
    assert console.store.risk_state().kill_switch  # only the exit went out
    sells = [o for o in console.store.recent_orders(10) if o.side is Side.SELL]
    assert len(sells) == 1 and sells[0].client_order_id  # one order, its id committed first
    fills = [e for e in console.events.of_kind(EventKind.FILL) if e.data["action"] == "exit"]
    assert [f.data["exit_reason"] for f in fills] == ["forced"]  # alerted like any exit
    requested = [e for e in console.audit() if e["kind"] == "force_exit_requested"]
    assert [(e["data"]["symbols"], e["data"]["source"]) for e in requested] == [  # type: ignore[index]
        (["BTCUSDT"], "telegram")]
    assert "Nothing to confirm" in await console.say("/forceexit confirm")
    assert "nothing to sell" in await console.say("/forceexit all")


async def test_a_foreign_chat_cannot_force_exit_or_confirm_one(console: Console) -> None:
    await enter(console, "BTCUSDT")
    console.api.inject_message(STRANGER, "/forceexit all")
    console.api.inject_message(STRANGER, "/forceexit confirm")
    await eventually(lambda: len(console.foreign) == 2, timeout=10)
    assert "/forceexit confirm" in await console.say("/forceexit all")  # the operator asks
    console.api.inject_message(STRANGER, "/forceexit confirm")  # a stranger cannot answer
    await eventually(lambda: len(console.foreign) == 3, timeout=10)
    assert [p.symbol for p in console.store.open_positions()] == ["BTCUSDT"]
    assert console.api.sent_texts(STRANGER) == []
    assert console.store.closed_positions() == []


def seed_history(store: Store, now: datetime) -> None:
    """Closed trades across weeks and months (UTC), today's with its fills."""
    def trade(symbol: str, closed: datetime, pnl: str) -> None:
        store.save_position(Position(symbol, Decimal("0.01"), Decimal("2000"),
                                     closed - timedelta(hours=1), Decimal("0.02")))
        store.close_position(symbol, closed_at=closed, realized_pnl=Decimal(pnl),
                             exit_reason=ExitReason.SIGNAL)

    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = today - timedelta(days=today.weekday())
    trade("ETHUSDT", monday - timedelta(seconds=1), "-3.10")  # Sunday: last week
    trade("BTCUSDT", monday - timedelta(days=40), "2.50")  # an earlier month
    store.add_fills([
        Fill("SOLUSDT", Side.BUY, Decimal("2000"), Decimal("0.01"), Decimal("0.02"), "USDT", 1,
             "b", today + timedelta(minutes=1)),
        Fill("SOLUSDT", Side.SELL, Decimal("2100"), Decimal("0.01"), Decimal("0.021"), "USDT", 2,
             "s", today + timedelta(minutes=2)),
    ])
    store.save_position(Position("SOLUSDT", Decimal("0.01"), Decimal("2000"),
                                 today + timedelta(minutes=1), Decimal("0.02")))
    store.close_position("SOLUSDT", closed_at=today + timedelta(minutes=2),
                         realized_pnl=Decimal("0.959"), exit_reason=ExitReason.SIGNAL)


async def test_performance_commands_answer_with_the_stores_numbers(console: Console) -> None:
    store, now = console.store, console.clock.now()
    seed_history(store, now)
    closed = store.closed_positions()
    everything = sum((p.realized_pnl for p in closed), Decimal(0))
    trades = await console.say("/trades 2")
    assert trades.index("SOLUSDT") < trades.index("ETHUSDT") and "BTCUSDT" not in trades
    assert "2100.00" in trades and "+0.96" in trades  # exit price and PnL of today's trade
    profit = await console.say("/profit")
    assert f"Realised PnL       {fmt_money(everything, signed=True)}" in profit
    assert "Fees paid          0.08 USDT" in profit  # 0.02 + 0.02 entries, 0.041 for SOL
    today = build_status(store, now, daily_loss_limit=Decimal(1000)).today_pnl
    assert f"Realised PnL       {fmt_money(today, signed=True)}" in await console.say("/profit 1")
    performance = await console.say("/performance")
    for p in closed:
        assert f"{fmt_money(p.realized_pnl, signed=True)}" in performance
    assert performance.index("BTCUSDT") < performance.index("SOLUSDT") < performance.index(
        "ETHUSDT")
    weekly = await console.say("/weekly 2")
    this_week = sum((p.realized_pnl for p in closed if p.closed_at is not None
                     and p.closed_at.date() >= (now - timedelta(days=now.weekday())).date()),
                    Decimal(0))
    assert fmt_money(this_week, signed=True) in weekly.splitlines()[1]
    assert "-3.10 USDT" in weekly.splitlines()[2]
    monthly = await console.say("/monthly 3")
    assert f"Total                     {fmt_money(everything, signed=True):>16}" in monthly
    assert "Usage" in await console.say("/weekly 99")


async def test_logs_never_show_a_secret(console: Console) -> None:
    log_dir = console.settings.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    written = datetime(2023, 1, 31, tzinfo=UTC).isoformat()
    lines = [
        {"time": written, "level": "INFO", "logger": "thunes.x", "message": "check done"},
        {"time": written, "level": "ERROR", "logger": "thunes.x",
         "message": f"request failed with key secret {SECRET}"},
        {"time": written, "level": "WARNING", "logger": "thunes.notify",
         "message": f"GET /bot{console.api.token}/getMe failed"},
    ]
    (log_dir / LOG_FILE).write_text("".join(json.dumps(line) + "\n" for line in lines))
    answer = await console.say("/logs 5")
    assert "check done" in answer and "request failed with key secret ***" in answer
    assert SECRET not in answer and console.api.token not in answer
    assert "All 3 log line(s)" in answer


async def test_show_config_masks_secrets(console: Console) -> None:
    answer = await console.say("/show_config")
    assert "THUNES_API_SECRET" in answer and "THUNES_TELEGRAM_TOKEN" in answer
    assert answer.count("(set, hidden)") >= 3  # key, secret, token
    assert SECRET not in answer and console.api.token not in answer and "k" * 20 not in answer
    assert "THUNES_SYMBOLS" in answer and "BTCUSDT" in answer
