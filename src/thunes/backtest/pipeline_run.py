"""An optimisation as a recorded pipeline run: build → sweep → leaderboard → guardrails → publish.

This module only orchestrates: the stages are `optimize`'s own (`prepare`, `search`, `rank`,
`judge`), the build (loading, hashing, caching files) and the publication are done by the
caller, and every step is reported through `RunEvents`, so the caller can record it (the CLI
writes a row in the state database). No I/O here.

A plan is checked against its caps before anything runs: at intraday intervals at most 90 days
of data, at most 50 symbols, and in simple mode (the grid) at most 50 combinations; each cap
is raised by its own option. A stop request (Ctrl-C) is honoured between two configurations of
the sweep and between stages, never in the middle of one; the run then ends `stopped`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

import pandas as pd

from thunes.backtest.optimize import (
    OptimizeReport,
    OptimizeSpec,
    judge,
    prepare,
    rank,
    search,
    search_size,
)
from thunes.backtest.walkforward import OptimizeError, SymbolData

DAY_SECONDS = 86_400.0
STAGES = ("build", "sweep", "leaderboard", "guardrails", "publish")
SIMPLE_MODE = "grid"


class RunStatus(StrEnum):
    PENDING = "pending"  # recorded, its plan accepted, not started yet
    RUNNING = "running"
    SUCCESS = "success"  # ran to the end (published or refused by the guardrails)
    STOPPED = "stopped"  # the operator stopped it (Ctrl-C)
    ERROR = "error"  # a stage failed, or the process running it disappeared


class RunStopped(Exception):
    """Raised between two configurations when a stop was requested."""


@dataclass(frozen=True)
class Caps:
    """How much work a run may ask for without saying so explicitly."""

    max_days: float = 90.0  # of data, at intraday intervals
    max_symbols: int = 50
    max_combinations: int = 50  # grid combinations (simple mode) or TPE trials

    def as_dict(self) -> dict[str, float | int]:
        return {
            "max_days": self.max_days,
            "max_symbols": self.max_symbols,
            "max_combinations": self.max_combinations,
        }


@dataclass(frozen=True)
class Build:
    """The loaded dataset: one frame per symbol, its bar interval and hash, cache hit or not."""

    frames: Mapping[str, pd.DataFrame]
    interval: str
    interval_seconds: float
    data_sha256: str
    cached: bool


@dataclass(frozen=True)
class Plan:
    """What a run will do, and the caps it is held to."""

    strategy: str
    method: str
    symbols: list[str]
    interval: str
    start: pd.Timestamp
    end: pd.Timestamp
    days: float
    bars: int  # the most of any symbol
    configurations: int
    folds: int
    caps: Caps
    intraday: bool
    data: list[SymbolData] = field(default_factory=list, repr=False)

    def refusals(self) -> list[str]:
        """One line per cap the plan exceeds, naming the cap and the option raising it."""
        caps, lines = self.caps, []
        if self.intraday and self.days > caps.max_days:
            lines.append(
                f"{self.days:.1f} days of {self.interval} bars is more than the cap of "
                f"{caps.max_days:g} days at intraday intervals; raise it with --max-days "
                "or narrow the window (--from/--to)"
            )
        if len(self.symbols) > caps.max_symbols:
            lines.append(symbols_refusal(len(self.symbols), caps))
        if self.configurations > caps.max_combinations:
            lines.append(combinations_refusal(self.method, self.configurations, caps))
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "method": self.method,
            "mode": "simple" if self.method == SIMPLE_MODE else "advanced",
            "symbols": self.symbols,
            "interval": self.interval,
            "data_start": self.start.isoformat(),
            "data_end": self.end.isoformat(),
            "days": round(self.days, 3),
            "bars": self.bars,
            "configurations": self.configurations,
            "folds": self.folds,
        }


def symbols_refusal(count: int, caps: Caps) -> str:
    return (
        f"{count} symbols is more than the cap of {caps.max_symbols}; raise it with --max-symbols"
    )


def combinations_refusal(method: str, count: int, caps: Caps) -> str:
    if method == SIMPLE_MODE:
        return (
            f"the grid has {count} combinations, more than the cap of {caps.max_combinations} "
            "(simple mode); raise it with --max-combinations or coarsen the steps (--grid)"
        )
    return (
        f"{count} trials is more than the cap of {caps.max_combinations}; "
        "raise it with --max-combinations"
    )


def early_refusals(spec: OptimizeSpec, symbols: int, caps: Caps) -> list[str]:
    """The caps that can be judged before any file is read (symbols and combinations)."""
    lines = []
    if symbols > caps.max_symbols:
        lines.append(symbols_refusal(symbols, caps))
    size = search_size(spec)
    if size > caps.max_combinations:
        lines.append(combinations_refusal(spec.method, size, caps))
    return lines


def plan_run(spec: OptimizeSpec, build: Build, caps: Caps) -> Plan:
    """The plan of a run over `build`; raises `OptimizeError` when the data cannot be folded."""
    frames = build.frames
    start = min(f.index[0] for f in frames.values())
    end = max(f.index[-1] for f in frames.values())
    span = (end - start).total_seconds() + build.interval_seconds
    return Plan(
        strategy=spec.strategy,
        method=spec.method,
        symbols=list(frames),
        interval=build.interval,
        start=start,
        end=end,
        days=span / DAY_SECONDS,
        bars=max(len(f) for f in frames.values()),
        configurations=search_size(spec),
        folds=spec.folds,
        caps=caps,
        intraday=build.interval_seconds < DAY_SECONDS,
        data=prepare(spec, frames),
    )


class RunEvents(Protocol):
    """What a run tells its recorder, in order: running, then each stage and its progress."""

    def running(self) -> None: ...

    def stage(self, name: str) -> None: ...

    def progress(self, done: int, total: int) -> None: ...


@dataclass(frozen=True)
class Outcome:
    """How a run ended, with what it had done so far."""

    status: RunStatus
    stage: str
    done: int
    total: int
    report: OptimizeReport | None = None
    published_to: str | None = None
    error: str = ""
    user_error: bool = False  # the error is about the input (exit 2), not a fault


Publisher = Callable[[OptimizeReport], str]


@dataclass
class _Tracker:
    stage: str = "sweep"
    done: int = 0
    total: int = 0


def run_pipeline(
    spec: OptimizeSpec,
    build: Build,
    plan: Plan,
    events: RunEvents,
    should_stop: Callable[[], bool],
    publish: Publisher | None,
) -> Outcome:
    """Run the stages after the build; never raises for a stage's failure or a stop."""
    track = _Tracker(total=plan.configurations)

    def enter(name: str) -> None:
        if should_stop():
            raise RunStopped
        track.stage = name
        events.stage(name)

    def step(done: int, total: int) -> None:
        track.done, track.total = done, total
        events.progress(done, total)
        if should_stop():
            raise RunStopped

    events.running()
    try:
        enter("sweep")
        found = search(spec, build.frames, plan.data, build.data_sha256, step)
        enter("leaderboard")
        ranked = rank(spec, plan.data, found)
        enter("guardrails")
        report = judge(spec, plan.data, found, ranked, build.data_sha256)
        enter("publish")
        target = publish(report) if publish is not None and report.passed else None
    except RunStopped:
        return Outcome(RunStatus.STOPPED, track.stage, track.done, track.total)
    except OptimizeError as error:
        return _failed(track, str(error), user_error=True)
    except Exception as error:  # a stage's fault is recorded, not raised: the row must end
        return _failed(track, f"{type(error).__name__}: {error}", user_error=False)
    return Outcome(RunStatus.SUCCESS, "publish", track.done, track.total, report, target, "", False)


def _failed(track: _Tracker, message: str, user_error: bool) -> Outcome:
    return Outcome(
        RunStatus.ERROR, track.stage, track.done, track.total, error=message, user_error=user_error
    )
