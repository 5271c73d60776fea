"""Fixtures: the daemon as a subprocess (signals, locks, kills) and in-process (fault switches).

Subprocess daemons run `python -m thunes.orchestration.run_scheduler` in sim mode on their own
state and log directories, with the health endpoint and the embedded simulator on ports chosen
here. The test reads the daemon's SQLite store and the simulator's saved snapshot directly.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_until
from thunes.app import Built, build, compose, schedule_for
from thunes.config import Settings, load_settings
from thunes.orchestration.daemon import Daemon
from thunes.orchestration.sim_runtime import SNAPSHOT_FILE
from thunes.orchestration.systemd import SystemdNotifier
from thunes.store import db_path

START_BOUND_S = 20.0  # interpreter start, imports, kline loading on a busy 2-core machine
STOP_BOUND_S = 10.0

DAEMON_ENV = {
    "THUNES_MODE": "sim",
    "THUNES_SYMBOLS": "BTCUSDT,ETHUSDT",
    "THUNES_TIMEFRAME": "5m",
    "THUNES_CHECK_INTERVAL_MINUTES": "5",
    "THUNES_SIM_START": "2023-02-01T18:30:00",
    "THUNES_LOG_LEVEL": "INFO",
}


def free_port() -> int:
    """A port nobody listens on right now (bound once on 127.0.0.1 with port 0, then freed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http_json(url: str, body: dict[str, Any] | None = None) -> tuple[int, dict[str, Any]]:
    """GET (or POST `body`) and return (status, JSON); (0, {}) when nothing answers."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method="POST" if data else "GET")
    request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, {}


@dataclass
class StateView:
    """Read-only view of a state directory: the daemon's store and the simulator's snapshot."""

    state_dir: Path

    def query(self, sql: str, *args: object) -> list[tuple[Any, ...]]:
        path = db_path(self.state_dir)
        if not path.exists():
            return []
        connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return connection.execute(sql, args).fetchall()
        except sqlite3.OperationalError:  # schema not created yet
            return []
        finally:
            connection.close()

    def job_runs(self, job_id: str, outcome: str | None = None) -> list[tuple[Any, ...]]:
        sql = "SELECT id, started_at, finished_at, outcome, error FROM job_runs WHERE job_id = ?"
        rows = self.query(sql + " ORDER BY id", job_id)
        return [r for r in rows if outcome is None or r[3] == outcome]

    def orders(self) -> list[tuple[Any, ...]]:
        return self.query(
            "SELECT client_order_id, symbol, side, state, exchange_order_id, executed_qty "
            "FROM orders ORDER BY created_at"
        )

    def open_positions(self) -> dict[str, str]:
        rows = self.query("SELECT symbol, quantity FROM positions WHERE closed_at IS NULL")
        return {symbol: quantity for symbol, quantity in rows}

    def kv(self, key: str) -> str | None:
        rows = self.query("SELECT value FROM kv WHERE key = ?", key)
        return str(rows[0][0]) if rows else None

    def snapshot(self) -> dict[str, Any]:
        return dict(json.loads((self.state_dir / SNAPSHOT_FILE).read_text())["exchange"])


@dataclass
class DaemonProcess:
    """One `run_scheduler` subprocess; output goes to files so pipes never block it."""

    tmp_path: Path
    name: str
    env: dict[str, str]
    args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def health_url(self) -> str:
        return f"http://127.0.0.1:{self.env['THUNES_HEALTH_PORT']}/health"

    @property
    def sim_url(self) -> str:
        return f"http://127.0.0.1:{self.env['THUNES_SIM_PORT']}"

    def start(self) -> DaemonProcess:
        command = [sys.executable, "-m", "thunes.orchestration.run_scheduler", *self.args]
        self.proc = subprocess.Popen(
            command,
            cwd=self.tmp_path,
            env=self.env,
            stdout=(self.tmp_path / f"{self.name}.out").open("wb"),
            stderr=(self.tmp_path / f"{self.name}.err").open("wb"),
        )
        return self

    @property
    def stderr(self) -> str:
        return (self.tmp_path / f"{self.name}.err").read_text(errors="replace")

    def health(self) -> tuple[int, dict[str, Any]]:
        return http_json(self.health_url)

    def wait_healthy_answer(self) -> dict[str, Any]:
        """Wait until /health answers at all (200 or 503); fails early if the process died."""

        def answered() -> dict[str, Any]:
            assert self.proc is not None
            assert self.proc.poll() is None, f"daemon exited {self.proc.returncode}: {self.stderr}"
            status, body = self.health()
            return body if status in (200, 503) else {}

        return wait_until(answered, timeout=START_BOUND_S, interval=0.05, message="/health")

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait(self, timeout: float = STOP_BOUND_S) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout=timeout)

    def kill_if_running(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_BOUND_S)


@dataclass
class DaemonFactory:
    tmp_path: Path
    env: dict[str, str]
    started: list[DaemonProcess] = field(default_factory=list)

    @property
    def state(self) -> StateView:
        return StateView(Path(self.env["THUNES_STATE_DIR"]))

    def spawn(self, name: str, duration: float = 60.0, **env: str) -> DaemonProcess:
        args = ["--mode", "sim", "--speed", "400", "--duration", f"{duration:g}"]
        process = DaemonProcess(self.tmp_path, name, {**self.env, **env}, args).start()
        self.started.append(process)
        return process


@pytest.fixture
def daemons(tmp_path: Path) -> Iterator[DaemonFactory]:
    """Spawns daemons sharing one state directory; kills any still running at the end."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONHASHSEED": "0",
        **DAEMON_ENV,
        "THUNES_STATE_DIR": str(tmp_path / "state"),
        "THUNES_LOG_DIR": str(tmp_path / "logs"),
        "THUNES_HEALTH_PORT": str(free_port()),
        "THUNES_SIM_PORT": str(free_port()),
    }
    factory = DaemonFactory(tmp_path, env)
    try:
        yield factory
    finally:
        for process in factory.started:
            process.kill_if_running()


# ---- in-process daemon ------------------------------------------------------------------------


@dataclass
class Running:
    built: Built
    daemon: Daemon

    @property
    def health_url(self) -> str:
        server = self.daemon.health_server
        assert server is not None and server.port
        return f"http://127.0.0.1:{server.port}/health"


def inprocess_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "mode": "sim",
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "timeframe": "5m",
        "check_interval_minutes": 5.0,
        "sim_speed": 400.0,
        "sim_start": "2023-02-01T18:30:00",
        "state_dir": tmp_path / "state",
        "log_dir": tmp_path / "logs",
        "health_port": 0,
        "sim_port": 0,
        **overrides,
    }
    return load_settings(env_file=None, **values)


@pytest.fixture
async def start_inprocess(tmp_path: Path) -> AsyncIterator[Any]:
    """`await start_inprocess(**settings)`: the composed app and daemon running on this loop."""
    import asyncio
    import contextlib

    running: list[tuple[Running, asyncio.Task[int]]] = []

    async def start(**overrides: Any) -> Running:
        settings = inprocess_settings(tmp_path, **overrides)
        built = await build(settings)
        spec = schedule_for(settings)
        daemon = Daemon(compose(built, spec, None, []), spec, notifier=SystemdNotifier(""))
        task = asyncio.create_task(daemon.run())
        running.append((Running(built, daemon), task))
        return running[-1][0]

    try:
        yield start
    finally:
        for item, task in running:
            item.daemon.request_stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, STOP_BOUND_S)
            for close in reversed(item.built.closers):
                with contextlib.suppress(Exception):
                    await close()
            item.built.store.close()
