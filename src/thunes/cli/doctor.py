"""`thunes doctor`: check settings, directories, data, exchange and Telegram; ok/warn/fail each."""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import os
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, cast

from rich.console import Console

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.config import Mode, Settings
from thunes.exchange.preflight import PreflightCheck as Check
from thunes.exchange.preflight import Status
from thunes.market.klines import KlineFileError, load_klines, sample_path
from thunes.notify.preflight import telegram_preflight
from thunes.orchestration.lock import LOCK_NAME

DEFAULT_SIM_FILE = "BTCUSDT-5m-2023Q1.csv.gz"
STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("doctor", help="check settings, directories, data, exchange")
    add_env_file_option(parser)
    parser.add_argument("--offline", action="store_true", help="skip exchange and Telegram checks")
    parser.set_defaults(handler=run)


def check_writable(name: str, directory: Path) -> Check:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".doctor-"):
            pass
    except OSError as exc:
        return Check(name, "fail", f"{directory} is not writable: {exc.strerror or exc}")
    return Check(name, "ok", f"{directory} is writable")


def check_data(settings: Settings) -> list[Check]:
    paths = settings.sim_data or [sample_path(DEFAULT_SIM_FILE)]
    checks = []
    for path in paths:
        try:
            report = load_klines(path).report
        except KlineFileError as exc:
            checks.append(Check("data", "fail", str(exc)))
            continue
        status: Status = "ok" if report.clean else "warn"
        checks.append(Check("data", status, report.summary()))
    return checks


async def _guarded(label: str, checks: Awaitable[list[Check]]) -> list[Check]:
    """A part's checks; a preflight that breaks is reported as a failure, never a crash."""
    try:
        return await checks
    except Exception as exc:
        return [Check(label, "fail", f"{type(exc).__name__}: {exc}")]


async def _telegram_checks(settings: Settings) -> list[Check]:
    rows = await telegram_preflight(settings)
    return [Check(name, cast(Status, status), detail) for name, status, detail in rows]


def daemon_running(state_dir: Path) -> bool:
    """A daemon holds this state's lock (probed with a shared lock, released at once)."""
    try:
        fd = os.open(state_dir / LOCK_NAME, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing releases the probe's lock
    return False


def _run_check(line: str, daemon_is_running: bool) -> Check:
    """A refusal of `run` fails, except the ports a running daemon of this state holds."""
    if daemon_is_running and line.startswith(("THUNES_HEALTH_PORT:", "THUNES_WEB_PORT:")):
        return Check("run", "warn", f"{line} (this state's daemon is running: expected)")
    return Check("run", "fail", line)


def check_run(settings: Settings, offline: bool) -> list[Check]:
    """The very checks `thunes run` makes before starting: each refusal is a failure here."""
    from thunes.app.validate import doctor_problems  # the app: heavy, doctor only
    from thunes.exchange.types import ExchangeError

    try:
        problems = asyncio.run(doctor_problems(settings, ask_exchange=not offline))
    except ExchangeError as exc:
        return [Check("run", "warn", f"symbols not checked, the exchange did not answer: {exc}")]
    if problems:
        running = daemon_running(settings.state_dir)
        return [_run_check(line, running) for line in problems]
    what = f"strategy {settings.strategy}, {settings.timeframe} bars of {settings.symbols}"
    if offline and settings.mode is not Mode.SIM:
        return [Check("run", "warn", f"{what}; offline: the exchange's listing not checked")]
    return [Check("run", "ok", f"{what}: thunes run would start")]


def collect_checks(settings: Settings, offline: bool) -> list[Check]:
    checks = [Check("settings", "ok", f"mode {settings.mode.value}, symbols {settings.symbols}")]
    checks.append(check_writable("state directory", settings.state_dir))
    checks.append(check_writable("log directory", settings.log_dir))
    if settings.mode is Mode.SIM:
        checks.extend(check_data(settings))
    checks.extend(check_run(settings, offline))
    if not offline:
        from thunes.app.exchange_checks import exchange_checks  # the app: heavy, doctor only

        checks.extend(asyncio.run(_guarded("exchange", exchange_checks(settings))))
        checks.extend(asyncio.run(_guarded("telegram", _telegram_checks(settings))))
    return checks


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    console = Console()
    checks = collect_checks(settings, args.offline)
    for check in checks:
        style = STYLE.get(check.status, "white")
        console.print(f"[{style}]{check.status:>4}[/{style}]  {check.name}: {check.detail}")
    return 1 if any(c.status == "fail" for c in checks) else 0
