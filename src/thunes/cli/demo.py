"""`thunes demo` (what `make run` runs): the daemon on the embedded simulator for two minutes.

It uses its own directories `demo` under THUNES_STATE_DIR and THUNES_LOG_DIR (default
`state/demo` and `logs/demo`), emptied at the start so every demo starts from the same exchange
(only directories the demo made and marked are ever emptied: see `demo_dirs`), replays the
bundled klines at high speed, prints every check, decision, trade and alert, then the final
status, and writes the daily-summary report (text and PNG) to `<log dir>/demo/reports/`.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from rich.console import Console

from thunes.cli.common import settings_from_args
from thunes.cli.demo_dirs import DemoDirsError, claim
from thunes.events import Event, EventKind

if TYPE_CHECKING:
    from thunes.app import Built
from thunes.reports.alerts import describe_event
from thunes.reports.format import to_plain
from thunes.trading.results import CheckReport, Outcome

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

    overrides = dict(DEMO_SETTINGS)
    if args.speed:
        overrides["sim_speed"] = args.speed
    roots = settings_from_args(args, **overrides)
    try:
        state_dir, log_dir = claim(roots.state_dir, roots.log_dir)
    except (DemoDirsError, OSError) as error:
        print(f"thunes: demo: {error}", file=sys.stderr)
        return EXIT_CONFIG
    settings = settings_from_args(args, **overrides, state_dir=state_dir, log_dir=log_dir)
    console = Console()
    printer = DemoPrinter(console)
    console.rule(
        f"THUNES demo: {', '.join(settings.symbols)} {settings.timeframe}, "
        f"simulated {settings.sim_speed:g}x for {args.duration:g} s"
    )
    console.print(f"[dim]demo state in {state_dir}, logs in {log_dir}[/dim]", soft_wrap=True)
    observer = Observer(
        on_event=printer.on_event, on_check=printer.on_check, on_stop=printer.on_stop
    )
    return run_daemon(settings, args.duration, observer=observer, console=False)
