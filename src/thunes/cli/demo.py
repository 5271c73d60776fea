"""`thunes demo` (what `make run` runs): the daemon on the embedded simulator for two minutes.

It uses its own state and log directories under `state/demo` and `logs/demo` (wiped at the
start, so every demo starts from the same exchange), replays the bundled klines at high speed,
prints every check, decision, trade and alert, then the final status, and writes the
daily-summary report (text and PNG) to `logs/demo/reports/`.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console

from thunes.cli.common import settings_from_args
from thunes.events import Event, EventKind

if TYPE_CHECKING:
    from thunes.app import Built
from thunes.reports.alerts import describe_event
from thunes.reports.format import to_plain
from thunes.trading.results import CheckReport, Outcome

DEMO_STATE = Path("state/demo")
DEMO_LOGS = Path("logs/demo")
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
    "sim_port": 0,
    "log_level": "WARNING",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("demo", help="two minutes of THUNES on the embedded simulator")
    parser.add_argument("--duration", type=float, default=120.0, help="real seconds (default 120)")
    parser.add_argument("--speed", type=float, help="simulated seconds per real second")
    parser.add_argument("--env-file", default=None, help=argparse.SUPPRESS)
    parser.set_defaults(handler=run)


class DemoPrinter:
    """Prints what the daemon does, one line per check and per alert."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.checks = 0
        self.trades = 0

    def on_event(self, event: Event) -> None:
        if event.kind is EventKind.FILL:
            self.trades += 1
        style = {EventKind.FILL: "bold green", EventKind.ORDER_REJECTED: "red"}.get(
            event.kind, "yellow"
        )
        text = to_plain(describe_event(event)).replace("\n", " · ")
        self.console.print(f"[{style}]  ▶ {text}[/{style}]", soft_wrap=True)

    def on_check(self, report: CheckReport) -> None:
        self.checks += 1
        parts = []
        for result in report.results.values():
            label = result.action.value
            if result.outcome is not Outcome.HOLD and result.reason is not None:
                label += f" ({result.reason.value})"
            price = f" @ {result.price:.2f}" if result.price is not None else ""
            parts.append(f"{result.symbol} {label}{price}")
        when = report.started_at.strftime("%Y-%m-%d %H:%M")
        blocked = f" [red]blocked: {report.blocked}[/red]" if report.blocked else ""
        took = f"[dim]({report.elapsed_ms:.0f} ms)[/dim]"
        self.console.print(
            f"[dim]{when}[/dim] check {self.checks:>3}: {'; '.join(parts)}{blocked} {took}",
            soft_wrap=True,
        )

    async def on_stop(self, built: Built) -> None:
        from thunes.cli.status import collect, render
        from thunes.reports.daily_files import write_daily_report

        self.console.rule("final status")
        settings = built.settings
        status = collect(
            built.store,
            built.clock,
            daily_loss_limit=settings.daily_loss_limit,
            mode=settings.mode.value,
            daemon_error="the demo daemon has stopped",
        )
        render(status, self.console)
        now = built.clock.now()
        written = write_daily_report(
            built.settings, built.store, now.date(), now=now, prices=built.prices()
        )
        self.console.rule("daily summary")
        self.console.print(written.text)
        self.console.print(f"report written to {written.text_path} and {written.png_path}")
        self.console.print(f"{self.checks} checks, {self.trades} fills")


def run(args: argparse.Namespace) -> int:
    from thunes.app import Observer
    from thunes.orchestration.run_scheduler import run_daemon

    for directory in (DEMO_STATE, DEMO_LOGS):
        shutil.rmtree(directory, ignore_errors=True)
    overrides = dict(DEMO_SETTINGS, state_dir=DEMO_STATE, log_dir=DEMO_LOGS)
    if args.speed:
        overrides["sim_speed"] = args.speed
    settings = settings_from_args(args, **overrides)
    console = Console()
    printer = DemoPrinter(console)
    console.rule(
        f"THUNES demo: {', '.join(settings.symbols)} {settings.timeframe}, "
        f"simulated {settings.sim_speed:g}x for {args.duration:g} s"
    )
    observer = Observer(
        on_event=printer.on_event, on_check=printer.on_check, on_stop=printer.on_stop
    )
    return run_daemon(settings, args.duration, observer=observer, console=False)
