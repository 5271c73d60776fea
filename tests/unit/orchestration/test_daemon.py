from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from tests.helpers import eventually
from thunes.clock import SystemClock
from thunes.config import Settings, load_settings
from thunes.events import EventBus, EventKind, RecordingSink
from thunes.orchestration.daemon import Components, Daemon, DaemonState
from thunes.orchestration.daemon_health import DaemonHealth, Probes, StreamStatus
from thunes.orchestration.metrics import DaemonMetrics
from thunes.orchestration.scheduler import ScheduleSpec
from thunes.orchestration.systemd import SystemdNotifier


@dataclass
class ReconcileReport:
    ok: bool
    error: str | None = None


class FakePipeline:
    def __init__(self) -> None:
        self.started = 0
        self.completed = 0
        self.gate: asyncio.Event | None = None

    async def run_check(self, correlation_id: str | None = None) -> Any:
        self.started += 1
        if self.gate is not None:
            await self.gate.wait()
        self.completed += 1
        return {"check": self.started}


class FakeReconciler:
    def __init__(self, ok: bool = True) -> None:
        self.ok = ok
        self.calls = 0

    async def reconcile(self) -> ReconcileReport:
        self.calls += 1
        return ReconcileReport(self.ok, None if self.ok else "exchange unreachable")


@dataclass
class World:
    daemon: Daemon
    pipeline: FakePipeline
    reconciler: FakeReconciler
    events: RecordingSink
    closed: list[str]
    stream: dict[str, Any]


def settings_for(tmp_path: Path) -> Settings:
    return load_settings(
        env_file=None, state_dir=tmp_path / "state", log_dir=tmp_path / "logs", health_port=0
    )


def build_world(tmp_path: Path, reconcile_ok: bool = True) -> World:
    settings = settings_for(tmp_path)
    clock = SystemClock()
    bus = EventBus()
    sink = RecordingSink()
    bus.subscribe(sink)
    pipeline, reconciler = FakePipeline(), FakeReconciler(reconcile_ok)
    stream = {"connected": True, "fresh": True}
    closed: list[str] = []
    spec = ScheduleSpec(
        check_interval_s=0.05,
        reconcile_interval_s=0.2,
        exchange_info_interval_s=60,
        heartbeat_interval_s=0.05,
        daily_summary_at=None,
        daily_summary_interval_s=60,
    )
    probes = Probes(
        stream=lambda: StreamStatus(
            stream["connected"], {"BTCUSDT": stream["fresh"]}, {"BTCUSDT": 0.1}
        ),
        breakers=lambda: {"market_data": False, "orders": False},
        database=lambda: None,
        risk=lambda: {"kill_switch": False},
    )

    async def nothing() -> None:
        return None

    async def close_stream() -> None:
        closed.append("stream")

    components = Components(
        settings=settings,
        clock=clock,
        events=bus,
        metrics=DaemonMetrics(),
        pipeline=pipeline,
        reconciler=reconciler,
        health_probes=DaemonHealth(clock, spec.check_interval_s, probes),
        preflight=nothing,
        refresh_exchange_info=nothing,
        daily_summary=nothing,
        start_stream=nothing,
        closers=[close_stream],
    )
    daemon = Daemon(components, spec, notifier=SystemdNotifier(""))
    return World(daemon, pipeline, reconciler, sink, closed, stream)


