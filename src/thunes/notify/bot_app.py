"""`TelegramCommands`: python-telegram-bot polling around the `CommandRouter`.

Only the configured chat is answered; a message from any other chat gets no reply and is
reported to `on_foreign_chat(chat_id, text)` (the app audits it). Start-up never fails the
daemon: if Telegram is unreachable the connection is retried in the background with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, TelegramError
from telegram.ext import Application, ApplicationBuilder, CommandHandler, MessageHandler, filters

from thunes.clock import Clock
from thunes.config import Settings
from thunes.notify.commands import COMMANDS, CommandBackend, CommandRouter, Reply
from thunes.notify.transport import build_bot, redact

log = logging.getLogger(__name__)

ForeignChatHook = Callable[[int, str], None]
CommandHook = Callable[[str, list[str]], None]


class TelegramCommands:
    def __init__(
        self,
        bot: Any,
        chat_id: int,
        backend: CommandBackend,
        clock: Clock,
        *,
        token: str = "",
        on_foreign_chat: ForeignChatHook | None = None,
        on_command: CommandHook | None = None,
        confirm_window: float = 60.0,
        poll_timeout: float = 10.0,
    ) -> None:
        self.chat_id = chat_id
        self.router = CommandRouter(backend, clock, confirm_window)
        self._clock = clock
        self._token = token
        self._on_foreign = on_foreign_chat
        self._on_command = on_command
        self._poll_timeout = poll_timeout
        self._app: Application[Any, Any, Any, Any, Any, Any] = ApplicationBuilder().bot(bot).build()
        self._install_handlers()
        self._starter: asyncio.Task[None] | None = None
        self.ready = asyncio.Event()
        self.foreign_messages = 0
        self.commands_handled = 0

    @classmethod
    def from_settings(
        cls, settings: Settings, backend: CommandBackend, clock: Clock, **options: Any
    ) -> TelegramCommands | None:
        """Commands for the configured chat, or None when Telegram is not configured."""
        if not settings.telegram_enabled or settings.telegram_chat_id is None:
            log.info("Telegram is not configured: commands are off")
            return None
        token = settings.telegram_token.get_secret_value()
        bot = build_bot(token, settings.telegram_base_url, timeout=options.pop("timeout", 10.0))
        return cls(bot, settings.telegram_chat_id, backend, clock, token=token, **options)

    def _install_handlers(self) -> None:
        ours = filters.Chat(chat_id=self.chat_id)
        names = [*COMMANDS, "start"]
        self._app.add_handler(CommandHandler(names, self._on_update, filters=ours))
        self._app.add_handler(MessageHandler(filters.COMMAND & ours, self._on_update))
        self._app.add_handler(MessageHandler(filters.ALL & ~ours, self._on_foreign_update))
        self._app.add_error_handler(self._on_error)

    # ---- lifecycle ----------------------------------------------------------------------------

    def start(self) -> None:
        """Connect and poll in the background; `ready` is set once polling runs."""
        if self._starter is None or self._starter.done():
            self._starter = asyncio.get_running_loop().create_task(
                self._connect(), name="telegram-commands"
            )

    async def _connect(self) -> None:
        delay = 1.0
        while True:
            try:
                await self._app.initialize()
                break
            except InvalidToken:
                log.error("Telegram rejected the bot token: commands are off (check the token)")
                return
            except TelegramError as exc:
                log.warning(
                    "Telegram unreachable for commands (%s); retrying in %.0fs",
                    redact(f"{type(exc).__name__}: {exc}", self._token),
                    delay,
                )
                await self._clock.sleep(delay)
                delay = min(delay * 2, 300.0)
        await self._app.start()
        updater = self._app.updater
        assert updater is not None
        await updater.start_polling(
            timeout=timedelta(seconds=self._poll_timeout),
            allowed_updates=["message"],
            error_callback=self._on_poll_error,
        )
        with contextlib.suppress(TelegramError):
            await self._app.bot.set_my_commands(list(COMMANDS.items()))
        self.ready.set()
        log.info("Telegram commands ready for chat %s", self.chat_id)

    async def stop(self) -> None:
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._starter
        updater = self._app.updater
        if updater is not None and updater.running:
            await updater.stop()
        if self._app.running:
            await self._app.stop()
        with contextlib.suppress(Exception):
            await self._app.shutdown()
        self.ready.clear()

    # ---- handlers -----------------------------------------------------------------------------

    async def _on_update(self, update: Update, context: Any) -> None:
        message = update.effective_message
        if message is None or not message.text:
            return
        words = message.text.split()
        command = words[0].lstrip("/").split("@")[0].lower()
        args = words[1:]
        self.commands_handled += 1
        if self._on_command is not None:
            self._on_command(command, args)
        try:
            reply = await self.router.handle(command, args)
        except Exception as exc:
            log.exception("Telegram command /%s failed", command)
            reply = Reply.line(f"/{command} failed: {type(exc).__name__}")
        await self._send(reply)

    async def _send(self, reply: Reply) -> None:
        bot = self._app.bot
        if reply.photo is not None:
            await bot.send_photo(chat_id=self.chat_id, photo=reply.photo, caption=reply.caption)
        for text in reply.texts:
            await bot.send_message(chat_id=self.chat_id, text=text, parse_mode="HTML")

    async def _on_foreign_update(self, update: Update, context: Any) -> None:
        chat = update.effective_chat
        message = update.effective_message
        self.foreign_messages += 1
        chat_id = chat.id if chat is not None else 0
        text = (message.text or "") if message is not None else ""
        log.warning("Telegram message from unknown chat %s ignored", chat_id)
        if self._on_foreign is not None:
            self._on_foreign(chat_id, text[:200])

    async def _on_error(self, update: object, context: Any) -> None:
        error = getattr(context, "error", None)
        log.error("Telegram update failed: %s", redact(repr(error), self._token))

    def _on_poll_error(self, error: TelegramError) -> None:
        log.warning("Telegram polling error: %s", redact(repr(error), self._token))
