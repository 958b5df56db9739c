"""The training loop: ``train_one_epoch``, ``evaluate``, ``fit``, and checkpoints.

The loop is the one notebook 03 writes out by hand (``zero_grad``, forward, loss,
``backward``, ``step``), with a history, a progress bar, periodic loss printing,
per-epoch checkpoints, a stop on a non-finite loss, and exact resume.
"""

from __future__ import annotations

import copy
import math
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from . import runtime
from .models import build_model

CHECKPOINT_FORMAT = "mnist_lab.checkpoint"
CHECKPOINT_VERSION = 1

#: The course's default MLP recipe (batch 32): SGD with momentum and a one-cycle schedule.
#: 10 epochs take the 784-128-64-10 MLP to about 98.4% test accuracy (notebook 03).
DEFAULT_RECIPE = {"epochs": 10, "lr": 0.05, "momentum": 0.9, "weight_decay": 5e-4, "schedule": "onecycle"}

SCHEDULES = ("none", "onecycle", "cosine", "step")


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite. The message suggests a smaller learning rate. Notebook 03 shows it with a
    learning rate too large."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``. ``.history`` and ``.checkpoint`` hold the last completed epoch. Notebook 03 interrupts and
    resumes ``fit`` in an exercise."""

    def __init__(self, message: str, history: list, checkpoint: dict | None, path: Path | None) -> None:
        super().__init__(message)
        self.history, self.checkpoint, self.path = history, checkpoint, path


class CheckpointError(ValueError):
    """A checkpoint cannot be used: unknown format or version, or it does not fit the model."""


def make_schedule(
    name: str | None, optimizer: torch.optim.Optimizer, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """Return torch's per-step learning-rate schedule ``name`` over ``total_steps`` steps, or ``None`` for "none".

    "onecycle": ``OneCycleLR``, up from lr/25 to lr over the first 15% of the steps, then a cosine down to
    ~0 (momentum kept as given); "cosine": ``CosineAnnealingLR`` from lr to 0; "step": ``MultiStepLR``,
    lr × 0.1 at 50% and 75% of the steps. Notebook 03 explains the one-cycle schedule and prints it; notebook 07
    calls this in its objective.
    """
    name = (name or "none").lower()
    total = max(1, int(total_steps))
    lr = optimizer.param_groups[0]["lr"]
    if name == "none":
        return None
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimizer, max_lr=lr, total_steps=total, pct_start=0.15, cycle_momentum=False
        )
    if name == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total)
    if name == "step":
        return torch.optim.lr_scheduler.MultiStepLR(optimizer, [total // 2, total * 3 // 4], gamma=0.1)
    raise ValueError(f"schedule={name!r} is not known; use one of {list(SCHEDULES)}.")


def _progress(total: int, desc: str, enabled: bool):
    """Return a tqdm.auto bar (a widget in JupyterLab, text elsewhere), or ``None`` when off.

    Finished bars stay, at 100% (``leave=True``): a saved notebook keeps their final text
    (``widget_outputs``), and a student sees the same thing live.
    """
    if not enabled:
        return None
    from tqdm.auto import tqdm

    # At most ~10 redraws per epoch: each redraw of a widget bar is a few kernel messages, and a
    # client that reads them only after a long cell (nbval) loses them past ZeroMQ's queue limit.
    return tqdm(total=total, desc=desc, leave=True, mininterval=0.5, miniters=max(1, total // 10), dynamic_ncols=True)


def train_one_epoch(
    model: nn.Module,
    loader: Iterable,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable | None = None,
    device: torch.device | str = "cpu",
    scheduler: Any = None,
    log_every: int | None = None,
    progress: bool = False,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    epoch: int = 1,
) -> dict[str, float]:
    """Train ``model`` for one pass over ``loader``; return ``{"loss", "accuracy", "samples"}``.

    Prints the mean loss since the epoch began every ``log_every`` steps. Raises ``TrainingDiverged``
    at the first step whose loss is NaN or infinite. One epoch of the loop notebook 03 writes out by hand.
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    model.train()
    device = torch.device(device)
    total_loss, correct, seen = 0.0, 0, 0
    n_steps = len(loader) if hasattr(loader, "__len__") else None
    bar = _progress(n_steps or 0, f"epoch {epoch}", progress)
    for step, (images, labels) in enumerate(loader, start=1):
        images, labels = images.to(device), labels.to(device)
        if augment is not None:
            images = augment(images)
        optimizer.zero_grad()
        logits = model(images)
        loss = loss_fn(logits, labels)
        value = loss.item()
        _check_finite(value, epoch, step, optimizer)  # every step: stop at the first NaN
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += value * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
        if log_every and step % log_every == 0:  # the mean since the epoch began, as notebook 03's loop prints
            _write(f"epoch {epoch} step {step:>5}/{n_steps or '?'}  loss {total_loss / seen:.4f}", bar)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if seen == 0:
        raise ValueError("The training loader yielded no batches: check the data split and batch size.")
    return {"loss": total_loss / seen, "accuracy": correct / seen, "samples": seen}


