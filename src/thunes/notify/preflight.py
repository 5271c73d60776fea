"""`thunes doctor`'s Telegram checks: the token (getMe) and the chat (getChat).

Missing settings are not an error: alerts are simply off, and doctor says so once.
"""

from __future__ import annotations

import contextlib

from telegram.error import InvalidToken, TelegramError

from thunes.config import Settings
from thunes.notify.transport import build_bot, redact

CheckRow = tuple[str, str, str]  # name, ok | warn | fail, detail


async def telegram_preflight(settings: Settings, request_timeout: float = 10.0) -> list[CheckRow]:
    token = settings.telegram_token.get_secret_value()
    if not token and settings.telegram_chat_id is None:
        return [("telegram", "warn", "not configured: alerts and commands are off")]
    if not token or settings.telegram_chat_id is None:
        missing = "THUNES_TELEGRAM_TOKEN" if not token else "THUNES_TELEGRAM_CHAT_ID"
        return [("telegram", "warn", f"{missing} is missing: alerts and commands are off")]
    bot = build_bot(token, settings.telegram_base_url, timeout=request_timeout)
    try:
        return await _check(bot, token, settings.telegram_chat_id)
    finally:
        with contextlib.suppress(Exception):
            await bot.shutdown()


async def _check(bot: object, token: str, chat_id: int) -> list[CheckRow]:
    try:
        me = await bot.get_me()  # type: ignore[attr-defined]
    except InvalidToken:
        return [("telegram token", "fail", "the token was rejected (getMe): check it")]
    except TelegramError as exc:
        return [("telegram token", "fail", f"Telegram unreachable: {_why(exc, token)}")]
    rows: list[CheckRow] = [("telegram token", "ok", f"bot @{me.username}")]
    try:
        chat = await bot.get_chat(chat_id)  # type: ignore[attr-defined]
    except TelegramError as exc:
        detail = f"chat {chat_id} cannot be reached: {_why(exc, token)}"
        hint = " (send /start to the bot from that chat first)"
        rows.append(("telegram chat", "fail", detail + hint))
    else:
        name = chat.title or chat.username or chat.first_name or chat.type
        rows.append(("telegram chat", "ok", f"chat {chat_id} ({name}) reachable"))
    return rows


def _why(exc: BaseException, token: str) -> str:
    return redact(f"{type(exc).__name__}: {exc}", token)
