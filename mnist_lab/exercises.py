"""Self-checks for the exercises whose answer is a value.

``check_...(answer, ...)`` prints whether ``answer`` is right and returns ``True`` or ``False``; ``None`` (no
answer yet) says so and returns ``False``, so a notebook still runs top to bottom. Each check works the right
answer out from the data it is given, never from a stored number, so it holds for any parameters. The notebooks'
solutions show how to find each answer; they end with ``assert check_...(their answer, ...)``.
"""

from __future__ import annotations

import math

import torch

from . import metrics, models


def _verdict(answer, is_right, what: str) -> bool:
    """Print and return whether ``answer`` (``None``: not given yet) is ``what``, by the test ``is_right``."""
    if answer is None:
        print(f"No answer yet: replace None with {what}, then run this cell again.")
        return False
    try:
        right = bool(is_right(answer))
    except (TypeError, ValueError, IndexError):  # not a number, or not the pair asked for
        right = False
    print(f"Right: that is {what}." if right else f"Not quite: {answer!r} is not {what}. Read the hint again.")
    return right


def _digit(answer) -> int:
    """Return ``answer`` as a digit 0-9; raise ``ValueError`` for anything else (-1 would index digit 9)."""
    digit = int(answer)
    if digit != answer or not 0 <= digit <= 9:
        raise ValueError(f"{answer!r} is not a digit")
    return digit


def check_batches_per_epoch(answer, n_images: int, batch_size: int) -> bool:
    """Notebook 01, exercise 1: the number of batches of ``batch_size`` in one pass over ``n_images`` images."""
    return _verdict(answer, lambda a: a == math.ceil(n_images / batch_size), "the number of batches per epoch")


def check_pixel_stats(answer, images: torch.Tensor) -> bool:
    """Notebook 01, exercise 2: ``(mean, standard deviation)`` of the pixels of ``images`` (to 0.001)."""
    pixels = images.float()
    right = (pixels.mean().item(), pixels.std().item())

    def close(pair):
        return all(abs(float(x) - r) < 1e-3 for x, r in zip(pair, right, strict=True))

    return _verdict(answer, close, "the (mean, standard deviation) of these pixels")


def check_rarest_digit(answer, labels: torch.Tensor) -> bool:
    """Notebook 01, exercise 3: the digit with the fewest images among ``labels``."""
    counts = torch.bincount(labels, minlength=10)
    return _verdict(answer, lambda a: counts[_digit(a)] == counts.min(), "the rarest digit")


def check_parameter_count(answer, hidden: list[int]) -> bool:
    """Notebook 02, exercise 1: the number of parameters of ``models.MLP(hidden=hidden)``."""
    right = models.count_parameters(models.MLP(hidden=hidden))
    return _verdict(answer, lambda a: a == right, f"the parameter count of the MLP with hidden layers {list(hidden)}")


def check_lowest_recall(answer, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 04, exercise 1: the digit with the lowest recall (any of them, if several tie)."""
    recall = [row["recall"] for row in metrics.precision_recall(metrics.confusion_matrix(preds, labels))]
    return _verdict(answer, lambda a: recall[_digit(a)] == min(recall), "the digit with the lowest recall")


def check_confident_mistakes(answer, confidence: torch.Tensor, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 04, exercise 2: how many predictions are wrong with a confidence above 0.9."""
    right = int(((confidence > 0.9) & (preds != labels)).sum())
    return _verdict(answer, lambda a: a == right, "the number of mistakes made with over 90% confidence")


def check_trials_to_run(answer, study, n_trials: int) -> bool:
    """Notebook 07, exercise 1: how many trials a second run with ``n_trials`` executes on ``study``."""
    from optuna.trial import TrialState

    finished = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))
    right = max(0, n_trials - len(finished))  # as notebook 07's study cell computes it
    return _verdict(answer, lambda a: a == right, "the number of trials a second run executes")
