"""Tuning as notebook 10 writes it (loaded from the notebook: its functions live only there): the learning-rate range
test, the objective and its pruner, and studies that resume, belong to their settings, and share work."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch
from notebook_code import definitions

from mnist_lab import data, models

optuna = pytest.importorskip("optuna")
tuning = definitions("10_tuning")  # lr_range_test, make_objective, SameBatchPruner, open_study, run_trials, ...
optuna.logging.set_verbosity(optuna.logging.WARNING)

#: The notebook's parameters that the study cell reads, small: tiny data (below), 2 epochs, 5 trials.
SMALL = {"seed": 0, "subset": None, "val_size": 100, "n_trials": 5, "trial_epochs": 2, "trial_images": None}
SMALL |= {"weight_decay": 0.0005, "storage": None, "study_name": "s", "worker": 0}


def tiny_splits(seed: int = 0) -> data.Splits:
    """A small separable 10-class problem in the MNIST tensor format."""
    gen = torch.Generator().manual_seed(seed)
    y = torch.arange(600) % 10
    x = 0.3 * torch.rand(600, 1, 28, 28, generator=gen)
    for k in range(10):
        x[y == k, 0, k * 2 : k * 2 + 3, :] += 0.7
    x = x.clamp(0, 1)
    return data.Splits(x[:400], y[:400], x[400:500], y[400:500], x[500:], y[500:])


def notebook_run(P: dict, artifacts) -> tuple[object, int]:
    """Do what notebook 10's study cell does with parameters ``P``, on the tiny data; return ``(study, ran)``."""
    settings = tuning.study_settings(P)
    name = tuning.study_name_for(P["study_name"], settings)
    study = tuning.open_study(tuning.open_storage(P["storage"], artifacts), name, settings, P["seed"], P["worker"])
    objective = tuning.make_objective(tiny_splits(), P["trial_epochs"], P["seed"], P["trial_images"], P["weight_decay"])
    return study, tuning.run_trials(study, objective, P["n_trials"])


def configs(study) -> list[tuple]:
    return [tuple(sorted(t.params.items())) for t in study.get_trials()]


def test_lr_range_test_sweeps_upward_and_stops_once_the_loss_explodes():
    s = tiny_splits()
    loader = data.TensorLoader(s.train_images, s.train_labels, 20, shuffle=True)
    torch.manual_seed(0)
    lrs, losses = tuning.lr_range_test(models.MLP(hidden=[16]), loader, lr_min=1e-4, lr_max=0.1, steps=20)
    assert lrs[0] == pytest.approx(1e-4) and lrs[-1] == pytest.approx(0.1)  # all 20 steps, up to lr_max
    assert [b / a for a, b in zip(lrs, lrs[1:])] == pytest.approx([1000 ** (1 / 19)] * 19)  # geometric
    assert len(losses) == 20 and losses[-1] < losses[0]
    lrs, losses = tuning.lr_range_test(models.MLP(hidden=[16]), loader, lr_min=1e-4, lr_max=1e4, steps=20)
    assert 11 <= len(lrs) < 20 and losses[-1] <= 4 * min(losses)  # stopped early (never before step 11): the next
    # smoothed loss was over 4 times the minimum


def test_the_objective_trains_the_baseline_on_tiny_data_and_reports_every_epoch():
    baseline = tuning.baseline_params({"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": [128, 64]})
    assert baseline == {"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": "128-64"}
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial(baseline)
    study.optimize(tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0), n_trials=1)
    trial = study.trials[0]
    assert trial.params == baseline and trial.state.name == "COMPLETE"
    assert sorted(trial.intermediate_values) == [1, 2] and trial.value == trial.intermediate_values[2]
    assert trial.value > 0.5  # it learns the separable classes (chance: 0.1)
    again = tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0)(optuna.trial.FixedTrial(baseline))
    assert again == trial.value  # seeded: the notebook's seed-spread cell reruns a trial this way


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
    assert not ask(study, 256, 0.5)  # one peer is not enough
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


def test_a_trial_whose_loss_becomes_nan_is_pruned_and_listed_without_an_accuracy(monkeypatch):
    def diverge(*args, **kwargs):
        raise tuning.train.TrainingDiverged("The loss became nan")

    monkeypatch.setattr(tuning.train, "train_one_epoch", diverge)
    study = optuna.create_study(direction="maximize")
    study.optimize(tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0), n_trials=1)
    assert study.trials[0].state.name == "PRUNED"
    assert [(r["val_accuracy"], r["epochs"]) for r in tuning.trials_table(study)] == [(None, 0)]


def test_a_second_run_with_the_same_settings_resumes_the_study_and_runs_no_trial(tmp_path):
    study, ran = notebook_run(SMALL, tmp_path)
    assert ran == 5 and (tmp_path / "tuning.log").is_file()  # the default storage: a journal file in the artifacts
    first = [(t.number, t.params, t.state.name) for t in study.get_trials()]
    assert first[0][1] == study.user_attrs["settings"]["baseline"]  # notebook 05's recipe is trial 0
    again, ran = notebook_run(SMALL, tmp_path)
    assert ran == 0 and again.study_name == study.study_name
    assert [(t.number, t.params, t.state.name) for t in again.get_trials()] == first
    assert [r["number"] for r in tuning.trials_table(again)] == list(range(5))


