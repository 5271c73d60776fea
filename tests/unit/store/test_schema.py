from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Connection

from thunes.store import CURRENT_VERSION, MIGRATIONS, Store, StoreError
from thunes.store.schema import metadata


def test_new_file_is_created_at_the_current_version(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "thunes.db"
    with Store.open(path) as store:
        assert store.schema_version == CURRENT_VERSION
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_meta").fetchone() == (CURRENT_VERSION,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_connections_get_the_pragmas(store: Store) -> None:
    with store._tx.read() as conn:
        values = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
        }
    assert values == {
        "journal_mode": "wal",
        "busy_timeout": 5000,
        "foreign_keys": 1,
        "synchronous": 2,
    }


def test_migrated_schema_matches_the_query_tables(store: Store) -> None:
    with store._tx.read() as conn:
        for table in metadata.sorted_tables:
            columns = [row[1] for row in conn.exec_driver_sql(f"PRAGMA table_info({table.name})")]
            assert columns == [c.name for c in table.columns], table.name


def _add_notes_table(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")


def _broken_step(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE half_done (id INTEGER)")
    raise RuntimeError("migration bug")


def test_older_database_is_migrated_forward_keeping_data(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    with Store.open(path) as old:
        old.kv_set("kept", "yes")
    upgraded = (*MIGRATIONS, _add_notes_table)
    with Store.open(path, migrations_list=upgraded) as new:
        assert new.schema_version == CURRENT_VERSION + 1
        assert new.kv_get("kept") == "yes"
        with new._tx.read() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM notes").scalar() == 0


def test_failed_migration_leaves_the_old_version(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    Store.open(path).close()
    with pytest.raises(RuntimeError, match="migration bug"):
        Store.open(path, migrations_list=(*MIGRATIONS, _broken_step))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT version FROM schema_meta").fetchone() == (CURRENT_VERSION,)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    conn.close()
    assert "half_done" not in tables


def _snapshot(path: Path) -> bytes:
    """The database file itself (a read-only look may leave SQLite's empty -shm/-wal beside it)."""
    return path.read_bytes()


def test_newer_schema_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    Store.open(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_meta SET version = ?", (CURRENT_VERSION + 5,))
    conn.commit()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = _snapshot(path)
    with pytest.raises(StoreError) as error:
        Store.open(path)
    expected = (
        f"database schema v{CURRENT_VERSION + 5} is newer than this THUNES (v{CURRENT_VERSION})"
    )
    assert expected in str(error.value)
    assert _snapshot(path) == before


def test_non_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    path.write_bytes(b"these are my trading notes, not a database\n" * 20)
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a SQLite database"):
        Store.open(path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["thunes.db"]


def test_corrupt_sqlite_file_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    Store.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # smash the first page after the header
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError, match="refusing to touch it"):
        Store.open(path)
    assert path.read_bytes() == bytes(data)


def test_foreign_sqlite_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE photos (id INTEGER)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a THUNES one"):
        Store.open(path)
    assert path.read_bytes() == before


def test_empty_file_is_initialised(tmp_path: Path) -> None:
    path = tmp_path / "thunes.db"
    path.touch()
    with Store.open(path) as store:
        assert store.schema_version == CURRENT_VERSION
