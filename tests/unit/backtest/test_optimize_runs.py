"""`thunes optimize` as a recorded run: the row, the cached build, caps, dry run, errors, `runs`."""

from __future__ import annotations

import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.unit.strategy.user_sources import GOOD, write
from thunes.backtest.optimize import Guardrails, OptimizeReport, OptimizeSpec, data_sha256
from thunes.backtest.pipeline_run import Build, Caps, RunStatus, plan_run, run_pipeline
from thunes.cli import main
from thunes.market.dataset_cache import CACHE_DIRNAME, CachedBuild, DatasetCache
from thunes.market.klines import load_klines, sample_path
from thunes.store import Store, db_path
from thunes.store.optimize_runs import OptimizeRun, OptimizeRunStore, Owner, RunResult

BTC_5M = str(sample_path("BTCUSDT-5m-2023Q1.csv.gz"))
ETH_5M = str(sample_path("ETHUSDT-5m-2023Q1.csv.gz"))
BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
GRID = ["--grid", "fast=10:30:10", "--grid", "slow=60,120,200"]
LOOSE = Guardrails(min_trades=0, min_oos_sharpe=-100.0, max_drawdown=1.0)
PASSING = ["--min-sharpe", "-100", "--max-drawdown", "1", "--min-trades", "1"]


def _runs(state: Path) -> list[OptimizeRun]:
    with Store.open(db_path(state)) as store:
        return OptimizeRunStore.of(store).recent()


def _optimize(*extra: str, data: tuple[str, ...] = (BTC_5M, ETH_5M)) -> int:
    argv = ["optimize", "--strategy", "sma", *GRID]
    for item in data:
        argv += ["--data", item]
    return main([*argv, *extra])


