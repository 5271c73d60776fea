"""TPE search over one shared Optuna study, from one process, N local processes, or N machines.

Optuna's own distributed mode does the sharing: every worker loads the same study from the
same storage (a journal file on this machine, or a PostgreSQL database that other machines
reach) and asks it for trials. The study assigns trial numbers atomically, so the budget is
exact across workers: a trial whose place among the study's live trials is past `--trials` is
closed as FAIL without being run, and the worker stops. A finished trial is written to the
storage before the worker asks for the next, so a dead worker loses only the trial it was
running (closed as FAIL; the survivors, or the next run of the same command, refill its place).

Each trial records what the walk-forward needs from it (per-fold train Sharpe and trades, its
own out-of-sample figures) in its user attributes, so the leaderboard and the publication are
read back from the study, whichever worker or machine ran the trial.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import socket
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from thunes.backtest.walkforward import (
    CandidateEval,
    OptimizeError,
    OutOfSample,
    SymbolData,
    candidate_oos,
    evaluate_candidate,
    params_key,
)
from thunes.strategy.base import ParamValue, StrategyError
from thunes.strategy.registry import STRATEGIES, get_strategy

if TYPE_CHECKING:
    import optuna

    from thunes.backtest.optimize import OptimizeSpec

Progress = Callable[[int, int], None]
WORKER_ATTR = "thunes_worker"
RECORD_ATTR = "thunes_record"
SETUP_ATTR = "thunes_setup"
POLL_SECONDS = 0.5  # how often the coordinator looks at its workers and the study


@dataclass(frozen=True)
class TrialRecord:
    """One parameter set as the study holds it: enough to pick per fold and rank."""

    number: int
    params: dict[str, ParamValue]
    train_sharpe: list[float]
    train_trades: list[int]
    oos: OutOfSample

    @property
    def in_sample_sharpe(self) -> float:
        return sum(self.train_sharpe) / len(self.train_sharpe)


def record_of(number: int, cand: CandidateEval, intervals: Sequence[float]) -> TrialRecord:
    folds = range(len(cand.train))
    return TrialRecord(
        number=number,
        params=dict(cand.params),
        train_sharpe=[cand.train_score(k) for k in folds],
        train_trades=[cand.train_trades(k) for k in folds],
        oos=candidate_oos(cand, intervals),
    )


def study_setup(spec: OptimizeSpec, data_hash: str) -> dict[str, Any]:
    """What must be equal for two commands to share a study (the seed may differ)."""
    return {
        "strategy": spec.strategy,
        "data_sha256": data_hash,
        "grid": {k: list(v) for k, v in sorted((spec.grid or {}).items())},
        "fixed": dict(sorted(spec.fixed.items())),
        "folds": spec.folds,
        "train_ratio": spec.train_ratio,
        "config": asdict(spec.config),
    }


def default_study_name(spec: OptimizeSpec, setup: Mapping[str, Any]) -> str:
    """Same command, same data → same study, so a rerun resumes instead of starting over."""
    digest = hashlib.sha256(json.dumps(setup, sort_keys=True).encode()).hexdigest()[:12]
    base = Path(spec.strategy.split(":")[-1]).stem or "study"
    return f"{base}-{digest}"


def redacted(url: str) -> str:
    """The storage as it may be printed: a database URL without its password."""
    if "://" not in url:
        return url
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown without anything before '@'
        return url.split("@")[-1]


def journal_backend(path: Path, base: Any, lock: Any) -> Any:
    """A journal file whose appends are serialised by `flock` and flushed, not fsynced.

    Optuna's own backend fsyncs every append under its lock, so with several workers the
    trials queue on the disk (about 2 ms a write, ~8 writes a trial). Flushed, a write is in
    the kernel when the lock is released: a worker that crashes loses nothing and the others
    read it at once; only an operating-system crash or power cut can lose the newest trials,
    which the study then simply runs again (the budget counts finished trials).
    """

    class FlushedJournal(base):
        def append_logs(self, logs: list[dict[str, Any]]) -> None:
            text = "".join(json.dumps(entry, separators=(",", ":")) + "\n" for entry in logs)
            with open(self.lock_path, "ab") as guard:
                fcntl.flock(guard.fileno(), fcntl.LOCK_EX)  # a waiting worker sleeps
                try:
                    with open(self.file_path, "ab") as journal:
                        journal.write(text.encode("utf-8"))
                        journal.flush()
                finally:
                    fcntl.flock(guard.fileno(), fcntl.LOCK_UN)

    backend = FlushedJournal(str(path), lock(str(path) + ".lock"))
    backend.file_path = str(path)
    backend.lock_path = str(path) + ".flock"
    return backend


def open_storage(url: str | None) -> optuna.storages.BaseStorage | None:
    """None: in memory; `scheme://…`: a database (RDBStorage); anything else: a journal file."""
    import optuna
    from optuna.storages.journal import JournalFileBackend, JournalFileOpenLock

    if url is None:
        return None
    try:
        if "://" in url:
            return optuna.storages.RDBStorage(url, engine_kwargs={"pool_pre_ping": True})
        path = Path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            backend = journal_backend(path, JournalFileBackend, JournalFileOpenLock)
        return optuna.storages.JournalStorage(backend)
    except Exception as error:  # any driver's failure: the operator's URL
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise OptimizeError(
            f"cannot open the study storage {redacted(url)}: {first.replace(url, redacted(url))}"
        ) from None


def sampler(seed: int, shared: bool) -> optuna.samplers.BaseSampler:
    import optuna

    # constant_liar: running trials count as bad, so parallel workers spread out.
    return optuna.samplers.TPESampler(seed=seed, constant_liar=shared)


def _quiet() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("optuna").setLevel(logging.WARNING)


def open_study(
    storage: optuna.storages.BaseStorage | None,
    name: str | None,
    setup: Mapping[str, Any],
    sampler: optuna.samplers.BaseSampler,
) -> optuna.Study:
    """Create the study or join it; a study made for other data or settings is refused."""
    import optuna

    _quiet()
    study = optuna.create_study(
        storage=storage,
        study_name=name,
        direction="maximize",
        sampler=sampler,
        load_if_exists=True,
    )
    if storage is None:
        return study
    wanted = json.loads(json.dumps(dict(setup)))
    found = study.user_attrs.get(SETUP_ATTR)
    if found is None:
        study.set_user_attr(SETUP_ATTR, wanted)
    elif found != wanted:
        differ = ", ".join(k for k in wanted if found.get(k) != wanted.get(k))
        raise OptimizeError(
            f"study {name!r} was made for other data or settings (differs in {differ}); "
            "give another --study name"
        )
    return study


def _live(study: optuna.Study, below: int | None = None) -> int:
    """How many trials (numbered below `below`) hold a place in the budget: all but FAIL."""
    import optuna

    fail = optuna.trial.TrialState.FAIL
    return sum(
        1
        for t in study.get_trials(deepcopy=False)
        if t.state != fail and (below is None or t.number < below)
    )


def done_trials(study: optuna.Study) -> int:
    import optuna

    states = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
    return len(study.get_trials(deepcopy=False, states=states))


class Objective:
    """One worker's evaluation: the strategy's ranges in, train Sharpe out, attrs recorded."""

    def __init__(self, spec: OptimizeSpec, data: Sequence[SymbolData]) -> None:
        self.spec, self.data = spec, data
        self.space = STRATEGIES[spec.strategy].param_space
        self.keys = (
            list(spec.grid)
            if spec.grid is not None
            else [k for k in self.space if k not in spec.fixed]
        )
        self.intervals = [d.interval for d in data]
        self.seen: dict[tuple[tuple[str, ParamValue], ...], TrialRecord] = {}

    def suggest(self, trial: optuna.Trial) -> dict[str, ParamValue]:
        params: dict[str, ParamValue] = {}
        for key in self.keys:
            r = self.space[key]
            if r.is_int:
                params[key] = trial.suggest_int(key, int(r.low), int(r.high), step=int(r.step))
            else:
                params[key] = trial.suggest_float(key, r.low, r.high, step=r.step)
        return params

    def __call__(self, trial: optuna.Trial) -> TrialRecord | None:
        """The trial's record, or None when the parameters make no valid strategy."""
        try:
            params = {**self.spec.fixed, **self.suggest(trial)}
            strategy = get_strategy(self.spec.strategy, **params)
        except StrategyError:
            return None
        known = params_key(strategy.params)
        if known not in self.seen:
            cand = evaluate_candidate(strategy, self.data, self.spec.config)
            self.seen[known] = record_of(trial.number, cand, self.intervals)
        return self.seen[known]


