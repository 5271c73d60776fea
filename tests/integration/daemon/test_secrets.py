"""Promise 10: secrets never leave — not in logs, audit trail, state, output or status.

Once in sim mode with failing Telegram sends, once in testnet mode pointed at the simulator
(the key and secret really go on the wire) with a fake Bot API recording every message.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web

from tests.fake_telegram import FakeBotApi
from tests.helpers import wait_until
from tests.integration.daemon.conftest import DaemonFactory, DaemonProcess, StateView, free_port
from thunes.sim import Simulator, SimulatorConfig, replay_clock
from thunes.sim.orders import SimError

T = TypeVar("T")

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


class LoopThread:
    """An event loop in a thread, serving the simulator and the fake Bot API to a subprocess."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@dataclass
class SignedCalls:
    """What the simulator's checks of SIGNED requests (key, timestamp, HMAC) said."""

    accepted: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def watch(self, sim: Simulator) -> None:
        check = sim.rest.signed

        async def counted(request: web.Request) -> dict[str, str]:
            try:
                params = await check(request)
            except SimError as error:
                self.refused.append(f"{request.path}: {error}")
                raise
            self.accepted.append(request.path)
            return params

        sim.rest.signed = counted  # type: ignore[method-assign]


@pytest.mark.slow
def test_secrets_go_on_the_wire_in_testnet_mode_and_nowhere_else(
    daemons: DaemonFactory, tmp_path: Path
) -> None:
    """Testnet mode against the simulator on 127.0.0.1 (THUNES_TESTNET_URL): the simulator
    checks the API key and the HMAC signature of every signed request, so the real key and
    secret are used on the wire; they and the bot token still appear in no file the daemon
    writes, no `thunes status` output and no message the fake Bot API receives."""
    loop = LoopThread()
    calls = SignedCalls()
    sim = Simulator(
        SimulatorConfig(api_key=API_KEY, api_secret=API_SECRET, clock=replay_clock(speed=1.0))
    )
    calls.watch(sim)
    bot = FakeBotApi(token=BOT_TOKEN, known_chats=(424242,))
    daemon: DaemonProcess | None = None
    try:
        loop.run(sim.start(port=0))
        bot_url = loop.run(bot.start())
        env = {
            **{k: v for k, v in daemons.env.items() if not k.startswith("THUNES_SIM_")},
            "THUNES_MODE": "testnet",
            "THUNES_TESTNET_URL": sim.base_url,  # 127.0.0.1: never a real host
            "THUNES_API_KEY": API_KEY,
            "THUNES_API_SECRET": API_SECRET,
            "THUNES_TELEGRAM_TOKEN": BOT_TOKEN,
            "THUNES_TELEGRAM_CHAT_ID": "424242",
            "THUNES_TELEGRAM_BASE_URL": bot_url,
            "THUNES_CHECK_INTERVAL_MINUTES": "0.05",
            "THUNES_LOG_LEVEL": "DEBUG",
        }
        args = ["--mode", "testnet", "--test-mode", "--duration", "60"]
        daemon = DaemonProcess(tmp_path, "testnet", env, args).start()
        daemons.started.append(daemon)
        daemon.wait_healthy_answer()
        state = StateView(Path(env["THUNES_STATE_DIR"]))
        wait_until(
            lambda: len(calls.accepted) >= 3 and state.job_runs("signal_check"),
            timeout=40,
            interval=0.1,
            message="signed requests accepted by the simulator and a signal check",
        )
        bot_messages_before = len(bot.sent_texts())
        loop.run(_inject(bot, "/status"))
        wait_until(
            lambda: len(bot.sent_texts()) > bot_messages_before,
            timeout=30,
            interval=0.1,
            message="a /status reply on Telegram",
        )
        status = subprocess.run(
            [sys.executable, "-m", "thunes", "status", "--json"],
            cwd=tmp_path,
            env=daemon.env,
            capture_output=True,
            timeout=60,
        )
        assert status.returncode == 0, status.stderr
        daemon.signal(signal.SIGTERM)
        assert daemon.wait() == 0, daemon.stderr
    finally:
        if daemon is not None:
            daemon.kill_if_running()
        with contextlib.suppress(Exception):
            loop.run(bot.stop())
        with contextlib.suppress(Exception):
            loop.run(sim.stop())
        loop.close()

    assert calls.refused == [], calls.refused  # every signature checked out: the real secret
    assert {"/api/v3/account", "/api/v3/openOrders"} & set(calls.accepted), calls.accepted
    written = every_byte_written(tmp_path)
    assert any(p.name == "thunes.log" for p, _ in written)
    assert any(p.name == "audit_trail.jsonl" for p, _ in written)
    outputs = [(Path("status stdout"), status.stdout), (Path("status stderr"), status.stderr)]
    messages = [
        (Path(f"telegram {r.method}"), json.dumps(r.params).encode() + b"".join(r.files.values()))
        for r in bot.requests
    ]
    assert any(r.method == "sendMessage" for r in bot.requests)
    for secret in (API_SECRET, API_KEY, BOT_TOKEN, BOT_TOKEN.split(":")[1]):
        leaks = [str(p) for p, data in written + outputs + messages if secret.encode() in data]
        assert leaks == [], f"{secret[:6]}… found in {leaks}"


async def _inject(bot: FakeBotApi, text: str) -> None:
    bot.inject_message(424242, text)
