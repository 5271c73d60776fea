"""`thunes optimize` as a recorded pipeline run: build → sweep → leaderboard → guardrails → publish.

The build loads the `--data` files (or reuses the cached build of the same files and window,
when the bars' hash matches) and hashes the bars. The plan is then held to its caps (90 days at
intraday intervals, 50 symbols, 50 combinations in simple mode; `--max-days`, `--max-symbols`,
`--max-combinations` raise them): a plan over a cap is refused in one line, exit 2, before
anything is recorded. `--dry-run` prints the plan and its caps and stops there: it records no
run and writes no cache. Otherwise the run is a row of the state database from `pending` to
`success`, `stopped` (Ctrl-C, exit 130) or `error`; `thunes runs list|show` read it back.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.table import Table

from thunes.backtest.bar_interval import common_interval
from thunes.backtest.optimize import OptimizeReport, OptimizeSpec, data_sha256
from thunes.backtest.pipeline_run import (
    Build,
    Caps,
    Outcome,
    Plan,
    RunStatus,
    early_refusals,
    plan_run,
    run_pipeline,
)
from thunes.backtest.run_summary import build_line, summarise_run
from thunes.backtest.runner import interval_seconds
from thunes.backtest.summary import leader_records
from thunes.cli.common import settings_from_args
from thunes.cli.kline_inputs import SymbolInput, group_inputs, load_input, quality_lines
from thunes.cli.optimize_record import (
    Recorder,
    StopOnInterrupt,
    process_alive,
    stop_notice,
    this_host,
    this_owner,
)
from thunes.cli.progress import LazyProgress
from thunes.clock import SystemClock
from thunes.market.dataset_cache import CachedBuild, DatasetCache, input_key
from thunes.params_store import params_path, publish
from thunes.store import Store, StoreError, db_path
from thunes.store.optimize_runs import OptimizeRunStore, RunResult

EXIT_REFUSED = 2
EXIT_NOT_PUBLISHED = 1
EXIT_STOPPED = 130
DEFAULT_TPE_CAP = 2_000  # trials; simple mode (the grid) is capped at Caps.max_combinations

Window = tuple[pd.Timestamp | None, pd.Timestamp | None]
ShowReport = Callable[[OptimizeReport], None]


def combination_cap(args: argparse.Namespace) -> int:
    """`--max-combinations`, or its default: 50 in simple mode (grid), 2,000 TPE trials."""
    if args.max_combinations is not None:
        return int(args.max_combinations)
    return Caps.max_combinations if args.method == "grid" else DEFAULT_TPE_CAP


def caps_from(args: argparse.Namespace) -> Caps:
    return Caps(
        max_days=float(args.max_days),
        max_symbols=int(args.max_symbols),
        max_combinations=combination_cap(args),
    )


def _refuse(lines: list[str]) -> int:
    print(f"error: {'; '.join(lines)}", file=sys.stderr)
    return EXIT_REFUSED


def _now() -> datetime:
    return SystemClock().now().astimezone(UTC)


def run_optimize(
    args: argparse.Namespace,
    spec: OptimizeSpec,
    window: Window,
    console: Console,
    show_report: ShowReport,
) -> int:
    """The whole command after its arguments were checked; user errors propagate (exit 2)."""
    caps = caps_from(args)
    entries = list(group_inputs(args.data).values())
    early = early_refusals(spec, len(entries), caps)
    if early:
        return _refuse(early)
    state_dir = Path(args.state_dir or settings_from_args(args).state_dir)
    cache = DatasetCache(state_dir)
    build = build_dataset(entries, window, console, cache, write=not args.dry_run)
    plan = plan_run(spec, build, caps)
    refusals = plan.refusals()
    if args.dry_run:
        console.print(plan_table(plan, build))
        console.print("Dry run: nothing was run, recorded or published.")
        return _refuse(refusals) if refusals else 0
    if refusals:
        return _refuse(refusals)
    try:
        store = Store.open(db_path(state_dir))
    except StoreError as error:
        return _refuse([str(error)])
    try:
        return _recorded(args, spec, console, build, plan, state_dir, store, show_report)
    finally:
        store.close()


def build_dataset(
    entries: list[SymbolInput],
    window: Window,
    console: Console,
    cache: DatasetCache,
    write: bool,
) -> Build:
    """Load and hash the data, or reuse the cached build of the same files when hashes match."""
    start, end = window
    key = input_key([(e.symbol, e.paths) for e in entries], (str(start), str(end)))
    loaded, cached, sha = _cached(cache, key)
    if loaded is None:
        for entry in entries:
            load_input(entry, start, end)
        loaded = entries
    now = SystemClock().now()
    for entry in loaded:
        for line in quality_lines(entry, now):
            console.print(line, soft_wrap=True, markup=False, highlight=False)
    frames = {e.symbol: e.frame for e in loaded if e.frame is not None}
    interval = common_interval(frames)
    if not cached:
        sha = data_sha256(frames)
        if write:
            _store_build(cache, key, CachedBuild(loaded, sha), console)
    first = next(iter(frames.values()))
    return Build(frames, interval, interval_seconds(first.index), sha, cached)


def _cached(cache: DatasetCache, key: str) -> tuple[list[SymbolInput] | None, bool, str]:
    hit = cache.get(key)
    if hit is None:
        return None, False, ""
    frames = {e.symbol: e.frame for e in hit.inputs if e.frame is not None}
    if not frames or data_sha256(frames) != hit.data_sha256:
        return None, False, ""  # damaged: rebuilt from the files
    return list(hit.inputs), True, hit.data_sha256


def _store_build(cache: DatasetCache, key: str, build: CachedBuild, console: Console) -> None:
    try:
        cache.put(key, build)
    except OSError as error:
        console.print(f"note: the build was not cached ({cache.root}: {error.strerror or error})")


def plan_table(plan: Plan, build: Build) -> Table:
    """The plan and each cap with its option, for `--dry-run`."""
    table = Table(title=f"plan: {plan.strategy} ({plan.method}) on {plan.interval} bars")
    table.add_column("what")
    table.add_column("planned", justify="right")
    table.add_column("cap", justify="right")
    table.add_column("raised by")
    caps = plan.caps
    days_cap = f"{caps.max_days:g}" if plan.intraday else "none (daily bars)"
    mode = "simple mode" if plan.method == "grid" else "TPE trials"
    rows = [
        ("symbols", str(len(plan.symbols)), str(caps.max_symbols), "--max-symbols"),
        ("days of data", f"{plan.days:.1f}", days_cap, "--max-days"),
        (
            f"configurations ({mode})",
            str(plan.configurations),
            str(caps.max_combinations),
            "--max-combinations",
        ),
    ]
    for row in rows:
        table.add_row(*row)
    table.caption = (
        f"{', '.join(plan.symbols)}; {plan.start} → {plan.end}, up to {plan.bars} bars a "
        f"symbol; {plan.folds} walk-forward folds. {build_line(build, cached_now=False)}"
    )
    return table


def _recorded(
    args: argparse.Namespace,
    spec: OptimizeSpec,
    console: Console,
    build: Build,
    plan: Plan,
    state_dir: Path,
    store: Store,
    show_report: ShowReport,
) -> int:
    runs = OptimizeRunStore.of(store)
    runs.reap_interrupted(this_host(), process_alive, _now())
    run_id = runs.create(
        plan=plan.as_dict(),
        caps=plan.caps.as_dict(),
        dataset_sha256=build.data_sha256,
        build_cached=build.cached,
        owner=this_owner(),
        now=_now(),
    )
    console.print(f"run {run_id} recorded in {store.path} (thunes runs show {run_id})")
    target = Path(args.params_file or params_path(state_dir))
    publisher = None if args.no_publish else _publisher(target, build.interval)
    try:
        with (
            StopOnInterrupt(stop_notice) as stop,
            LazyProgress(console, f"optimising {spec.strategy} ({spec.method})") as bar,
        ):
            recorder = Recorder(runs, run_id, plan.configurations, _now, bar)
            outcome = run_pipeline(spec, build, plan, recorder, stop.requested, publisher)
    except KeyboardInterrupt:  # the second Ctrl-C: stop at once, the row still ends
        outcome = Outcome(RunStatus.STOPPED, "sweep", 0, plan.configurations)
    summary, next_steps = summarise_run(outcome, plan, build, run_id)
    runs.finish(run_id, _result(outcome, summary, next_steps), _now())
    return _conclude(console, outcome, run_id, summary, next_steps, build, show_report)


def _publisher(target: Path, interval: str) -> Callable[[OptimizeReport], str]:
    def publish_report(report: OptimizeReport) -> str:
        publish(target, report, SystemClock(), interval)
        return str(target)

    return publish_report


def _result(outcome: Outcome, summary: str, next_steps: str) -> RunResult:
    report = outcome.report
    metrics = None
    if report is not None:
        metrics = {
            **report.publication()["score"],
            "passed": report.passed,
            "failures": report.failures,
            "skipped": report.skipped,
        }
    return RunResult(
        status=outcome.status,
        stage=outcome.stage,
        done=outcome.done,
        total=outcome.total,
        leaderboard=leader_records(report.leaderboard) if report is not None else (),
        params=dict(report.candidate) if report is not None else None,
        metrics=metrics,
        published_to=outcome.published_to or "",
        error=outcome.error,
        summary=summary,
        next_steps=next_steps,
    )


def _conclude(
    console: Console,
    outcome: Outcome,
    run_id: int,
    summary: str,
    next_steps: str,
    build: Build,
    show_report: ShowReport,
) -> int:
    report = outcome.report
    if report is not None:
        show_report(report)
    if outcome.published_to is not None and report is not None:
        console.print(
            f"Published to {outcome.published_to} "
            f"(for {report.spec.strategy} on {build.interval} bars)."
        )
    console.print(f"run {run_id} {outcome.status.value}: {summary}\nNext steps: {next_steps}")
    if outcome.status is RunStatus.STOPPED:
        return EXIT_STOPPED
    if outcome.status is RunStatus.ERROR:
        print(f"error: run {run_id}: {outcome.error}", file=sys.stderr)
        return EXIT_REFUSED if outcome.user_error else 1
    return 0 if report is not None and report.passed else EXIT_NOT_PUBLISHED
