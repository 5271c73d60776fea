"""Command logic without Telegram: confirmations, argument checks, what reaches the backend."""

from __future__ import annotations

from thunes.clock import ManualClock
from thunes.notify.commands import CommandRouter


class BackendStub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []

    async def status_text(self) -> str:
        return "status <ok>"

    async def positions_text(self) -> str:
        return "none"

    async def pnl_text(self, days: int) -> str:
        self.calls.append(("pnl", days))
        return f"{days} days"

    async def daily_report(self) -> tuple[str, bytes | None]:
        return "THUNES daily summary\nmore", b"png"

    async def balance_text(self) -> str:
        return "USDT 10"

    async def kill(self, reason: str) -> str:
        self.calls.append(("kill", reason))
        return "killed"

    async def resume(self) -> str:
        self.calls.append(("resume", None))
        return "resumed"

    async def pause(self) -> str:
        return "paused"

    async def unpause(self) -> str:
        return "unpaused"

    async def health_text(self) -> str:
        return "healthy"

    async def version_text(self) -> str:
        return "THUNES 0.1.0"

    async def rank_text(self, timeframe: str | None) -> str:
        self.calls.append(("rank", timeframe))
        return f"ranking {timeframe}"


async def test_kill_is_armed_then_confirmed_with_its_reason() -> None:
    backend, clock = BackendStub(), ManualClock()
    router = CommandRouter(backend, clock, confirm_window=60)
    armed = await router.handle("kill", ["news", "spike"])
    assert "/kill confirm" in armed.texts[0] and backend.calls == []
    clock.advance(59)
    assert (await router.handle("kill", ["confirm"])).texts == ["killed"]
    assert backend.calls == [("kill", "news spike")]
    again = await router.handle("kill", ["confirm"])  # used up: a second confirm does nothing
    assert "Nothing to confirm" in again.texts[0] and len(backend.calls) == 1


async def test_confirmations_expire_and_do_not_cross_actions() -> None:
    backend, clock = BackendStub(), ManualClock()
    router = CommandRouter(backend, clock, confirm_window=60)
    await router.handle("kill", [])
    assert "Nothing to confirm" in (await router.handle("resume", ["confirm"])).texts[0]
    clock.advance(61)
    assert "Nothing to confirm" in (await router.handle("kill", ["confirm"])).texts[0]
    await router.handle("resume", [])
    assert (await router.handle("resume", ["confirm"])).texts == ["resumed"]
    assert backend.calls == [("resume", None)]


async def test_pnl_days_are_checked_and_replies_are_escaped() -> None:
    backend = BackendStub()
    router = CommandRouter(backend, ManualClock())
    assert (await router.handle("pnl", [])).texts == ["<pre>7 days</pre>"]
    assert (await router.handle("PNL", ["30"])).texts == ["<pre>30 days</pre>"]
    for bad in (["0"], ["91"], ["x"]):
        assert "Usage" in (await router.handle("pnl", bad)).texts[0]
    assert backend.calls == [("pnl", 7), ("pnl", 30)]
    assert (await router.handle("status", [])).texts == ["<pre>status &lt;ok&gt;</pre>"]
    daily = await router.handle("daily", [])
    assert daily.photo == b"png" and daily.caption == "THUNES daily summary"