def _write(line: str, bar) -> None:
    """Print ``line`` without breaking the progress bar."""
    if bar is not None:
        bar.write(line)
    else:
        print(line, flush=True)


def _check_finite(value: float, epoch: int, step: int | None, optimizer: torch.optim.Optimizer) -> None:
    """Raise ``TrainingDiverged`` with advice if ``value`` is NaN or infinite."""
    if math.isfinite(value):
        return
    lr = optimizer.param_groups[0]["lr"]
    raise TrainingDiverged(
        f"The training loss became {value} in epoch {epoch} (by step {step}) with learning rate {lr:g}. "
        f"The weights blew up: try a smaller learning rate, e.g. lr={lr / 10:g}."
    )


@torch.no_grad()
def evaluate(model: nn.Module, loader: Iterable, device: torch.device | str = "cpu") -> dict[str, float]:
    """Return ``{"loss", "accuracy", "samples"}`` of ``model`` on ``loader`` (``model.eval()``, no gradients; the
    cross-entropy loss). Notebook 03 writes it out as ``validate``."""
    model.eval()
    device = torch.device(device)
    total, correct, seen = torch.zeros((), device=device), torch.zeros((), dtype=torch.long, device=device), 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        total += nn.functional.cross_entropy(logits, labels, reduction="sum")
        correct += (logits.argmax(1) == labels).sum()
        seen += labels.shape[0]
    return {"loss": total.item() / max(seen, 1), "accuracy": correct.item() / max(seen, 1), "samples": seen}


