"""Command logic without Telegram: confirmations, argument checks, what reaches the backend."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from thunes.clock import ManualClock
from thunes.notify.commands import COMMANDS, CommandRouter


class BackendStub:
    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.held = ["BTCUSDT", "ETHUSDT"]

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

    async def trades_text(self, count: int) -> str:
        self.calls.append(("trades", count))
        return f"trades {count}"

    async def profit_text(self, days: int | None) -> str:
        self.calls.append(("profit", days))
        return f"profit {days}"

    async def performance_text(self) -> str:
        return "performance"

    async def periods_text(self, unit: str, count: int) -> str:
        self.calls.append((unit, count))
        return f"{unit} {count}"

    async def config_text(self) -> str:
        return "config"

    async def logs_text(self, count: int) -> str:
        self.calls.append(("logs", count))
        return f"logs {count}"

    async def force_exit_preview(self, target: str, window: int) -> tuple[list[str], str]:
        picked = self.held if target.lower() == "all" else [
            s for s in self.held if s == target.upper()]
        return picked, f"sell {' '.join(picked)}?" if picked else "nothing to sell"

    async def force_exit(self, symbols: Sequence[str]) -> str:
        self.calls.append(("forceexit", list(symbols)))
        return "sold " + " ".join(symbols)


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


async def test_forceexit_asks_then_sells_exactly_what_it_asked_about() -> None:
    backend, clock = BackendStub(), ManualClock()
    router = CommandRouter(backend, clock, confirm_window=60)
    asked = await router.handle("forceexit", ["all"])
    assert asked.texts == ["<pre>sell BTCUSDT ETHUSDT?</pre>"] and backend.calls == []
    backend.held = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]  # a new position after the question
    assert (await router.handle("forceexit", ["confirm"])).texts == [
        "<pre>sold BTCUSDT ETHUSDT</pre>"]
    assert backend.calls == [("forceexit", ["BTCUSDT", "ETHUSDT"])]
    again = await router.handle("forceexit", ["confirm"])
    assert "Nothing to confirm" in again.texts[0] and len(backend.calls) == 1


async def test_forceexit_of_nothing_held_arms_nothing_and_expires() -> None:
    backend, clock = BackendStub(), ManualClock()
    router = CommandRouter(backend, clock, confirm_window=60)
    assert "Usage" in (await router.handle("forceexit", [])).texts[0]
    assert (await router.handle("forceexit", ["XRPUSDT"])).texts == ["<pre>nothing to sell</pre>"]
    assert "Nothing to confirm" in (await router.handle("forceexit", ["confirm"])).texts[0]
    await router.handle("forceexit", ["btcusdt"])
    assert "Nothing to confirm" in (await router.handle("kill", ["confirm"])).texts[0]
    clock.advance(61)
    assert "Nothing to confirm" in (await router.handle("forceexit", ["confirm"])).texts[0]
    assert backend.calls == []


async def test_counted_commands_take_defaults_and_refuse_bad_counts() -> None:
    backend = BackendStub()
    router = CommandRouter(backend, ManualClock())
    for command in ("trades", "profit", "weekly", "monthly", "logs"):
        await router.handle(command, [])
    assert backend.calls == [
        ("trades", 10), ("profit", None), ("week", 8), ("month", 6), ("logs", 20)]
    backend.calls.clear()
    await router.handle("trades", ["3"])
    await router.handle("profit", ["30"])
    await router.handle("weekly", ["52"])
    await router.handle("logs", ["100"])
    assert backend.calls == [("trades", 3), ("profit", 30), ("week", 52), ("logs", 100)]
    for command, bad in (("trades", "51"), ("profit", "0"), ("weekly", "x"),
                         ("monthly", "25"), ("logs", "-1")):
        assert "Usage" in (await router.handle(command, [bad])).texts[0]
    assert (await router.handle("performance", [])).texts == ["<pre>performance</pre>"]
    assert (await router.handle("show_config", [])).texts == ["<pre>config</pre>"]


async def test_help_lists_every_command() -> None:
    text = (await CommandRouter(BackendStub(), ManualClock()).handle("help", [])).texts[0]
    for name in ("forceexit", "trades", "profit", "performance", "weekly", "monthly",
                 "show_config", "logs", *COMMANDS):
        assert f"/{name} " in text


def test_the_operations_guide_lists_every_command() -> None:
    guide = (Path(__file__).parents[3] / "docs" / "OPERATIONS.md").read_text(encoding="utf-8")
    section = guide.split("## Telegram commands", 1)[1].split("\n## ", 1)[0]
    missing = [name for name in COMMANDS if f"`/{name}" not in section]
    assert missing == []