def _attrs(record: TrialRecord) -> dict[str, Any]:
    return {
        "params": record.params,
        "train_sharpe": [_finite(v) for v in record.train_sharpe],
        "train_trades": record.train_trades,
        "oos": {k: _finite(v) if k != "trades" else v for k, v in asdict(record.oos).items()},
    }


def work(
    study: optuna.Study,
    objective: Objective,
    budget: int,
    progress: Progress | None = None,
    tag: str = "",
) -> None:
    """Ask the study for trials until its budget is used up (by this worker or any other)."""
    import optuna

    while _live(study) < budget:
        trial = study.ask()
        trial.set_user_attr(WORKER_ATTR, tag or _tag())
        if _live(study, below=trial.number) >= budget:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            return
        try:
            record = objective(trial)
        except BaseException:  # interrupted or broken: free the trial's place, then go
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
            raise
        if record is None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            trial.set_user_attr(RECORD_ATTR, _attrs(record))  # one journal write, not four
            study.tell(trial, _finite(record.in_sample_sharpe))
        if progress:
            progress(done_trials(study), budget)


def read_records(study: optuna.Study) -> tuple[list[TrialRecord], int]:
    """The study's distinct parameter sets (first trial of each, by number), and pruned count."""
    import optuna

    records: dict[tuple[tuple[str, ParamValue], ...], TrialRecord] = {}
    trials = sorted(study.get_trials(deepcopy=False), key=lambda t: t.number)
    pruned = sum(1 for t in trials if t.state == optuna.trial.TrialState.PRUNED)
    for t in trials:
        if t.state != optuna.trial.TrialState.COMPLETE or RECORD_ATTR not in t.user_attrs:
            continue
        attrs = t.user_attrs[RECORD_ATTR]
        params = {k: _plain(v) for k, v in attrs["params"].items()}
        records.setdefault(
            params_key(params),
            TrialRecord(
                number=t.number,
                params=params,
                train_sharpe=[float(v) for v in attrs["train_sharpe"]],
                train_trades=[int(v) for v in attrs["train_trades"]],
                oos=OutOfSample(**attrs["oos"]),
            ),
        )
    return list(records.values()), pruned


