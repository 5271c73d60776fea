"""`thunes runs list` and `thunes runs show ID`: the recorded `thunes optimize` runs.

Both read the state database (never creating one) and first mark as `error` ("interrupted")
any run of this host still `pending` or `running` whose process is gone (a SIGKILL, a crash,
a reboot). `--json` prints the same facts as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from thunes.cli.common import add_env_file_option, settings_from_args
from thunes.cli.optimize_record import process_alive, this_host
from thunes.cli.parsing import positive_int
from thunes.cli.state_dir import open_state
from thunes.clock import SystemClock
from thunes.store.optimize_runs import OptimizeRun, OptimizeRunStore

EXIT_NOT_FOUND = 1
STATUS_STYLE = {
    "pending": "cyan",
    "running": "yellow",
    "success": "green",
    "stopped": "magenta",
    "error": "red",
}


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("runs", help="recorded optimisation runs (list, show ID)")
    commands = parser.add_subparsers(dest="runs_command", metavar="COMMAND", required=True)
    listing = commands.add_parser("list", help="the newest runs first")
    listing.add_argument("--limit", type=positive_int, default=20, help="runs to show")
    _common(listing)
    listing.set_defaults(handler=run_list)
    show = commands.add_parser("show", help="one run: plan, caps, progress, result, summary")
    show.add_argument("run_id", type=positive_int, metavar="ID")
    _common(show)
    show.set_defaults(handler=run_show)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.add_argument("--state-dir", type=Path, help="default: the THUNES_STATE_DIR setting")
    add_env_file_option(parser)


def _runs(args: argparse.Namespace) -> tuple[OptimizeRunStore | None, int, Any]:
    store, code = open_state(settings_from_args(args, state_dir=args.state_dir))
    if store is None:
        return None, code, None
    runs = OptimizeRunStore.of(store)
    runs.reap_interrupted(this_host(), process_alive, SystemClock().now().astimezone(UTC))
    return runs, 0, store


def run_list(args: argparse.Namespace) -> int:
    runs, code, store = _runs(args)
    if runs is None:
        return code
    try:
        found = runs.recent(args.limit)
    finally:
        store.close()
    if args.json:
        print(json.dumps([r.as_dict() for r in found], indent=2))
        return 0
    console = _console()
    if not found:
        console.print("No optimisation runs recorded yet (thunes optimize records them).")
        return 0
    console.print(list_table(found))
    return 0


def run_show(args: argparse.Namespace) -> int:
    runs, code, store = _runs(args)
    if runs is None:
        return code
    try:
        run = runs.get(args.run_id)
    finally:
        store.close()
    if run is None:
        print(f"thunes: no optimisation run {args.run_id}", file=sys.stderr)
        return EXIT_NOT_FOUND
    if args.json:
        print(json.dumps(run.as_dict(), indent=2))
        return 0
    console = _console()
    for table in show_tables(run):
        console.print(table)
    return 0


def _console() -> Console:
    """Wide enough for the tables even when piped."""
    console = Console()
    return console if console.is_terminal else Console(width=140)


def _status(run: OptimizeRun) -> str:
    return f"[{STATUS_STYLE[run.status.value]}]{run.status.value}[/]"


def _when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")


def _duration(run: OptimizeRun) -> str:
    if run.started_at is None:
        return ""
    end = run.finished_at or SystemClock().now().astimezone(UTC)
    return f"{(end - run.started_at).total_seconds():.1f}s"


def _outcome(run: OptimizeRun) -> str:
    """The run's result in a few words, for the list."""
    if run.status.value == "success":
        if run.published_to:
            return "published"
        return "passed, not published" if run.metrics.get("passed") else "refused by guardrails"
    if run.status.value == "error":
        return run.error if len(run.error) <= 60 else run.error[:59] + "…"
    return run.status.value


def list_table(found: list[OptimizeRun]) -> Table:
    table = Table(title="optimisation runs (newest first)")
    for name in ("id", "status", "strategy", "symbols", "stage", "progress", "started", "took"):
        table.add_column(name, justify="right" if name in ("id", "progress", "took") else "left")
    table.add_column("result")
    for run in found:
        symbols = run.plan.get("symbols", [])
        table.add_row(
            str(run.id),
            _status(run),
            escape(f"{run.strategy} ({run.method})"),
            f"{len(symbols)} × {run.plan.get('interval', '')}",
            run.stage,
            f"{run.done}/{run.total}",
            _when(run.started_at or run.created_at),
            _duration(run),
            escape(_outcome(run)),
        )
    return table


def show_tables(run: OptimizeRun) -> list[Table]:
    facts = Table(title=f"optimisation run {run.id}", show_header=False)
    facts.add_column("what")
    facts.add_column("value")
    plan = run.plan
    rows = [
        ("status", _status(run)),
        ("strategy", escape(f"{run.strategy} ({run.method}, {plan.get('mode', '')} mode)")),
        ("symbols", escape(", ".join(plan.get("symbols", [])))),
        (
            "data",
            f"{plan.get('interval')} bars {plan.get('data_start')} → {plan.get('data_end')}"
            f" ({plan.get('days')} days)",
        ),
        (
            "dataset sha256",
            run.dataset_sha256
            + (" (cached build reused)" if run.build_cached else " (built from the files)"),
        ),
        ("caps", ", ".join(f"{k} {v}" for k, v in run.caps.items())),
        ("progress", f"{run.stage}: {run.done} of {run.total} configurations"),
        (
            "created / started / finished",
            f"{_when(run.created_at)} / {_when(run.started_at)} / {_when(run.finished_at)}",
        ),
        ("process", f"pid {run.owner.pid} on {escape(run.owner.host)}"),
        ("parameters", escape(json.dumps(run.params, sort_keys=True)) if run.params else ""),
        ("metrics", escape(_metrics_text(run.metrics))),
        ("published to", escape(run.published_to) or "nothing published"),
        ("error", escape(run.error)),
        ("summary", escape(run.summary)),
        ("next steps", escape(run.next_steps)),
    ]
    for what, value in rows:
        if value:
            facts.add_row(what, value)
    tables = [facts]
    if run.leaderboard:
        tables.append(_leaderboard(run.leaderboard))
    return tables


def _metrics_text(metrics: dict[str, Any]) -> str:
    shown = ("oos_sharpe", "oos_return", "oos_max_drawdown", "oos_trades", "passed")
    return ", ".join(
        f"{k} {metrics[k]:.4g}" if isinstance(metrics[k], float) else f"{k} {metrics[k]}"
        for k in shown
        if k in metrics
    )


def _leaderboard(rows: list[dict[str, Any]]) -> Table:
    table = Table(title="leaderboard (as recorded)")
    for name in ("rank", "params", "is_sharpe", "oos_sharpe", "oos_return", "oos_trades"):
        table.add_column(name, justify="left" if name == "params" else "right")
    for row in rows:
        table.add_row(
            str(row.get("rank")),
            escape(", ".join(f"{k}={v}" for k, v in dict(row.get("params", {})).items())),
            f"{row.get('is_sharpe', 0):.2f}",
            f"{row.get('oos_sharpe', 0):.2f}",
            f"{row.get('oos_return', 0):.1%}",
            str(row.get("oos_trades")),
        )
    return table
