"""Schema versions: an ordered list of forward migrations, and the checks made before opening.

`MIGRATIONS[i]` takes a database from version `i` to `i + 1`; the current version is
`len(MIGRATIONS)`. Each migration's SQL is frozen once released: a change to the schema is a new
function appended to the list, never an edit of an old one. All steps of an upgrade run in one
transaction, so a failing step leaves the database at its old version.

`inspect_file` looks at an existing file read-only before THUNES touches it, so a corrupt file
or a database written by a newer THUNES is refused without a single byte changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path

from sqlalchemy import Connection

from thunes.store.records import StoreError

Migration = Callable[[Connection], None]

SQLITE_HEADER = b"SQLite format 3\x00"

_V1 = [
    """CREATE TABLE orders (
        client_order_id TEXT PRIMARY KEY,
        symbol TEXT NOT NULL,
        side TEXT NOT NULL,
        state TEXT NOT NULL,
        quantity TEXT,
        quote_quantity TEXT,
        exchange_order_id INTEGER,
        executed_qty TEXT NOT NULL,
        cumulative_quote_qty TEXT NOT NULL,
        avg_price TEXT,
        correlation_id TEXT NOT NULL,
        exit_reason TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        error TEXT)""",
    "CREATE INDEX ix_orders_state ON orders (state)",
    "CREATE INDEX ix_orders_created_at ON orders (created_at)",
    """CREATE TABLE fills (
        id INTEGER PRIMARY KEY,
        symbol TEXT NOT NULL,
        trade_id INTEGER NOT NULL,
        client_order_id TEXT NOT NULL,
        side TEXT NOT NULL,
        price TEXT NOT NULL,
        quantity TEXT NOT NULL,
        commission TEXT NOT NULL,
        commission_asset TEXT NOT NULL,
        time TEXT NOT NULL,
        UNIQUE (symbol, trade_id))""",
    "CREATE INDEX ix_fills_client_order_id ON fills (client_order_id)",
    """CREATE TABLE positions (
        id INTEGER PRIMARY KEY,
        symbol TEXT NOT NULL,
        quantity TEXT NOT NULL,
        avg_entry_price TEXT NOT NULL,
        entry_fees_quote TEXT NOT NULL,
        opened_at TEXT NOT NULL,
        closed_at TEXT,
        realized_pnl TEXT NOT NULL,
        exit_reason TEXT)""",
    # At most one open position per symbol, enforced by SQLite itself.
    "CREATE UNIQUE INDEX ux_positions_open ON positions (symbol) WHERE closed_at IS NULL",
    "CREATE INDEX ix_positions_closed_at ON positions (closed_at)",
    """CREATE TABLE risk_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        kill_switch INTEGER NOT NULL,
        kill_reason TEXT NOT NULL,
        killed_at TEXT,
        kill_day TEXT,
        paused INTEGER NOT NULL)""",
    "INSERT INTO risk_state (id, kill_switch, kill_reason, paused) VALUES (1, 0, '', 0)",
    "CREATE TABLE cooldowns (symbol TEXT PRIMARY KEY, until TEXT NOT NULL)",
    """CREATE TABLE strategy_params (
        id INTEGER PRIMARY KEY,
        strategy TEXT NOT NULL,
        symbol TEXT NOT NULL,
        params_json TEXT NOT NULL,
        published_at TEXT NOT NULL,
        source TEXT NOT NULL)""",
    "CREATE INDEX ix_strategy_params_key ON strategy_params (strategy, symbol)",
    """CREATE TABLE job_runs (
        id INTEGER PRIMARY KEY,
        job_id TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL,
        error TEXT)""",
    "CREATE INDEX ix_job_runs_job_id ON job_runs (job_id, id)",
    "CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]


def _v0_to_v1(conn: Connection) -> None:
    """The first schema: orders, fills, positions, risk state, parameters, job runs, kv."""
    for statement in _V1:
        conn.exec_driver_sql(statement)


_V2 = [
    """CREATE TABLE ranking_runs (
        id INTEGER PRIMARY KEY,
        timeframe TEXT NOT NULL,
        as_of TEXT NOT NULL,
        status TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        duration_s REAL NOT NULL,
        considered INTEGER NOT NULL,
        ranked INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        requests INTEGER NOT NULL,
        peak_weight INTEGER NOT NULL,
        trigger TEXT NOT NULL,
        error TEXT NOT NULL)""",
    "CREATE INDEX ix_ranking_runs_timeframe ON ranking_runs (timeframe, id)",
    """CREATE TABLE ranking_rows (
        run_id INTEGER NOT NULL REFERENCES ranking_runs (id) ON DELETE CASCADE,
        rank INTEGER NOT NULL,
        symbol TEXT NOT NULL,
        bullish_score TEXT NOT NULL,
        confidence INTEGER NOT NULL,
        quote_volume_24h TEXT NOT NULL,
        reasons_json TEXT NOT NULL,
        features_json TEXT NOT NULL,
        PRIMARY KEY (run_id, rank))""",
    """CREATE TABLE ranking_failures (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES ranking_runs (id) ON DELETE CASCADE,
        symbol TEXT NOT NULL,
        reason TEXT NOT NULL)""",
    "CREATE INDEX ix_ranking_failures_run_id ON ranking_failures (run_id)",
    """CREATE TABLE ranking_locks (
        timeframe TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        run_id INTEGER,
        acquired_at TEXT NOT NULL,
        expires_at TEXT NOT NULL)""",
]


def _v1_to_v2(conn: Connection) -> None:
    """Market-universe ranking: persisted runs, their rows and failures, one lock per timeframe."""
    for statement in _V2:
        conn.exec_driver_sql(statement)


_V3 = [
    """CREATE TABLE optimize_runs (
        id INTEGER PRIMARY KEY,
        status TEXT NOT NULL,
        strategy TEXT NOT NULL,
        method TEXT NOT NULL,
        created_at TEXT NOT NULL,
        started_at TEXT,
        finished_at TEXT,
        pid INTEGER NOT NULL,
        host TEXT NOT NULL,
        process_start TEXT NOT NULL,
        plan_json TEXT NOT NULL,
        caps_json TEXT NOT NULL,
        dataset_sha256 TEXT NOT NULL,
        build_cached INTEGER NOT NULL,
        stage TEXT NOT NULL,
        done INTEGER NOT NULL,
        total INTEGER NOT NULL,
        leaderboard_json TEXT NOT NULL,
        params_json TEXT NOT NULL,
        metrics_json TEXT NOT NULL,
        published_to TEXT NOT NULL,
        error TEXT NOT NULL,
        summary TEXT NOT NULL,
        next_steps TEXT NOT NULL)""",
    "CREATE INDEX ix_optimize_runs_status ON optimize_runs (status)",
]


def _v2_to_v3(conn: Connection) -> None:
    """Recorded optimisation runs: plan and caps, progress, result, summary, who ran them."""
    for statement in _V3:
        conn.exec_driver_sql(statement)


MIGRATIONS: tuple[Migration, ...] = (_v0_to_v1, _v1_to_v2, _v2_to_v3)
CURRENT_VERSION = len(MIGRATIONS)


def inspect_file(path: Path) -> int | None:
    """The schema version of an existing THUNES database, or None for a missing/empty file.

    Opens the file read-only; raises StoreError for anything that is not a THUNES database.
    """
    if not path.exists() or path.stat().st_size == 0:
        return None
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise StoreError(f"{path} is not a SQLite database; refusing to touch it")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return _read_version(conn, path)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is corrupt ({exc}); refusing to touch it") from exc


def _read_version(conn: sqlite3.Connection, path: Path) -> int | None:
    check = conn.execute("PRAGMA quick_check").fetchone()
    if check is None or check[0] != "ok":
        raise StoreError(f"{path} failed its integrity check ({check}); refusing to touch it")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not tables:
        return None
    if "schema_meta" not in tables:
        raise StoreError(
            f"{path} is a SQLite database but not a THUNES one (no schema_meta table); "
            "refusing to touch it"
        )
    row = conn.execute("SELECT version FROM schema_meta WHERE id = 1").fetchone()
    if row is None or not isinstance(row[0], int):
        raise StoreError(f"{path} has no schema version; refusing to touch it")
    return int(row[0])


def check_version(path: Path, version: int, current: int) -> None:
    if version > current:
        raise StoreError(
            f"{path}: database schema v{version} is newer than this THUNES (v{current}); "
            "refusing to touch it"
        )


def migrate(conn: Connection, start: int, migrations: Sequence[Migration]) -> int:
    """Run the steps after `start` inside the caller's transaction; returns the new version."""
    if start == 0:
        conn.exec_driver_sql(
            "CREATE TABLE schema_meta (id INTEGER PRIMARY KEY CHECK (id = 1), "
            "version INTEGER NOT NULL)"
        )
        conn.exec_driver_sql("INSERT INTO schema_meta (id, version) VALUES (1, 0)")
    for version in range(start, len(migrations)):
        migrations[version](conn)
        conn.exec_driver_sql("UPDATE schema_meta SET version = ? WHERE id = 1", (version + 1,))
    return len(migrations)
