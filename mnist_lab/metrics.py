"""Accuracy, confusion matrix, per-class precision/recall, and comparing runs over seeds."""

from __future__ import annotations

import torch


def accuracy(preds: torch.Tensor, labels: torch.Tensor) -> float:
    """Return the fraction of ``preds`` equal to ``labels`` (0.0 for empty input). Notebook 06 computes the test
    accuracy with it."""
    if labels.numel() == 0:
        return 0.0
    return (preds == labels).float().mean().item()


def confusion_matrix(preds: torch.Tensor, labels: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Return the ``(num_classes, num_classes)`` int64 matrix: row = true class, column = prediction. Notebook 06
    counts it by hand; notebook 06b reads it digit by digit."""
    for name, values in (("labels", labels), ("predictions", preds)):
        if values.numel() and (values.min() < 0 or values.max() >= num_classes):
            raise ValueError(
                f"confusion_matrix: {name} must be classes 0 to {num_classes - 1}, but range from "
                f"{int(values.min())} to {int(values.max())}; pass num_classes= to count more classes."
            )
    idx = labels.long() * num_classes + preds.long()
    return torch.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def precision_recall(cm: torch.Tensor) -> list[dict[str, float]]:
    """Return per class ``{"class", "precision", "recall", "f1", "support"}`` from a confusion matrix.

    A class never predicted has precision 0.0 (and likewise recall for a class never present).
    Notebook 06b writes it from the formulas and prints it per digit.
    """
    cm = cm.double()
    tp, predicted, actual = cm.diag(), cm.sum(0), cm.sum(1)
    precision, recall = tp / predicted.clamp(min=1), tp / actual.clamp(min=1)  # 0 where nothing is there to count
    f1 = 2 * precision * recall / (precision + recall).clamp(min=1e-12)
    names = ("precision", "recall", "f1")
    rows = [dict(zip(names, values)) for values in torch.stack([precision, recall, f1], 1).tolist()]
    return [{"class": k, **row, "support": int(actual[k])} for k, row in enumerate(rows)]


def most_confused(cm: torch.Tensor, k: int = 5) -> list[tuple[int, int, int]]:
    """Return the ``k`` largest off-diagonal cells as ``(true, predicted, count)``, largest first. Notebook 06 lists the
    most confused pairs with it."""
    off = cm.clone()
    off.fill_diagonal_(0)
    values, flat = off.flatten().sort(descending=True)
    n = cm.shape[0]
    return [(int(i) // n, int(i) % n, int(v)) for v, i in zip(values[:k], flat[:k]) if v > 0]


def mean_std(values: list[float]) -> tuple[float, float]:
    """Return the mean and standard deviation of one value per seed (0.0 for a single seed), as notebook 05b
    computes them by hand for its ablation. Notebook 10b reports its ablation with it."""
    values = torch.tensor(values)
    return values.mean().item(), values.std().item() if len(values) > 1 else 0.0


def seed_verdict(gain: float, noise: float) -> str:
    """Return the course's reading of a difference between two rows (notebook 05b's noise rule): clear when it is
    larger than ``noise``, their standard deviations over seeds added together. Notebooks 10b and 11c use it too."""
    return "clear gain" if gain > noise else "clear loss" if gain < -noise else "within the seed spread"