@torch.no_grad()
def predict(
    model: nn.Module, loader: Iterable, device: torch.device | str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(logits, labels)`` of ``model`` over ``loader``, both on the CPU (notebook 04 writes this loop).

    Each batch moves to the model's device and its logits come back, so they can be compared with
    labels, indexed into images or plotted wherever the model ran.
    """
    model.eval()
    all_logits, all_labels = [], []
    for images, labels in loader:
        all_logits.append(model(images.to(device)).cpu())
        all_labels.append(labels.cpu())
    return torch.cat(all_logits), torch.cat(all_labels)


def set_epoch(loader: Any, epoch: int) -> None:
    """Tell a loader (or its sampler) which epoch's shuffle order to use next (notebook 03 says why ``fit`` does)."""
    for obj in (loader, getattr(loader, "sampler", None)):
        if hasattr(obj, "set_epoch"):
            obj.set_epoch(epoch)
            return


def fit(
    model: nn.Module,
    train_loader: Iterable,
    val_loader: Iterable | None = None,
    epochs: int = 1,
    lr: float = 0.01,
    momentum: float = 0.0,
    weight_decay: float = 0.0,
    schedule: str | None = "none",
    loss_fn: Callable | None = None,
    device: torch.device | str | None = None,
    log_every: int | None = 500,
    progress: bool = True,
    checkpoint_path: str | os.PathLike | None = None,
    resume: str | os.PathLike | dict | None = None,
    augment: Callable[[torch.Tensor], torch.Tensor] | None = None,
    params: dict | None = None,
    verbose: bool = True,
    on_epoch_end: Callable[[nn.Module, dict], None] | None = None,
) -> list[dict[str, float]]:
    """Train for ``epochs`` epochs; return the history, one dict per epoch.

    Each entry: ``epoch, train_loss, train_accuracy, val_loss, val_accuracy, lr, seconds``.
    With ``checkpoint_path`` a checkpoint is written atomically after every epoch.
    ``resume`` (a checkpoint path or dict) continues where it stopped and gives the
    same result as an uninterrupted run with the same seed on the same machine.

    A NaN/infinite loss raises ``TrainingDiverged``; the model, optimizer, schedule and random state are
    put back to the last completed epoch, and that epoch's checkpoint is kept. Ctrl-C raises
    ``TrainingInterrupted`` carrying the history and the last completed epoch.
    ``on_epoch_end(model, row)`` is called after each epoch (e.g. to add a test accuracy to ``row``).
    Notebook 03 explains what it adds to the loop written out by hand.
    """
    device = torch.device(device) if device is not None else runtime.choose_device()
    model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    sched = make_schedule(schedule, opt, epochs * len(train_loader))
    history, start = _resume(resume, model, opt, sched, epochs, verbose)
    last_good = make_checkpoint(model, start - 1, history, opt, sched, params=params)
    if checkpoint_path is not None:
        _check_rebuildable(last_good, Path(checkpoint_path))  # before training, not after an epoch
    epoch = start
    try:
        for epoch in range(start, epochs + 1):
            set_epoch(train_loader, epoch)
            row = _train_and_validate(
                model, train_loader, val_loader, opt, sched, loss_fn, device, augment, epoch, log_every, progress
            )
            if on_epoch_end is not None:
                on_epoch_end(model, row)
            history.append(row)
            last_good = make_checkpoint(model, epoch, history, opt, sched, params=params)
            if checkpoint_path is not None:
                _write_checkpoint(checkpoint_path, last_good)
            if verbose:
                print(_epoch_line(row, epochs), flush=True)
    except TrainingDiverged as exc:
        _restore(last_good, model, opt, sched)  # weights, momentum, schedule and random state
        kept = f" Its checkpoint is kept in {checkpoint_path}." if checkpoint_path and last_good["epoch"] else ""
        raise TrainingDiverged(f"{exc} The model was put back to epoch {last_good['epoch']}.{kept}") from None
    except KeyboardInterrupt:
        _load_weights(model, last_good)
        raise _interrupted(epoch, history, last_good, checkpoint_path) from None
    return history


def _resume(resume, model: nn.Module, opt, sched, epochs: int, verbose: bool) -> tuple[list[dict], int]:
    """Return ``(history, first epoch)``: ``([], 1)``, or after putting back the state of checkpoint ``resume``."""
    if resume is None:
        return [], 1
    ckpt = resume if isinstance(resume, dict) else load_checkpoint(resume)[1]
    _restore(ckpt, model, opt, sched)
    if verbose:
        print(f"Resuming after epoch {ckpt['epoch']} of {epochs}.")
    return [dict(row) for row in ckpt["history"]], int(ckpt["epoch"]) + 1


def _interrupted(epoch: int, history: list, last_good: dict, path) -> TrainingInterrupted:
    """Return the ``TrainingInterrupted`` of Ctrl-C during ``epoch`` (the model already holds ``last_good``)."""
    where = f", saved in {path}" if path is not None and last_good["epoch"] > 0 else ""
    return TrainingInterrupted(
        f"Training was interrupted during epoch {epoch}. The history and weights of the last completed epoch "
        f"({last_good['epoch']}{where}) are kept; continue with fit(..., resume=...).",
        history,
        last_good,
        path,
    )


def _epoch_line(row: dict, epochs: int) -> str:
    """Return "epoch 1/10  train loss 0.5381  train acc 0.8303  val loss 0.2105  val acc 0.9366"."""
    names = {
        "train_loss": "train loss",
        "train_accuracy": "train acc",
        "val_loss": "val loss",
        "val_accuracy": "val acc",
    }
    shown = [f"{name} {row[key]:.4f}" for key, name in names.items() if key in row]
    return f"epoch {row['epoch']}/{epochs}  " + "  ".join(shown)


def _train_and_validate(
    model, train_loader, val_loader, opt, sched, loss_fn, device, augment, epoch, log_every, progress
) -> dict[str, float]:
    """Train one epoch, then evaluate on ``val_loader``; return the history row of that epoch."""
    t0, lr_now = time.perf_counter(), opt.param_groups[0]["lr"]
    train = train_one_epoch(model, train_loader, opt, loss_fn, device, sched, log_every, progress, augment, epoch)
    row = {"epoch": epoch, "train_loss": train["loss"], "train_accuracy": train["accuracy"], "lr": lr_now}
    if val_loader is not None:
        val = evaluate(model, val_loader, device=device)
        row.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
    row["seconds"] = time.perf_counter() - t0
    return row


def make_checkpoint(
    model: nn.Module,
    epoch: int = 0,
    history: list | None = None,
    optimizer: torch.optim.Optimizer | None = None,
    scheduler: Any = None,
    metrics: dict | None = None,
    params: dict | None = None,
) -> dict:
    """Return a checkpoint dict (a deep copy, safe to keep while training goes on). Any ``nn.Module`` can be
    kept in memory; one written to a file needs the ``.config`` of an ``mnist_lab.models`` network."""
    config = getattr(model, "config", None)
    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model_config": copy.deepcopy(config),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizer_state": copy.deepcopy(optimizer.state_dict()) if optimizer is not None else None,
        "scheduler_state": copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None,
        "epoch": int(epoch),
        "history": copy.deepcopy(history or []),
        "metrics": copy.deepcopy(metrics or {}),
        "params": copy.deepcopy(params or {}),
        "rng_state": torch.get_rng_state(),
        "cuda_rng_state": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        "torch_version": str(torch.__version__),
    }