def test_a_successful_run_records_every_field(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _optimize(*PASSING) == 0
    out = capsys.readouterr().out
    (run,) = _runs(state_dir)
    saved = json.loads((state_dir / "strategy_params.json").read_text())
    frames = {"BTCUSDT": load_klines(BTC_5M).frame, "ETHUSDT": load_klines(ETH_5M).frame}
    assert run.status is RunStatus.SUCCESS and (run.strategy, run.method) == ("sma", "grid")
    assert run.owner.pid == os.getpid() and run.owner.host == socket.gethostname()
    assert run.created_at <= run.started_at <= run.finished_at  # type: ignore[operator]
    assert run.plan["symbols"] == ["BTCUSDT", "ETHUSDT"] and run.plan["interval"] == "5m"
    assert run.plan["configurations"] == 9 and run.plan["mode"] == "simple"
    assert run.plan["days"] == 90.0
    assert run.caps == {"max_days": 90.0, "max_symbols": 50, "max_combinations": 50}
    assert run.dataset_sha256 == data_sha256(frames) == saved["data_sha256"]
    assert run.build_cached is False
    assert (run.stage, run.done, run.total) == ("publish", 9, 9)
    assert len(run.leaderboard) == 9 and run.leaderboard[0]["rank"] == 1
    assert run.params == saved["params"]
    assert run.metrics["oos_sharpe"] == saved["score"]["oos_sharpe"] and run.metrics["passed"]
    assert run.published_to == str(state_dir / "strategy_params.json")
    assert run.error == ""
    assert run.summary.startswith(
        "Tried 9 safe configurations across 2 symbols; best passed guardrails and was published."
    )
    assert "Restart the daemon" in run.next_steps
    assert f"run {run.id} success: {run.summary}" in out.replace("\n", " ").replace("  ", " ")


def test_the_same_data_reuses_the_cached_build(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _optimize("--no-publish", data=(BTC_5M,)) in (0, 1)
    assert _optimize("--no-publish", data=(BTC_5M,)) in (0, 1)
    assert _optimize("--no-publish", "--to", "2023-03-30", data=(BTC_5M,)) in (0, 1)
    window, second, first = _runs(state_dir)
    assert (first.build_cached, second.build_cached, window.build_cached) == (False, True, False)
    assert second.dataset_sha256 == first.dataset_sha256 != window.dataset_sha256
    assert "Reused the cached build of the dataset" in second.summary
    assert "hash matched" in second.summary
    assert "Built the dataset from its files" in first.summary
    assert len(list((state_dir / CACHE_DIRNAME).glob("*.pickle"))) == 2


def test_a_cached_build_whose_hash_does_not_match_is_rebuilt(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _optimize("--no-publish", data=(BTC_5M,)) in (0, 1)
    cache = DatasetCache(state_dir)
    (entry,) = cache.root.glob("*.pickle")
    stored = cache.get(entry.stem)
    assert stored is not None
    cache.put(entry.stem, CachedBuild(stored.inputs, "0" * 64))
    assert _optimize("--no-publish", data=(BTC_5M,)) in (0, 1)
    rebuilt, first = _runs(state_dir)
    assert rebuilt.build_cached is False and rebuilt.dataset_sha256 == first.dataset_sha256
    assert cache.get(entry.stem).data_sha256 == first.dataset_sha256  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("extra", "data", "line"),
    [
        (
            (),
            (BTC_1H,),
            "312.0 days of 1h bars is more than the cap of 90 days at intraday intervals; "
            "raise it with --max-days",
        ),
        (
            ("--max-symbols", "1"),
            (BTC_5M, ETH_5M),
            "2 symbols is more than the cap of 1; raise it with --max-symbols",
        ),
        (
            ("--grid", "fast=5:100:5"),
            (BTC_5M,),
            "the grid has 60 combinations, more than the cap of 50 (simple mode); "
            "raise it with --max-combinations",
        ),
    ],
    ids=["days", "symbols", "combinations"],
)
def test_a_plan_over_its_caps_is_refused_in_one_line(
    state_dir: Path,
    capsys: pytest.CaptureFixture[str],
    extra: tuple[str, ...],
    data: tuple[str, ...],
    line: str,
) -> None:
    assert _optimize(*extra, data=data) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and line in err and "Traceback" not in err
    assert not db_path(state_dir).exists()  # nothing recorded


def test_a_raised_cap_lets_the_plan_run(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ("--grid", "fast=10,20", "--grid", "slow=100", "--max-days", "400", "--no-publish")
    assert _optimize(*argv, data=(BTC_1H,)) in (0, 1)
    (run,) = _runs(state_dir)
    assert run.status is RunStatus.SUCCESS and run.caps["max_days"] == 400.0


def test_dry_run_prints_the_plan_and_its_caps_and_records_nothing(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _optimize("--dry-run") == 0
    out = capsys.readouterr().out
    assert "plan: sma (grid) on 5m bars" in out
    for flag in ("--max-symbols", "--max-days", "--max-combinations"):
        assert flag in out
    assert "configurations (simple mode)" in out and "Dry run: nothing was run" in out
    assert not state_dir.exists()  # no database, no cache, no parameters


def test_dry_run_over_a_cap_shows_the_plan_then_refuses(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _optimize("--dry-run", data=(BTC_1H,)) == 2
    captured = capsys.readouterr()
    assert "days of data" in captured.out and "--max-days" in captured.err
    assert not state_dir.exists()


CRASHES_AT_30 = GOOD.replace(
    "    def _compute(self, bars):\n",
    "    def _compute(self, bars):\n"
    "        if int(self.params['window']) == 30 and len(bars) > 1000:\n"
    "            raise RuntimeError('window 30 crashed')\n",
)


def test_a_stage_that_raises_ends_the_run_in_error_with_its_progress(
    state_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path / "strategies", "breakout", CRASHES_AT_30)
    argv = ["optimize", "--strategy", f"{path}:Breakout", "--data", BTC_5M]
    assert main([*argv, "--grid", "window=10,20,30,40", *PASSING]) == 1
    err = capsys.readouterr().err
    (run,) = _runs(state_dir)
    assert run.status is RunStatus.ERROR
    assert (run.stage, run.done, run.total) == ("sweep", 2, 4)
    assert run.error == "RuntimeError: window 30 crashed"
    assert run.summary.startswith(
        "Failed during the sweep stage after 2 of 4 configurations across 1 symbol: "
        "RuntimeError: window 30 crashed; nothing was published."
    )
    assert f"thunes runs show {run.id}" in run.next_steps
    assert err == f"error: run {run.id}: RuntimeError: window 30 crashed\n"
    assert not (state_dir / "strategy_params.json").exists()


class _Events:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def running(self) -> None:
        self.seen.append("running")

    def stage(self, name: str) -> None:
        self.seen.append(name)

    def progress(self, done: int, total: int) -> None:
        self.seen.append(f"{done}/{total}")


def _pipeline_inputs() -> tuple[OptimizeSpec, Build]:
    frames = {"BTCUSDT": load_klines(BTC_5M).frame}
    spec = OptimizeSpec("sma", grid={"fast": [10, 20], "slow": [100]})
    return spec, Build(frames, "5m", 300.0, data_sha256(frames), cached=False)


def test_a_publish_stage_that_raises_keeps_the_finished_sweep() -> None:
    spec, build = _pipeline_inputs()
    events = _Events()

    def broken_publish(report: OptimizeReport) -> str:
        raise OSError("disk full")

    plan = plan_run(spec, build, Caps())
    loose = OptimizeSpec(**{**spec.__dict__, "guardrails": LOOSE})
    outcome = run_pipeline(loose, build, plan, events, lambda: False, broken_publish)
    assert outcome.status is RunStatus.ERROR and outcome.stage == "publish"
    assert (outcome.done, outcome.total, outcome.error) == (2, 2, "OSError: disk full")
    assert events.seen == ["running", "sweep", "1/2", "2/2", "leaderboard", "guardrails",
                           "publish"]  # fmt: skip


def test_a_stop_request_ends_the_sweep_between_two_configurations() -> None:
    spec, build = _pipeline_inputs()
    events = _Events()
    plan = plan_run(spec, build, Caps())
    outcome = run_pipeline(spec, build, plan, events, lambda: "1/2" in events.seen, None)
    assert outcome.status is RunStatus.STOPPED
    assert (outcome.stage, outcome.done, outcome.total) == ("sweep", 1, 2)
    assert events.seen == ["running", "sweep", "1/2"]


def _owner(pid: int, host: str = "here") -> Owner:
    return Owner(pid=pid, host=host, process_start="")


def _create(runs: OptimizeRunStore, owner: Owner) -> int:
    plan = {"strategy": "sma", "method": "grid", "configurations": 4}
    now = datetime(2024, 1, 1, tzinfo=UTC)
    return runs.create(
        plan=plan, caps={}, dataset_sha256="ab", build_cached=False, owner=owner, now=now
    )


def test_a_live_row_whose_process_is_gone_is_marked_interrupted(tmp_path: Path) -> None:
    with Store.open(tmp_path / "thunes.db") as store:
        runs = OptimizeRunStore.of(store)
        gone, alive, elsewhere, done = (
            _create(runs, _owner(11)),
            _create(runs, _owner(12)),
            _create(runs, _owner(13, host="other")),
            _create(runs, _owner(14)),
        )
        now = datetime(2024, 1, 2, tzinfo=UTC)
        for run_id in (gone, alive, elsewhere, done):
            runs.start(run_id, now)
        runs.progress(gone, "sweep", 3, 4)
        runs.finish(done, RunResult(RunStatus.SUCCESS, "publish", 4, 4), now)
        reaped = runs.reap_interrupted("here", lambda owner: owner.pid == 12, now)
        assert reaped == [gone]
        statuses = {r.id: r.status for r in runs.recent()}
        row = runs.get(gone)
    assert statuses == {
        gone: RunStatus.ERROR,
        alive: RunStatus.RUNNING,
        elsewhere: RunStatus.RUNNING,
        done: RunStatus.SUCCESS,
    }
    assert (
        row is not None and row.error == "interrupted: the process running it (11 on here) is gone"
    )
    assert row.summary.startswith("Interrupted during the sweep stage after 3 of 4")


def test_runs_list_and_show_read_the_recorded_runs(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _optimize(*PASSING) == 0
    assert _optimize("--min-sharpe", "99") == 1
    capsys.readouterr()
    assert main(["runs", "list"]) == 0
    table = capsys.readouterr().out
    assert "published" in table and "refused by guardrails" in table and "2 × 5m" in table
    assert main(["runs", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [r["id"] for r in listed] == [2, 1]
    assert [r["status"] for r in listed] == ["success", "success"]
    assert main(["runs", "show", "1"]) == 0
    shown = capsys.readouterr().out
    assert "optimisation run 1" in shown and "leaderboard (as recorded)" in shown
    assert "Tried 9 safe configurations" in shown
    assert main(["runs", "show", "2", "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["id"] == 2 and record["published_to"] is None
    assert record["metrics"]["passed"] is False and record["progress"] == {"done": 9, "total": 9}


def test_runs_show_an_unknown_id_is_one_line(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _optimize("--no-publish") in (0, 1)
    capsys.readouterr()
    assert main(["runs", "show", "99"]) == 1
    assert capsys.readouterr().err == "thunes: no optimisation run 99\n"


def test_runs_without_state_create_nothing(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["runs", "list"]) == 2
    assert "no THUNES state in" in capsys.readouterr().err
    assert not state_dir.exists()


def test_optimize_marks_an_earlier_run_whose_process_is_gone_as_interrupted(
    state_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Same pid, another start time: the pid was reused, the run's own process is gone."""
    with Store.open(db_path(state_dir)) as store:
        runs = OptimizeRunStore.of(store)
        me = socket.gethostname()
        stale = _create(runs, Owner(pid=os.getpid(), host=me, process_start="1"))
        runs.start(stale, datetime(2024, 1, 1, tzinfo=UTC))
    assert _optimize("--no-publish") in (0, 1)
    latest, old = _runs(state_dir)
    assert old.id == stale and old.status is RunStatus.ERROR
    assert old.error.startswith("interrupted:") and latest.status is RunStatus.SUCCESS
