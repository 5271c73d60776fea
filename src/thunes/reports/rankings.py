"""Ranking runs told once, for `/status`, `/rankings/{timeframe}` (JSON) and Telegram `/rank`.

Decimals stay exact strings in JSON; times are ISO 8601 UTC. The text form is aligned columns
for a monospace block, top rows only.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from thunes.ranking.export import ranking_to_dict
from thunes.ranking.types import RankingRun, RunStatus
from thunes.reports.format import fmt_num

TELEGRAM_TOP = 10
MILLION = Decimal(1_000_000)


class TimeframeView(Protocol):
    """What `/status` shows about one timeframe (`ranking.service.TimeframeStatus`)."""

    @property
    def timeframe(self) -> str: ...
    @property
    def last_run(self) -> RankingRun | None: ...
    @property
    def last_success(self) -> RankingRun | None: ...
    @property
    def last_error(self) -> RankingRun | None: ...
    @property
    def running(self) -> Any: ...  # the lock holder (run_id, owner, expires_at) or None
    @property
    def next_run(self) -> datetime | None: ...


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def run_summary(run: RankingRun | None) -> dict[str, Any] | None:
    """A run without its rows: when, how it ended, how many symbols."""
    if run is None:
        return None
    return {
        "run_id": run.run_id,
        "timeframe": run.timeframe,
        "status": run.status.value,
        "trigger": run.trigger,
        "as_of": _iso(run.as_of) if run.status is RunStatus.SUCCESS else None,
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "duration_s": round(run.duration_s, 3),
        "considered": run.considered,
        "ranked": run.ranked_count,
        "failed": run.failed_count,
        "requests": run.requests,
        "peak_weight": run.peak_weight,
        "error": run.error or None,
    }


def status_json(views: Iterable[TimeframeView]) -> dict[str, Any]:
    """`GET /status`: each configured timeframe's last run, next run, running, last error."""
    timeframes: dict[str, Any] = {}
    for view in views:
        holder = view.running
        timeframes[view.timeframe] = {
            "running": holder is not None,
            "running_run_id": getattr(holder, "run_id", None),
            "next_run": _iso(view.next_run),
            "last_run": run_summary(view.last_run),
            "last_success": run_summary(view.last_success),
            "last_error": run_summary(view.last_error),
        }
    return {"ranking": {"enabled": bool(timeframes), "timeframes": timeframes}}


def snapshot_json(run: RankingRun) -> dict[str, Any]:
    """`GET /rankings/{timeframe}`: the run's summary and its whole ranking."""
    document = dict(run_summary(run) or {})
    if run.ranking is not None:
        document.update(ranking_to_dict(run.ranking))
    return document


def render_ranking_text(run: RankingRun | None, timeframe: str, top: int = TELEGRAM_TOP) -> str:
    """The leaders of the latest ranking as aligned text (Telegram `/rank`)."""
    if run is None or run.ranking is None:
        return f"No ranking of {timeframe} yet."
    when = run.as_of.strftime("%Y-%m-%d %H:%M UTC")
    lines = [f"Ranking {timeframe} as of {when} (run {run.run_id})"]
    lines.append(f"{'#':>2} {'symbol':<10} {'score':>6} {'conf':>4} {'24h vol':>10}  reasons")
    for row in run.ranking.ranked[:top]:
        lines.append(
            f"{row.rank:>2} {row.symbol:<10} {row.bullish_score:>6.3f} {row.confidence:>3}% "
            f"{_short_volume(row.quote_volume_24h):>10}  {', '.join(row.reasons[:2])}"
        )
    if not run.ranking.ranked:
        lines.append("(no symbol passed the filters)")
    lines.append(f"ranked {run.ranked_count}, skipped {run.failed_count}")
    return "\n".join(lines)


def render_unknown_timeframe(timeframe: str, configured: Iterable[str]) -> str:
    names = ", ".join(configured)
    if not names:
        return "Ranking is off (THUNES_RANK_TIMEFRAMES is empty)."
    return f"No ranking for {timeframe}; ranked timeframes: {names}. Usage: /rank [timeframe]"


def _short_volume(value: Decimal) -> str:
    """24 h quote volume in millions (e.g. `1,234.5M`), short enough for a phone."""
    if value >= MILLION:
        return f"{value / MILLION:,.1f}M"
    return fmt_num(value, 0)