def _restore(checkpoint: dict, model: nn.Module, optimizer: torch.optim.Optimizer, schedule: Any) -> None:
    """Put the model, the optimizer (momentum), the schedule's position and the random generators back as
    they were in ``checkpoint``. The schedule's length follows the current run, so a run can be extended."""
    _load_weights(model, checkpoint)
    optimizer.load_state_dict(checkpoint["optimizer_state"])  # its tensors follow the parameters' device
    if schedule is not None and checkpoint.get("scheduler_state") is not None:
        position = ("last_epoch", "_step_count", "_last_lr", "_get_lr_called_within_step")
        schedule.load_state_dict({k: v for k, v in checkpoint["scheduler_state"].items() if k in position})
    torch.set_rng_state(checkpoint["rng_state"].cpu())  # set_rng_state takes a CPU ByteTensor only
    cuda_states = checkpoint.get("cuda_rng_state")
    if cuda_states is not None and torch.cuda.is_available() and len(cuda_states) == torch.cuda.device_count():
        torch.cuda.set_rng_state_all([state.cpu() for state in cuda_states])


def _check_rebuildable(checkpoint: dict, path: Path) -> None:
    """Refuse to write a file for a model that ``load_checkpoint`` could not rebuild (no ``.config``)."""
    if checkpoint["model_config"] is None:
        raise CheckpointError(
            f"Not written to {path}: the model has no .config, so it could not be rebuilt from the file. Build it "
            "with mnist_lab.models, or train it without checkpoint_path."
        )


def _write_checkpoint(path: str | os.PathLike, checkpoint: dict) -> Path:
    """Write ``checkpoint`` atomically, after checking that it loads back with ``weights_only=True``; a
    value that would not (a NumPy number in the history, say) raises ``CheckpointError``, the old file kept."""
    path = Path(path)
    _check_rebuildable(checkpoint, path)
    with runtime.atomic_path(path) as tmp:
        torch.save(checkpoint, tmp)
        try:
            torch.load(tmp, map_location="cpu", weights_only=True)
        except Exception as exc:
            raise CheckpointError(
                f"Not written to {path}: the checkpoint holds a value that torch.load(weights_only=True) refuses "
                f"({exc.__class__.__name__}: {str(exc).splitlines()[0]}). Keep history, metrics and parameters to "
                f"plain Python numbers, strings, lists and dicts (float(x) for a NumPy number)."
            ) from None
    return path


def save_checkpoint(path: str | os.PathLike, model: nn.Module, **kwargs) -> Path:
    """Write ``model`` (+ epoch, history, metrics, params, optimizer…; see ``make_checkpoint``) to ``path``
    atomically; return the path."""
    return _write_checkpoint(path, make_checkpoint(model, **kwargs))


def load_checkpoint(path: str | os.PathLike, model: nn.Module | None = None) -> tuple[nn.Module, dict]:
    """Return ``(model, checkpoint)`` from ``path`` (loaded on the CPU with ``weights_only=True`` and checked):
    the weights put into ``model``, or into a model built from the checkpoint's config.

    Raises ``FileNotFoundError`` naming the path when it is missing, and ``CheckpointError`` for another
    kind of file, an unknown or newer format version, or weights that do not fit ``model``.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}. Train one first (notebook 03 or `make run`).")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise CheckpointError(f"{path} cannot be read as a checkpoint ({type(exc).__name__}: {exc}).") from exc
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not an mnist_lab checkpoint (no format tag {CHECKPOINT_FORMAT!r}).")
    version = ckpt.get("version")
    if not isinstance(version, int) or version > CHECKPOINT_VERSION or version < 1:
        raise CheckpointError(
            f"{path} has checkpoint format version {version!r}; this mnist_lab reads versions 1 to "
            f"{CHECKPOINT_VERSION}. Update mnist_lab (git pull; make setup) or retrain the model."
        )
    model = model if model is not None else build_model(ckpt["model_config"])
    return _load_weights(model, ckpt), ckpt


def _load_weights(model: nn.Module, checkpoint: dict) -> nn.Module:
    """Load the checkpoint's weights into ``model``; a mismatch raises ``CheckpointError`` with torch's list of
    every missing, unexpected or differently shaped tensor."""
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:
        raise CheckpointError(
            f"The checkpoint (model config {checkpoint.get('model_config')}) does not fit this model "
            f"(config {getattr(model, 'config', None)}): {exc}"
        ) from None
    return model
