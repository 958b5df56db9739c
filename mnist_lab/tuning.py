"""Hyperparameter tuning, saved from notebook 07, which writes each of these out and explains it.

The learning-rate range test, the Optuna objective, the pruner and the study. The study lives in a
database (SQLite in the artifacts folder by default), so a second run resumes it, and several
workers can share it. Trials are chosen on the validation split; the test set is used once.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import optuna
import torch
from torch import nn

from . import data, models, runtime, train

SEARCH_SPACE = {
    "lr": (1e-3, 1.0),  # the range test's loss blows up near 1 with momentum 0.9
    "momentum": (0.0, 0.95),
    "batch_size": [32, 64, 128, 256],
    "hidden": ["64-32", "128-64", "256-128"],  # strings: Optuna's choices are plain values
}
DEFAULT_TRIAL = {"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": "128-64"}  # notebook 03's recipe
FINISHED = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)


def lr_range_test(model, loader, lr_min=1e-5, lr_max=3.0, steps=100, momentum=0.9, device="cpu"):
    """Train a copy of `model` while the learning rate grows geometrically; return (lrs, smoothed losses)."""
    model = copy.deepcopy(model).to(device).train()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr_min, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    growth = (lr_max / lr_min) ** (1 / (steps - 1))  # lr_max at the last step
    lrs, losses, average = [], [], 0.0
    for i, (images, labels) in zip(range(steps), loader):
        lr = lr_min * growth**i
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        loss = loss_fn(model(images.to(device)), labels.to(device))
        loss.backward()
        optimizer.step()
        average = 0.9 * average + 0.1 * loss.item()  # exponential moving average of the loss,
        smoothed = average / (1 - 0.9 ** (i + 1))  # without its bias towards 0 at the start
        if not math.isfinite(smoothed) or (i > 10 and smoothed > 4 * min(losses)):
            break  # the loss has exploded: higher rates only make it worse
        lrs.append(lr)
        losses.append(smoothed)
    return lrs, losses


def make_objective(splits, trial_epochs, seed, trial_images=None, weight_decay=5e-4, device="cpu"):
    """Return the objective: train the trial's MLP on `trial_images` training images (a seeded sample; None: all),
    report its validation accuracy each epoch, return the last."""
    keep = data.sample(torch.arange(len(splits.train_labels)), trial_images, seed)
    images, labels = splits.train_images[keep], splits.train_labels[keep]

    def objective(trial):
        lr = trial.suggest_float("lr", *SEARCH_SPACE["lr"], log=True)
        momentum = trial.suggest_float("momentum", *SEARCH_SPACE["momentum"])
        batch_size = trial.suggest_categorical("batch_size", SEARCH_SPACE["batch_size"])
        hidden = trial.suggest_categorical("hidden", SEARCH_SPACE["hidden"])
        runtime.seed_everything(seed)
        train_loader = data.TensorLoader(images, labels, batch_size, shuffle=True, seed=seed)
        val_loader = data.TensorLoader(splits.val_images, splits.val_labels, 500)
        model = models.MLP(hidden=[int(h) for h in hidden.split("-")]).to(device)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
        schedule = train.make_schedule("onecycle", optimizer, trial_epochs * len(train_loader))
        for epoch in range(1, trial_epochs + 1):
            train_loader.set_epoch(epoch)
            try:
                train.train_one_epoch(model, train_loader, optimizer, device=device, scheduler=schedule)
            except train.TrainingDiverged:
                raise optuna.TrialPruned("the loss became NaN") from None
            accuracy = train.evaluate(model, val_loader, device=device)["accuracy"]
            trial.report(accuracy, epoch)
            if epoch < trial_epochs and trial.should_prune():  # a finished trial is never pruned
                raise optuna.TrialPruned(f"validation accuracy {accuracy:.4f} after epoch {epoch}")
        return accuracy

    return objective


class SameBatchPruner(optuna.pruners.BasePruner):
    """Prune a trial in the bottom quarter of the complete trials with its batch size, at the same epoch."""

    def __init__(self, quantile=0.25, min_peers=2):
        self.quantile, self.min_peers = quantile, min_peers

    def prune(self, study, trial):
        epoch = trial.last_step
        complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
        peers = [
            t.intermediate_values[epoch]
            for t in complete
            if t.params.get("batch_size") == trial.params.get("batch_size") and epoch in t.intermediate_values
        ]
        if len(peers) < self.min_peers:
            return False  # too few trials to compare with: keep it
        return trial.intermediate_values[epoch] < np.quantile(peers, self.quantile)


def open_study(storage, study_name, seed, worker=0):
    """Return the study `study_name` at `storage`: resumed, or created with notebook 03's recipe queued first."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no timestamped lines in the notebook
    if storage.startswith("sqlite:"):  # one file, several workers: they take turns (plumbing, in runtime.py)
        storage = runtime.sqlite_storage(storage)
    study = optuna.create_study(
        storage=storage, study_name=study_name, direction="maximize", pruner=SameBatchPruner(), load_if_exists=True
    )
    if not study.trials and worker == 0:
        study.enqueue_trial(DEFAULT_TRIAL)
    # The seed also counts the trials already there, so a resumed study draws new configurations.
    study.sampler = optuna.samplers.TPESampler(seed=seed + 1000 * worker + len(study.trials), n_startup_trials=6)
    return study


def finished_trials(study) -> list:
    """Return the study's complete or pruned trials, in trial order."""
    return study.get_trials(deepcopy=False, states=FINISHED)


def trials_table(study) -> list[dict]:
    """Return one row per finished trial: number, state, the knobs, its last validation accuracy, epochs run."""
    return [
        {
            "number": t.number,
            "state": t.state.name.lower(),
            **t.params,
            "val_accuracy": t.intermediate_values[t.last_step] if t.last_step is not None else None,
            "epochs": len(t.intermediate_values),
        }
        for t in finished_trials(study)
    ]
