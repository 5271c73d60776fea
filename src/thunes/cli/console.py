"""What a daemon in the foreground prints: a line per check, every alert, a summary at the end.

Shared by `thunes demo` and `thunes run` so the operator sees the same story in both: each
check's decisions, every fill (with its PnL on exits), the realised PnL so far, then the final
status and the counts when the daemon stops.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from rich.console import Console

from thunes.events import Event, EventKind
from thunes.reports.alerts import describe_event
from thunes.reports.format import to_plain
from thunes.trading.results import CheckReport, Outcome

if TYPE_CHECKING:
    from thunes.app import Built, Observer

STYLES = {EventKind.FILL: "bold green", EventKind.ORDER_REJECTED: "red"}


class ConsolePrinter:
    """Prints what the daemon does; `observer()` hands it to the daemon as its hooks.

    `after_status` runs after the final status (the demo writes its daily report there).
    """

    def __init__(
        self,
        console: Console,
        stopped_note: str = "the daemon has stopped",
        after_status: Callable[[Built, Console], Awaitable[None]] | None = None,
    ) -> None:
        self.console = console
        self.stopped_note = stopped_note
        self.after_status = after_status
        self.checks = 0
        self.trades = 0
        self.realised = Decimal(0)

    def on_event(self, event: Event) -> None:
        if event.kind is EventKind.FILL:
            self.trades += 1
            pnl = event.data.get("pnl")
            if pnl is not None:  # exits only
                self.realised += Decimal(str(pnl))
        style = STYLES.get(event.kind, "yellow")
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
        totals = f"fills {self.trades}, PnL {self.realised:+.2f}"
        took = f"[dim]({totals}; {report.elapsed_ms:.0f} ms)[/dim]"
        self.console.print(
            f"[dim]{when}[/dim] check {self.checks:>3}: {'; '.join(parts)}{blocked} {took}",
            soft_wrap=True,
        )

    def summary(self) -> str:
        return f"{self.checks} checks, {self.trades} fills, realised PnL {self.realised:+.2f}"

    async def on_stop(self, built: Built) -> None:
        from thunes.cli.status import collect, render

        self.console.rule("final status")
        settings = built.settings
        status = collect(
            built.store,
            built.clock,
            daily_loss_limit=settings.daily_loss_limit,
            mode=settings.mode.value,
            daemon_error=self.stopped_note,
        )
        render(status, self.console)
        if self.after_status is not None:
            await self.after_status(built, self.console)
        self.console.print(self.summary())

    def observer(self) -> Observer:
        from thunes.app import Observer

        return Observer(on_event=self.on_event, on_check=self.on_check, on_stop=self.on_stop)
