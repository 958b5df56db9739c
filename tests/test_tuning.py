"""Tuning: the learning-rate range test, and Optuna studies that resume and share work, as notebook 07 writes them
(loaded from the notebook: they live only there)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import torch
from notebook_code import definitions

from mnist_lab import data, models

optuna = pytest.importorskip("optuna")
tuning = definitions("07_tuning")  # lr_range_test, make_objective, SameBatchPruner, open_study, trials_table, ...


def tiny_splits(seed: int = 0) -> data.MNISTSplits:
    """A small separable 10-class problem in the MNIST tensor format."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(600) % 10
    x = 0.3 * torch.rand(600, 1, 28, 28, generator=gen)
    for k in range(10):
        x[y == k, 0, k * 2 : k * 2 + 3, :] += 0.7
    x = x.clamp(0, 1)
    return data.MNISTSplits(x[:400], y[:400], x[400:500], y[400:500], x[500:], y[500:])


def test_lr_range_test_sweeps_upward_and_stops_once_the_loss_explodes():
    s = tiny_splits()
    loader = data.TensorLoader(s.train_images, s.train_labels, 20, shuffle=True)
    lrs, losses = tuning.lr_range_test(models.MLP(hidden=[16]), loader, lr_min=1e-4, lr_max=0.1, steps=20)
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(0.1)  # all 20 steps, up to lr_max
    assert [b / a for a, b in zip(lrs, lrs[1:])] == pytest.approx([1000 ** (1 / 19)] * 19)  # geometric
    assert len(losses) == 20 and losses[-1] < losses[0]
    lrs, losses = tuning.lr_range_test(models.MLP(hidden=[16]), loader, lr_min=1e-4, lr_max=1e4, steps=20)
    assert 11 < len(lrs) < 20 and losses[-1] <= 4 * min(losses)  # stopped early: the next loss was over 4x the minimum


def run_study(study, objective, n_trials: int) -> int:
    """Run trials as notebook 07's study cell does (until the study holds `n_trials` finished ones); return how
    many this call ran (another worker's trials are not counted)."""
    mine = []
    study.optimize(
        objective,
        n_trials=max(0, n_trials - len(study.get_trials(states=tuning.FINISHED))),
        callbacks=[
            optuna.study.MaxTrialsCallback(n_trials, states=tuning.FINISHED),
            lambda _study, trial: mine.append(trial.number),
        ],
    )
    return len(mine)


def configs(study):
    return [tuple(sorted(t.params.items())) for t in study.get_trials()]


def test_a_second_run_resumes_and_an_extended_study_draws_new_configurations(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    objective = tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0)
    study = tuning.open_study(url, "s", seed=0)
    assert run_study(study, objective, 5) == 5
    first = [(t.number, t.params, t.state.name) for t in study.get_trials()]
    assert first[0][1] == tuning.DEFAULT_TRIAL  # notebook 03's recipe is trial 0, the baseline
    again = tuning.open_study(url, "s", seed=0)
    assert run_study(again, objective, 5) == 0  # nothing repeated
    assert [(t.number, t.params, t.state.name) for t in again.get_trials()] == first
    assert run_study(again, objective, 7) == 2  # a larger budget continues the same study...
    assert len(set(configs(again))) == 7  # ...with configurations it has not tried (a re-seeded sampler replays)
    assert [r["number"] for r in tuning.trials_table(again)] == list(range(7))


def test_the_sampler_is_seeded(tmp_path):
    objective = tuning.make_objective(tiny_splits(), trial_epochs=1, seed=0)
    params = []
    for name in ("a", "b"):
        study = tuning.open_study(f"sqlite:///{tmp_path / name}.db", "s", seed=3)
        run_study(study, objective, 3)
        params.append(configs(study))
    assert params[0] == params[1] and len(set(params[0])) == 3


def ask(study, batch_size, accuracy):
    """Start a trial with this batch size, report its epoch-1 accuracy; return whether the pruner stops it."""
    study.enqueue_trial({"batch_size": batch_size})
    trial = study.ask()
    trial.suggest_categorical("batch_size", [32, 256])
    trial.report(accuracy, 1)
    pruned = trial.should_prune()
    study.tell(trial, state=optuna.trial.TrialState.PRUNED)
    return pruned


def complete(study, batch_size, accuracy):
    dist = {"batch_size": optuna.distributions.CategoricalDistribution([32, 256])}
    study.add_trial(
        optuna.trial.create_trial(
            params={"batch_size": batch_size}, distributions=dist, value=accuracy, intermediate_values={1: accuracy}
        )
    )


def test_the_pruner_stops_the_bottom_quarter_of_trials_with_the_same_batch_size():
    study = optuna.create_study(direction="maximize", pruner=tuning.SameBatchPruner())
    accuracies = [0.90 + k / 100 for k in range(8)]
    for acc in accuracies:
        complete(study, 32, acc)
    assert [ask(study, 32, acc) for acc in accuracies] == [True, True] + [False] * 6  # a quarter, the lowest
    assert not ask(study, 256, 0.5)  # no batch-256 trial to compare with: larger batches are not pruned for
    complete(study, 256, 0.6)  # having taken 8x fewer steps by epoch 1
    complete(study, 256, 0.7)
    assert ask(study, 256, 0.55) and not ask(study, 256, 0.65)


