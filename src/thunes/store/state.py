"""The small tables of the store: risk state, cool-downs, parameters, job runs, key-value."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from thunes.store import rows as convert
from thunes.store.engine import Transactions
from thunes.store.records import JobRun, PublishedParams, RiskState
from thunes.store.schema import cooldowns, job_runs, kv, risk_state, strategy_params

JOB_RUNS_KEPT = 200  # per job id; older runs are pruned as new ones are recorded


def _json_default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot store {type(value).__name__} in published parameters")


class StateTables:
    """Risk state and friends; always read fresh, never cached (another process may write)."""

    def __init__(self, tx: Transactions) -> None:
        self._tx = tx

    # ---- risk state ----

    def risk_state(self) -> RiskState:
        with self._tx.read() as conn:
            row = conn.execute(select(risk_state).where(risk_state.c.id == 1)).one()
            until = {r.symbol: r.until for r in conn.execute(select(cooldowns))}
        m = row._mapping
        return RiskState(
            kill_switch=bool(m["kill_switch"]),
            kill_reason=m["kill_reason"],
            killed_at=m["killed_at"],
            paused=bool(m["paused"]),
            cooldowns=until,
            kill_day=m["kill_day"],
        )

    def set_kill_switch(
        self, on: bool, reason: str, now: datetime, kill_day: date | None = None
    ) -> bool:
        """Turn the kill-switch on/off; True if it changed. `kill_day` is kept unless given."""
        changes: dict[str, Any] = {"kill_switch": int(on), "kill_reason": reason if on else ""}
        changes["killed_at"] = now if on else None
        if kill_day is not None:
            changes["kill_day"] = kill_day
        with self._tx.write() as conn:
            current = conn.execute(
                select(risk_state.c.kill_switch).where(risk_state.c.id == 1)
            ).scalar_one()
            if bool(current) == on:
                if kill_day is not None:
                    conn.execute(update(risk_state).values(kill_day=kill_day))
                return False
            conn.execute(update(risk_state).where(risk_state.c.id == 1).values(**changes))
        return True

    def set_paused(self, on: bool) -> bool:
        """Pause/unpause entries; True if it changed."""
        with self._tx.write() as conn:
            result = conn.execute(
                update(risk_state)
                .where(risk_state.c.id == 1, risk_state.c.paused != int(on))
                .values(paused=int(on))
            )
        return result.rowcount > 0

    def set_cooldown(self, symbol: str, until: datetime) -> None:
        statement = sqlite_insert(cooldowns).values(symbol=symbol, until=until)
        statement = statement.on_conflict_do_update(
            index_elements=["symbol"], set_={"until": statement.excluded.until}
        )
        with self._tx.write() as conn:
            conn.execute(statement)

    def clear_cooldown(self, symbol: str) -> None:
        with self._tx.write() as conn:
            conn.execute(delete(cooldowns).where(cooldowns.c.symbol == symbol))

    # ---- published strategy parameters ----

    def publish_params(
        self,
        strategy: str,
        symbol: str,
        params: Mapping[str, Any],
        now: datetime,
        source: str = "",
    ) -> int:
        """Publish parameters for (strategy, symbol); returns their version number."""
        text = json.dumps(dict(params), sort_keys=True, default=_json_default)
        with self._tx.write() as conn:
            result = conn.execute(
                strategy_params.insert().values(
                    strategy=strategy,
                    symbol=symbol,
                    params_json=text,
                    published_at=now,
                    source=source,
                )
            )
            key = result.inserted_primary_key
        return int(key[0]) if key is not None else 0

    def published_params(self, strategy: str, symbol: str) -> PublishedParams | None:
        """The latest parameters published for (strategy, symbol), or None."""
        query = (
            select(strategy_params)
            .where(strategy_params.c.strategy == strategy, strategy_params.c.symbol == symbol)
            .order_by(strategy_params.c.id.desc())
            .limit(1)
        )
        with self._tx.read() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        m = row._mapping
        return PublishedParams(
            strategy=m["strategy"],
            symbol=m["symbol"],
            params=json.loads(m["params_json"]),
            published_at=m["published_at"],
            source=m["source"],
            version=m["id"],
        )

    # ---- job runs, for health ----

    def record_job_run(self, run: JobRun) -> None:
        with self._tx.write() as conn:
            conn.execute(
                job_runs.insert().values(
                    job_id=run.job_id,
                    started_at=run.started_at,
                    finished_at=run.finished_at,
                    outcome=run.outcome,
                    error=run.error,
                )
            )
            keep = (
                select(job_runs.c.id)
                .where(job_runs.c.job_id == run.job_id)
                .order_by(job_runs.c.id.desc())
                .limit(JOB_RUNS_KEPT)
            )
            conn.execute(
                delete(job_runs).where(job_runs.c.job_id == run.job_id, job_runs.c.id.not_in(keep))
            )

    def last_job_runs(self) -> dict[str, JobRun]:
        """The most recent run of every job id."""
        latest = select(func.max(job_runs.c.id)).group_by(job_runs.c.job_id)
        query = select(job_runs).where(job_runs.c.id.in_(latest)).order_by(job_runs.c.job_id)
        with self._tx.read() as conn:
            return {row.job_id: convert.job_run_from_row(row) for row in conn.execute(query)}

    # ---- key-value, for small settings such as the last reconciliation ----

    def kv_get(self, key: str) -> str | None:
        with self._tx.read() as conn:
            value = conn.execute(select(kv.c.value).where(kv.c.key == key)).scalar_one_or_none()
        return None if value is None else str(value)

    def kv_set(self, key: str, value: str) -> None:
        statement = sqlite_insert(kv).values(key=key, value=value)
        statement = statement.on_conflict_do_update(
            index_elements=["key"], set_={"value": statement.excluded.value}
        )
        with self._tx.write() as conn:
            conn.execute(statement)

    def kv_delete(self, key: str) -> None:
        with self._tx.write() as conn:
            conn.execute(delete(kv).where(kv.c.key == key))

    def kv_prefixed(self, prefix: str) -> dict[str, str]:
        """Every key starting with `prefix` (e.g. all tracked dust), with its value."""
        query = select(kv.c.key, kv.c.value).where(kv.c.key.startswith(prefix, autoescape=True))
        with self._tx.read() as conn:
            return {str(k): str(v) for k, v in conn.execute(query)}
