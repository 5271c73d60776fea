"""The daemon process under SIGTERM (idle and mid-check) and against a second instance."""

from __future__ import annotations

import json
import signal
import time
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import wait_until
from tests.integration.daemon.conftest import (
    START_BOUND_S,
    STOP_BOUND_S,
    DaemonFactory,
    DaemonProcess,
    StateView,
    http_json,
)
from thunes.domain import OrderState
from thunes.orchestration.sim_runtime import SIM_TIME_KEY
from thunes.store import Store, audit_path, db_path, verify_audit

SECOND_INSTANCE_BOUND_S = 15.0


def audit_entries(log_dir: Path) -> list[dict[str, Any]]:
    path = audit_path(log_dir)
    if not path.exists():
        return []
    lines = path.read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip().endswith("}")]


def wait_for_checks(state: StateView, daemon: DaemonProcess, count: int) -> int:
    def enough() -> int:
        assert daemon.proc is not None and daemon.proc.poll() is None, daemon.stderr
        return len(state.job_runs("signal_check", "ok")) >= count

    wait_until(enough, timeout=START_BOUND_S, interval=0.05, message=f"{count} signal checks")
    return len(state.job_runs("signal_check", "ok"))


def assert_store_consistent(tmp_path: Path, state: StateView) -> None:
    """The stopped daemon left a store that opens, passes SQLite's check and holds no loose ends."""
    with Store.open(db_path(state.state_dir)) as store:
        assert store.count_orders() == len(state.orders())
    assert state.query("PRAGMA integrity_check") == [("ok",)]
    unfinished = state.query("SELECT id FROM job_runs WHERE finished_at IS NULL")
    assert unfinished == []
    in_flight = {OrderState.NEW_INTENT.value, OrderState.SENT.value, OrderState.UNKNOWN.value} & {
        row[3] for row in state.orders()
    }
    assert not in_flight, state.orders()
    saved = state.kv(SIM_TIME_KEY)
    assert saved is not None and float(saved) > 1_675_276_200  # after the configured sim start
    verdict = verify_audit(audit_path(tmp_path / "logs"))
    assert verdict.ok, verdict.summary()


@pytest.mark.slow
def test_sigterm_stops_gracefully_with_exit_0(daemons: DaemonFactory, tmp_path: Path) -> None:
    daemon = daemons.spawn("first")
    body = daemon.wait_healthy_answer()
    assert set(body["components"]) >= {"scheduler", "stream", "reconciliation", "database"}
    checks = wait_for_checks(daemons.state, daemon, 1)
    _, body = daemon.health()
    assert "signal_check" in body["components"]["scheduler"]["detail"]["jobs"]

    daemon.signal(signal.SIGTERM)
    began = time.monotonic()
    assert daemon.wait(STOP_BOUND_S) == 0, daemon.stderr
    assert time.monotonic() - began < STOP_BOUND_S
    assert daemon.health() == (0, {})  # the endpoint is gone with the process
    assert len(daemons.state.job_runs("signal_check", "ok")) >= checks
    assert daemons.state.job_runs("signal_check", "failed") == []
    assert_store_consistent(tmp_path, daemons.state)


@pytest.mark.slow
def test_sigterm_during_a_check_lets_the_check_finish(
    daemons: DaemonFactory, tmp_path: Path
) -> None:
    daemon = daemons.spawn("first")
    daemon.wait_healthy_answer()
    wait_for_checks(daemons.state, daemon, 1)
    # Every REST answer now takes half a real second: a check that has reconciled still has to
    # fetch its klines, so it is certainly running when the signal arrives.
    seen = len(audit_entries(tmp_path / "logs"))
    status, _ = http_json(f"{daemon.sim_url}/sim/faults", {"fault": "delay", "seconds": 0.5})
    assert status == 200

    def check_in_flight() -> str | None:
        entries = audit_entries(tmp_path / "logs")[seen:]
        decided = {e["correlation_id"] for e in entries if e["kind"] == "decision"}
        started = [
            e["correlation_id"]
            for e in entries
            if e["kind"] == "reconciliation" and e["correlation_id"].startswith("chk-")
        ]
        pending = [cid for cid in started if cid not in decided]
        return pending[0] if pending else None

    cid = wait_until(check_in_flight, timeout=10, interval=0.01, message="a check in flight")
    runs_before = len(daemons.state.job_runs("signal_check"))
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(STOP_BOUND_S + 10) == 0, daemon.stderr

    decisions = [
        e for e in audit_entries(tmp_path / "logs")
        if e["kind"] == "decision" and e["correlation_id"] == cid
    ]
    assert len(decisions) == 2, decisions  # both symbols decided: the check ran to its end
    runs = daemons.state.job_runs("signal_check")
    assert len(runs) == runs_before + 1  # the running check was recorded, no new one began
    assert runs[-1][3] == "ok", runs[-1]
    assert_store_consistent(tmp_path, daemons.state)


@pytest.mark.slow
def test_a_second_instance_refuses_the_same_state_dir(daemons: DaemonFactory) -> None:
    first = daemons.spawn("first")
    first.wait_healthy_answer()
    assert first.proc is not None
    checks = wait_for_checks(daemons.state, first, 1)

    second = daemons.spawn("second", THUNES_HEALTH_PORT="0", THUNES_SIM_PORT="0")
    assert second.wait(SECOND_INSTANCE_BOUND_S) == 1
    message = second.stderr
    assert f"pid {first.proc.pid}" in message
    assert str(daemons.state.state_dir) in message
    assert "Traceback" not in message

    assert first.proc.poll() is None
    wait_for_checks(daemons.state, first, checks + 1)  # the first one keeps checking
    status, _ = first.health()
    assert status in (200, 503)
    first.signal(signal.SIGTERM)
    assert first.wait() == 0
