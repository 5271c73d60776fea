"""Issue 12, item 13: /health shows a degraded audit trail as failing, and every reason it
shows is a sentence for the operator (never an object's repr)."""

from __future__ import annotations

import asyncio
import errno
import json
import os
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import eventually
from tests.unit.orchestration.test_daemon import World, build_world
from thunes.clock import ManualClock
from thunes.orchestration.job_store import ResilientScheduler
from thunes.store.audit import AuditTrail
from thunes.trading.reconcile import Finding, ReconciliationReport


class FullDisk:
    """An `os.write` stand-in that fails with ENOSPC while `full`."""

    def __init__(self) -> None:
        self.full = False

    def __call__(self, fd: int, data: bytes) -> int:
        if self.full:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.write(fd, data)


class ReportingReconciler:
    def __init__(self, report: Any) -> None:
        self.report = report

    async def reconcile(self) -> Any:
        return self.report


async def _health(world: World) -> tuple[int, dict[str, Any], str]:
    await eventually(
        lambda: world.daemon.health_server is not None and world.daemon.health_server.port
    )
    server = world.daemon.health_server
    assert server is not None
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"http://127.0.0.1:{server.port}/health") as response,
    ):
        text = await response.text()
        return response.status, json.loads(text), text


async def _stop(world: World, task: asyncio.Task[int]) -> None:
    world.daemon.request_stop()
    await asyncio.wait_for(task, 10)


async def test_health_reports_a_degraded_audit_trail_as_failing(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    disk = FullDisk()
    audit = AuditTrail(tmp_path / "logs" / "audit_trail.jsonl", ManualClock(), write=disk)
    world.daemon.c.health_probes.probes.audit = audit.retry
    task = asyncio.create_task(world.daemon.run())
    await eventually(lambda: world.daemon.checks_completed >= 1)
    status, body, _ = await _health(world)
    assert status == 200 and body["components"]["audit"]["ok"] is True
    disk.full = True
    audit.record("order_outcome", "c-1", state="FILLED")
    status, body, _ = await _health(world)
    assert status == 503 and "audit" in body["unhealthy"]
    reason = body["components"]["audit"]["detail"]["reason"]
    assert reason.startswith("The audit trail audit_trail.jsonl cannot be written")
    disk.full = False
    status, body, _ = await _health(world)  # the probe retries: the gap is recorded
    assert status == 200 and audit.degraded is None
    await _stop(world, task)


async def test_health_reasons_are_readable_sentences(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    finding = Finding("position_short", "BTCUSDT", "store holds 0.1 BTC, the exchange 0.09")
    world.daemon.c.reconciler = ReportingReconciler(ReconciliationReport(False, (finding,)))
    task = asyncio.create_task(world.daemon.run())
    status, body, text = await _health(world)
    assert status == 503
    reason = body["components"]["reconciliation"]["detail"]["reason"]
    assert reason == (
        "Reconciliation with the exchange did not succeed: store holds 0.1 BTC, the exchange 0.09."
    )
    assert "ReconciliationReport(" not in text and "Finding(" not in text
    assert world.daemon.not_trading_reason == reason
    await _stop(world, task)


async def test_a_reconciliation_that_raises_is_a_sentence_in_health(tmp_path: Path) -> None:
    class Raising:
        async def reconcile(self) -> Any:
            raise ValueError("malformed balance 'NaN'")

    world = build_world(tmp_path)
    world.daemon.c.reconciler = Raising()
    with pytest.raises(ValueError):
        await world.daemon.run_reconciliation()
    body = json.loads(json.dumps(world.daemon.health_report().as_json(), default=str))
    assert body["components"]["reconciliation"]["detail"]["reason"] == (
        "Reconciliation with the exchange failed with an error: ValueError: malformed balance"
        " 'NaN'."
    )


async def test_health_shows_a_job_store_that_cannot_be_written(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    scheduler = world.daemon.scheduler._scheduler
    assert isinstance(scheduler, ResilientScheduler)
    scheduler.store_error = "The scheduler's job store could not be updated (disk full)."
    body = json.loads(json.dumps(world.daemon.health_report().as_json(), default=str))
    assert "scheduler" in body["unhealthy"]
    detail = body["components"]["scheduler"]["detail"]
    assert detail["job_store_error"] == scheduler.store_error
