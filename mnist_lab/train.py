"""The training loop of notebooks 04, 04b and 05, saved: one epoch, evaluation, ``fit``, and checkpoints.

``train_one_epoch`` is the loop notebook 04 writes by hand (``zero_grad``, forward, loss, ``backward``, ``step``);
``fit`` repeats it for several epochs with a history, a checkpoint after every epoch, a stop at the first NaN
loss, and Ctrl-C that keeps the last finished epoch so training can resume from it.
"""

from __future__ import annotations

import copy
import io
import math
import os
import sys
import time
from pathlib import Path

import torch
from torch import nn

from . import runtime
from .models import build_model

SCHEDULES = ("none", "onecycle", "cosine", "step")
SETTINGS = ("epochs", "lr", "momentum", "weight_decay", "schedule")  #: what a resumed run must repeat


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite; the message suggests a smaller learning rate. Notebook 11 catches it to
    score a trial whose loss blew up."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``: ``.history`` holds the finished epochs, and ``fit(..., resume=path)`` goes on."""

    def __init__(self, message: str, history: list[dict]) -> None:
        super().__init__(message)
        self.history = history


def make_schedule(name: str, optimizer: torch.optim.Optimizer, total_steps: int):
    """Return torch's learning-rate schedule ``name`` over ``total_steps`` steps (``None`` for "none"): "onecycle"
    warms up from lr/25 over 15% of the steps then falls along a cosine to about 0; "cosine" falls from lr to 0;
    "step" multiplies lr by 0.1 at half and at three quarters. Notebook 05 describes the one-cycle schedule;
    notebook 11 builds the schedule inside its training loop."""
    lr, total, schedules = optimizer.param_groups[0]["lr"], max(1, total_steps), torch.optim.lr_scheduler
    if name == "onecycle":
        return schedules.OneCycleLR(optimizer, max_lr=lr, total_steps=total, pct_start=0.15, cycle_momentum=False)
    if name == "cosine":
        return schedules.CosineAnnealingLR(optimizer, T_max=total)
    if name == "step":
        return schedules.MultiStepLR(optimizer, [total // 2, total * 3 // 4], gamma=0.1)
    if name != "none":
        raise ValueError(f"schedule={name!r} is not known: use one of {list(SCHEDULES)}.")
    return None


class _LiveLine(io.StringIO):
    """Where a progress bar writes in a notebook: one text output that updates in place in every front end
    (JupyterLab, Colab, VS Code) and keeps its last line in a headless run's saved notebook."""

    def __init__(self) -> None:
        super().__init__()
        from IPython.display import DisplayHandle

        self.handle, self.line, self.shown = DisplayHandle(), "", False

    def write(self, text: str) -> int:
        self.line = text.strip() or self.line
        return len(text)

    def flush(self) -> None:
        if self.line:
            (self.handle.update if self.shown else self.handle.display)({"text/plain": self.line}, raw=True)
            self.shown = True


def _progress(total: int, desc: str):
    """Return a tqdm bar: on one live text line in a notebook's kernel (``_LiveLine``), else on standard error."""
    from tqdm import tqdm

    try:
        from IPython import get_ipython

        in_kernel = getattr(get_ipython(), "kernel", None) is not None
    except ImportError:  # the library without Jupyter: a script
        in_kernel = False
    return tqdm(total=total, desc=desc, file=_LiveLine() if in_kernel else sys.stderr, mininterval=0.5, ascii=False)


def train_one_epoch(
    model: nn.Module, loader, optimizer, *, loss_fn=None, device="cpu", scheduler=None, augment=None,
    log_every: int | None = None, progress: bool = False, epoch: int = 1,
) -> dict[str, float]:  # fmt: skip
    """Train ``model`` for one pass over ``loader``; return the epoch's mean ``loss`` and ``accuracy``.

    ``augment`` changes each batch before the model sees it. ``log_every`` prints the mean loss so far every that many
    steps, ``progress`` shows a progress bar, and both print ``epoch`` as the epoch's number. Raises
    ``TrainingDiverged`` at the first NaN or infinite loss. Notebook 04 writes this loop by hand; notebook 11 runs a
    trial one epoch at a time with it, so that the pruner can judge the trial after each epoch.
    """
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    bar = _progress(len(loader), f"epoch {epoch}") if progress else None
    model.train()
    total_loss, correct, seen = 0.0, 0, 0
    for step, (images, labels) in enumerate(loader, start=1):
        images, labels = images.to(device), labels.to(device)
        if augment is not None:
            images = augment(images)
        optimizer.zero_grad()
        logits = model(images)
        loss = loss_fn(logits, labels)
        value = loss.item()
        if not math.isfinite(value):
            lr = optimizer.param_groups[0]["lr"]
            raise TrainingDiverged(
                f"The loss became {value} at step {step} of epoch {epoch}, with learning rate {lr:g} at that step: "
                "the weights blew up. Try a smaller learning rate."
            )
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += value * len(labels)
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
        if log_every and step % log_every == 0:
            print(f"epoch {epoch} step {step:>5}/{len(loader)}  loss {total_loss / seen:.4f}", flush=True)
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
        bar.fp.flush()  # the finished bar, also when it finished within mininterval
    if seen == 0:
        raise ValueError("The training loader gave no batches: check the data and the batch size.")
    return {"loss": total_loss / seen, "accuracy": correct / seen}


@torch.no_grad()
def evaluate(model: nn.Module, loader, device="cpu") -> dict[str, float]:
    """Return the mean cross-entropy ``loss`` and the ``accuracy`` of ``model`` on ``loader`` (``model.eval()``, no
    gradients). Notebook 04 writes it as ``validate``."""
    model.eval()
    total, correct, seen = 0.0, 0, 0
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        total += nn.functional.cross_entropy(logits, labels, reduction="sum").item()
        correct += (logits.argmax(1) == labels).sum().item()
        seen += len(labels)
    return {"loss": total / max(seen, 1), "accuracy": correct / max(seen, 1)}


@torch.no_grad()
def predict(model: nn.Module, loader, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Return ``(logits, labels)`` of ``model`` over ``loader``, both on the CPU, where they can meet labels, images
    and plots. Notebook 06 writes this loop (06b, 07b and 07c call it)."""
    model.eval()
    pairs = [(model(images.to(device)).cpu(), labels.cpu()) for images, labels in loader]
    return torch.cat([p[0] for p in pairs]), torch.cat([p[1] for p in pairs])


def _snapshot(model, optimizer, schedule, history: list[dict], settings: dict, recipe: dict | None) -> dict:
    """Return everything needed to rebuild the model and go on training: a checkpoint, safe to keep."""
    return {
        "model_config": copy.deepcopy(getattr(model, "config", None)),
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizer_state": copy.deepcopy(optimizer.state_dict()),  # its tensors stay on the model's device
        "scheduler_state": copy.deepcopy(schedule.state_dict()) if schedule is not None else None,
        "epoch": len(history),
        "history": copy.deepcopy(history),
        "settings": dict(settings),
        "recipe": copy.deepcopy(recipe or {}),
        "rng_state": torch.get_rng_state(),
    }


def _restore(checkpoint: dict, model, optimizer, schedule) -> list[dict]:
    """Put the model, the optimizer's momentum, the schedule and the random generator back as ``checkpoint`` holds
    them; return its history."""
    model.load_state_dict(checkpoint["state_dict"])
    optimizer.load_state_dict(checkpoint["optimizer_state"])
    if schedule is not None:
        schedule.load_state_dict(checkpoint["scheduler_state"])
    torch.set_rng_state(checkpoint["rng_state"])
    return [dict(row) for row in checkpoint["history"]]


def _resume(resume, settings: dict, model: nn.Module) -> dict:
    """Return the checkpoint to resume from (a path or a dict), after checking it was trained with ``settings`` and
    holds weights that fit ``model``, whatever ``nn.Module`` it is."""
    checkpoint = resume if isinstance(resume, dict) else read_checkpoint(resume)
    saved = checkpoint.get("settings", {})
    differ = {k: (saved.get(k), v) for k, v in settings.items() if saved.get(k) != v}
    if differ:
        said = ", ".join(f"{k}={old!r} (this call: {new!r})" for k, (old, new) in differ.items())
        raise ValueError(f"Cannot resume: the checkpoint was trained with {said}. Pass the same values to fit.")
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except (KeyError, RuntimeError) as exc:
        raise ValueError(f"Cannot resume: the checkpoint holds another model's weights ({exc}).") from None
    return checkpoint


def _epoch(model, train_loader, val_loader, opt, sched, epoch: int, device, options: dict) -> dict[str, float]:
    """Train one epoch and evaluate on ``val_loader``; return the history row of that epoch."""
    if hasattr(train_loader, "set_epoch"):
        train_loader.set_epoch(epoch)
    start, lr = time.perf_counter(), opt.param_groups[0]["lr"]
    train = train_one_epoch(model, train_loader, opt, device=device, scheduler=sched, epoch=epoch, **options)
    row = {"epoch": epoch, "train_loss": train["loss"], "train_accuracy": train["accuracy"], "lr": lr}
    if val_loader is not None:
        val = evaluate(model, val_loader, device)
        row.update(val_loss=val["loss"], val_accuracy=val["accuracy"])
    return {**row, "seconds": time.perf_counter() - start}


def _epoch_line(row: dict, epochs: int) -> str:
    """Return "epoch 1/10  train loss 0.5381  train acc 83.03%  val loss 0.2105  val acc 93.66%"."""
    shown = [(k.replace("_", " ").replace("accuracy", "acc"), v) for k, v in row.items() if k.endswith(("loss", "acy"))]
    return f"epoch {row['epoch']}/{epochs}  " + "  ".join(
        f"{k} {v:.2%}" if "acc" in k else f"{k} {v:.4f}" for k, v in shown
    )


def fit(model: nn.Module, train_loader, val_loader=None, *, epochs: int = 1, lr: float = 0.01, momentum: float = 0.0,
        weight_decay: float = 0.0, schedule: str = "none", device=None, checkpoint=None, resume=None,
        recipe: dict | None = None, on_epoch_end=None, verbose: bool = True, loss_fn=None, augment=None,
        log_every: int | None = None, progress: bool = False) -> list[dict]:  # fmt: skip
    """Train with SGD for ``epochs`` epochs; return the history, one row per epoch (losses, accuracies, lr, seconds).

    ``loss_fn``, ``augment``, ``log_every`` and ``progress`` go to ``train_one_epoch``. ``checkpoint`` is a file
    written after every epoch (with ``recipe``, what defines the model); ``resume`` (such a file) puts ``model``, its
    optimizer and schedule back as they were after its last epoch and goes on, with the same settings, to the same
    result as a run without a break. A NaN loss raises ``TrainingDiverged`` and Ctrl-C ``TrainingInterrupted``; both
    put the model back to the last finished epoch. ``on_epoch_end(model, row)`` may add to each row. Every argument
    after the loaders is named, and a misspelt one is a ``TypeError`` that names it. Notebook 05 shows what ``fit``
    adds to notebook 04's loop.
    """
    options = {"loss_fn": loss_fn, "augment": augment, "log_every": log_every, "progress": progress}
    device = torch.device(device) if device is not None else runtime.choose_device()
    settings = {"epochs": epochs, "lr": lr, "momentum": momentum, "weight_decay": weight_decay, "schedule": schedule}
    opt = torch.optim.SGD(model.to(device).parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay)
    sched = make_schedule(schedule, opt, epochs * len(train_loader))
    history = _restore(_resume(resume, settings, model), model, opt, sched) if resume is not None else []
    last = _snapshot(model, opt, sched, history, settings, recipe)
    try:
        for epoch in range(len(history) + 1, epochs + 1):
            row = _epoch(model, train_loader, val_loader, opt, sched, epoch, device, options)
            if on_epoch_end is not None:
                on_epoch_end(model, row)
            history.append(row)
            last = _snapshot(model, opt, sched, history, settings, recipe)
            if checkpoint is not None:
                save_checkpoint(checkpoint, last)
            if verbose:
                print(_epoch_line(row, epochs), flush=True)
    except TrainingDiverged as exc:
        _restore(last, model, opt, sched)
        advice = f" Here, e.g. lr={lr / 10:g} instead of {lr:g}. The model was put back to epoch {last['epoch']}."
        raise TrainingDiverged(str(exc) + advice) from None
    except KeyboardInterrupt:
        where = f", saved in {Path(checkpoint).name}" if checkpoint is not None and last["epoch"] else ""
        said = f"Training stopped during epoch {len(history) + 1}; the model is back at epoch {last['epoch']}{where}."
        said += " Go on with fit(..., resume=<that file>)." if where else ""
        raise TrainingInterrupted(said, _restore(last, model, opt, sched)) from None
    return history


def save_checkpoint(path: str | os.PathLike, checkpoint: dict) -> Path:
    """Write a checkpoint dict with ``torch.save`` (to a temporary file, then renamed: never half-written); return
    the path. Notebook 04b opens what ``fit`` saved this way."""
    return runtime.replace_file(path, lambda tmp: torch.save(checkpoint, tmp))


def read_checkpoint(path: str | os.PathLike) -> dict:
    """Return the checkpoint dict saved in ``path``, read on the CPU (``weights_only=True``). Errors name the file."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"No checkpoint at {path}.")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path} is not a checkpoint torch.load can read ({type(exc).__name__}: {exc}).") from exc


def load_checkpoint(path: str | os.PathLike, model: nn.Module | None = None) -> tuple[nn.Module, dict]:
    """Return ``(model, checkpoint)`` read from ``path`` (``read_checkpoint``): the weights go into ``model``, or into a
    model built from the checkpoint's ``model_config`` (the course's MLP or CNN). Errors name the file."""
    checkpoint = read_checkpoint(path)
    try:
        model = model if model is not None else build_model(checkpoint["model_config"])
        model.load_state_dict(checkpoint["state_dict"])
    except Exception as exc:
        raise ValueError(f"{path} holds weights this model cannot load ({type(exc).__name__}: {exc}).") from exc
    return model, checkpoint