def _plain(value: Any) -> ParamValue:
    return int(value) if isinstance(value, int) else float(value)


def _finite(value: float) -> float:
    return value if value == value and abs(value) != float("inf") else 0.0


def _tag() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_study(
    spec: OptimizeSpec,
    frames: Mapping[str, pd.DataFrame],
    data: Sequence[SymbolData],
    data_hash: str,
    progress: Progress | None = None,
) -> tuple[list[TrialRecord], int]:
    """Run (or join) the study to its budget; return what the whole study holds."""
    setup = study_setup(spec, data_hash)
    shared = spec.storage is not None
    if spec.workers > 1 and not shared:
        raise OptimizeError("several workers need a study storage (--storage)")
    name = (spec.study or default_study_name(spec, setup)) if shared else None
    storage = open_storage(spec.storage)
    joined = False
    if storage is not None and name is not None:
        joined = name in {s.study_name for s in storage.get_all_studies()}
    study = open_study(storage, name, setup, sampler(spec.seed, shared=shared))
    if shared:
        from thunes.backtest.optimize_processes import close_orphans

        close_orphans(study)
    if spec.workers == 1:
        work(study, Objective(spec, data), spec.trials, progress, _tag())
    else:
        assert name is not None
        from thunes.backtest.optimize_processes import run_processes, worker_seed

        seeds = [worker_seed(spec.seed, i, joined) for i in range(spec.workers)]
        run_processes(spec, frames, name, seeds, study, progress)
    return read_records(study)
