"""Promise 10: secrets never leave — not in logs, audit trail, state, output or status."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import wait_until
from tests.integration.daemon.conftest import DaemonFactory, StateView, free_port

API_SECRET = "Zq7-api-secret-never-logged-4471"
API_KEY = "Kx9-api-key-never-logged-8812"
BOT_TOKEN = "7312456789:AAH-bot-token-never-logged_x19"


def every_byte_written(root: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in root.rglob("*") if p.is_file()]


@pytest.mark.slow
def test_secrets_appear_nowhere_the_daemon_writes(daemons: DaemonFactory, tmp_path: Path) -> None:
    # Telegram points at a closed local port: every send fails, and the failures are logged.
    dead_telegram = f"http://127.0.0.1:{free_port()}/bot"
    daemon = daemons.spawn(
        "secretive",
        duration=60,
        THUNES_API_KEY=API_KEY,
        THUNES_API_SECRET=API_SECRET,
        THUNES_TELEGRAM_TOKEN=BOT_TOKEN,
        THUNES_TELEGRAM_CHAT_ID="424242",
        THUNES_TELEGRAM_BASE_URL=dead_telegram,
        THUNES_LOG_LEVEL="DEBUG",
    )
    daemon.wait_healthy_answer()
    state = StateView(Path(daemons.env["THUNES_STATE_DIR"]))

    def sends_failed_and_checks_ran() -> bool:
        _, body = daemon.health()
        alerts = body.get("components", {}).get("alerts", {}).get("detail", {})
        return bool(alerts.get("failed") or alerts.get("retries")) and bool(
            state.job_runs("signal_check")
        )

    wait_until(sends_failed_and_checks_ran, timeout=40, interval=0.2, message="failed sends")
    status = subprocess.run(
        [sys.executable, "-m", "thunes", "status", "--json"],
        cwd=tmp_path,
        env=daemon.env,
        capture_output=True,
        timeout=60,
    )
    assert status.returncode == 0, status.stderr
    daemon.signal(signal.SIGTERM)
    assert daemon.wait() == 0
    written = every_byte_written(tmp_path)
    assert any(p.name == "thunes.log" for p, _ in written)
    outputs = [(Path("status stdout"), status.stdout), (Path("status stderr"), status.stderr)]
    for secret in (API_SECRET, API_KEY, BOT_TOKEN, BOT_TOKEN.split(":")[1]):
        leaks = [str(p) for p, data in written + outputs if secret.encode() in data]
        assert leaks == [], f"{secret[:6]}… found in {leaks}"