def test_an_interrupted_study_resumes_with_configurations_it_has_not_tried(tmp_path):
    """A run stopped after 3 of its 5 trials: the next run opens the same study, runs the 2 missing trials, and
    draws new values (the sampler's seed counts the trials already there; the same seed would replay its draws)."""
    settings = tuning.study_settings(SMALL)
    name = tuning.study_name_for("s", settings)
    storage = tuning.open_storage(None, tmp_path)
    objective = tuning.make_objective(tiny_splits(), trial_epochs=2, seed=0)
    assert tuning.run_trials(tuning.open_study(storage, name, settings, seed=0), objective, 3) == 3
    study, ran = notebook_run(SMALL, tmp_path)
    assert ran == 2 and len(study.trials) == 5 and len(set(configs(study))) == 5


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """The artifacts folder of a run with the settings ``SMALL``, and its study."""
    artifacts = tmp_path_factory.mktemp("artifacts")
    return artifacts, notebook_run(SMALL, artifacts)[0]


@pytest.mark.parametrize(
    "change",
    [
        {"trial_epochs": 3},
        {"trial_images": 300},
        {"subset": 2000},
        {"val_size": 50},
        {"weight_decay": 0.0},
        {"seed": 1},
        {"n_trials": 6},
    ],
    ids=lambda change: next(iter(change)),
)
def test_a_run_with_other_settings_opens_a_new_study_instead_of_reporting_the_old_one(first_run, change):
    """Issue 26, defect 6: tuning.db was reused whatever the parameters, so a second run with other settings found
    the first run's trials, ran none, and reported them as its own. Now the study belongs to its settings."""
    artifacts, first = first_run
    P = {**SMALL, **change}
    study, ran = notebook_run(P, artifacts)
    assert study.study_name != first.study_name and study.study_name.startswith("s-")
    assert ran == P["n_trials"] == len(study.trials)  # a full new search, with none of the first study's trials
    assert study.user_attrs["settings"] == tuning.study_settings(P)
    assert {len(t.intermediate_values) for t in study.trials if t.state.name == "COMPLETE"} == {P["trial_epochs"]}
    storage = tuning.open_storage(None, artifacts)
    assert len(optuna.load_study(study_name=first.study_name, storage=storage).trials) == 5  # left as it was


def test_the_study_name_follows_every_setting_of_its_trials_and_nothing_else(monkeypatch):
    name = tuning.study_name_for("mlp-search", tuning.study_settings(SMALL))
    assert name.startswith("mlp-search-") and len(name) == len("mlp-search-") + 8
    assert name == tuning.study_name_for("mlp-search", tuning.study_settings(dict(SMALL)))  # deterministic
    others = {"epochs": 3, "ablation_seeds": 5, "worker": 2, "storage": "postgresql://h/db", "device": "cpu"}
    assert tuning.study_name_for("mlp-search", tuning.study_settings({**SMALL, **others})) == name  # shared
    monkeypatch.setitem(tuning.SEARCH_SPACE, "batch_size", [64, 128])
    assert tuning.study_name_for("mlp-search", tuning.study_settings(SMALL)) != name  # another search space


WORKER = textwrap.dedent("""
    import json, pathlib, sys, time
    import torch
    torch.set_num_threads(1)  # several workers on a small machine
    sys.path.insert(0, {tests!r})
    from test_tuning import SMALL, notebook_run, tuning
    worker, storage, folder = int(sys.argv[1]), sys.argv[2] or None, pathlib.Path(sys.argv[3])
    P = {{**SMALL, "n_trials": {n_trials}, "storage": storage, "worker": worker}}
    # Start together, so that they race to create the study: imports can take seconds on a busy machine.
    (folder / f"ready-{{worker}}").touch()
    deadline = time.monotonic() + 300
    while len(list(folder.glob("ready-*"))) < {workers} and time.monotonic() < deadline:
        time.sleep(0.02)
    study, ran = notebook_run(P, folder)
    print(json.dumps({{"ran": ran, "study": study.study_name}}))
""")


def run_workers(storage: str | None, folder: Path, workers: int = 3, n_trials: int = 9) -> tuple[list[int], object]:
    """Start ``workers`` processes that each run notebook 10's study cell on a new study at ``storage`` (None: the
    journal file in ``folder``), all at the same moment; return what each ran, and the study."""
    script = WORKER.format(tests=str(Path(__file__).parent), n_trials=n_trials, workers=workers)
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(w), storage or "", str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for w in range(1, workers + 1)
    ]
    results = []
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err[-3000:]
        results.append(json.loads(out.strip().splitlines()[-1]))
    assert len({r["study"] for r in results}) == 1  # they all opened the same study
    study = optuna.load_study(study_name=results[0]["study"], storage=tuning.open_storage(storage, folder))
    return [r["ran"] for r in results], study


def check_shared_study(ran: list[int], study, n_trials: int = 9) -> None:
    """No trial lost or recorded twice, no configuration tried twice, the baseline run once."""
    trials = study.get_trials()
    assert sum(ran) == len(trials)  # every trial a worker ran is in the study, once
    assert sorted(t.number for t in trials) == list(range(len(trials)))  # trial numbers unique
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in trials)  # none failed or left running
    assert n_trials <= len(trials) <= n_trials + len(ran) - 1  # the budget, plus at most one in flight per worker
    keys = configs(study)
    assert len(set(keys)) == len(keys)  # no configuration evaluated twice
    baseline = study.user_attrs["settings"]["baseline"]
    assert [t.params for t in trials].count(baseline) == 1  # queued once, by the worker that created the study


def test_workers_sharing_one_journal_file_start_one_study_and_never_repeat_a_trial(tmp_path):
    ran, study = run_workers(None, tmp_path)
    check_shared_study(ran, study)
