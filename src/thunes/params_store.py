"""The strategy parameter file the daemon reads (`<state_dir>/strategy_params.json`).

Only an optimisation result that passed its out-of-sample guardrails is ever written, and it is
written atomically (temporary file, fsync, rename), so the daemon sees the old file or the new
one, never half of one. Each publication records what the parameters are for (strategy, bar
interval, symbols) and what they were tuned on (data window, score, data hash); the daemon uses
them only when its own strategy and interval match (`mismatch`).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from thunes.backtest.optimize import OptimizeReport
from thunes.clock import Clock
from thunes.strategy import Strategy, StrategyError
from thunes.strategy_files import load_strategy

PARAMS_FILENAME = "strategy_params.json"
REQUIRED_KEYS = (
    "strategy",
    "params",
    "symbols",
    "data_window",
    "score",
    "data_sha256",
    "published_at",
)


class ParamsFileError(ValueError):
    """The parameter file exists but cannot be used; the message names the file and the fault."""


class NotPublishable(ValueError):
    """A result that failed its guardrails was offered for publication."""


@dataclass(frozen=True)
class PublishedParams:
    strategy: str
    params: dict[str, int | float]
    symbols: list[str]
    data_start: datetime
    data_end: datetime
    score: dict[str, Any]
    data_sha256: str
    published_at: datetime
    interval: str | None = None  # None: published before the interval was recorded

    def build(self) -> Strategy:
        """The published strategy, ready for `latest_signal`.

        `strategy` is the loader's key: a built-in's name, `module:Class` or a file's absolute
        path and class, so a user strategy is never confused with another of the same name.
        """
        return load_strategy(self.strategy, self.params)


def params_path(state_dir: Path) -> Path:
    return Path(state_dir) / PARAMS_FILENAME


def publish(path: Path, report: OptimizeReport, clock: Clock, interval: str) -> dict[str, Any]:
    """Write the report's candidate, for bars of `interval`, to `path` atomically; refuse a
    failing report."""
    if not report.passed:
        raise NotPublishable("refusing to publish: " + "; ".join(report.failures))
    record = {
        **report.publication(),
        "interval": interval,
        "published_at": clock.now().isoformat(),
    }
    write_atomic(Path(path), json.dumps(record, indent=2, sort_keys=True) + "\n")
    return record


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def load_published_params(path: Path) -> PublishedParams | None:
    """The published parameters, None when nothing was published yet.

    A file that exists but is unreadable, malformed or names bad parameters raises
    `ParamsFileError`: silently falling back to defaults would trade unvetted parameters.
    """
    file = Path(path)
    if not file.exists():
        return None
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ParamsFileError(f"{file}: cannot read parameter file: {exc}") from None
    if not isinstance(data, dict):
        raise ParamsFileError(f"{file}: parameter file is not a JSON object")
    missing = [k for k in REQUIRED_KEYS if k not in data]
    if missing:
        raise ParamsFileError(f"{file}: parameter file lacks {', '.join(missing)}")
    try:
        published = PublishedParams(
            strategy=str(data["strategy"]),
            params=dict(data["params"]),
            symbols=[str(s) for s in data["symbols"]],
            data_start=datetime.fromisoformat(data["data_window"]["start"]),
            data_end=datetime.fromisoformat(data["data_window"]["end"]),
            score=dict(data["score"]),
            data_sha256=str(data["data_sha256"]),
            published_at=datetime.fromisoformat(data["published_at"]),
            interval=str(data["interval"]) if data.get("interval") is not None else None,
        )
        published.build()
    except (KeyError, TypeError, ValueError) as exc:
        message = str(exc) if isinstance(exc, StrategyError) else f"{type(exc).__name__}: {exc}"
        raise ParamsFileError(f"{file}: bad parameter file: {message}") from None
    return published


def mismatch(published: PublishedParams, strategy: str, interval: str) -> str | None:
    """Why published parameters do not fit a daemon trading `strategy` on `interval` bars."""
    if published.strategy != strategy:
        return (
            f"published parameters are for strategy {published.strategy}, "
            f"the daemon trades {strategy}"
        )
    if published.interval is None:
        return (
            "published parameters do not say which bar interval they were tuned on; "
            "run thunes optimize again"
        )
    if published.interval != interval:
        return (
            f"published parameters were tuned on {published.interval} bars, "
            f"the daemon trades {interval} bars"
        )
    return None
