"""`thunes demo` (what `make run` runs): the daemon on the embedded simulator for two minutes.

It uses its own directories `demo` under THUNES_STATE_DIR and THUNES_LOG_DIR (default
`state/demo` and `logs/demo`), emptied at the start so every demo starts from the same exchange
(only directories the demo made and marked are ever emptied: see `demo_dirs`), replays the
bundled klines at high speed, prints every check, decision, trade and alert, then the final
status, and writes the daily-summary report (text and PNG) to `<log dir>/demo/reports/`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from thunes.cli.common import settings_from_args
from thunes.cli.console import ConsolePrinter
from thunes.cli.demo_dirs import DemoDirsError, claim
from thunes.cli.parsing import positive_float

if TYPE_CHECKING:
    from thunes.app import Built

EXIT_CONFIG = 2
DEMO_SETTINGS: dict[str, Any] = {
    "mode": "sim",
    "symbols": ["BTCUSDT", "ETHUSDT"],
    "timeframe": "5m",
    "check_interval_minutes": 5.0,
    "sim_speed": 400.0,
    "sim_start": "2023-02-01T16:30:00",
    "quote_amount": "25",
    "daily_loss_limit": "50",
    "health_port": 0,
    "web_port": 0,  # never the port of a daemon already running here
    "sim_port": 0,
    "log_level": "WARNING",
}
# `--universe ranked:N`: the daemon ranks 1h bars every 15 simulated minutes and trades the top N.
UNIVERSE_FOLDER = "binance_spot_1h_universe"
RANKED_SETTINGS: dict[str, Any] = {
    "timeframe": "1h",
    "check_interval_minutes": 10.0,
    "sim_speed": 900.0,
}
UNIVERSE_START = "2021-03-01T00:00:00"  # the 2021 bull market, every symbol listed


def shared_universe() -> Path | None:
    """The 22-symbol 1h universe beside the checkout (../shared/data/...), if it is there."""
    for root in (Path.cwd().parent, Path(__file__).resolve().parents[3].parent):
        folder = root / "shared" / "data" / UNIVERSE_FOLDER
        if folder.is_dir():
            return folder
    return None


def _ranked(text: str) -> str:
    if not re.fullmatch(r"ranked:[1-9]\d{0,3}", text):
        raise argparse.ArgumentTypeError(f"expected ranked:N (N from 1), got {text!r}")
    return text


def universe_overrides(universe: str | None, console: Console) -> dict[str, Any]:
    """Settings for `--universe`: the shared 22-symbol folder, else the bundled samples."""
    if universe is None:
        return {}
    overrides = {"universe": universe, **RANKED_SETTINGS}
    folder = shared_universe()
    if folder is not None:
        overrides.update(sim_data_dir=str(folder), sim_start=UNIVERSE_START)
        console.print(f"[dim]ranking the 22-symbol universe in {folder}[/dim]", soft_wrap=True)
    else:
        console.print(
            f"../shared/data/{UNIVERSE_FOLDER} is not here: ranking the bundled "
            f"{' and '.join(DEMO_SETTINGS['symbols'])} samples instead",
            soft_wrap=True,
        )
    return overrides


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="two minutes of THUNES on the embedded simulator")
    parser.add_argument("--duration", type=positive_float, default=120.0, help="real seconds")
    parser.add_argument(
        "--speed",
        type=positive_float,
        help=f"simulated seconds per real second (default: {DEMO_SETTINGS['sim_speed']:g})",
    )
    parser.add_argument(
        "--universe",
        type=_ranked,
        metavar="ranked:N",
        help="trade the top N of a 1h ranking re-run every 15 simulated minutes, over "
        f"../shared/data/{UNIVERSE_FOLDER} when present, else the bundled samples "
        "(default: the static symbols)",
    )
    parser.add_argument(
        "--paper",
        action="store_true",
        help="paper mode on live public prices (THUNES_PAPER_SOURCE[_URL]); when the source "
        "does not answer, says so in one line and runs the simulator demo",
    )
    parser.add_argument("--env-file", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


async def _daily_report(built: Built, console: Console) -> None:
    """After the final status, the demo writes and prints the daily summary."""
    from thunes.reports.daily_files import write_daily_report

    now = built.clock.now()
    written = write_daily_report(
        built.settings, built.store, now.date(), now=now, prices=built.prices()
    )
    console.rule("daily summary")
    console.print(written.text)
    console.print(f"report written to {written.text_path} and {written.png_path}")


def _paper_overrides(
    args: argparse.Namespace, sim_overrides: dict[str, Any], console: Console
) -> dict[str, Any]:
    """Paper settings when the source answers; else one line and the simulator demo's."""
    from thunes.cli.demo_paper import PAPER_DEMO_SETTINGS, fallback_line, unreachable

    why = unreachable(settings_from_args(args, **PAPER_DEMO_SETTINGS))
    if why is None:
        return dict(PAPER_DEMO_SETTINGS)
    console.print(fallback_line(settings_from_args(args, mode="paper"), why), soft_wrap=True)
    return sim_overrides


def run(args: argparse.Namespace) -> int:
    from thunes.orchestration.run_scheduler import run_daemon

    console = Console()
    overrides = {**DEMO_SETTINGS, **universe_overrides(args.universe, console)}
    if getattr(args, "paper", False):
        overrides = _paper_overrides(args, overrides, console)
    if args.speed is not None:
        overrides["sim_speed"] = args.speed
    roots = settings_from_args(args, **overrides)
    try:
        state_dir, log_dir = claim(roots.state_dir, roots.log_dir)
    except (DemoDirsError, OSError) as error:
        print(f"thunes: demo: {error}", file=sys.stderr)
        return EXIT_CONFIG
    settings = settings_from_args(args, **overrides, state_dir=state_dir, log_dir=log_dir)
    printer = ConsolePrinter(console, "the demo daemon has stopped", after_status=_daily_report)
    traded = settings.universe if settings.ranked_top else ", ".join(settings.symbols)
    pace = (
        f"PAPER on {settings.paper_rest_url}" if settings.mode.value == "paper"
        else f"simulated {settings.sim_speed:g}x"
    )
    console.rule(f"THUNES demo: {traded} {settings.timeframe}, {pace} for {args.duration:g} s")
    console.print(f"[dim]demo state in {state_dir}, logs in {log_dir}[/dim]", soft_wrap=True)
    return run_daemon(settings, args.duration, observer=printer.observer(), console=False)
