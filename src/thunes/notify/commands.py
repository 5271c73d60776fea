"""Telegram commands: answered only in the configured chat, everything else ignored and audited.

The command logic (`CommandRouter.handle`) is plain async code over a `CommandBackend`; the
python-telegram-bot `Application` around it only polls, filters by chat and sends replies.

`/kill`, `/resume` and `/forceexit` need a confirmation: the first message arms the action, and
`/kill confirm` (or `/resume confirm`, `/forceexit confirm`) within `confirm_window` seconds
carries it out. A force-exit sells the positions its question listed, no others. Typed
text was chosen over inline buttons: it works the same in every client and in tests, and a
stale confirmation (after a restart, or late) simply does nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from typing import Literal, Protocol

from thunes.clock import Clock
from thunes.notify.render import preformatted_chunks

COMMANDS: dict[str, str] = {
    "status": "risk switches, positions, today's PnL, health",
    "positions": "open positions with unrealised PnL",
    "pnl": "realised PnL per day: /pnl [days]",
    "daily": "today's summary with the chart",
    "trades": "last closed trades: /trades [n]",
    "profit": "realised profit: /profit [days] (all time without days)",
    "performance": "realised PnL per pair",
    "weekly": "realised PnL per UTC week from Monday: /weekly [n]",
    "monthly": "realised PnL per UTC month: /monthly [n]",
    "balance": "exchange balances",
    "forceexit": "sell now: /forceexit <symbol|all> (asks to confirm)",
    "kill": "stop new entries (asks to confirm)",
    "resume": "lift the kill-switch (asks to confirm)",
    "pause": "pause new entries",
    "unpause": "allow new entries again",
    "health": "component health",
    "rank": "top 10 of the latest ranking: /rank [timeframe]",
    "show_config": "settings in effect, secrets hidden",
    "logs": "last log lines, secrets redacted: /logs [n]",
    "help": "this list",
    "version": "version and mode",
}
MAX_PNL_DAYS = 90
# command: (default, largest) count accepted as its optional argument
COUNTS: dict[str, tuple[int | None, int]] = {
    "trades": (10, 50),
    "profit": (None, 3650),
    "weekly": (8, 52),
    "monthly": (6, 24),
    "logs": (20, 100),
}


class CommandBackend(Protocol):
    """What the commands read and change; the app implements it over store and risk manager."""

    async def status_text(self) -> str: ...
    async def positions_text(self) -> str: ...
    async def pnl_text(self, days: int) -> str: ...
    async def daily_report(self) -> tuple[str, bytes | None]: ...
    async def balance_text(self) -> str: ...
    async def kill(self, reason: str) -> str: ...
    async def resume(self) -> str: ...
    async def pause(self) -> str: ...
    async def unpause(self) -> str: ...
    async def health_text(self) -> str: ...
    async def version_text(self) -> str: ...
    async def rank_text(self, timeframe: str | None) -> str: ...
    async def trades_text(self, count: int) -> str: ...
    async def profit_text(self, days: int | None) -> str: ...
    async def performance_text(self) -> str: ...
    async def periods_text(self, unit: Literal["week", "month"], count: int) -> str: ...
    async def config_text(self) -> str: ...
    async def logs_text(self, count: int) -> str: ...
    async def force_exit_preview(self, target: str, window: int) -> tuple[list[str], str]: ...
    async def force_exit(self, symbols: Sequence[str]) -> str: ...


@dataclass
class Reply:
    """What to send back: HTML texts in order, and an optional photo sent first."""

    texts: list[str] = field(default_factory=list)
    photo: bytes | None = None
    caption: str = ""

    @classmethod
    def pre(cls, text: str) -> Reply:
        return cls(preformatted_chunks(text))

    @classmethod
    def line(cls, text: str) -> Reply:
        return cls([escape(text)])


class Confirmations:
    """Armed actions waiting for `confirm`; each expires after `window` seconds."""

    def __init__(self, clock: Clock, window: float = 60.0) -> None:
        self._clock = clock
        self.window = window
        self._pending: dict[str, tuple[float, str]] = {}

    def arm(self, action: str, detail: str) -> None:
        self._pending[action] = (self._clock.time() + self.window, detail)

    def confirm(self, action: str) -> str | None:
        """The armed detail if `action` is armed and fresh (then disarmed), else None."""
        armed = self._pending.pop(action, None)
        if armed is None or self._clock.time() > armed[0]:
            return None
        return armed[1]


class CommandRouter:
    """Turns `/command args` into a `Reply` by asking the backend."""

    def __init__(self, backend: CommandBackend, clock: Clock, confirm_window: float = 60.0):
        self._backend = backend
        self.confirmations = Confirmations(clock, confirm_window)
        simple: dict[str, Callable[[], Awaitable[str]]] = {
            "status": backend.status_text,
            "positions": backend.positions_text,
            "balance": backend.balance_text,
            "health": backend.health_text,
            "version": backend.version_text,
            "performance": backend.performance_text,
            "show_config": backend.config_text,
        }
        self._simple = simple

    async def handle(self, command: str, args: Sequence[str]) -> Reply:
        command = command.lower()
        if command in self._simple:
            return Reply.pre(await self._simple[command]())
        if command == "pnl":
            return await self._pnl(args)
        if command in COUNTS:
            return await self._counted(command, args)
        if command == "forceexit":
            return await self._force_exit(args)
        if command == "rank":
            return Reply.pre(await self._backend.rank_text(args[0] if args else None))
        if command == "daily":
            text, png = await self._backend.daily_report()
            reply = Reply.pre(text)
            reply.photo, reply.caption = png, text.splitlines()[0] if text else ""
            return reply
        if command in ("kill", "resume"):
            return await self._guarded(command, args)
        if command == "pause":
            return Reply.line(await self._backend.pause())
        if command == "unpause":
            return Reply.line(await self._backend.unpause())
        if command in ("help", "start"):
            return Reply.pre("\n".join(f"/{name:<12} {text}" for name, text in COMMANDS.items()))
        return Reply.line(f"Unknown command /{command}; send /help for the list.")

    async def _pnl(self, args: Sequence[str]) -> Reply:
        try:
            days = int(args[0]) if args else 7
        except ValueError:
            days = 0
        if not 1 <= days <= MAX_PNL_DAYS:
            return Reply.line(f"Usage: /pnl [days], days between 1 and {MAX_PNL_DAYS}.")
        return Reply.pre(await self._backend.pnl_text(days))

    async def _counted(self, command: str, args: Sequence[str]) -> Reply:
        default, largest = COUNTS[command]
        try:
            count = int(args[0]) if args else default
        except ValueError:
            count = 0
        if count is not None and not 1 <= count <= largest:
            return Reply.line(f"Usage: /{command} [n], n between 1 and {largest}.")
        b = self._backend
        if command == "profit":
            return Reply.pre(await b.profit_text(count))
        assert count is not None
        if command == "trades":
            return Reply.pre(await b.trades_text(count))
        if command == "logs":
            return Reply.pre(await b.logs_text(count))
        return Reply.pre(await b.periods_text("week" if command == "weekly" else "month", count))

    async def _force_exit(self, args: Sequence[str]) -> Reply:
        window = int(self.confirmations.window)
        if not args:
            return Reply.line("Usage: /forceexit <symbol|all>, then /forceexit confirm.")
        if args[0].lower() == "confirm":
            armed = self.confirmations.confirm("forceexit")
            if armed is None:
                return Reply.line("Nothing to confirm (or it expired): send /forceexit first.")
            return Reply.pre(await self._backend.force_exit(armed.split()))
        symbols, text = await self._backend.force_exit_preview(args[0], window)
        if symbols:
            self.confirmations.arm("forceexit", " ".join(symbols))
        return Reply.pre(text)

    async def _guarded(self, command: str, args: Sequence[str]) -> Reply:
        window = int(self.confirmations.window)
        if list(args[:1]) == ["confirm"]:
            detail = self.confirmations.confirm(command)
            if detail is None:
                return Reply.line(f"Nothing to confirm (or it expired): send /{command} first.")
            if command == "kill":
                return Reply.line(await self._backend.kill(detail))
            return Reply.line(await self._backend.resume())
        if command == "kill":
            reason = " ".join(args).strip() or "Telegram /kill"
            self.confirmations.arm("kill", reason)
            return Reply.line(
                f"Stop all new entries ({reason})? Exits keep running. "
                f"Send /kill confirm within {window} s."
            )
        self.confirmations.arm("resume", "")
        return Reply.line(f"Allow new entries again? Send /resume confirm within {window} s.")
