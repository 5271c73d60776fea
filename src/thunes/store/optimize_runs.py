"""Recorded optimisation runs (`thunes optimize`), one row each in `optimize_runs`.

A row is written `pending` once the run's plan is accepted, turns `running` when the sweep
starts, follows the stage and the progress, and ends `success`, `stopped` or `error` with what
was done. It records the process (pid, host, start time) that runs it: a SIGKILL leaves the row
`running`, and the next `thunes runs list` or `thunes optimize` on that host finds the process
gone and marks the row `error` ("interrupted"). Rows from another host are left as they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update

from thunes.backtest.pipeline_run import RunStatus
from thunes.store.database import Store
from thunes.store.engine import Transactions
from thunes.store.schema import optimize_runs

LIVE = (RunStatus.PENDING.value, RunStatus.RUNNING.value)
INTERRUPTED = "interrupted: the process running it ({pid} on {host}) is gone"


@dataclass(frozen=True, slots=True)
class Owner:
    """The process running a run: enough to tell later whether it is still there."""

    pid: int
    host: str
    process_start: str  # the kernel's start time of the pid ("" when unknown)


@dataclass(frozen=True, slots=True)
class RunResult:
    """What a finished run leaves in its row."""

    status: RunStatus
    stage: str
    done: int
    total: int
    leaderboard: Sequence[dict[str, Any]] = ()
    params: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    published_to: str = ""
    error: str = ""
    summary: str = ""
    next_steps: str = ""


@dataclass(frozen=True, slots=True)
class OptimizeRun:
    id: int
    status: RunStatus
    strategy: str
    method: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    owner: Owner
    plan: dict[str, Any]
    caps: dict[str, Any]
    dataset_sha256: str
    build_cached: bool
    stage: str
    done: int
    total: int
    leaderboard: list[dict[str, Any]]
    params: dict[str, Any]
    metrics: dict[str, Any]
    published_to: str
    error: str
    summary: str
    next_steps: str

    def as_dict(self) -> dict[str, Any]:
        def when(value: datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "id": self.id,
            "status": self.status.value,
            "strategy": self.strategy,
            "method": self.method,
            "created_at": when(self.created_at),
            "started_at": when(self.started_at),
            "finished_at": when(self.finished_at),
            "pid": self.owner.pid,
            "host": self.owner.host,
            "plan": self.plan,
            "caps": self.caps,
            "dataset_sha256": self.dataset_sha256,
            "build_cached": self.build_cached,
            "stage": self.stage,
            "progress": {"done": self.done, "total": self.total},
            "leaderboard": self.leaderboard,
            "params": self.params,
            "metrics": self.metrics,
            "published_to": self.published_to or None,
            "error": self.error,
            "summary": self.summary,
            "next_steps": self.next_steps,
        }


class OptimizeRunStore:
    """Typed access to `optimize_runs` of one `Store`."""

    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    @classmethod
    def of(cls, store: Store) -> OptimizeRunStore:
        return cls(store._tx)

    def create(
        self,
        *,
        plan: dict[str, Any],
        caps: dict[str, Any],
        dataset_sha256: str,
        build_cached: bool,
        owner: Owner,
        now: datetime,
    ) -> int:
        """A `pending` row for an accepted plan; returns its id."""
        values = {
            "status": RunStatus.PENDING.value,
            "strategy": str(plan["strategy"]),
            "method": str(plan["method"]),
            "created_at": now,
            "pid": owner.pid,
            "host": owner.host,
            "process_start": owner.process_start,
            "plan_json": json.dumps(plan, sort_keys=True),
            "caps_json": json.dumps(caps, sort_keys=True),
            "dataset_sha256": dataset_sha256,
            "build_cached": int(build_cached),
            "stage": "build",
            "done": 0,
            "total": int(plan.get("configurations", 0)),
            "leaderboard_json": "[]",
            "params_json": "{}",
            "metrics_json": "{}",
            "published_to": "",
            "error": "",
            "summary": "",
            "next_steps": "",
        }
        with self._tx.write() as conn:
            key = conn.execute(insert(optimize_runs).values(**values)).inserted_primary_key
        return int(key[0]) if key is not None else 0

    def start(self, run_id: int, now: datetime) -> None:
        self._set(run_id, status=RunStatus.RUNNING.value, started_at=now)

    def progress(self, run_id: int, stage: str, done: int, total: int) -> None:
        self._set(run_id, stage=stage, done=done, total=total)

    def finish(self, run_id: int, result: RunResult, now: datetime) -> None:
        self._set(
            run_id,
            status=result.status.value,
            finished_at=now,
            stage=result.stage,
            done=result.done,
            total=result.total,
            leaderboard_json=json.dumps(list(result.leaderboard), sort_keys=True),
            params_json=json.dumps(result.params or {}, sort_keys=True),
            metrics_json=json.dumps(result.metrics or {}, sort_keys=True),
            published_to=result.published_to,
            error=result.error,
            summary=result.summary,
            next_steps=result.next_steps,
        )

    def _set(self, run_id: int, **values: Any) -> None:
        with self._tx.write() as conn:
            conn.execute(update(optimize_runs).where(optimize_runs.c.id == run_id).values(**values))

    def get(self, run_id: int) -> OptimizeRun | None:
        with self._tx.read() as conn:
            row = conn.execute(select(optimize_runs).where(optimize_runs.c.id == run_id)).first()
        return None if row is None else _run(row)

    def recent(self, limit: int = 20) -> list[OptimizeRun]:
        """The newest runs first."""
        query = select(optimize_runs).order_by(optimize_runs.c.id.desc()).limit(limit)
        with self._tx.read() as conn:
            return [_run(row) for row in conn.execute(query).all()]

    def reap_interrupted(
        self, host: str, alive: Callable[[Owner], bool], now: datetime
    ) -> list[int]:
        """Mark `error` ("interrupted") every live row of `host` whose process is gone."""
        query = select(optimize_runs).where(
            optimize_runs.c.status.in_(LIVE), optimize_runs.c.host == host
        )
        reaped = []
        with self._tx.write() as conn:
            for row in conn.execute(query).all():
                run = _run(row)
                if alive(run.owner):
                    continue
                message = INTERRUPTED.format(pid=run.owner.pid, host=host)
                conn.execute(
                    update(optimize_runs)
                    .where(optimize_runs.c.id == run.id, optimize_runs.c.status.in_(LIVE))
                    .values(
                        status=RunStatus.ERROR.value,
                        error=message,
                        finished_at=now,
                        summary=f"Interrupted during the {run.stage} stage after {run.done} "
                        f"of {run.total} configurations; nothing was published.",
                        next_steps="Run the same command again to start over.",
                    )
                )
                reaped.append(run.id)
        return reaped


def _run(row: Row[Any]) -> OptimizeRun:
    m = row._mapping
    return OptimizeRun(
        id=m["id"],
        status=RunStatus(m["status"]),
        strategy=m["strategy"],
        method=m["method"],
        created_at=m["created_at"],
        started_at=m["started_at"],
        finished_at=m["finished_at"],
        owner=Owner(m["pid"], m["host"], m["process_start"]),
        plan=json.loads(m["plan_json"]),
        caps=json.loads(m["caps_json"]),
        dataset_sha256=m["dataset_sha256"],
        build_cached=bool(m["build_cached"]),
        stage=m["stage"],
        done=m["done"],
        total=m["total"],
        leaderboard=json.loads(m["leaderboard_json"]),
        params=json.loads(m["params_json"]),
        metrics=json.loads(m["metrics_json"]),
        published_to=m["published_to"],
        error=m["error"],
        summary=m["summary"],
        next_steps=m["next_steps"],
    )
