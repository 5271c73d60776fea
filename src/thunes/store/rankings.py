"""Ranking runs and the per-timeframe ranking lock, in the state database.

A run is a row in `ranking_runs` from the moment it starts (status `running`), so an operator
sees what is in progress and what a crash interrupted; it ends `success` with its ranked rows
and its skipped symbols, or `error` with the message. The lock (`ranking_locks`, one row per
timeframe) has an owner and an expiry the holder keeps pushing forward: a holder that died
stops doing so, and the next run takes the lock over once it has expired, marking the dead
holder's run as interrupted. Every decision is one `BEGIN IMMEDIATE` transaction, so two
processes or two tasks can never both hold a timeframe.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, delete, insert, select, update

from thunes.ranking.types import RankedSymbol, Ranking, RankingRun, RunStatus, SymbolFailure
from thunes.store.database import Store
from thunes.store.engine import Transactions
from thunes.store.schema import ranking_failures, ranking_locks, ranking_rows, ranking_runs

RUNS_KEPT = 200  # per timeframe; older runs (and their rows) are pruned as new ones finish
INTERRUPTED = "interrupted: the process running it stopped (its lock expired and was taken over)"


@dataclass(frozen=True, slots=True)
class LockHolder:
    timeframe: str
    owner: str
    run_id: int | None
    acquired_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class LockAttempt:
    """The outcome of `try_lock`: acquired, or refused with the current holder."""

    acquired: bool
    holder: LockHolder | None  # who holds it now (us when acquired)
    taken_over: LockHolder | None = None  # an expired holder replaced by us


@dataclass(frozen=True, slots=True)
class RunCounts:
    """What a finished run looked at, beside its ranking."""

    considered: int
    requests: int = 0
    peak_weight: int = 0


def _holder(row: Row[Any]) -> LockHolder:
    m = row._mapping
    return LockHolder(m["timeframe"], m["owner"], m["run_id"], m["acquired_at"], m["expires_at"])


class RankingStore:
    """Typed access to the ranking tables of one `Store`."""

    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    @classmethod
    def of(cls, store: Store) -> RankingStore:
        return cls(store._tx)

    # ---- the lock ------------------------------------------------------------------------------

    def try_lock(
        self, timeframe: str, owner: str, now: datetime, expires_at: datetime
    ) -> LockAttempt:
        """Take `timeframe`'s lock unless someone holds it unexpired (the same owner included:
        one holder never runs a timeframe twice at once)."""
        with self._tx.write() as conn:
            row = conn.execute(
                select(ranking_locks).where(ranking_locks.c.timeframe == timeframe)
            ).first()
            current = None if row is None else _holder(row)
            if current is not None and current.expires_at > now:
                return LockAttempt(False, current)
            if current is not None:
                conn.execute(delete(ranking_locks).where(ranking_locks.c.timeframe == timeframe))
                if current.run_id is not None:
                    self._interrupt(conn, current.run_id, now)
            mine = LockHolder(timeframe, owner, None, now, expires_at)
            conn.execute(
                insert(ranking_locks).values(
                    timeframe=timeframe,
                    owner=owner,
                    run_id=None,
                    acquired_at=now,
                    expires_at=expires_at,
                )
            )
        return LockAttempt(True, mine, current)

    def _interrupt(self, conn: Connection, run_id: int, now: datetime) -> None:
        conn.execute(
            update(ranking_runs)
            .where(ranking_runs.c.id == run_id, ranking_runs.c.status == RunStatus.RUNNING.value)
            .values(status=RunStatus.ERROR.value, error=INTERRUPTED, finished_at=now)
        )

    def extend_lock(self, timeframe: str, owner: str, expires_at: datetime) -> bool:
        """Push the expiry forward; False if `owner` no longer holds the lock."""
        with self._tx.write() as conn:
            result = conn.execute(
                update(ranking_locks)
                .where(ranking_locks.c.timeframe == timeframe, ranking_locks.c.owner == owner)
                .values(expires_at=expires_at)
            )
        return result.rowcount > 0

    def release_lock(self, timeframe: str, owner: str) -> bool:
        """Give the lock back; False if it had been taken over meanwhile."""
        with self._tx.write() as conn:
            result = conn.execute(
                delete(ranking_locks).where(
                    ranking_locks.c.timeframe == timeframe, ranking_locks.c.owner == owner
                )
            )
        return result.rowcount > 0

    def lock_holder(self, timeframe: str, now: datetime) -> LockHolder | None:
        """The unexpired holder of `timeframe`'s lock, or None."""
        with self._tx.read() as conn:
            row = conn.execute(
                select(ranking_locks).where(ranking_locks.c.timeframe == timeframe)
            ).first()
        holder = None if row is None else _holder(row)
        return holder if holder is not None and holder.expires_at > now else None

    # ---- runs ----------------------------------------------------------------------------------

    def start_run(self, timeframe: str, owner: str, started_at: datetime, trigger: str) -> int:
        """A `running` row for the lock `owner` holds; the lock remembers it (for a takeover)."""
        with self._tx.write() as conn:
            result = conn.execute(
                insert(ranking_runs).values(
                    timeframe=timeframe,
                    as_of=started_at,
                    status=RunStatus.RUNNING.value,
                    started_at=started_at,
                    finished_at=None,
                    duration_s=0.0,
                    considered=0,
                    ranked=0,
                    failed=0,
                    requests=0,
                    peak_weight=0,
                    trigger=trigger,
                    error="",
                )
            )
            key = result.inserted_primary_key
            run_id = int(key[0]) if key is not None else 0
            conn.execute(
                update(ranking_locks)
                .where(ranking_locks.c.timeframe == timeframe, ranking_locks.c.owner == owner)
                .values(run_id=run_id)
            )
        return run_id

    def finish_run(
        self,
        run_id: int,
        ranking: Ranking,
        counts: RunCounts,
        finished_at: datetime,
        duration_s: float,
    ) -> None:
        """Store the ranking and mark the run a success, in one transaction."""
        with self._tx.write() as conn:
            if ranking.ranked:
                conn.execute(insert(ranking_rows), [_row_values(run_id, r) for r in ranking.ranked])
            if ranking.skipped:
                conn.execute(
                    insert(ranking_failures),
                    [
                        {"run_id": run_id, "symbol": f.symbol, "reason": f.reason}
                        for f in ranking.skipped
                    ],
                )
            conn.execute(
                update(ranking_runs)
                .where(ranking_runs.c.id == run_id)
                .values(
                    as_of=ranking.as_of,
                    status=RunStatus.SUCCESS.value,
                    finished_at=finished_at,
                    duration_s=duration_s,
                    considered=counts.considered,
                    ranked=len(ranking.ranked),
                    failed=len(ranking.skipped),
                    requests=counts.requests,
                    peak_weight=counts.peak_weight,
                    error="",
                )
            )
            self._prune(conn, ranking.timeframe)

    def fail_run(self, run_id: int, error: str, finished_at: datetime, duration_s: float) -> None:
        with self._tx.write() as conn:
            conn.execute(
                update(ranking_runs)
                .where(ranking_runs.c.id == run_id)
                .values(
                    status=RunStatus.ERROR.value,
                    error=error,
                    finished_at=finished_at,
                    duration_s=duration_s,
                )
            )

    def _prune(self, conn: Connection, timeframe: str) -> None:
        keep = (
            select(ranking_runs.c.id)
            .where(ranking_runs.c.timeframe == timeframe)
            .order_by(ranking_runs.c.id.desc())
            .limit(RUNS_KEPT)
        )
        conn.execute(
            delete(ranking_runs).where(
                ranking_runs.c.timeframe == timeframe, ranking_runs.c.id.not_in(keep)
            )
        )

    def run(self, run_id: int, *, with_rows: bool = True) -> RankingRun | None:
        with self._tx.read() as conn:
            row = conn.execute(select(ranking_runs).where(ranking_runs.c.id == run_id)).first()
            return None if row is None else self._run(conn, row, with_rows)

    def latest_run(
        self, timeframe: str, status: RunStatus | None = None, *, with_rows: bool = False
    ) -> RankingRun | None:
        """The newest run of `timeframe` (of that status when given)."""
        return self._latest(timeframe, status, with_rows)

    def latest_success(self, timeframe: str) -> RankingRun | None:
        """The newest successful run of `timeframe`, with its ranking: the current snapshot."""
        return self._latest(timeframe, RunStatus.SUCCESS, True)

    def runs(self, timeframe: str, limit: int = 20) -> list[RankingRun]:
        """The newest runs of `timeframe`, newest first, without their rows."""
        query = (
            select(ranking_runs)
            .where(ranking_runs.c.timeframe == timeframe)
            .order_by(ranking_runs.c.id.desc())
            .limit(limit)
        )
        with self._tx.read() as conn:
            return [self._run(conn, row, False) for row in conn.execute(query).all()]

    def _latest(
        self, timeframe: str, status: RunStatus | None, with_rows: bool
    ) -> RankingRun | None:
        query = select(ranking_runs).where(ranking_runs.c.timeframe == timeframe)
        if status is not None:
            query = query.where(ranking_runs.c.status == status.value)
        query = query.order_by(ranking_runs.c.id.desc()).limit(1)
        with self._tx.read() as conn:
            row = conn.execute(query).first()
            return None if row is None else self._run(conn, row, with_rows)

    def _run(self, conn: Connection, row: Row[Any], with_rows: bool) -> RankingRun:
        m = row._mapping
        status = RunStatus(m["status"])
        ranking = None
        if with_rows and status is RunStatus.SUCCESS:
            ranking = Ranking(
                m["timeframe"], m["as_of"], _ranked(conn, m["id"]), _failures(conn, m["id"])
            )
        return RankingRun(
            run_id=m["id"],
            timeframe=m["timeframe"],
            as_of=m["as_of"],
            status=status,
            started_at=m["started_at"],
            duration_s=float(m["duration_s"]),
            considered=m["considered"],
            ranking=ranking,
            error=m["error"],
            finished_at=m["finished_at"],
            ranked_count=m["ranked"],
            failed_count=m["failed"],
            requests=m["requests"],
            peak_weight=m["peak_weight"],
            trigger=m["trigger"],
        )


