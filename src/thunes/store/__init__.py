"""THUNES' state: SQLite (WAL, short transactions, schema versions) and the audit trail."""

from __future__ import annotations

from pathlib import Path

from thunes.store.database import DB_FILE, Store
from thunes.store.migrations import CURRENT_VERSION, MIGRATIONS, Migration
from thunes.store.records import JobRun, OrderRecord, PublishedParams, RiskState, StoreError

__all__ = [
    "CURRENT_VERSION",
    "DB_FILE",
    "MIGRATIONS",
    "JobRun",
    "Migration",
    "OrderRecord",
    "PublishedParams",
    "RiskState",
    "Store",
    "StoreError",
    "db_path",
]


def db_path(state_dir: Path) -> Path:
    """Where the database of a state directory lives."""
    return Path(state_dir) / DB_FILE
