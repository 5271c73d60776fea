"""Logging: a console handler plus a rotating JSON-lines file, with secrets redacted.

The `RedactingFilter` runs on every handler and rewrites the record itself (message, arguments
and the formatted exception), so an API secret or a bot token cannot reach any output, even
inside a traceback or an exception raised by a library that put the token in a URL.
"""

from __future__ import annotations

import json
import logging
import logging.handlers
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

REDACTED = "***"
LOG_FILE = "thunes.log"
# Query-string secrets python-binance or Telegram URLs could carry.
_PATTERNS = (
    re.compile(r"(signature=)[0-9a-fA-F]+"),
    re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"),
    re.compile(r"(X-MBX-APIKEY['\"]?\s*[:=]\s*['\"]?)[A-Za-z0-9]+"),
)


class RedactingFilter(logging.Filter):
    """Replaces every known secret (and signature-like patterns) in a record with `***`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self.redact(_message(record))
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        # The traceback is now text; drop the live exception so no formatter re-renders it.
        record.exc_info = None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _message(record: logging.LogRecord) -> str:
    """The formatted message; a call whose format and arguments disagree (`log.info("%d", "x")`)
    still logs what it was given instead of raising into the code that logged."""
    try:
        return record.getMessage()
    except Exception as error:
        try:
            return f"{record.msg!s} {record.args!r} (unformattable: {type(error).__name__})"
        except Exception:
            return f"<unprintable log message: {type(error).__name__}>"


class JsonLinesFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, correlation id, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        correlation = getattr(record, "correlation_id", None)
        if correlation:
            entry["correlation_id"] = correlation
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(
    log_dir: Path,
    level: str = "INFO",
    secrets: Iterable[str] = (),
    console: bool = True,
    max_bytes: int = 10_000_000,
    backups: int = 5,
) -> Path:
    """Configure the root logger; returns the JSON log file path. Safe to call again."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    redactor = RedactingFilter(secrets)
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_thunes", False):
            root.removeHandler(handler)
            handler.close()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8"
    )
    file_handler.setFormatter(JsonLinesFormatter())
    handlers: list[logging.Handler] = [file_handler]
    if console:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        handlers.append(stream)
    for handler in handlers:
        handler.addFilter(redactor)
        handler._thunes = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    # APScheduler logs every job added, run and finished at INFO: chatter, not news.
    for noisy in ("aiohttp.access", "websockets", "apscheduler", "httpx"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    return path
