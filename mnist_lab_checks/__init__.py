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
    return _verdict(answer, lambda a: a in range(10) and counts[int(a)] == counts.min(), "the rarest digit")


def check_parameter_count(answer, hidden: list[int]) -> bool:
    """Notebook 02, exercise 1: the number of parameters of ``models.MLP(hidden=hidden)``."""
    right = models.count_parameters(models.MLP(hidden=hidden))
    return _verdict(answer, lambda a: a == right, f"the parameter count of the MLP with hidden layers {list(hidden)}")


def check_cross_entropy(answer, logits: list[float], label: int) -> bool:
    """Notebook 02, exercise 2: the cross-entropy of one image with these ``logits`` and true class ``label``."""
    right = torch.nn.functional.cross_entropy(torch.tensor([logits]), torch.tensor([label])).item()
    return _verdict(answer, lambda a: abs(float(a) - right) < 1e-3, "the cross-entropy of these logits")


def check_derivative(answer, w: float, x: float, b: float) -> bool:
    """Notebook 03, exercise 1: dL/dw of L = (w·x + b)² at these values (to 0.001), as autograd computes it."""
    w_ = torch.tensor(float(w), dtype=torch.float64, requires_grad=True)
    ((w_ * x + b) ** 2).backward()
    return _verdict(answer, lambda a: abs(float(a) - w_.grad.item()) < 1e-3, "dL/dw of (w·x + b)² at these values")


def check_logit_gradient(answer, logits: list[float], label: int, k: int) -> bool:
    """Notebook 03, exercise 2: the derivative of one image's cross-entropy with respect to logit ``k``."""
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.cross_entropy(z[None], torch.tensor([label])).backward()
    right = z.grad[k].item()
    return _verdict(answer, lambda a: abs(float(a) - right) < 1e-3, f"the derivative of the loss by logit {k}")


def check_blank_pixels(answer, images: torch.Tensor) -> bool:
    """Notebook 03, exercise 3: how many pixel positions are 0 in every one of ``images``."""
    right = int((images.reshape(len(images), -1) == 0).all(dim=0).sum())
    return _verdict(answer, lambda a: a == right, "the number of pixels blank in every image of the batch")


def check_initial_loss(answer, n_classes: int) -> bool:
    """Notebook 04, exercise 1: the cross-entropy of an untrained classifier of ``n_classes`` classes (to 0.01)."""
    right = math.log(n_classes)
    return _verdict(answer, lambda a: abs(float(a) - right) < 0.01, f"the initial loss with {n_classes} classes")


def check_training_steps(answer, n_images: int, batch_size: int, epochs: int) -> bool:
    """Notebook 04, exercise 2: the weight updates of ``epochs`` epochs over ``n_images`` images in batches of
    ``batch_size``."""
    right = epochs * math.ceil(n_images / batch_size)
    return _verdict(answer, lambda a: a == right, "the number of weight updates")


def check_momentum_factor(answer, momentum: float) -> bool:
    """Notebook 05, exercise 1: how many times longer than plain SGD's the steps with ``momentum`` become when the
    gradient stays the same (to 1%)."""
    right = 1 / (1 - momentum)
    return _verdict(answer, lambda a: abs(float(a) - right) < 0.01 * right, "how many times longer the steps become")


def check_schedule_peak(answer, total_steps: int, schedule: str = "onecycle") -> bool:
    """Notebook 05, exercise 2: the step (counted from 0, give or take 1) where ``schedule``'s learning rate peaks."""
    from . import train

    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    steps, lrs = train.make_schedule(schedule, probe, total_steps), []
    for _ in range(total_steps):
        lrs.append(probe.param_groups[0]["lr"])
        probe.step()
        if steps is not None:
            steps.step()
    right = max(range(total_steps), key=lrs.__getitem__)
    return _verdict(answer, lambda a: abs(float(a) - right) <= 1, "the step where the learning rate peaks")


def check_weight_left(answer, lr: float, weight_decay: float, steps: int) -> bool:
    """Notebook 05, exercise 3: the share of a weight left after ``steps`` steps of weight decay alone (to 0.01)."""
    right = (1 - lr * weight_decay) ** steps
    return _verdict(answer, lambda a: abs(float(a) - right) < 0.01, "the share of the weight left")


