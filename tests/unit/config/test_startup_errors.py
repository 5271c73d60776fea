"""Start-up errors: a busy health port stops the start-up naming the port, and a refusal is
printed once (not as a log line and again as a `thunes:` line)."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from thunes.config import SettingsError
from thunes.orchestration.health import HealthReport, HealthServer
from thunes.store import db_path


async def test_a_health_port_taken_after_the_check_still_stops_the_start_up() -> None:
    """The late path: the endpoint cannot bind, so the daemon does not run without /health."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        port = other.getsockname()[1]
        server = HealthServer(lambda: HealthReport({}), CollectorRegistry(), "127.0.0.1", port)
        with pytest.raises(SettingsError) as refused:
            await server.start()
    [line] = refused.value.problems
    assert line.startswith(f"THUNES_HEALTH_PORT: cannot listen on 127.0.0.1:{port}: ")
    assert not isinstance(refused.value, OSError)  # the daemon's OSError handler must miss it


def test_a_start_up_error_is_printed_once(tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    db_path(state).write_bytes(b"this is not a database, and must not be overwritten\n" * 20)
    env = {"PATH": "/usr/bin:/bin", "THUNES_HEALTH_PORT": "0"}
    result = subprocess.run(
        [sys.executable, "-m", "thunes", "run", "--duration", "5"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.count("cannot start") == 1, result.stderr
    assert result.stderr.count(str(db_path(Path("state")).name)) == 1