class PruneAll(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


@pytest.mark.parametrize("trial_epochs, state", [(1, "COMPLETE"), (2, "PRUNED")])
def test_a_trial_is_pruned_only_before_its_last_epoch(trial_epochs, state):
    study = optuna.create_study(direction="maximize", pruner=PruneAll())
    study.optimize(tuning.make_objective(tiny_splits(), trial_epochs=trial_epochs, seed=0), n_trials=1)
    assert study.trials[0].state.name == state and len(study.trials[0].intermediate_values) == 1


WORKER = textwrap.dedent("""
    import json, pathlib, sys, time
    sys.path.insert(0, {tests!r})
    from test_tuning import run_study, tiny_splits, tuning
    study = tuning.open_study({url!r}, "shared", seed=0, worker=int(sys.argv[1]))
    objective = tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0)
    # Start together: on a busy machine one worker's imports can take longer than the other's ten trials.
    folder = pathlib.Path({folder!r})
    (folder / f"ready-{{sys.argv[1]}}").touch()
    deadline = time.monotonic() + 120
    while len(list(folder.glob("ready-*"))) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    ran = run_study(study, objective, 10)
    print(json.dumps({{"ran": ran}}))
""")


def test_two_workers_share_one_sqlite_study_without_losing_or_repeating_trials(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    tuning.open_study(url, "shared", seed=0)  # create the schema once, as the first notebook run would
    script = WORKER.format(tests=str(__import__("pathlib").Path(__file__).parent), url=url, folder=str(tmp_path))
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(w)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for w in (1, 2)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=300)
        assert p.returncode == 0, err[-2000:]
        results.append(int(out.strip().splitlines()[-1].split(":")[1].strip(" }")))
    study = tuning.open_study(url, "shared", seed=0)
    trials = study.get_trials()
    assert sum(results) == len(trials)  # every trial a worker ran is in the study: none lost
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)  # none failed or left running
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    assert 10 <= len(trials) <= 11  # the budget, plus at most one trial in flight when it was reached
    assert min(results) >= 1  # both workers did work
    keys = [tuple(sorted(t.params.items())) for t in trials]
    assert len(set(keys)) == len(keys)  # no configuration evaluated twice
    assert trials[0].params == tuning.DEFAULT_TRIAL


def test_workers_opening_a_new_study_together_all_get_it_and_queue_the_baseline_once(tmp_path):
    """The README's recipe: workers numbered 1, 2, 3 start at the same moment on a new SQLite file. All of them
    open the study (one creates its tables and the study; the others, refused, find them made), and notebook 03's
    recipe is queued exactly once, by the one that created the study."""
    import threading

    for attempt in range(3):  # three new files: the race for the tables is not met every time
        url = f"sqlite:///{tmp_path / f'new-{attempt}.db'}"
        start, opened, errors = threading.Barrier(3, timeout=30), [], []

        def open_together(worker, url=url, start=start, opened=opened, errors=errors):
            start.wait()
            try:
                opened.append(tuning.open_study(url, "shared", seed=0, worker=worker).study_name)
            except Exception as exc:
                errors.append(f"{type(exc).__name__}: {exc}")

        workers = [threading.Thread(target=open_together, args=(w,)) for w in (1, 2, 3)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(timeout=120)
        assert errors == [] and opened == ["shared"] * 3
        queued = optuna.load_study(study_name="shared", storage=url).get_trials(
            states=(optuna.trial.TrialState.WAITING,)
        )
        assert [t.system_attrs["fixed_params"] for t in queued] == [tuning.DEFAULT_TRIAL]  # as enqueue_trial keeps it


def test_two_workers_asking_at_the_same_moment_never_both_take_the_queued_baseline(tmp_path, monkeypatch):
    """The race the subprocess test above only meets by chance, made certain: each worker reads the queued trial,
    then waits (up to 2 s) for the other to have read it too before claiming it. Without a lock taken when the
    transaction begins, both read it as waiting and both run it."""
    import threading

    from optuna.storages._rdb import models as rdb

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    tuning.open_study(url, "shared", seed=0)  # creates the study and queues notebook 03's recipe
    both_read = threading.Barrier(2, timeout=2)
    read = rdb.TrialModel.find_or_raise_by_id.__func__

    def read_then_wait(cls, trial_id, session, for_update=False):
        trial = read(cls, trial_id, session, for_update)
        if for_update:
            try:
                both_read.wait()
            except threading.BrokenBarrierError:
                pass  # the other worker could not read meanwhile: it waits for this one's transaction
        return trial

    monkeypatch.setattr(rdb.TrialModel, "find_or_raise_by_id", classmethod(read_then_wait))
    studies = [tuning.open_study(url, "shared", seed=0, worker=w) for w in (1, 2)]
    taken = {}
    workers = [threading.Thread(target=lambda s=s: taken.update({s: s.ask().number})) for s in studies]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert sorted(taken.values()) == [0, 1]  # one worker runs the baseline (trial 0), the other a new trial


def test_the_lesson_is_loaded_from_notebook_07_without_running_it():
    """Only 07's definitions run: its parameters, training and figures do not."""
    names = {"lr_range_test", "make_objective", "SameBatchPruner", "open_study", "trials_table", "SEARCH_SPACE"}
    assert names <= set(vars(tuning))
    assert tuning.DEFAULT_TRIAL == {"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": "128-64"}
    assert not {"P", "study", "splits", "n_trials", "best"} & set(vars(tuning))