def check_lowest_recall(answer, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 06, exercise 1: the digit with the lowest recall (any of them, if several tie)."""
    recall = [row["recall"] for row in metrics.precision_recall(metrics.confusion_matrix(preds, labels))]
    return _verdict(
        answer, lambda a: a in range(10) and recall[int(a)] == min(recall), "the digit with the lowest recall"
    )


def check_confident_mistakes(answer, confidence: torch.Tensor, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 06, exercise 2: how many predictions are wrong with a confidence above 0.9."""
    right = int(((confidence > 0.9) & (preds != labels)).sum())
    return _verdict(answer, lambda a: a == right, "the number of mistakes made with over 90% confidence")


def check_gap_in_standard_errors(answer, val_logits, val_labels, test_logits, test_labels) -> bool:
    """Notebook 06, exercise 3: |test - validation accuracy| in standard errors of that difference (to 0.1)."""
    pairs = ((val_logits, val_labels), (test_logits, test_labels))
    (a, n), (b, m) = ((metrics.accuracy(z.argmax(1), y), len(y)) for z, y in pairs)
    right = abs(b - a) / math.sqrt(a * (1 - a) / n + b * (1 - b) / m)
    return _verdict(answer, lambda x: abs(float(x) - right) <= 0.051, "the gap in standard errors of the difference")


def check_first_mistake(answer, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 07, exercise 2: the index of the first test digit the model gets wrong."""
    wrong = (preds != labels).nonzero().flatten()
    right = int(wrong[0]) if len(wrong) else None
    return _verdict(answer, lambda a: int(a) == a and a == right, "the index of the first test digit it gets wrong")


def check_conv_output_size(answer, size: int, kernel: int, padding: int, stride: int) -> bool:
    """Notebook 08, exercise 1: the output height of a ``kernel``×``kernel`` convolution on ``size``×``size``."""
    x, w = torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel)
    right = torch.nn.functional.conv2d(x, w, padding=padding, stride=stride).shape[-1]
    return _verdict(answer, lambda a: a == right, "the output height of this convolution")


def check_conv_parameters(answer, c_in: int, c_out: int, kernel: int) -> bool:
    """Notebook 08, exercise 2: the number of parameters of ``nn.Conv2d(c_in, c_out, kernel)``."""
    right = models.count_parameters(torch.nn.Conv2d(c_in, c_out, kernel))
    return _verdict(answer, lambda a: a == right, f"the parameter count of nn.Conv2d({c_in}, {c_out}, {kernel})")


def check_smoothing_floor(answer, epsilon: float, classes: int = 10) -> bool:
    """Notebook 09, exercise 1: the lowest training loss that label smoothing ``epsilon`` allows (to 0.001)."""
    target = torch.full((1, classes), epsilon / classes)
    target[0, 0] += 1 - epsilon
    loss = torch.nn.CrossEntropyLoss(label_smoothing=epsilon)  # lowest where the probabilities equal the target
    right = loss(target.log(), torch.tensor([0])).item()
    return _verdict(answer, lambda a: abs(float(a) - right) < 1e-3, f"the floor of the loss with smoothing {epsilon}")


def check_cnn_parameter_count(answer, channels: list[int]) -> bool:
    """Notebook 09, exercise 2: the number of parameters of ``models.CNN(channels)``."""
    right = models.count_parameters(models.CNN(channels))
    return _verdict(answer, lambda a: a == right, f"the parameter count of the CNN with channels {list(channels)}")


def check_trials_to_run(answer, study, n_trials: int) -> bool:
    """Notebook 10, exercise 1: how many trials a run with ``n_trials`` executes on ``study``, the study its settings
    name (``None`` when there is none yet: the run creates it)."""
    from optuna.trial import TrialState

    states = (TrialState.COMPLETE, TrialState.PRUNED)
    finished = [] if study is None else study.get_trials(deepcopy=False, states=states)
    right = max(0, n_trials - len(finished))  # as notebook 10's run_trials computes it
    return _verdict(answer, lambda a: a == right, "the number of trials that run executes")


def check_box_centring_offset(answer, boxed) -> bool:
    """Notebook 11, exercise 2: how far (pixels, to 0.1) the centre of mass of ``boxed`` lies from the centre of a
    28×28 image when the box is pasted in its middle by its bounding box."""
    from .draw import center_of_mass

    (row, col), (h, w) = center_of_mass(boxed), boxed.shape
    right = math.dist(((28 - h) // 2 + row, (28 - w) // 2 + col), (13.5, 13.5))
    return _verdict(answer, lambda a: abs(float(a) - right) < 0.051, "the distance of the centre of mass from 13.5")
