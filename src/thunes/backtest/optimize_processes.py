"""The processes of a shared TPE study on this machine: spawn, watch, stop, clean up.

Each worker is a spawned process with its own data, objective and storage connection, so it
shares nothing with the others but the study. A worker that dies has its running trial closed
as FAIL at once, so the survivors refill its place. Ctrl-C reaches the coordinator only (workers
ignore SIGINT), which terminates the workers; each closes its running trial as FAIL on SIGTERM.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from thunes.backtest.optimize_workers import (
    POLL_SECONDS,
    WORKER_ATTR,
    Objective,
    Progress,
    done_trials,
    open_storage,
    open_study,
    sampler,
    study_setup,
    work,
)
from thunes.backtest.walkforward import OptimizeError
from thunes.strategy.registry import STRATEGIES

if TYPE_CHECKING:
    import optuna

    from thunes.backtest.optimize import OptimizeSpec


def worker_seed(seed: int, index: int, joined: bool) -> int:
    """Worker 0 of a new study keeps the seed (one worker reproduces the single-process run);
    other workers and joining machines sample from their own streams."""
    if index == 0 and not joined:
        return seed
    extra = int.from_bytes(os.urandom(4), "big") if joined else 0
    return (seed + index + extra) % 2**32


def worker_main(
    spec: OptimizeSpec, frames: Mapping[str, pd.DataFrame], name: str, seed: int, budget: int
) -> None:
    """A worker process: its own data, objective and storage connection, then `work`."""
    from thunes.backtest.optimize import _prepare, data_sha256

    # The coordinator decides when workers stop: Ctrl-C reaches it, and it terminates them.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_term)
    if spec.strategy not in STRATEGIES:  # a user strategy: load its file in this process too
        from thunes.strategy_files import resolve

        resolve(spec.strategy, None)
    data = _prepare(spec, frames)
    storage = open_storage(spec.storage)
    study = open_study(
        storage, name, study_setup(spec, data_sha256(frames)), sampler(seed, shared=True)
    )
    work(study, Objective(spec, data), budget)


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def close_orphans(study: optuna.Study) -> int:
    """Close as FAIL the running trials of processes of this machine that no longer exist
    (a SIGKILLed worker), so their places in the budget are run again."""
    import optuna

    host = socket.gethostname()
    closed = 0
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        owner, _, pid = str(trial.user_attrs.get(WORKER_ATTR, "")).rpartition(":")
        if owner == host and pid.isdigit() and not _alive(int(pid)):
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
            closed += 1
    return closed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_processes(
    spec: OptimizeSpec,
    frames: Mapping[str, pd.DataFrame],
    name: str,
    seeds: Sequence[int],
    study: optuna.Study,
    progress: Progress | None,
) -> None:
    """Spawn one process per seed; a dead worker's running trial is closed as FAIL at once."""
    context = multiprocessing.get_context("spawn")
    procs = [
        context.Process(
            target=worker_main,
            args=(spec, frames, name, seed, spec.trials),
            name=f"thunes-optimize-{i}",
            daemon=True,
        )
        for i, seed in enumerate(seeds)
    ]
    for proc in procs:
        proc.start()
    failed: dict[int, int] = {}
    try:
        while alive := [p for p in procs if p.is_alive()]:
            alive[0].join(POLL_SECONDS)
            _close_dead(study, procs, failed)
            if progress:
                progress(done_trials(study), spec.trials)
        for proc in procs:
            proc.join()
        _close_dead(study, procs, failed)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join()
    if failed and done_trials(study) < spec.trials:
        codes = ", ".join(str(code) for code in failed.values())
        raise OptimizeError(
            f"{len(failed)} of {len(procs)} workers died (exit codes {codes}); the "
            f"{done_trials(study)} finished trials are kept in study {name!r}: run the same "
            "command again to finish the budget"
        )


def _close_dead(study: optuna.Study, procs: Sequence[Any], failed: dict[int, int]) -> None:
    import optuna

    for proc in procs:
        if proc.is_alive() or proc.exitcode in (0, None) or proc.pid in failed:
            continue
        failed[proc.pid] = proc.exitcode
        tag = f"{socket.gethostname()}:{proc.pid}"
        running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
        for trial in running:
            if trial.user_attrs.get(WORKER_ATTR) == tag:
                study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
