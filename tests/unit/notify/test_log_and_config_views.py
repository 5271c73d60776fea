"""`/logs` and `/show_config` views: the last log lines and the settings, never a secret."""

from __future__ import annotations

import json
from pathlib import Path

from thunes.config import load_settings
from thunes.log import LOG_FILE
from thunes.reports.config_view import HIDDEN, NOT_SET, effective, render_config_text
from thunes.reports.log_tail import MAX_LINE, last_lines, tail

SECRET = "s3cr3tV4lueThatMustNeverShow"
TOKEN = "123456789:AAHsecretTelegramTokenPart"


def entry(message: str, level: str = "INFO", **extra: str) -> str:
    return json.dumps({"time": "2026-03-10T12:00:01.5+00:00", "level": level,
                       "logger": "thunes.test", "message": message, **extra})


def test_last_lines_reads_only_the_end_of_a_large_file(tmp_path: Path) -> None:
    path = tmp_path / LOG_FILE
    path.write_text("".join(f"line {i}\n" for i in range(200_000)))
    assert last_lines(path, 3) == ["line 199997", "line 199998", "line 199999"]
    assert last_lines(tmp_path / "missing.log", 3) == []


def test_tail_continues_into_the_rotated_file_and_is_readable(tmp_path: Path) -> None:
    (tmp_path / f"{LOG_FILE}.1").write_text(entry("older one") + "\n" + entry("older two") + "\n")
    (tmp_path / LOG_FILE).write_text(
        entry("boom", "ERROR", exception="Traceback...\nValueError: bad") + "\n")
    lines = tail(tmp_path, 2, [])
    assert lines == [
        "2026-03-10 12:00:01 INFO thunes.test: older two",
        "2026-03-10 12:00:01 ERROR thunes.test: boom | ValueError: bad",
    ]


def test_logs_never_show_a_secret_even_in_lines_written_unredacted(tmp_path: Path) -> None:
    (tmp_path / LOG_FILE).write_text("\n".join([
        entry(f"connecting with secret {SECRET}"),
        entry(f"GET https://api.telegram.org/bot{TOKEN}/getMe failed"),
        f"plain text line with {SECRET} in it",
        entry("x" * (MAX_LINE - 50) + SECRET),  # the cut would fall inside the secret
        entry("signature=abcdef0123456789 sent"),
    ]) + "\n")
    lines = tail(tmp_path, 10, [SECRET])
    text = "\n".join(lines)
    assert len(lines) == 5
    assert SECRET[:8] not in text and "AAHsecret" not in text
    assert "abcdef0123456789" not in text
    assert "connecting with secret ***" in lines[0]
    assert all(len(line) <= MAX_LINE for line in lines)


def test_show_config_masks_secrets_and_every_value_containing_one(tmp_path: Path) -> None:
    settings = load_settings(
        env_file=None, api_key="k" * 16, api_secret=SECRET,
        telegram_token=TOKEN, telegram_chat_id=42,
        telegram_base_url=f"http://127.0.0.1:9/proxy/{SECRET}/",
        state_dir=tmp_path / "state", log_dir=tmp_path / "logs",
    )
    rows = {r["name"]: r["value"] for r in effective(settings)}
    assert rows["THUNES_API_SECRET"] == HIDDEN and rows["THUNES_TELEGRAM_TOKEN"] == HIDDEN
    assert rows["THUNES_API_TOKEN"] == NOT_SET
    assert rows["THUNES_TELEGRAM_BASE_URL"] == "http://127.0.0.1:9/proxy/***/"
    assert rows["THUNES_TELEGRAM_CHAT_ID"] == "42"
    text = render_config_text(effective(settings))
    assert SECRET not in text and TOKEN not in text and "k" * 16 not in text
