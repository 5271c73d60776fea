"""In-process daemon on the embedded simulator: refused published parameters and checks that fail
for every symbol, as the operator sees them in /health, `thunes status` and Telegram's /health.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.helpers import eventually
from tests.integration.daemon.conftest import Running
from tests.integration.daemon.test_health_faults import FAULT_BOUND_S, started, wait_status
from thunes.cli import main
from thunes.notify.backend import StoreCommandBackend
from thunes.params_store import params_path
from thunes.reports.snapshot import HealthSnapshot
from thunes.store import audit_path

REFUSED_TITLE = "Published parameters refused: trading on the defaults"


def publish_for(state_dir: Path, interval: str) -> Path:
    path = params_path(state_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "strategy": "sma",
        "interval": interval,
        "params": {"fast": 15, "slow": 150},
        "symbols": ["BTCUSDT", "ETHUSDT"],
        "data_window": {"start": "2021-01-01T00:00:00+00:00", "end": "2021-12-31T23:00:00+00:00"},
        "score": {"oos_sharpe": 1.1},
        "data_sha256": "cd" * 32,
        "published_at": "2022-01-01T00:00:00+00:00",
    }
    path.write_text(json.dumps(record))
    return path


def refusal_alerts(log_dir: Path) -> list[dict[str, Any]]:
    lines = audit_path(log_dir).read_text().splitlines()
    entries = [json.loads(line) for line in lines if line.strip().endswith("}")]
    return [
        e["data"] for e in entries
        if e["kind"] == "event.lifecycle" and e["data"].get("title") == REFUSED_TITLE
    ]


async def status_text(
    running: Running, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> str:
    """`thunes status` as the operator runs it, against the running daemon's state and port
    (in a thread: it asks /health, which this loop serves)."""
    settings, server = running.built.settings, running.daemon.health_server
    assert server is not None and server.port
    monkeypatch.chdir(settings.state_dir.parent)
    for name, value in {
        "THUNES_MODE": "sim",
        "THUNES_STATE_DIR": str(settings.state_dir),
        "THUNES_LOG_DIR": str(settings.log_dir),
        "THUNES_HEALTH_PORT": str(server.port),
    }.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["status"])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


async def telegram_health(running: Running) -> str:
    built, daemon = running.built, running.daemon
    backend = StoreCommandBackend(
        built.store,
        built.risk,
        built.clock,
        daily_loss_limit=built.settings.daily_loss_limit,
        health=lambda: HealthSnapshot.from_health_json(daemon.health_report().as_json()),
    )
    return await backend.health_text()


@pytest.mark.slow
async def test_daemon_refuses_parameters_tuned_on_other_bars_alerts_once_and_says_so(
    start_inprocess: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = publish_for(tmp_path / "state", "1h")  # the daemon trades 5m bars
    running = await started(start_inprocess)
    choice = running.built.strategy_choice
    assert choice is not None and choice.refused is not None
    assert dict(running.built.pipeline.context.strategy.params)["slow"] != 150  # defaults trade
    async with aiohttp.ClientSession() as session:
        body = await wait_status(session, running, 200)  # a decision, not a fault
    detail = body["components"]["strategy"]["detail"]
    assert detail["source"] == "defaults" and detail["interval"] == "5m"
    assert detail["refused"] == (
        f"{path}: published parameters were tuned on 1h bars, the daemon trades 5m bars; "
        "trading on the default parameters"
    )
    await eventually(lambda: running.daemon.checks_completed >= 2, timeout=FAULT_BOUND_S)
    alerts = refusal_alerts(tmp_path / "logs")
    assert len(alerts) == 1 and alerts[0]["why"] == detail["refused"]

    text = (await status_text(running, monkeypatch, capsys)).replace("\n", "")  # rich wraps
    assert f"parameters       sma on 5m bars, DEFAULTS: {path}: published parameters were" in text
    assert "sma on 5m bars, DEFAULTS" in await telegram_health(running)


@pytest.mark.slow
async def test_checks_failing_for_every_symbol_turn_health_503_and_show_as_failing_jobs(
    start_inprocess: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    running = await started(start_inprocess)
    sim = running.built.sim
    assert sim is not None
    async with aiohttp.ClientSession() as session:
        await wait_status(session, running, 200)
        sim.simulator.faults.fail_next(-1, status=400, paths=("/api/v3/klines",))

        async def unhealthy_for_checks() -> dict[str, Any] | None:
            async with session.get(running.health_url) as response:
                body: dict[str, Any] = await response.json()
                ok = response.status == 503 and "signal_check" in body["unhealthy"]
                return body if ok else None

        body = await eventually(unhealthy_for_checks, timeout=FAULT_BOUND_S, interval=0.05)
        reason = body["components"]["signal_check"]["detail"]["reason"]
        assert "signal checks failed in a row" in reason and "every symbol" in reason

        text = (await status_text(running, monkeypatch, capsys)).replace("\n", "")  # rich wraps
        failing = "signal_check: RuntimeError: every symbol's check failed, e.g. BTCUSDT"
        assert "UNHEALTHY" in text and "signal_check: The last " in text
        assert "failing jobs     1" in text and failing in text
        assert "parameters       sma on 5m bars, default parameters" in text
        telegram = await telegram_health(running)
        assert "failing jobs     1" in telegram and failing in telegram
        assert "why unhealthy\n    signal_check: The last " in telegram

        sim.simulator.faults.clear()
        await eventually(
            lambda: running.daemon.c.health_probes.failed_checks == 0, timeout=FAULT_BOUND_S
        )
        body = await wait_status(session, running, 200)
        assert body["components"]["signal_check"]["detail"]["failed_in_a_row"] == 0
