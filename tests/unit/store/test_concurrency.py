from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from thunes.domain import OrderIntent, Side
from thunes.store import Store

T0 = datetime(2024, 3, 1, tzinfo=UTC)
WRITES = 60


def _writer(store: Store, name: str, errors: list[BaseException], start: threading.Barrier) -> None:
    start.wait()
    try:
        for n in range(WRITES):
            store.record_intent(
                OrderIntent(f"{name}-{n}", "BTCUSDT", Side.BUY, quote_quantity=Decimal("10")), T0
            )
            store.set_kill_switch(n % 2 == 0, name, T0)
            store.kv_set(name, str(n))
    except BaseException as exc:  # collected for the assertion below
        errors.append(exc)


def test_two_threads_write_without_database_is_locked(store: Store) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=_writer, args=(store, name, errors, start)) for name in ("a", "b")
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert store.count_orders() == 2 * WRITES


def test_two_stores_on_one_file_write_concurrently(tmp_path: Path) -> None:
    """Two Store objects (as two processes would have) share the file through WAL + busy_timeout."""
    path = tmp_path / "thunes.db"
    first, second = Store.open(path), Store.open(path)
    errors: list[BaseException] = []
    start = threading.Barrier(2)
    threads = [
        threading.Thread(target=_writer, args=(s, name, errors, start))
        for s, name in ((first, "a"), (second, "b"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert first.count_orders() == second.count_orders() == 2 * WRITES
    assert second.kv_get("a") == str(WRITES - 1)
    first.close()
    second.close()
