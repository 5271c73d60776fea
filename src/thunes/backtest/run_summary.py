"""A recorded run in plain words: one summary line and what to do next.

"Tried 12 safe configurations across 20 symbols; best passed guardrails and was published."
Safe configurations are those the strategy accepted and the sweep evaluated; the build line
says whether the dataset was read from its files or reused from the cache (same hash).
"""

from __future__ import annotations

from thunes.backtest.pipeline_run import Build, Outcome, Plan, RunStatus

NEXT_PUBLISHED = (
    "Restart the daemon to apply them (`systemctl restart thunes`); run them in sim mode "
    "(`thunes run`) and watch a few days of decisions before testnet or live."
)
NEXT_REFUSED = (
    "The daemon keeps its current parameters. Try more data (a longer window or more "
    "symbols), another strategy or another timeframe."
)
NEXT_UNPUBLISHED = "Run again without --no-publish to publish them."
NEXT_STOPPED = "Run the same command again to start over; the dataset's cached build is reused."
NEXT_ERROR = "Fix the cause above and run again; `thunes runs show {run_id}` keeps this record."


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def build_line(build: Build, cached_now: bool = True) -> str:
    """Where the dataset came from; `cached_now` False when this build was not stored."""
    short = build.data_sha256[:12]
    if build.cached:
        return f"Reused the cached build of the dataset (sha256 {short}…, hash matched)."
    if not cached_now:
        return f"Read the dataset from its files (sha256 {short}…)."
    return f"Built the dataset from its files (sha256 {short}…) and cached it."


def summarise_run(outcome: Outcome, plan: Plan, build: Build, run_id: int) -> tuple[str, str]:
    """(summary, next steps) of a finished run."""
    across = f"across {_plural(len(plan.symbols), 'symbol')}"
    tail = " " + build_line(build)
    if outcome.status is RunStatus.STOPPED:
        return (
            f"Stopped by the operator during the {outcome.stage} stage after "
            f"{outcome.done} of {outcome.total} configurations {across}; nothing was "
            f"published.{tail}",
            NEXT_STOPPED,
        )
    if outcome.status is RunStatus.ERROR or outcome.report is None:
        return (
            f"Failed during the {outcome.stage} stage after {outcome.done} of {outcome.total} "
            f"configurations {across}: {outcome.error}; nothing was published.{tail}",
            NEXT_ERROR.format(run_id=run_id),
        )
    report = outcome.report
    head = f"Tried {_plural(report.combinations, 'safe configuration')} {across}"
    if not report.passed:
        reasons = "; ".join(report.failures)
        return (
            f"{head}; best failed guardrails ({reasons}); nothing was published.{tail}",
            NEXT_REFUSED,
        )
    if outcome.published_to is None:
        return f"{head}; best passed guardrails and was not published.{tail}", NEXT_UNPUBLISHED
    return f"{head}; best passed guardrails and was published.{tail}", NEXT_PUBLISHED
