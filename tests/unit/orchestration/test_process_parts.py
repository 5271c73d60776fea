from __future__ import annotations

import configparser
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
from prometheus_client import CollectorRegistry, Counter

from thunes.orchestration.health import ComponentHealth, HealthReport, HealthServer
from thunes.orchestration.lock import AlreadyRunning, StateLock
from thunes.orchestration.registry import NoDaemonRunning, current_app
from thunes.orchestration.systemd import SystemdNotifier

ROOT = Path(__file__).resolve().parents[3]


def test_second_lock_on_the_same_state_refuses(tmp_path: Path) -> None:
    with StateLock(tmp_path), pytest.raises(AlreadyRunning, match="another THUNES daemon"):
        StateLock(tmp_path).acquire()
    with StateLock(tmp_path):  # released: usable again
        pass


def test_lock_held_by_another_process(tmp_path: Path) -> None:
    code = (
        "import sys,time; from pathlib import Path; from thunes.orchestration.lock import StateLock;"
        "l=StateLock(Path(sys.argv[1])); l.acquire(); print('locked', flush=True); sys.stdin.read()"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(AlreadyRunning, match=str(holder.pid)):
            StateLock(tmp_path).acquire()
    finally:
        holder.kill()
        holder.wait(timeout=10)
    StateLock(tmp_path).acquire()  # the kernel released it when the holder died


def test_no_daemon_registered() -> None:
    with pytest.raises(NoDaemonRunning):
        current_app()


async def test_health_server_200_503_and_metrics() -> None:
    state = {"stream": True}
    registry = CollectorRegistry()
    checks = Counter("thunes_checks", "signal checks run", registry=registry)
    checks.inc(3)

    def report() -> HealthReport:
        return HealthReport(
            {
                "scheduler": ComponentHealth(True, {"running": True}),
                "stream": ComponentHealth(state["stream"], {"age_s": 1.0}),
            }
        )

    server = HealthServer(report, registry, port=0)
    port = await server.start()
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/health") as response:
                assert response.status == 200
                assert (await response.json())["status"] == "ok"
            state["stream"] = False
            async with session.get(f"http://127.0.0.1:{port}/health") as response:
                assert response.status == 503
                assert (await response.json())["unhealthy"] == ["stream"]
            async with session.get(f"http://127.0.0.1:{port}/metrics") as response:
                assert "thunes_checks_total 3.0" in await response.text()
    finally:
        await server.stop()


def test_sd_notify_sends_datagrams(tmp_path: Path) -> None:
    path = str(tmp_path / "notify.sock")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as server:
        server.bind(path)
        notifier = SystemdNotifier(path)
        assert notifier.ready("checks every 10 min")
        assert notifier.watchdog()
        assert server.recv(1024) == b"READY=1\nSTATUS=checks every 10 min"
        assert server.recv(1024) == b"WATCHDOG=1"
    assert not SystemdNotifier("").ready()


def test_systemd_unit(tmp_path: Path) -> None:
    unit = (ROOT / "thunes.service").read_text()
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read_string(unit)
    service = parser["Service"]
    assert service["Type"] == "notify"
    assert service["Restart"] == "on-failure"
    assert service["StateDirectory"] == "thunes" and service["LogsDirectory"] == "thunes"
    assert service["Environment"]  # state and log dirs follow the unit's directories
    for key in ("NoNewPrivileges", "ProtectSystem", "ProtectHome", "PrivateTmp", "WatchdogSec"):
        assert key in service
    assert "run_scheduler" in service["ExecStart"]
    analyzer = shutil.which("systemd-analyze")
    if analyzer is not None:
        workdir = tmp_path / "opt"
        workdir.mkdir()
        local = unit.replace("/opt/thunes/.venv/bin/python", sys.executable).replace(
            "/opt/thunes", str(workdir)
        )
        local = local.replace("User=thunes", "User=root").replace("Group=thunes", "Group=root")
        path = tmp_path / "thunes.service"
        path.write_text(local)
        result = subprocess.run(
            [analyzer, "verify", str(path)], capture_output=True, text=True, timeout=60
        )
        problems = [line for line in result.stderr.splitlines() if "thunes.service" in line]
        assert result.returncode == 0 and not problems, result.stderr
