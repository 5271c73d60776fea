"""THUNES' state: SQLite (WAL, short transactions, schema versions) and the audit trail."""

from __future__ import annotations

from pathlib import Path

from thunes.store.audit import AUDIT_FILE, AuditTrail, AuditVerification, verify_audit
from thunes.store.database import DB_FILE, Store
from thunes.store.migrations import CURRENT_VERSION, MIGRATIONS, Migration
from thunes.store.records import JobRun, OrderRecord, PublishedParams, RiskState, StoreError

__all__ = [
    "AUDIT_FILE",
    "CURRENT_VERSION",
    "DB_FILE",
    "MIGRATIONS",
    "AuditTrail",
    "AuditVerification",
    "JobRun",
    "Migration",
    "OrderRecord",
    "PublishedParams",
    "RiskState",
    "Store",
    "StoreError",
    "audit_path",
    "db_path",
    "verify_audit",
]


def db_path(state_dir: Path) -> Path:
    """Where the database of a state directory lives."""
    return Path(state_dir) / DB_FILE


def audit_path(log_dir: Path) -> Path:
    """Where the audit trail of a log directory lives."""
    return Path(log_dir) / AUDIT_FILE
