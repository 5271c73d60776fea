"""Ranking runs in the store: rows and failures kept exactly, errors recorded, old runs pruned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from thunes.ranking.types import RankedSymbol, Ranking, RunStatus, SymbolFailure
from thunes.store import Store
from thunes.store import rankings as ranking_tables
from thunes.store.rankings import RankingStore, RunCounts

T0 = datetime(2021, 5, 1, 0, 30, tzinfo=UTC)


def sample_ranking(as_of: datetime = T0) -> Ranking:
    rows = (
        RankedSymbol(1, "SOLUSDT", Decimal("0.8123"), 81, Decimal("123456789.12"),
                     ("Strong Uptrend", "EMA Bullish"), {"rsi": 61.5}),
        RankedSymbol(2, "BTCUSDT", Decimal("0.5"), 50, Decimal("999999999.99")),
    )  # fmt: skip
    return Ranking("1h", as_of, rows, (SymbolFailure("MANAUSDT", "below the floor"),))


def test_a_finished_run_keeps_its_rows_failures_and_counts_exactly(store: Store) -> None:
    rankings = RankingStore.of(store)
    run_id = rankings.start_run("1h", "owner", T0, "schedule")
    assert rankings.latest_run("1h") is not None
    rankings.finish_run(run_id, sample_ranking(), RunCounts(3, 4, 28), T0, 0.25)
    run = rankings.latest_success("1h")
    assert run is not None
    assert run.ranking == sample_ranking()
    assert (run.status, run.considered, run.ranked_count, run.failed_count) == (
        RunStatus.SUCCESS, 3, 2, 1,
    )  # fmt: skip
    assert (run.requests, run.peak_weight, run.duration_s, run.trigger) == (4, 28, 0.25, "schedule")


def test_a_failed_run_keeps_its_message_and_is_not_the_snapshot(store: Store) -> None:
    rankings = RankingStore.of(store)
    good = rankings.start_run("1h", "owner", T0, "schedule")
    rankings.finish_run(good, sample_ranking(), RunCounts(3), T0, 0.1)
    bad = rankings.start_run("1h", "owner", T0 + timedelta(minutes=15), "manual")
    rankings.fail_run(bad, "RuntimeError: boom", T0 + timedelta(minutes=16), 0.2)
    latest = rankings.latest_run("1h")
    assert latest is not None and latest.run_id == bad
    assert latest.status is RunStatus.ERROR and latest.error == "RuntimeError: boom"
    snapshot = rankings.latest_success("1h")
    assert snapshot is not None and snapshot.run_id == good


def test_old_runs_of_a_timeframe_are_pruned_with_their_rows(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    keep = 3
    monkeypatch.setattr(ranking_tables, "RUNS_KEPT", keep)
    rankings = RankingStore.of(store)
    ids = []
    for i in range(keep + 2):
        when = T0 + timedelta(minutes=15 * i)
        run_id = rankings.start_run("1h", "owner", when, "schedule")
        rankings.finish_run(run_id, sample_ranking(when), RunCounts(3), when, 0.1)
        ids.append(run_id)
    assert rankings.run(ids[0]) is None and rankings.run(ids[1]) is None
    assert rankings.run(ids[2]) is not None
    with store._tx.read() as conn:
        oldest_rows = conn.exec_driver_sql(
            "SELECT count(*) FROM ranking_rows WHERE run_id = ?", (ids[0],)
        ).scalar()
    assert oldest_rows == 0
    assert len(rankings.runs("1h", limit=1000)) == keep
