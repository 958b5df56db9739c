"""The course's figures, saved here once a notebook has drawn them. Each function returns the figure and, given
``path``, also saves it there as a PNG."""

from __future__ import annotations

import math
import os
from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch

from . import runtime


def save_figure(fig: plt.Figure, path: str | os.PathLike | None) -> None:
    """Save ``fig`` as a PNG at ``path`` (nothing when ``path`` is None). Notebook 01 saves the figures it draws itself
    with it; the plot functions here call it with their ``path``."""
    if path is not None:
        runtime.replace_file(path, lambda tmp: fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight"))


def _finish(fig: plt.Figure, path: str | os.PathLike | None, title: str | None = None, **adjust) -> plt.Figure:
    """Give ``fig`` its title and tight layout (then ``subplots_adjust(**adjust)``), save it to ``path``; return it."""
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if adjust:
        fig.subplots_adjust(**adjust)
    save_figure(fig, path)
    return fig


def plot_digit_grid(images: torch.Tensor, labels=None, preds=None, ncols=8, title=None, probs=None, path=None):
    """Return a grid of digits with their labels (and predictions, red when wrong). Notebook 01 shows a batch with it;
    notebook 06b the mistakes."""
    images = images.detach().cpu().reshape(-1, 28, 28)
    n = images.shape[0]
    ncols = max(1, min(ncols, n))
    nrows = max(1, -(-n // ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(1.3 * ncols, 1.5 * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        ax.imshow(images[i].numpy(), cmap="gray_r", vmin=0, vmax=1)
        parts = [f"{int(labels[i])}" if labels is not None else "", f"→{int(preds[i])}" if preds is not None else ""]
        if probs is not None:
            parts.append(f" {math.floor(float(probs[i]) * 1000) / 10:.1f}%")  # rounded down: 99.96% is not "100%"
        wrong = preds is not None and labels is not None and int(preds[i]) != int(labels[i])
        ax.set_title("".join(parts), fontsize=9, color="crimson" if wrong else "black")
    return _finish(fig, path, title)


def plot_curves(histories: dict[str, list[dict]] | list[dict], path: str | os.PathLike | None = None) -> plt.Figure:
    """Return loss and accuracy (in %) against epoch, training dashed and validation solid, for one or more
    histories. Notebook 04 draws its learning curves with it."""
    if isinstance(histories, list):
        histories = {"model": histories}
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, hist) in enumerate(histories.items()):
        color = f"C{i}"
        epochs = [h["epoch"] for h in hist]
        ax_loss.plot(epochs, [h["train_loss"] for h in hist], "--", color=color, label=f"{name} train")
        ax_acc.plot(epochs, [100 * h["train_accuracy"] for h in hist], "--", color=color, label=f"{name} train")
        if hist and "val_loss" in hist[0]:
            ax_loss.plot(epochs, [h["val_loss"] for h in hist], "-", color=color, label=f"{name} validation")
            ax_acc.plot(epochs, [100 * h["val_accuracy"] for h in hist], "-", color=color, label=f"{name} validation")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss", yscale="log")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="Accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        ax.xaxis.get_major_locator().set_params(integer=True)  # epochs are whole numbers
    return _finish(fig, path)


def plot_variants(rows: dict[str, torch.Tensor], path=None, title: str | None = None) -> plt.Figure:
    """Return a grid with one named row per variant of the same digits (e.g. original, blurred, noisy). Notebook 01b
    shows processed digits with it."""
    names = list(rows)
    ncols = rows[names[0]].shape[0]
    fig, axes = plt.subplots(len(names), ncols, figsize=(1.1 * ncols + 1.2, 1.15 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        imgs = rows[name].detach().cpu().reshape(-1, 28, 28)
        for c in range(ncols):
            ax = axes[r, c]
            ax.imshow(imgs[c].numpy(), cmap="gray_r", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    return _finish(fig, path, title)


def plot_readings(rows: dict[str, torch.Tensor], guesses: dict, labels: Sequence[int], path=None, title=None):
    """Return a grid with one named row per way of making the 28×28 images, each image under every
    model's guess (``guesses[row][model]``), a guess in red when it differs from the label.
    Notebook 12b shows what the models read with it."""
    names, n = list(rows), len(labels)
    fig, axes = plt.subplots(len(names), n, figsize=(1.25 * n + 1.6, 1.9 * len(names)), squeeze=False)
    for r, name in enumerate(names):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(rows[name][c].reshape(28, 28).numpy(), cmap="gray_r", vmin=0, vmax=1)
            ax.set(xticks=[], yticks=[])
            said = [(model, int(g[c])) for model, g in guesses[name].items()]
            style = {"transform": ax.transAxes, "ha": "center", "va": "bottom", "fontsize": 8}
            for i, (model, guess) in enumerate(reversed(said)):  # one line per model, red when wrong
                color = "crimson" if guess != int(labels[c]) else "black"
                ax.text(0.5, 1.03 + 0.2 * i, f"{model} {guess}", color=color, **style)
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center", fontsize=9)
    return _finish(fig, path, title, hspace=0.6, top=0.78)  # room for the guesses above each image


def plot_probabilities(probs: dict[str, torch.Tensor], path=None, title: str | None = None) -> plt.Figure:
    """Return one bar chart of the 10 class probabilities per name, the most likely digit in red. Notebook 12b shows the
    models' probabilities with it."""
    fig, axes = plt.subplots(1, len(probs), figsize=(2.6 * len(probs), 2.4), squeeze=False, sharey=True)
    for ax, (name, p) in zip(axes[0], probs.items()):
        p = p.detach().cpu()
        guess = int(p.argmax())
        ax.bar(range(10), p.numpy(), color=["crimson" if d == guess else "tab:blue" for d in range(10)])
        ax.set_xticks(range(10))
        ax.set_ylim(0, 1)
        ax.set_title(f"{name}: {guess}", fontsize=9)
    axes[0, 0].set_ylabel("probability")
    return _finish(fig, path, title)
