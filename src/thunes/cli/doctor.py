"""`thunes doctor`: check settings, directories, data, exchange and Telegram; ok/warn/fail each."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.config import Mode, Settings
from thunes.market.klines import KlineFileError, load_klines, sample_path

DEFAULT_SIM_FILE = "BTCUSDT-5m-2023Q1.csv.gz"
STYLE = {"ok": "green", "warn": "yellow", "fail": "red"}


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str


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
        status = "ok" if report.clean else "warn"
        checks.append(Check("data", status, report.summary()))
    return checks


async def _optional_preflight(
    module_name: str, function: str, settings: Settings, label: str
) -> list[Check]:
    """Run a part's preflight if that part is installed; its checks come back as tuples."""
    try:
        module = importlib.import_module(module_name)
    except ImportError:
        return [Check(label, "warn", f"{label} checks are not available in this build")]
    preflight: Callable[[Settings], Awaitable[list[Any]]] = getattr(module, function)
    try:
        results = await preflight(settings)
    except Exception as exc:  # the preflight reports; it must never crash doctor
        return [Check(label, "fail", f"{type(exc).__name__}: {exc}")]
    checks = []
    for item in results:
        if isinstance(item, tuple):
            checks.append(Check(*item))
        else:
            checks.append(Check(item.name, item.status, item.detail))
    return checks


def collect_checks(settings: Settings, offline: bool) -> list[Check]:
    checks = [Check("settings", "ok", f"mode {settings.mode.value}, symbols {settings.symbols}")]
    checks.append(check_writable("state directory", settings.state_dir))
    checks.append(check_writable("log directory", settings.log_dir))
    if settings.mode is Mode.SIM:
        checks.extend(check_data(settings))
    if not offline:
        checks.extend(
            asyncio.run(
                _optional_preflight("thunes.exchange.preflight", "preflight", settings, "exchange")
            )
        )
        checks.extend(
            asyncio.run(
                _optional_preflight(
                    "thunes.notify.preflight", "telegram_preflight", settings, "telegram"
                )
            )
        )
    return checks


def run(args: argparse.Namespace) -> int:
    settings = settings_from_args(args)
    console = Console()
    checks = collect_checks(settings, args.offline)
    for check in checks:
        style = STYLE.get(check.status, "white")
        console.print(f"[{style}]{check.status:>4}[/{style}]  {check.name}: {check.detail}")
    return 1 if any(c.status == "fail" for c in checks) else 0
