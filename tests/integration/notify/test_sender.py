"""The outgoing queue against the fake Bot API: one alert per fill, 429s, outages, silencing."""

from __future__ import annotations

import asyncio
import inspect
import logging
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tests.fake_telegram import FakeBotApi
from tests.helpers import eventually
from thunes.clock import ManualClock
from thunes.events import Event, EventBus, EventKind
from thunes.notify.sender import SenderPolicy, TelegramNotifier
from thunes.notify.transport import BotTransport, build_bot

CHAT = 424242
NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def make_notifier(
    api: FakeBotApi, clock: ManualClock, token: str | None = None, **policy: float
) -> TelegramNotifier:
    token = token or api.token
    transport = BotTransport(build_bot(token, api.base_url, timeout=3.0), token)
    return TelegramNotifier(
        transport,
        CHAT,
        clock,
        silenced=("stream",),
        policy=SenderPolicy(**policy),  # type: ignore[arg-type]
    )


def fill_event(action: str = "exit") -> Event:
    return Event(
        EventKind.FILL,
        "fill",
        NOW,
        {
            "symbol": "BTCUSDT",
            "side": "SELL" if action == "exit" else "BUY",
            "action": action,
            "price": Decimal("43210.5"),
            "quantity": Decimal("0.00023"),
            "fee": Decimal("0.00993"),
            "fee_asset": "USDT",
            "pnl": Decimal("0.42"),
        },
        correlation_id="chk-1",
    )


async def test_a_fill_produces_exactly_one_alert(fake_api: FakeBotApi) -> None:
    bus = EventBus()
    notifier = make_notifier(fake_api, ManualClock())
    bus.subscribe(notifier)
    notifier.start()
    bus.publish(fill_event())
    await eventually(lambda: notifier.stats().sent == 1, timeout=10)
    await notifier.stop(flush_timeout=1)
    texts = fake_api.sent_texts(CHAT)
    assert len(texts) == 1
    assert "43210.5" in texts[0] and "0.00023" in texts[0] and "+0.42 USDT" in texts[0]
    assert fake_api.calls("sendMessage")[0].params["parse_mode"] == "HTML"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_is_honoured_then_the_message_is_sent_once(fake_api: FakeBotApi) -> None:
    clock = ManualClock()
    notifier = make_notifier(fake_api, clock)
    fake_api.throttle_next(retry_after=30)
    start = clock.time()
    notifier.start()
    notifier.publish(fill_event("entry"))
    await eventually(lambda: notifier.stats().sent == 1, timeout=10)
    await notifier.stop(flush_timeout=1)
    assert len(fake_api.calls("sendMessage")) == 2  # the 429 and the delivery
    assert clock.time() - start >= 30
    stats = notifier.stats()
    assert (stats.throttled, stats.failed, stats.dropped) == (1, 0, 0)


async def test_messages_are_paced_one_per_second(fake_api: FakeBotApi) -> None:
    clock = ManualClock()
    notifier = make_notifier(fake_api, clock)
    notifier.start()
    for _ in range(4):
        notifier.publish(fill_event())
    start = clock.time()
    await eventually(lambda: notifier.stats().sent == 4, timeout=10)
    await notifier.stop(flush_timeout=1)
    assert clock.time() - start >= 3.0


def chatter_event(kind: EventKind = EventKind.LIFECYCLE, n: int = 0) -> Event:
    return Event(kind, f"{kind.value} {n}", NOW, {"name": f"n{n}", "job_id": f"n{n}"})


async def test_outage_never_blocks_publish_and_drops_are_counted(fake_api: FakeBotApi) -> None:
    assert not inspect.iscoroutinefunction(TelegramNotifier.publish)
    clock = ManualClock()
    notifier = make_notifier(
        fake_api, clock, queue_size=3, breaker_threshold=2, breaker_cooloff=600
    )
    fake_api.down = True
    notifier.start()
    for n in range(10):
        notifier.publish(chatter_event(n=n))  # synchronous: returns without awaiting the network
    await eventually(lambda: notifier.stats().breaker_open, timeout=10)
    stats = notifier.stats()
    assert stats.dropped >= 6 and stats.sent == 0 and stats.queue_depth <= 4
    fake_api.down = False
    await eventually(lambda: notifier.stats().queue_depth == 0, timeout=10)
    await notifier.stop(flush_timeout=1)
    final = notifier.stats()
    assert final.sent == 10 - final.dropped + 1  # the queued alerts plus one drop notice
    assert not final.breaker_open
    assert any("dropped" in t for t in fake_api.sent_texts(CHAT))


async def test_a_slow_api_does_not_delay_other_work(fake_api: FakeBotApi) -> None:
    fake_api.delay = 1.0
    notifier = make_notifier(fake_api, ManualClock())
    notifier.start()
    notifier.publish(fill_event())
    await eventually(lambda: len(fake_api.calls("sendMessage")) == 1, timeout=10)
    # The send is now stuck in the slow server; a "signal check" still runs to completion.
    check_done = asyncio.Event()

    async def signal_check() -> None:
        for _ in range(50):
            notifier.publish(fill_event())
        check_done.set()

    await asyncio.wait_for(signal_check(), timeout=0.5)
    assert check_done.is_set() and notifier.stats().sent == 0
    fake_api.delay = 0
    await notifier.stop(flush_timeout=0.1)


