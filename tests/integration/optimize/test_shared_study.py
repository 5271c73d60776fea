"""TPE across worker processes on one shared Optuna study: a journal file and a real PostgreSQL.

The PostgreSQL server is started by the test itself (see postgres_server.py) and stopped after;
missing binaries fail the test. Each storage is exercised with two spawned worker processes.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
import pytest

from tests.integration.optimize.postgres_server import postgres_server
from thunes.backtest.optimize import Guardrails, OptimizeSpec, optimize
from thunes.backtest.optimize_workers import RECORD_ATTR, WORKER_ATTR, open_storage
from thunes.backtest.walkforward import OptimizeError
from thunes.cli import main
from thunes.market.klines import load_klines, sample_path
from thunes.strategy_files import resolve

BTC_1H = str(sample_path("BTCUSDT-1h-spot.csv.gz"))
ETH_1H = str(sample_path("ETHUSDT-1h-spot.csv.gz"))
LOOSE = Guardrails(min_trades=1, min_oos_sharpe=-100.0, max_drawdown=1.0)
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["journal", "postgres"])
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgres":
        return str(request.getfixturevalue("postgres_url"))
    return str(tmp_path / "studies.journal")


@pytest.fixture(scope="module")
def btc() -> dict[str, pd.DataFrame]:
    return {"BTCUSDT": load_klines(BTC_1H).frame}


def _trials(storage: str, study: str) -> list[optuna.trial.FrozenTrial]:
    opened = open_storage(storage)
    assert opened is not None
    return optuna.load_study(study_name=study, storage=opened).get_trials()


def _finished(trials: list[optuna.trial.FrozenTrial]) -> list[optuna.trial.FrozenTrial]:
    return [t for t in trials if t.state in FINISHED]


def _key(name: str = "CrashOnce") -> str:
    return resolve(f"{Path(__file__).with_name('worker_strategies.py')}:{name}").key


def _spec(storage: str, study: str, trials: int = 40, **extra: Any) -> OptimizeSpec:
    return OptimizeSpec(
        "sma", method="tpe", trials=trials, storage=storage, study=study, workers=2,
        guardrails=LOOSE, **extra,
    )  # fmt: skip


def test_two_workers_run_exactly_the_budget_with_no_trial_lost_or_duplicated(
    storage: str,
    btc: dict[str, pd.DataFrame],
    request: pytest.FixtureRequest,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study = f"budget-{request.node.callspec.id}"
    (tmp_path / "met").mkdir()
    monkeypatch.setenv("THUNES_TEST_RENDEZVOUS", str(tmp_path / "met"))
    spec = OptimizeSpec(**{**_spec(storage, study).__dict__, "strategy": _key("Rendezvous")})
    report = optimize(spec, btc)
    trials = _trials(storage, study)
    finished = _finished(trials)
    assert len(finished) == 40
    assert sorted(t.number for t in finished) == list(range(40))
    assert len({t._trial_id for t in trials}) == len(trials)
    assert len({t.user_attrs[WORKER_ATTR] for t in finished}) == 2  # both processes worked
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
    complete = [t for t in finished if t.state == optuna.trial.TrialState.COMPLETE]
    distinct = {json.dumps(t.user_attrs[RECORD_ATTR]["params"], sort_keys=True) for t in complete}
    assert report.combinations == len(distinct)  # TPE may repeat a point; it counts once


def test_published_parameters_are_the_shared_studys_best_for_the_latest_fold(
    storage: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    study = f"publish-{request.node.callspec.id}"
    target = tmp_path / "params.json"
    argv = ["optimize", "--strategy", "sma", "--method", "tpe", "--trials", "30"]
    argv += ["--workers", "2", "--storage", storage, "--study", study, "--data", BTC_1H]
    argv += ["--min-trades", "1", "--min-sharpe", "-100", "--max-drawdown", "1"]
    argv += ["--max-days", "400", "--state-dir", str(tmp_path / "state")]
    assert main([*argv, "--params-file", str(target)]) == 0
    finished = _finished(_trials(storage, study))
    assert len(finished) == 30
    complete = sorted(
        (t for t in finished if t.state == optuna.trial.TrialState.COMPLETE),
        key=lambda t: t.number,
    )
    last = len(complete[0].user_attrs[RECORD_ATTR]["train_sharpe"]) - 1
    traded = [
        t for t in complete if t.user_attrs[RECORD_ATTR]["train_trades"][last] > 0
    ] or complete
    best = max(traded, key=lambda t: t.user_attrs[RECORD_ATTR]["train_sharpe"][last])
    saved = json.loads(target.read_text())
    assert saved["params"] == best.user_attrs[RECORD_ATTR]["params"]
    assert saved["score"]["method"] == "tpe"


def test_the_same_command_again_resumes_the_study_up_to_its_budget(
    tmp_path: Path, btc: dict[str, pd.DataFrame]
) -> None:
    storage = str(tmp_path / "studies.journal")
    optimize(_spec(storage, "resume", trials=20), btc)
    again = optimize(_spec(storage, "resume", trials=20), btc)
    assert len(_finished(_trials(storage, "resume"))) == 20  # nothing more to do
    raised = optimize(_spec(storage, "resume", trials=30), btc)
    finished = _finished(_trials(storage, "resume"))
    assert sorted(t.number for t in finished) == list(range(30))
    assert raised.combinations >= again.combinations


def test_a_study_made_for_other_data_is_refused(tmp_path: Path) -> None:
    storage = str(tmp_path / "studies.journal")
    eth = {"BTCUSDT": load_klines(ETH_1H).frame}
    optimize(_spec(storage, "one-data", trials=10), {"BTCUSDT": load_klines(BTC_1H).frame})
    with pytest.raises(OptimizeError, match=r"other data or settings.*data_sha256"):
        optimize(_spec(storage, "one-data", trials=10), eth)


def test_several_workers_without_a_storage_are_refused(btc: dict[str, pd.DataFrame]) -> None:
    spec = OptimizeSpec("sma", method="tpe", trials=10, workers=2)
    with pytest.raises(OptimizeError, match="need a study storage"):
        optimize(spec, btc)


def test_an_unreachable_database_is_one_line_without_its_password(
    btc: dict[str, pd.DataFrame],
) -> None:
    url = "postgresql+psycopg://thunes:s3cret@127.0.0.1:1/optuna"
    with pytest.raises(OptimizeError) as caught:
        optimize(_spec(url, "nowhere", trials=5), btc)
    assert "s3cret" not in str(caught.value) and "\n" not in str(caught.value)
    assert "cannot open the study storage" in str(caught.value)


def test_a_dead_worker_loses_no_finished_trial(
    tmp_path: Path, btc: dict[str, pd.DataFrame], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THUNES_TEST_CRASH_MARKER", str(tmp_path / "crashed"))
    storage = str(tmp_path / "studies.journal")
    spec = OptimizeSpec(**{**_spec(storage, "crash", trials=30).__dict__, "strategy": _key()})
    try:
        optimize(spec, btc)
    except OptimizeError as error:  # the survivor had already stopped: the rerun finishes
        assert "finished trials are kept" in str(error)
        optimize(spec, btc)
    assert (tmp_path / "crashed").exists()
    trials = _trials(storage, "crash")
    failed = [t for t in trials if t.state == optuna.trial.TrialState.FAIL]
    assert len(failed) >= 1  # the trial the dead worker was running
    assert len(_finished(trials)) == 30
    assert not [t for t in trials if t.state == optuna.trial.TrialState.RUNNING]