async def test_runs_checks_and_stops_cleanly(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    task = asyncio.create_task(world.daemon.run())
    await eventually(lambda: world.daemon.checks_completed >= 2)
    world.daemon.request_stop()
    assert await asyncio.wait_for(task, 10) == 0
    assert world.daemon.state is DaemonState.STOPPED
    assert world.closed == ["stream"]
    titles = [e.title for e in world.events.of_kind(EventKind.LIFECYCLE)]
    assert titles == ["THUNES started", "THUNES stopped"]


async def test_stop_lets_a_running_check_finish(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    world.pipeline.gate = asyncio.Event()
    task = asyncio.create_task(world.daemon.run())
    await eventually(lambda: world.pipeline.started == 1)
    world.daemon.request_stop()
    await eventually(lambda: world.daemon.state is DaemonState.STOPPING)
    assert not task.done() and world.closed == []
    world.pipeline.gate.set()
    assert await asyncio.wait_for(task, 10) == 0
    assert world.pipeline.completed == 1
    assert world.pipeline.started == 1  # no new check began after the stop request
    assert world.closed == ["stream"]


async def test_a_failed_reconciliation_is_reported_yet_checks_still_run_for_exits(
    tmp_path: Path,
) -> None:
    """Entries wait inside the pipeline; the daemon never holds the check back (promise 4)."""
    world = build_world(tmp_path, reconcile_ok=False)
    task = asyncio.create_task(world.daemon.run())
    await eventually(lambda: world.reconciler.calls >= 1 and world.pipeline.completed >= 1)
    report = world.daemon.health_report()
    assert "reconciliation" in report.unhealthy()
    assert world.daemon.not_trading_reason is not None
    assert "exchange unreachable" in world.daemon.not_trading_reason
    world.reconciler.ok = True
    await eventually(lambda: world.reconciler.calls >= 2 and world.daemon.reconciled)
    world.daemon.request_stop()
    await asyncio.wait_for(task, 10)


async def test_health_endpoint_turns_503_when_stream_is_stale(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    task = asyncio.create_task(world.daemon.run())
    await eventually(
        lambda: world.daemon.health_server is not None and world.daemon.health_server.port
    )
    server = world.daemon.health_server
    assert server is not None
    url = f"http://127.0.0.1:{server.port}/health"
    async with aiohttp.ClientSession() as session:

        async def status() -> int:
            async with session.get(url) as response:
                return response.status

        await eventually(lambda: world.daemon.checks_completed >= 1)
        assert await status() == 200
        world.stream["fresh"] = False
        assert await status() == 503
        world.stream["fresh"] = True
        assert await status() == 200
    world.daemon.request_stop()
    await asyncio.wait_for(task, 10)


async def test_an_open_market_data_breaker_never_skips_the_signal_check(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    health = world.daemon.c.health_probes
    health.probes.breakers = lambda: {"market_data": True, "orders": True}
    world.daemon.state = DaemonState.RUNNING
    assert world.daemon.skip_reason("signal_check") is None  # stops use the freshest price
    assert world.daemon.skip_reason("reconciliation") == "circuit breaker 'orders' is open"
    assert world.daemon.skip_reason("heartbeat") is None


class RecordingNotifier(SystemdNotifier):
    """Records sd_notify states instead of sending them."""

    def __init__(self) -> None:
        super().__init__("")
        self.states: list[str] = []

    def notify(self, state: str) -> bool:
        self.states.append(state)
        return True


async def test_watchdog_follows_a_live_loop_not_overall_health(tmp_path: Path) -> None:
    world = build_world(tmp_path)
    notifier = RecordingNotifier()
    world.daemon.systemd = notifier
    world.pipeline.gate = asyncio.Event()
    world.stream["fresh"] = False  # unhealthy, yet a restart would not help: keep pinging
    task = asyncio.create_task(world.daemon.run())
    await eventually(lambda: world.pipeline.started == 1)
    world.daemon.stuck_check_seconds = 3600.0
    pings = notifier.states.count("WATCHDOG=1")
    await eventually(lambda: notifier.states.count("WATCHDOG=1") > pings)
    assert not world.daemon.health_report().healthy
    world.daemon.stuck_check_seconds = 0.0  # the running check now counts as hung
    assert not world.daemon.loop_alive()
    world.daemon.stuck_check_seconds = 3600.0
    assert world.daemon.loop_alive()
    world.pipeline.gate.set()
    await eventually(lambda: world.pipeline.completed >= 1)
    world.daemon.request_stop()
    await asyncio.wait_for(task, 10)
    assert notifier.states[0].startswith("READY=1")
