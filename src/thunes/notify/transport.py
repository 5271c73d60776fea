"""The only place THUNES builds a python-telegram-bot `Bot`, sends through it and reads its
errors. Errors are sorted into three outcomes (throttled, transient, permanent) and every text
that may leave this module is redacted: the Bot API puts the token in the URL.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any, Protocol

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning

# PTB warns about the future type of `RetryAfter.retry_after` whenever it builds one; THUNES
# reads it type-independently (`retry_after_seconds`), so the warning is noise.
warnings.filterwarnings("ignore", message=r".*`retry_after`.*", category=PTBDeprecationWarning)

REDACTED = "***"
_TOKEN_PATTERN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{10,}")


def redact(text: str, token: str = "") -> str:
    """`text` without the bot token (the exact value and anything token-shaped)."""
    if token:
        text = text.replace(token, REDACTED)
    return _TOKEN_PATTERN.sub(REDACTED, text)


def build_bot(token: str, base_url: str, timeout: float = 10.0) -> Any:
    """A `Bot` against `base_url` (a local fake in tests; empty: the public API), bounded.

    httpx logs every request URL at INFO, and the Bot API URL carries the token: its logger
    is held at WARNING so the token cannot reach a log even without the redacting filter.
    """
    httpx_log = logging.getLogger("httpx")
    httpx_log.setLevel(max(httpx_log.getEffectiveLevel(), logging.WARNING))

    def request(pool: int) -> HTTPXRequest:
        return HTTPXRequest(
            connection_pool_size=pool,
            read_timeout=timeout,
            write_timeout=timeout,
            connect_timeout=timeout,
            pool_timeout=timeout,
            media_write_timeout=max(timeout, 20.0),
        )

    # An empty base_url means python-telegram-bot's own default (the public Bot API).
    options: dict[str, Any] = {"base_url": base_url} if base_url else {}
    return Bot(token=token, request=request(4), get_updates_request=request(1), **options)


class Outcome(StrEnum):
    SENT = "sent"
    THROTTLED = "throttled"  # 429: wait retry_after, the API is up
    TRANSIENT = "transient"  # network, timeout, 5xx: back off, count towards the breaker
    PERMANENT = "permanent"  # bad request, forbidden, bad token: retrying cannot help
    BAD_MARKUP = "bad_markup"  # 400 on an HTML message: resend once as plain text


@dataclass(frozen=True)
class SendResult:
    outcome: Outcome
    retry_after: float = 0.0
    detail: str = ""


class Transport(Protocol):
    async def send_text(self, chat_id: int, text: str, html: bool) -> SendResult: ...

    async def send_photo(self, chat_id: int, photo: bytes, caption: str) -> SendResult: ...

    async def close(self) -> None: ...


class BotTransport:
    """`Transport` over a python-telegram-bot `Bot`."""

    def __init__(self, bot: Any, token: str) -> None:
        self._bot = bot
        self._token = token

    async def send_text(self, chat_id: int, text: str, html: bool) -> SendResult:
        try:
            await self._bot.send_message(
                chat_id=chat_id,
                text=text,
                parse_mode="HTML" if html else None,
                disable_web_page_preview=True,
            )
        except Exception as exc:
            result = classify(exc, self._token)
            if html and isinstance(exc, BadRequest) and "parse" in str(exc).lower():
                return SendResult(Outcome.BAD_MARKUP, detail=result.detail)
            return result
        return SendResult(Outcome.SENT)

    async def send_photo(self, chat_id: int, photo: bytes, caption: str) -> SendResult:
        try:
            await self._bot.send_photo(chat_id=chat_id, photo=photo, caption=caption)
        except Exception as exc:
            return classify(exc, self._token)
        return SendResult(Outcome.SENT)

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # a half-open client must not break shutdown
            await self._bot.shutdown()


def classify(exc: BaseException, token: str = "") -> SendResult:
    """Sort a send error; the detail names the error class and a redacted message."""
    detail = redact(f"{type(exc).__name__}: {exc}", token)
    if isinstance(exc, RetryAfter):
        return SendResult(Outcome.THROTTLED, retry_after=retry_after_seconds(exc), detail=detail)
    if isinstance(exc, BadRequest | Forbidden | InvalidToken | ChatMigrated):
        return SendResult(Outcome.PERMANENT, detail=detail)
    if isinstance(exc, NetworkError | TelegramError | OSError | TimeoutError):
        return SendResult(Outcome.TRANSIENT, detail=detail)
    return SendResult(Outcome.TRANSIENT, detail=detail)


def retry_after_seconds(exc: RetryAfter) -> float:
    """`retry_after` in seconds, read without PTB's int/timedelta deprecation warning."""
    raw = getattr(exc, "_retry_after", None)
    if isinstance(raw, timedelta):
        return raw.total_seconds()
    value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
