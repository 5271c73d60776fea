"""The SQLite engine: pragmas on every connection, and explicit transaction kinds.

Every connection gets WAL (readers never wait for the writer), `busy_timeout` (a `thunes kill`
from another shell waits for the daemon's write instead of failing with "database is locked"),
foreign keys, and `synchronous=FULL`. FULL costs one fsync per commit; THUNES commits a handful
of rows per check, and an order intent must survive a power cut before its request is sent,
which NORMAL does not promise in WAL mode.

The driver's implicit transactions are switched off: reads run in a deferred `BEGIN` (a
consistent snapshot) and writes in `BEGIN IMMEDIATE`, which takes the write lock up front. A
deferred transaction that later tries to write can fail with SQLITE_BUSY regardless of the busy
timeout; taking the lock first avoids that. Within one process a lock keeps a single writer.

`Transactions.atomic()` groups several store calls into one write transaction (a position
closed together with the cool-down and daily-PnL it causes): inside it, every `read()` and
`write()` of the same task or thread reuses that transaction, so a crash keeps all or none.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event

BUSY_TIMEOUT_MS = 5000
_WRITE = "thunes_write"


def build_engine(path: Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
        pool_pre_ping=False,
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # THUNES emits BEGIN itself
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        immediate = conn.get_execution_options().get(_WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


class Transactions:
    """Short transactions over one engine: `read()`, `write()` and `atomic()` context managers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_lock = threading.RLock()
        self._current: ContextVar[Connection | None] = ContextVar(
            f"thunes_tx_{id(self)}", default=None
        )

    @contextmanager
    def read(self) -> Iterator[Connection]:
        current = self._current.get()
        if current is not None:
            yield current
            return
        with self.engine.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        current = self._current.get()
        if current is not None:
            yield current
            return
        with self._write_lock, self.engine.connect() as conn:
            conn = conn.execution_options(**{_WRITE: True})
            with conn.begin():
                yield conn

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One write transaction for every store call made inside the block (nesting joins)."""
        if self._current.get() is not None:
            yield
            return
        with self.write() as conn:
            token = self._current.set(conn)
            try:
                yield
            finally:
                self._current.reset(token)
