"""Where notebook 11b keeps its Optuna study (11c reopens it), and how workers share it (docs/instructors.md).

A study lives in a journal file (workers on one machine) or a database (PostgreSQL: workers on
several machines). Its name ends with a digest of its settings, so a run with other settings opens a
new study. Trial 0 of every study is the baseline: the sampler gives it the baseline's values, so no
study exists without its baseline.

On a database each running trial records a heartbeat every 10 seconds; a trial whose
worker stopped (a crash, a kill) is failed once its heartbeat is twice that old, and queued again,
once, for any worker to run. A journal file has no heartbeat: a stopped worker's trial stays running
in it for ever and its configuration is not tried again; the other workers fill the budget without
it. Worker 0 waits for the others' running trials (notebook 11c then judges the search); the others
only run trials.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path

import optuna
from optuna.exceptions import ExperimentalWarning
from optuna.trial import TrialState

FINISHED = (TrialState.COMPLETE, TrialState.PRUNED)  #: the trials a budget counts


def open_storage(url: str | None, *, artifacts, heartbeat: int = 10):
    """Return where studies are kept: the journal file ``<artifacts>/tuning.log`` (``url`` None),
    or the database at ``url``, whose running trials record a heartbeat every ``heartbeat``
    seconds and are retried once when their worker stops. Any error but the race of workers
    creating the tables at once is raised at once."""
    if url is None:
        path = str(Path(artifacts) / "tuning.log")
        lock = optuna.storages.journal.JournalFileOpenLock(path)  # works on Windows too
        backend = optuna.storages.journal.JournalFileBackend(path, lock_obj=lock)
        return optuna.storages.JournalStorage(backend)
    for attempt in range(5):
        try:  # heartbeats are an experimental feature of Optuna
            with warnings.catch_warnings(action="ignore", category=ExperimentalWarning):
                retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=1)
                return optuna.storages.RDBStorage(url, heartbeat_interval=heartbeat,
                                                  heartbeat_stale_trial_callback=retry)  # fmt: skip
        except Exception as error:
            code = getattr(getattr(error, "orig", None), "sqlstate", None)  # the driver's error
            if attempt == 4 or code not in {"23505", "42P07", "42710"}:  # PostgreSQL: "exists"
                raise
            time.sleep(0.5)


class BaselineFirst(optuna.samplers.TPESampler):
    """TPE, except that trial 0 gets the baseline's values: study and baseline are one step."""

    def __init__(self, baseline: dict, *, n_startup_trials: int, seed: int) -> None:
        super().__init__(n_startup_trials=n_startup_trials, seed=seed, multivariate=True)  # notebook 11
        self.baseline = baseline

    def sample_independent(self, study, trial, name, distribution):
        """Return the baseline's value of ``name`` in trial 0, else TPE's draw."""
        if trial.number == 0 and name in self.baseline:
            return self.baseline[name]
        return super().sample_independent(study, trial, name, distribution)


def open_study(storage, *, prefix: str, settings: dict, baseline: dict, pruner,
               startup_trials: int, seed: int, worker: int = 0) -> optuna.Study:  # fmt: skip
    """Return the study of ``settings``, ``baseline`` and ``startup_trials`` in ``storage``, named
    ``prefix`` and a short digest of them (other settings, another study): resumed when it
    exists, else created, its trial 0 the baseline. Each worker, and each resumed run, draws
    values of its own."""
    settings = {**settings, "baseline": baseline, "startup_trials": startup_trials}
    settings = json.loads(json.dumps(settings))  # as JSON gives it back: tuples become lists
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:8]
    study = optuna.create_study(storage=storage, study_name=f"{prefix}-{digest}",
                                direction="maximize", pruner=pruner,
                                load_if_exists=True)  # fmt: skip
    study.set_user_attr("settings", settings)  # each worker writes the same: a crash loses nothing
    seed += 1000 * worker + len(study.trials)  # not another worker's draws, nor the last run's
    study.sampler = BaselineFirst(baseline, n_startup_trials=startup_trials, seed=seed)
    return study


def run_trials(study: optuna.Study, objective, *, n_trials: int, worker: int = 0,
               lost_after: float = 600.0) -> int:  # fmt: skip
    """Run trials until ``study`` holds ``n_trials`` finished ones (all workers' count); return how
    many ran here. Worker 0 then waits for the others' trials (``wait_for_others``). Any other
    worker ends the notebook's run here with ``SystemExit(0)``, which papermill takes as the end of
    a run without error."""
    ran, left = [], max(0, n_trials - len(study.get_trials(states=FINISHED)))
    count = [optuna.study.MaxTrialsCallback(n_trials, states=FINISHED), lambda _, t: ran.append(t)]
    study.optimize(objective, n_trials=left, callbacks=count)
    if worker != 0:
        print(f"worker {worker}: ran {len(ran)} trials; worker 0 judges the search")
        warnings.filterwarnings("ignore", message="To exit: use")  # IPython's advice on SystemExit
        raise SystemExit(0)
    wait_for_others(study, objective, lost_after=lost_after, callbacks=count)
    return len(ran)


def wait_for_others(study: optuna.Study, objective, *, lost_after: float, callbacks=()) -> None:
    """Return once no trial of ``study`` is running or waiting. On a database, fail the trials whose
    heartbeat stopped and run their retries here (``callbacks`` see them); on a journal file, give
    up on a trial that has run ``lost_after`` seconds (its worker stopped), and say so."""
    heartbeats = optuna.storages._heartbeat.is_heartbeat_enabled(study._storage)  # nothing public
    while True:
        with warnings.catch_warnings(action="ignore", category=ExperimentalWarning):
            optuna.storages.fail_stale_trials(study)  # and queue their retries as waiting trials
        if study.get_trials(deepcopy=False, states=(TrialState.WAITING,)):
            study.optimize(objective, n_trials=1, callbacks=list(callbacks))
            continue
        running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        started = datetime.now() - timedelta(seconds=lost_after)  # the last start to give up on
        if all(not heartbeats and t.datetime_start < started for t in running):  # none: done
            for t in running:
                print(f"trial {t.number} ran over {lost_after:.0f} s: its worker stopped; left out")
            return
        time.sleep(1.0)
