from __future__ import annotations

import json
import logging
from pathlib import Path

from thunes.log import REDACTED, RedactingFilter, setup_logging


def test_secrets_never_reach_the_log_file_even_in_tracebacks(tmp_path: Path) -> None:
    secret = "s3cr3t-API-value-9876"
    token = "123456789:AAExampleTokenValue_abc"
    path = setup_logging(tmp_path, "INFO", secrets=[secret, token], console=False)
    log = logging.getLogger("thunes.test")
    log.info("connecting with key %s", secret)
    try:
        raise RuntimeError(
            f"request to https://api.telegram.org/bot{token}/getMe failed ({secret})"
        )
    except RuntimeError:
        log.exception("call failed")
    log.warning("GET /api/v3/order?symbol=BTCUSDT&signature=abcdef0123456789")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = path.read_text()
    assert secret not in text
    assert token not in text
    assert "abcdef0123456789" not in text
    entries = [json.loads(line) for line in text.splitlines()]
    assert entries[0]["message"] == "connecting with key ***"
    assert "RuntimeError" in entries[1]["exception"]
    assert entries[1]["level"] == "ERROR"


def test_setup_twice_does_not_duplicate_handlers(tmp_path: Path) -> None:
    setup_logging(tmp_path, console=False)
    setup_logging(tmp_path, console=False)
    ours = [h for h in logging.getLogger().handlers if getattr(h, "_thunes", False)]
    assert len(ours) == 1


class Collect(logging.Handler):
    """Keeps the records that passed its filters (what a real handler would write)."""

    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")

    __repr__ = __str__


def test_the_redaction_filter_never_raises_on_a_bad_format_string() -> None:
    secret = "s3cr3t-API-value-9876"
    handler = Collect()
    handler.addFilter(RedactingFilter([secret]))
    log = logging.getLogger("thunes.test.badformat")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("%d", "x")
        log.warning("%s and %s", secret)
        log.warning("%(missing)s", {"other": secret})
        log.warning(Unprintable(), 1)
    finally:
        log.removeHandler(handler)
        log.propagate = True
    messages = [record.msg for record in handler.records]
    assert len(messages) == 4
    assert "'x'" in messages[0]
    assert all(secret not in m for m in messages) and REDACTED in messages[1]
    assert all(record.args is None for record in handler.records)
