"""Failing checks look failed: checks failing in a row turn /health 503 with a readable reason."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers import eventually
from tests.unit.orchestration.test_daemon import World, build_world
from thunes.clock import ManualClock
from thunes.orchestration import jobs
from thunes.orchestration.daemon_health import (
    FAILED_CHECKS_UNHEALTHY,
    DaemonHealth,
    Probes,
    StreamStatus,
)
from thunes.orchestration.job_runs import JobOutcome, RunStatus
from thunes.reports.health_notes import health_note_rows
from thunes.reports.snapshot import HealthSnapshot


@dataclass
class SymbolError:
    symbol: str
    detail: str


@dataclass
class AllSymbolsFailed:
    """A check report in which every symbol's check errored."""

    results: dict[str, Any] = field(default_factory=lambda: {"BTCUSDT": 1, "ETHUSDT": 2})
    errors: list[SymbolError] = field(
        default_factory=lambda: [
            SymbolError("BTCUSDT", "market data: -1120 Invalid interval"),
            SymbolError("ETHUSDT", "market data: -1120 Invalid interval"),
        ]
    )


class FailingPipeline:
    """Every check fails for every symbol while `failing`; then checks succeed."""

    def __init__(self) -> None:
        self.failing = True
        self.completed = 0

    async def run_check(self, correlation_id: str | None = None) -> Any:
        self.completed += 1
        return AllSymbolsFailed() if self.failing else {"ok": True}


def health_for(clock: ManualClock) -> DaemonHealth:
    probes = Probes(
        stream=lambda: StreamStatus(True, {"BTCUSDT": True}, {"BTCUSDT": 0.1}),
        breakers=lambda: {},
        database=lambda: None,
        risk=lambda: {},
    )
    health = DaemonHealth(clock, 600.0, probes)
    health.reconciliation_ok(True, "")
    return health


def check_run(clock: ManualClock, status: RunStatus, detail: str = "") -> JobOutcome:
    started = clock.now()
    clock.advance(1.0)
    return JobOutcome(jobs.SIGNAL_CHECK, started, clock.now(), status, detail)


def report_of(health: DaemonHealth) -> Any:
    return health.report(scheduler_running=True, state="running", not_trading_reason=None)


def test_consecutive_failed_checks_turn_health_unhealthy_with_the_reason() -> None:
    clock = ManualClock(1_700_000_000.0)
    health = health_for(clock)
    health.job_finished(check_run(clock, RunStatus.OK))
    health.job_finished(check_run(clock, RunStatus.FAILED, "every symbol's check failed"))
    assert report_of(health).healthy  # one failed check is not yet a pattern
    clock.advance(timedelta(minutes=1).total_seconds())
    health.job_finished(check_run(clock, RunStatus.SKIPPED, "daemon is stopping"))
    health.job_finished(check_run(clock, RunStatus.FAILED, "every symbol's check failed, e.g. X"))
    report = report_of(health)
    assert report.unhealthy() == ["signal_check"]
    detail = report.components["signal_check"].detail
    assert detail["failed_in_a_row"] == FAILED_CHECKS_UNHEALTHY == 2
    assert detail["reason"] == (
        "The last 2 signal checks failed in a row "
        "(the latest: every symbol's check failed, e.g. X)."
    )
    health.job_finished(check_run(clock, RunStatus.OK))
    assert report_of(health).healthy
    assert report_of(health).components["signal_check"].detail["failed_in_a_row"] == 0


async def _health(world: World) -> tuple[int, dict[str, Any]]:
    server = world.daemon.health_server
    assert server is not None and server.port
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}/health") as response,
    ):
        return response.status, json.loads(await response.text())


async def test_checks_in_which_every_symbol_fails_turn_health_503_and_list_failing_jobs(
    tmp_path: Path,
) -> None:
    world = build_world(tmp_path)
    pipeline = FailingPipeline()
    world.daemon.c.pipeline = pipeline
    # Overdue checks must not be what turns /health 503 here: the failures in a row must.
    world.daemon.c.health_probes.check_interval_s = 3600.0
    task = asyncio.create_task(world.daemon.run())
    await eventually(lambda: world.daemon.c.health_probes.failed_checks >= 2)
    await eventually(lambda: world.daemon.health_server is not None)
    status, body = await _health(world)
    assert status == 503
    assert "signal_check" in body["unhealthy"]
    assert "scheduler" not in body["unhealthy"]
    reason = body["components"]["signal_check"]["detail"]["reason"]
    assert "signal checks failed in a row" in reason
    assert "every symbol's check failed, e.g. BTCUSDT: market data: -1120" in reason

    snapshot = HealthSnapshot.from_health_json(body)
    assert [job.split(":")[0] for job in snapshot.failing_jobs] == ["signal_check"]
    rows = health_note_rows(snapshot)
    assert rows[0] == "  why unhealthy"
    assert rows[1].startswith("    signal_check: The last ")

    pipeline.failing = False
    await eventually(lambda: world.daemon.c.health_probes.failed_checks == 0)
    status, body = await _health(world)
    assert status == 200, body["unhealthy"]
    world.daemon.request_stop()
    await asyncio.wait_for(task, 10)
