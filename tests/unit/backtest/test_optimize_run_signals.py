"""A recorded run and its process: Ctrl-C ends it `stopped`, a SIGKILL is found `interrupted`.

`thunes optimize` runs in a subprocess over a grid far too large to finish during the test;
the test waits (polling, read-only) until the run's row says `running`, then signals it.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import wait_until
from thunes.cli import main
from thunes.market.klines import sample_path
from thunes.store import db_path

BTC_5M = str(sample_path("BTCUSDT-5m-2023Q1.csv.gz"))
HUGE_GRID = ["--grid", "fast=2:100:1", "--grid", "slow=101:300:1", "--max-combinations", "50000"]


def _row(state: Path) -> dict[str, object] | None:
    """The first run's row, read-only (never creating the database); None until it exists."""
    path = db_path(state)
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM optimize_runs WHERE id = 1").fetchone()
        finally:
            conn.close()
    except sqlite3.OperationalError:
        return None  # the schema is still being created
    return None if row is None else dict(row)


@pytest.fixture
def running(state_dir: Path, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`thunes optimize` in a subprocess, returned once its row says `running`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("THUNES_")}
    env["THUNES_STATE_DIR"] = str(state_dir)
    argv = [sys.executable, "-m", "thunes", "optimize", "--data", BTC_5M, *HUGE_GRID]
    proc = subprocess.Popen(
        [*argv, "--no-publish"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_until(
            lambda: (_row(state_dir) or {}).get("status") == "running" or proc.poll() is not None,
            timeout=60,
            message="the run's row says running",
        )
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_ctrl_c_stops_the_run_cleanly_as_stopped(
    running: subprocess.Popen[bytes], state_dir: Path
) -> None:
    running.send_signal(signal.SIGINT)
    assert running.wait(timeout=60) == 130
    row = _row(state_dir)
    assert row is not None and row["status"] == "stopped"
    assert row["stage"] == "sweep" and row["finished_at"] is not None
    assert int(str(row["done"])) < int(str(row["total"])) == 19_800
    assert str(row["summary"]).startswith("Stopped by the operator during the sweep stage after")
    assert "nothing was published" in str(row["summary"])
    assert not (state_dir / "strategy_params.json").exists()


def test_a_killed_run_is_shown_as_interrupted(
    running: subprocess.Popen[bytes], state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pid = running.pid
    running.kill()
    running.wait(timeout=30)
    assert (_row(state_dir) or {}).get("status") == "running"  # what the kill left behind
    assert main(["runs", "list", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert run["status"] == "error" and run["pid"] == pid
    assert run["error"].startswith(f"interrupted: the process running it ({pid} on ")
    assert run["finished_at"] is not None
