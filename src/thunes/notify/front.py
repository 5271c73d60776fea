"""`TelegramFront`: the alerts queue and the commands, built and run together for the daemon.

Wiring in the app (both parts optional, so a missing setting is one log line, not an error):

    front = TelegramFront.from_settings(settings, backend, audit=audit)
    events.subscribe(front)            # alerts; publish() never blocks
    front.start()                      # inside the running loop
    ...
    await front.stop()                 # flushes queued alerts for a few seconds

Telegram runs on the wall clock even in `sim` mode: its rate limits and the confirmation
window are real seconds.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from thunes.clock import Clock, SystemClock
from thunes.config import Settings
from thunes.events import Event
from thunes.notify.bot_app import TelegramCommands
from thunes.notify.commands import CommandBackend
from thunes.notify.daily import publish_daily_report
from thunes.notify.sender import SenderPolicy, TelegramNotifier
from thunes.reports.daily_files import DailyReport

log = logging.getLogger(__name__)


class AuditLike(Protocol):
    def record(self, kind: str, correlation_id: str = "", **data: object) -> None: ...


class TelegramFront:
    def __init__(
        self, notifier: TelegramNotifier | None, commands: TelegramCommands | None
    ) -> None:
        self.notifier = notifier
        self.commands = commands

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        backend: CommandBackend,
        *,
        audit: AuditLike | None = None,
        clock: Clock | None = None,
        policy: SenderPolicy | None = None,
    ) -> TelegramFront:
        if not settings.telegram_enabled:
            log.info(
                "Telegram is not configured (THUNES_TELEGRAM_TOKEN and THUNES_TELEGRAM_CHAT_ID):"
                " alerts and commands are off"
            )
            return cls(None, None)
        clock = clock or SystemClock()
        notifier = TelegramNotifier.from_settings(settings, clock, policy)
        commands = TelegramCommands.from_settings(
            settings,
            backend,
            clock,
            on_foreign_chat=_foreign_hook(audit),
            on_command=_command_hook(audit),
        )
        return cls(notifier, commands)

    @property
    def enabled(self) -> bool:
        return self.notifier is not None

    def publish(self, event: Event) -> None:
        if self.notifier is not None:
            self.notifier.publish(event)

    def send_daily_report(self, report: DailyReport) -> bool:
        return publish_daily_report(self.notifier, report)

    def health(self) -> dict[str, Any]:
        if self.notifier is None:
            return {"enabled": False}
        ready = self.commands is not None and self.commands.ready.is_set()
        return {"enabled": True, "commands_ready": ready, **self.notifier.health()}

    def start(self) -> None:
        if self.notifier is not None:
            self.notifier.start()
        if self.commands is not None:
            self.commands.start()

    async def stop(self, flush_timeout: float = 5.0) -> None:
        if self.commands is not None:
            await self.commands.stop()
        if self.notifier is not None:
            await self.notifier.stop(flush_timeout)


def _foreign_hook(audit: AuditLike | None) -> Any:
    if audit is None:
        return None

    def hook(chat_id: int, text: str) -> None:
        audit.record("telegram_foreign_chat", chat_id=chat_id, text=text)

    return hook


def _command_hook(audit: AuditLike | None) -> Any:
    if audit is None:
        return None

    def hook(command: str, args: list[str]) -> None:
        audit.record("telegram_command", command=command, args=" ".join(args))

    return hook