def _row_values(run_id: int, row: RankedSymbol) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "rank": row.rank,
        "symbol": row.symbol,
        "bullish_score": row.bullish_score,
        "confidence": row.confidence,
        "quote_volume_24h": row.quote_volume_24h,
        "reasons_json": json.dumps(list(row.reasons)),
        "features_json": json.dumps(row.features, sort_keys=True),
    }


def _ranked(conn: Connection, run_id: int) -> tuple[RankedSymbol, ...]:
    query = (
        select(ranking_rows).where(ranking_rows.c.run_id == run_id).order_by(ranking_rows.c.rank)
    )
    return tuple(
        RankedSymbol(
            rank=m["rank"],
            symbol=m["symbol"],
            bullish_score=m["bullish_score"],
            confidence=m["confidence"],
            quote_volume_24h=m["quote_volume_24h"],
            reasons=tuple(json.loads(m["reasons_json"])),
            features=dict(json.loads(m["features_json"])),
        )
        for m in (r._mapping for r in conn.execute(query))
    )


def _failures(conn: Connection, run_id: int) -> tuple[SymbolFailure, ...]:
    query = (
        select(ranking_failures.c.symbol, ranking_failures.c.reason)
        .where(ranking_failures.c.run_id == run_id)
        .order_by(ranking_failures.c.id)
    )
    return tuple(SymbolFailure(str(r.symbol), str(r.reason)) for r in conn.execute(query))