async def test_transient_errors_back_off_and_deliver(fake_api: FakeBotApi) -> None:
    clock = ManualClock()
    notifier = make_notifier(fake_api, clock)
    fake_api.fail_next(2, status=502)
    notifier.start()
    notifier.publish(fill_event())
    await eventually(lambda: notifier.stats().sent == 1, timeout=10)
    await notifier.stop(flush_timeout=1)
    assert notifier.stats().retries == 2
    assert len(fake_api.sent_texts(CHAT)) == 3


async def test_silenced_kinds_are_counted_not_sent(fake_api: FakeBotApi) -> None:
    notifier = make_notifier(fake_api, ManualClock())
    notifier.start()
    notifier.publish(Event(EventKind.STREAM, "price stream down", NOW, {"down_seconds": 90}))
    notifier.publish(fill_event())
    await eventually(lambda: notifier.stats().sent == 1, timeout=10)
    await notifier.stop(flush_timeout=1)
    assert notifier.stats().silenced == 1
    assert len(fake_api.calls("sendMessage")) == 1


async def test_a_rejected_token_is_never_logged(
    fake_api: FakeBotApi, caplog: pytest.LogCaptureFixture
) -> None:
    bad_token = "987654321:WRONG-token-value_abcdefghij"
    notifier = make_notifier(fake_api, ManualClock(), token=bad_token)
    caplog.set_level(logging.DEBUG)
    notifier.start()
    notifier.publish(fill_event())
    await eventually(lambda: notifier.stats().failed == 1, timeout=10)
    await notifier.stop(flush_timeout=1)
    assert notifier.stats().sent == 0
    assert bad_token not in caplog.text
    assert fake_api.requests and not fake_api.requests[0].token_ok


async def test_photo_and_long_report_are_delivered(fake_api: FakeBotApi) -> None:
    notifier = make_notifier(fake_api, ManualClock())
    notifier.start()
    notifier.send_photo(b"\x89PNG\r\n\x1a\nfake", caption="Daily summary")
    notifier.send_text("line <1> & more\n" * 600)  # ~9,600 characters: several messages
    await eventually(lambda: notifier.stats().queue_depth == 0, timeout=10)
    await notifier.stop(flush_timeout=1)
    assert fake_api.photos() == [b"\x89PNG\r\n\x1a\nfake"]
    texts = fake_api.sent_texts(CHAT)
    assert len(texts) >= 3 and all(len(t) <= 4096 for t in texts)
    assert texts[0].startswith("<pre>") and "&lt;1&gt; &amp; more" in texts[0]


async def test_publish_from_a_worker_thread_is_delivered(fake_api: FakeBotApi) -> None:
    notifier = make_notifier(fake_api, ManualClock())
    notifier.start()
    await asyncio.to_thread(notifier.publish, fill_event())
    await eventually(lambda: notifier.stats().sent == 1, timeout=10)
    await notifier.stop(flush_timeout=1)
    health = notifier.health()
    assert health["sent"] == 1 and health["dropped"] == 0 and health["breaker_open"] is False


def kill_switch_event(on: bool) -> Event:
    return Event(EventKind.KILL_SWITCH, "kill-switch", NOW, {"on": on, "reason": "daily loss"})


def rejection_event() -> Event:
    data = {"symbol": "BTCUSDT", "side": "SELL", "reason": "exchange_rejected", "message": "-2010"}
    return Event(EventKind.ORDER_REJECTED, "order rejected", NOW, data)


async def test_a_full_alert_queue_drops_the_least_important_kinds_never_fills_or_kill_switch(
    fake_api: FakeBotApi,
) -> None:
    """During an outage the queue fills with chatter; fills, rejections and kill-switch changes
    published after it still go out, and what was dropped is chatter, least important first."""
    clock = ManualClock()
    notifier = make_notifier(
        fake_api, clock, queue_size=4, breaker_threshold=1, breaker_cooloff=600
    )
    fake_api.down = True
    notifier.start()
    notifier.publish(chatter_event(EventKind.JOB_FAILURE, 0))
    await eventually(lambda: notifier.stats().breaker_open, timeout=10)  # stuck in flight
    for n in range(3):
        notifier.publish(chatter_event(EventKind.LIFECYCLE, n))
    notifier.publish(chatter_event(EventKind.BREAKER, 9))
    for _ in range(5):
        notifier.publish(fill_event())
    notifier.publish(kill_switch_event(True))
    notifier.publish(rejection_event())
    dropped = notifier.stats().dropped
    fake_api.down = False
    clock.advance(600)
    await eventually(lambda: notifier.stats().queue_depth == 0, timeout=10)
    await notifier.stop(flush_timeout=1)
    texts = fake_api.sent_texts(CHAT)
    assert sum("43210.5" in t for t in texts) == 5
    assert sum("daily loss" in t for t in texts) == 1
    assert sum("-2010" in t for t in texts) == 1
    assert dropped == 4  # the three lifecycle messages first, then the breaker
    notice = next(t for t in texts if "dropped" in t)
    assert "breaker 1" in notice and "lifecycle 3" in notice
    assert not any("lifecycle 0" in t for t in texts)
