"""Hyperparameter tuning: a learning-rate range test and an Optuna search (notebook 07).

The Optuna study lives in a database given by a URL (SQLite in the artifacts folder by
default), so a second run resumes it instead of repeating finished trials, and several
workers (papermill runs on one machine or many) can share one study. Trials are chosen
on the validation split; the test set is used once, by the notebook, for the winner.
"""

from __future__ import annotations

import copy
import math
from typing import Any, Callable, Iterable

import torch
from torch import nn

from . import data, models, runtime, train

#: What the search may choose; hidden sizes are strings because Optuna's choices must be plain values.
SEARCH_SPACE = {
    "lr": (1e-3, 0.3),
    "momentum": (0.0, 0.95),
    "batch_size": [32, 64, 128, 256],
    "hidden": ["64-32", "128-64", "256-128", "512-256"],
}
FINISHED = ("COMPLETE", "PRUNED")


def lr_range_test(model: nn.Module, loader: Iterable, lr_min: float = 1e-5, lr_max: float = 3.0, steps: int = 100,
                  momentum: float = 0.9, device: torch.device | str = "cpu",
                  smoothing: float = 0.9) -> dict[str, Any]:
    """Train a copy of ``model`` for ``steps`` batches while the learning rate grows geometrically
    from ``lr_min`` to ``lr_max``; return ``{"lrs", "losses", "suggested_lr"}``.

    The losses are exponentially smoothed; the sweep stops early once the loss exceeds four
    times its minimum. The suggestion is one tenth of the rate at the lowest loss, a safe start.
    """
    model = copy.deepcopy(model).to(device)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=lr_min, momentum=momentum)
    loss_fn = nn.CrossEntropyLoss()
    factor = (lr_max / lr_min) ** (1 / max(1, steps - 1))
    lrs, losses, avg, best = [], [], 0.0, math.inf
    batches = iter(loader)
    for i in range(steps):
        try:
            images, labels = next(batches)
        except StopIteration:
            batches = iter(loader)
            images, labels = next(batches)
        lr = lr_min * factor**i
        for group in opt.param_groups:
            group["lr"] = lr
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(images.to(device)), labels.to(device))
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            break
        avg = smoothing * avg + (1 - smoothing) * value
        smoothed = avg / (1 - smoothing ** (i + 1))
        lrs.append(lr)
        losses.append(smoothed)
        best = min(best, smoothed)
        if smoothed > 4 * best and i > 10:
            break
    best_lr = lrs[losses.index(min(losses))]
    return {"lrs": lrs, "losses": losses, "suggested_lr": best_lr / 10}


def hidden_from(text: str) -> list[int]:
    """Return ``[128, 64]`` for ``"128-64"``."""
    return [int(h) for h in text.split("-")]


def suggest(trial) -> dict[str, Any]:
    """Return one configuration drawn by the Optuna ``trial`` from ``SEARCH_SPACE``."""
    return {
        "lr": trial.suggest_float("lr", *SEARCH_SPACE["lr"], log=True),
        "momentum": trial.suggest_float("momentum", *SEARCH_SPACE["momentum"]),
        "batch_size": trial.suggest_categorical("batch_size", SEARCH_SPACE["batch_size"]),
        "hidden": trial.suggest_categorical("hidden", SEARCH_SPACE["hidden"]),
    }


def make_objective(splits: data.MNISTSplits, trial_epochs: int, seed: int, weight_decay: float = 5e-4,
                   device: torch.device | str = "cpu") -> Callable:
    """Return an Optuna objective: train the suggested MLP for ``trial_epochs`` (one-cycle) and
    return its final validation accuracy, reporting it after every epoch so weak trials are pruned."""
    import optuna

    def objective(trial: "optuna.Trial") -> float:
        cfg = suggest(trial)
        runtime.seed_everything(seed)
        tl = data.TensorLoader(splits.train_images, splits.train_labels, cfg["batch_size"], shuffle=True, seed=seed)
        vl = data.TensorLoader(splits.val_images, splits.val_labels, 1000)
        model = models.MLP(hidden=hidden_from(cfg["hidden"]))

        def report(_model, row):
            trial.report(row["val_accuracy"], row["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned(f"validation accuracy {row['val_accuracy']:.4f} after epoch {row['epoch']}")

        try:
            hist = train.fit(model, tl, vl, epochs=trial_epochs, lr=cfg["lr"], momentum=cfg["momentum"],
                             weight_decay=weight_decay, schedule="onecycle", device=device, progress=False,
                             log_every=None, verbose=False, on_epoch_end=report)
        except train.TrainingDiverged:
            raise optuna.TrialPruned("the loss became NaN")
        return hist[-1]["val_accuracy"]

    return objective


def open_study(storage: str, study_name: str, seed: int, worker: int = 0):
    """Return the Optuna study ``study_name`` at ``storage``, created if new, with a seeded TPE sampler
    (seed + 1000 × ``worker``, so concurrent workers draw different trials) and a pruner that stops
    trials in the bottom quarter after their first epoch."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)  # no timestamped info lines in the notebook
    if storage.startswith("sqlite:"):
        engine = {"connect_args": {"timeout": 60}}
        storage_obj = optuna.storages.RDBStorage(storage, engine_kwargs=engine)
    else:
        storage_obj = storage
    sampler = optuna.samplers.TPESampler(seed=seed + 1000 * worker, n_startup_trials=6)
    pruner = optuna.pruners.PercentilePruner(25.0, n_startup_trials=4, n_warmup_steps=0)
    return optuna.create_study(storage=storage_obj, study_name=study_name, direction="maximize", sampler=sampler,
                               pruner=pruner, load_if_exists=True)


def finished_trials(study) -> list:
    """Return the study's trials that are complete or pruned, in trial order."""
    return [t for t in study.get_trials(deepcopy=False) if t.state.name in FINISHED]


def run_study(study, objective: Callable, n_trials: int) -> int:
    """Run trials until the study holds ``n_trials`` finished (complete or pruned) ones; return how
    many this call ran. A study that already has them runs nothing (a resumed run)."""
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    remaining = n_trials - len(finished_trials(study))
    if remaining <= 0:
        return 0
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    mine: list[int] = []  # trials run by this process (other workers' are not counted)
    study.optimize(objective, n_trials=remaining, gc_after_trial=False,
                   callbacks=[MaxTrialsCallback(n_trials, states=(TrialState.COMPLETE, TrialState.PRUNED)),
                              lambda _study, trial: mine.append(trial.number)])
    return len(mine)


def trials_table(study) -> list[dict[str, Any]]:
    """Return one row per finished trial: number, state, the knobs, validation accuracy, epochs run."""
    rows = []
    for t in finished_trials(study):
        value = t.value if t.value is not None else (max(t.intermediate_values.values())
                                                     if t.intermediate_values else None)
        rows.append({"number": t.number, "state": t.state.name.lower(), **t.params, "val_accuracy": value,
                     "epochs": len(t.intermediate_values)})
    return rows
