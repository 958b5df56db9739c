"""The exercises' self-checks, the course's answer key: each tells "no answer yet", "not quite, and the usual
mistake behind it", or "right".

``check_...(answer, ...)`` prints its verdict and returns ``True`` or ``False``; it never raises, so a notebook still
runs top to bottom with ``answer = None``. Each check works the right answer out from what it is given, never from a
stored number, so it holds for any parameters; it also works out the values that the usual mistakes give (a floor
instead of a ceiling, log base 10 instead of e, a forgotten bias ...) and names the one it recognises. Code checks
run the student's function against PyTorch on fixed inputs and say which output or gradient differs, its shape and
the largest difference. The hints come in steps in the notebook; the worked solution is in its Solutions section.

A package of its own beside ``mnist_lab``: it holds the answers, which no lesson teaches and no student needs to
read, and the nbgrader assignments (``tools/make_assignments.py``) grade with it. A check cell imports its check:
``from mnist_lab_checks import check_batches_per_epoch``.
"""

from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F

from mnist_lab import metrics, models


def _number(value) -> float:
    """Return ``value`` (a number, a one-element tensor or array) as a float; raise TypeError for anything else."""
    if isinstance(value, (bool, str)) or value is None:
        raise TypeError(f"{value!r} is not a number")
    return float(value.detach() if torch.is_tensor(value) else value)


def _same(answer, value, tolerance: float) -> bool:
    """Return whether ``answer`` equals ``value`` (numbers, or tuples of numbers) within ``tolerance``."""
    try:
        if isinstance(value, tuple):
            return len(answer) == len(value) and all(_same(a, v, tolerance) for a, v in zip(answer, value))
        return abs(_number(answer) - _number(value)) <= tolerance
    except (TypeError, ValueError, RuntimeError):  # not a number, a tensor of several values, not the pair asked for
        return False


def _verdict(answer, right, what: str, mistakes=(), tolerance: float = 0.0) -> bool:
    """Print and return whether ``answer`` is ``right``, ``what`` the exercise asks for. ``mistakes`` holds
    ``(wrong value, the mistake that gives it)`` pairs; the first one ``answer`` equals is named."""
    if answer is None:
        print(f"No answer yet: replace None with {what}, then run this cell again.")
        return False
    if _same(answer, right, tolerance):
        print(f"Right: {answer!r} is {what}.")
        return True
    why = next((why for wrong, why in mistakes if _same(answer, wrong, tolerance)), None)
    print(f"Not quite: {answer!r} is not {what}. " + (why or "Open the next hint, or read the question again."))
    return False


def _compare(got: dict, want: dict, usual=()) -> bool:
    """Print, for each named result, its shape, whether it matches PyTorch's (``want``) and the largest difference,
    and the usual mistake (``usual``: ``(name, wrong tensor, mistake)``) that a mismatch equals; return whether all
    match."""
    ok, named = True, set()
    for name, expected in want.items():
        value = got.get(name)
        if not torch.is_tensor(value):
            print(f"{name}: missing (your function gave {type(value).__name__}); PyTorch's has shape "
                  f"{tuple(expected.shape)}")  # fmt: skip
            ok = False
            continue
        value, same_shape = value.detach().double(), value.shape == expected.shape
        match = same_shape and torch.allclose(value, expected.double(), rtol=1e-4, atol=1e-6)
        if same_shape:
            gap = f"largest difference {(value - expected).abs().max().item():.1e}"
            print(f"{name}: shape {tuple(value.shape)}, {'matches PyTorch' if match else 'differs'}, {gap}")
        else:
            print(f"{name}: shape {tuple(value.shape)}, but PyTorch's has shape {tuple(expected.shape)}")
        for where, wrong, mistake in () if match else usual:
            if where == name and value.shape == wrong.shape and torch.allclose(value, wrong.double(), 1e-4, 1e-6):
                print(f"    {mistake}" if mistake not in named else "    the same mistake")
                named.add(mistake)
                break
        ok = ok and match
    print("Right: every result matches PyTorch." if ok else "Not quite: start with the first result that differs.")
    return ok


def _run(function, *args):
    """Return ``function(*args)``, or None after printing what it raised (a stub returns None too)."""
    try:
        return function(*args)
    except Exception as exc:  # noqa: BLE001 - the student's code: report it, never stop the notebook
        print(f"Your function raised {type(exc).__name__}: {exc}")
        return None


# ----------------------------------------------------------------------------------------------------- notebook 01


def check_batches_per_epoch(answer, n_images: int, batch_size: int) -> bool:
    """Notebook 01, exercise 1: the number of batches of ``batch_size`` in one pass over ``n_images`` images."""
    mistakes = [
        (n_images // batch_size, "That rounds down: the last, smaller batch is a batch too (round up)."),
        (n_images / batch_size, "A number of batches is a whole number: round the division up."),
        (math.ceil(60_000 / batch_size), "That counts all 60,000 images of the file: validation is not training."),
    ]
    return _verdict(answer, math.ceil(n_images / batch_size), "the number of batches per epoch", mistakes)


def check_pixel_stats(answer, images: torch.Tensor) -> bool:
    """Notebook 01, exercise 2: ``(mean, standard deviation)`` of the pixels of ``images`` (floats in [0, 1]), to
    0.001."""
    pixels = images.float()
    mean, std = pixels.mean().item(), pixels.std().item()
    mistakes = [
        ((255 * mean, 255 * std), "Those are on the file's 0-255 scale: divide the pixels by 255 first."),
        ((std, mean), "Mean and standard deviation are swapped: give the mean first."),
    ]
    return _verdict(answer, (mean, std), "the (mean, standard deviation) of these pixels", mistakes, 1e-3)


def check_rarest_digit(answer, labels: torch.Tensor) -> bool:
    """Notebook 01, exercise 3: the digit with the fewest images among ``labels``."""
    counts = torch.bincount(labels, minlength=10)
    commonest = (int(counts.argmax()), "That is the commonest digit: the rarest has the fewest images.")
    rarest = [d for d in range(10) if counts[d] == counts.min()]
    right = answer if answer in rarest and not isinstance(answer, bool) else rarest[0]
    return _verdict(answer, right, "the rarest digit", [commonest])


# ----------------------------------------------------------------------------------------------------- notebook 02


def check_parameter_count(answer, hidden: list[int]) -> bool:
    """Notebook 02, exercise 1: the number of parameters of ``models.MLP(hidden=hidden)``."""
    widths = [784, *hidden, 10]
    weights = sum(a * b for a, b in zip(widths, widths[1:]))
    mistakes = [
        (weights, "That counts the weights only: each unit of a layer also has a bias."),
        (weights + sum(widths[:-1]), "Each layer has one bias per output, not per input."),
    ]
    right = models.count_parameters(models.MLP(hidden=hidden))
    return _verdict(answer, right, f"the parameter count of the MLP with hidden layers {list(hidden)}", mistakes)


def check_cross_entropy(answer, logits: list[float], label: int) -> bool:
    """Notebook 02, exercise 2: the cross-entropy of one image with these ``logits`` and true class ``label``."""
    p = torch.softmax(torch.tensor(logits, dtype=torch.float64), 0)[label].item()
    mistakes = [
        (-math.log10(p), "That uses log base 10: cross-entropy uses the natural log, ln (math.log)."),
        (p, "That is the probability of the right digit: the loss is minus its log."),
        (math.log(p), "The sign is flipped: the loss is minus the log of the probability."),
        (-logits[label], "That is minus the logit: turn the logits into probabilities with softmax first."),
    ]
    return _verdict(answer, -math.log(p), "the cross-entropy of these logits", mistakes, 1e-3)


# ----------------------------------------------------------------------------------------------------- notebook 03


def check_derivative(answer, w: float, x: float, b: float) -> bool:
    """Notebook 03, exercise 1: dL/dw of L = (w·x + b)² at these values (to 0.001), as autograd computes it."""
    w_ = torch.tensor(float(w), dtype=torch.float64, requires_grad=True)
    ((w_ * x + b) ** 2).backward()
    u = w * x + b
    mistakes = [
        (2 * u, "That is dL/du: multiply by du/dw = x (the chain rule)."),
        (u * x, "A factor 2 is missing: the derivative of u² is 2u."),
        (u**2, "That is L itself, not its derivative."),
    ]
    return _verdict(answer, w_.grad.item(), "dL/dw of (w·x + b)² at these values", mistakes, 1e-3)


def check_logit_gradient(answer, logits: list[float], label: int, k: int) -> bool:
    """Notebook 03, exercise 2: the derivative of one image's cross-entropy with respect to logit ``k``."""
    z = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    F.cross_entropy(z[None], torch.tensor([label])).backward()
    p = torch.softmax(z.detach(), 0)[k].item()
    mistakes = [
        (p, "That is p_k alone: subtract 1 when k is the right digit."),
        (1 - p, "The sign is flipped: the derivative is p_k minus 1 for the right digit."),
    ]
    return _verdict(answer, z.grad[k].item(), f"the derivative of the loss by logit {k}", mistakes, 1e-3)


def check_blank_pixels(answer, images: torch.Tensor) -> bool:
    """Notebook 03, exercise 3: how many pixel positions are 0 in every one of ``images``."""
    blank = (images.reshape(len(images), -1) == 0).all(dim=0)
    mistakes = [
        (int((~blank).sum()), "That counts the pixels inked in at least one image: count the others."),
        (int((images[0] == 0).sum()), "That counts the blank pixels of the first image only."),
    ]
    return _verdict(answer, int(blank.sum()), "the number of pixels blank in every image of the batch", mistakes)


def check_mlp_backward(backward, activation=torch.tanh) -> bool:
    """Notebook 03, exercise 4: ``backward(x, y, params)`` returns the gradients of the mean cross-entropy for
    ``params = [W1, b1, W2, b2, W3, b3]`` of the MLP 784-128-64-10 whose hidden layers use ``activation``; they are
    compared with autograd's on a batch of 8 random images."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(8, 784, generator=gen), torch.randint(0, 10, (8,), generator=gen)
    shapes = [(128, 784), (128,), (64, 128), (64,), (10, 64), (10,)]
    params = [(0.1 * torch.randn(*shape, generator=gen)).requires_grad_() for shape in shapes]
    W1, b1, W2, b2, W3, b3 = params
    loss = F.cross_entropy(activation(activation(x @ W1.T + b1) @ W2.T + b2) @ W3.T + b3, y)
    names = ["dW1", "db1", "dW2", "db2", "dW3", "db3"]
    want = dict(zip(names, torch.autograd.grad(loss, params)))
    got = _run(backward, x, y, [p.detach().clone() for p in params])
    got = dict(zip(names, got)) if isinstance(got, (list, tuple)) else {}
    usual = []
    for name, grad in want.items():
        if grad.ndim == 2:
            usual += [(name, grad.T, "Transposed: dW = δᵀ a has the shape of W, (outputs, inputs).")]
        usual += [(name, 8 * grad, "8 times too large: the loss is a mean over 8 images, so δ3 has a 1/N.")]
        usual += [(name, -grad, "The sign is flipped: δ3 = softmax(z3) − onehot(y), in that order.")]
    return _compare(got, want, usual)


# ----------------------------------------------------------------------------------------------------- notebook 04


def check_initial_loss(answer, n_classes: int) -> bool:
    """Notebook 04, exercise 1: the cross-entropy of an untrained classifier of ``n_classes`` classes (to 0.01)."""
    mistakes = [
        (math.log10(n_classes), "That uses log base 10: cross-entropy uses the natural log, ln."),
        (math.log(10), "That is ln 10, the loss with 10 classes."),
        (1 / n_classes, "That is the probability of each class: the loss is minus its log."),
    ]
    return _verdict(answer, math.log(n_classes), f"the initial loss with {n_classes} classes", mistakes, 0.01)


def check_training_steps(answer, n_images: int, batch_size: int, epochs: int) -> bool:
    """Notebook 04, exercise 2: the weight updates of ``epochs`` epochs over ``n_images`` images in batches of
    ``batch_size``."""
    per_epoch = math.ceil(n_images / batch_size)
    mistakes = [
        (epochs * (n_images // batch_size), "That rounds down: the last, smaller batch is an update too."),
        (per_epoch, f"That is one epoch: there are {epochs}."),
        (epochs * n_images, "That counts images: there is one update per batch, not per image."),
    ]
    return _verdict(answer, epochs * per_epoch, "the number of weight updates", mistakes)


def _reference_step(model, images, labels, optimizer, zero_grad: bool = True) -> float:
    """One step of notebook 04's loop (``zero_grad`` False: the usual mistake of forgetting it); return the loss."""
    if zero_grad:
        optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
    return loss.item()


def check_train_step(train_step) -> bool:
    """Notebook 04, exercise 3: ``train_step(model, images, labels, optimizer)`` takes one step of gradient descent
    on one batch and returns the batch's loss before the step; two steps are compared with PyTorch's on a small MLP,
    SGD with momentum and a batch of 16 random images."""
    gen = torch.Generator().manual_seed(0)
    images, labels = torch.rand(16, 1, 28, 28, generator=gen), torch.randint(0, 10, (16,), generator=gen)
    torch.manual_seed(0)
    start = copy.deepcopy(models.MLP([16]).state_dict())

    def two_steps(step):
        model = models.MLP([16])
        model.load_state_dict(start)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        losses = [step(model, images, labels, optimizer) for _ in range(2)]
        return losses, {name: p.detach() for name, p in model.named_parameters()}

    want_losses, want = two_steps(_reference_step)
    _, piled_up = two_steps(lambda *args: _reference_step(*args, zero_grad=False))
    got_losses, got = two_steps(lambda *args: _run(train_step, *args))
    losses_right = _same(tuple(got_losses), tuple(want_losses), 1e-5)
    print("the losses it returns: " + ("right" if losses_right else "not the batch's loss (return loss.item())"))
    usual = [(name, start[name], "The weights did not move: call optimizer.step().") for name in want]
    usual += [(name, p, "The gradients piled up: start each step with optimizer.zero_grad().") for name, p in
              piled_up.items()]  # fmt: skip
    return _compare(got, want, usual) and losses_right


# ----------------------------------------------------------------------------------------------------- notebook 05


def check_momentum_factor(answer, momentum: float) -> bool:
    """Notebook 05, exercise 1: how many times longer than plain SGD's the steps with ``momentum`` become when the
    gradient stays the same (to 1%)."""
    right = 1 / (1 - momentum)
    mistakes = [
        (momentum / (1 - momentum), "That counts only what the past gradients add: add this step's own gradient."),
        (1 - momentum, "That is 1 − μ itself: solve v = μ v + g for v."),
        (1 + momentum, "That is two steps' worth: at the fixed point every past step adds, v = g / (1 − μ)."),
    ]
    return _verdict(answer, right, "how many times longer the steps become", mistakes, 0.01 * right)


def _schedule_rates(schedule: str, total_steps: int) -> list[float]:
    """Return the learning rate at each of ``total_steps`` steps of ``schedule`` (with lr 1)."""
    from mnist_lab import train

    probe = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    steps, rates = train.make_schedule(schedule, probe, total_steps), []
    for _ in range(total_steps):
        rates.append(probe.param_groups[0]["lr"])
        probe.step()
        if steps is not None:
            steps.step()
    return rates


def check_schedule_peak(answer, total_steps: int, schedule: str = "onecycle") -> bool:
    """Notebook 05, exercise 2: the step (counted from 0, give or take 1) where ``schedule``'s learning rate peaks."""
    rates = _schedule_rates(schedule, total_steps)
    mistakes = [(0.3 * total_steps, "That is 30% of the way, PyTorch's default: this schedule peaks earlier.")]
    mistakes += [(total_steps / 2, "The one-cycle rate does not peak half-way: read the schedule cell again.")]
    right = max(range(total_steps), key=rates.__getitem__)
    return _verdict(answer, right, "the step where the learning rate peaks", mistakes, 1)


def check_weight_left(answer, lr: float, weight_decay: float, steps: int) -> bool:
    """Notebook 05, exercise 3: the share of a weight left after ``steps`` steps of weight decay alone (to 0.01)."""
    right = (1 - lr * weight_decay) ** steps
    mistakes = [
        (100 * right, "That is a percentage: give the share, a number between 0 and 1."),
        (1 - right, "That is the share lost: give the share left."),
        (1 - lr * weight_decay, "That is one step: the factor repeats at every step (a power)."),
    ]
    return _verdict(answer, right, "the share of the weight left", mistakes, 0.01)


# ----------------------------------------------------------------------------------------------------- notebook 06


def check_lowest_recall(answer, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 06, exercise 1: the digit with the lowest recall (any of them, if several tie)."""
    rows = metrics.precision_recall(metrics.confusion_matrix(preds, labels))
    recall, precision = [row["recall"] for row in rows], [row["precision"] for row in rows]
    lowest = [d for d in range(10) if recall[d] == min(recall)]
    right = answer if answer in lowest and not isinstance(answer, bool) else lowest[0]
    mistakes = [(precision.index(min(precision)), "That digit has the lowest precision: recall counts the digit's "
                 "own images that the model reads right.")]  # fmt: skip
    return _verdict(answer, right, "the digit with the lowest recall", mistakes)


def check_confident_mistakes(answer, confidence: torch.Tensor, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 06, exercise 2: how many predictions are wrong with a confidence above 0.9."""
    sure, wrong = confidence > 0.9, preds != labels
    mistakes = [
        (int(wrong.sum()), "That counts every mistake: keep only those made with a confidence above 0.9."),
        (int(sure.sum()), "That counts every confident prediction: keep only the wrong ones."),
        (int((~sure & wrong).sum()), "That counts the mistakes made with a confidence of 0.9 or less."),
    ]
    return _verdict(answer, int((sure & wrong).sum()), "the number of mistakes made with over 90% confidence", mistakes)


def check_gap_in_standard_errors(answer, val_logits, val_labels, test_logits, test_labels) -> bool:
    """Notebook 06, exercise 3: |test - validation accuracy| in standard errors of that difference (to 0.05)."""
    pairs = ((val_logits, val_labels), (test_logits, test_labels))
    (a, n), (b, m) = ((metrics.accuracy(z.argmax(1), y), len(y)) for z, y in pairs)
    gap, one = abs(b - a), math.sqrt(b * (1 - b) / m)
    right = gap / math.sqrt(a * (1 - a) / n + b * (1 - b) / m)
    mistakes = [
        (gap, "That is the gap itself: divide it by the standard error of the difference."),
        (100 * gap, "That is the gap in points: divide it by the standard error of the difference."),
        (gap / one, "That uses the test accuracy's standard error alone: both accuracies are noisy, so their "
         "variances add."),
    ]  # fmt: skip
    return _verdict(answer, right, "the gap in standard errors of the difference", mistakes, 0.051)


# ----------------------------------------------------------------------------------------------------- notebook 07


def check_first_mistake(answer, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 07, exercise 2: the index of the first test digit the model gets wrong."""
    wrong = (preds != labels).nonzero().flatten().tolist()
    mistakes = [(i + 1, "Counted from 1: Python counts positions from 0.") for i in wrong[:1]]
    mistakes += [(i, "That digit is wrong too, but it is not the first.") for i in wrong[1:]]
    return _verdict(answer, wrong[0] if wrong else None, "the index of the first test digit it gets wrong", mistakes)


# ----------------------------------------------------------------------------------------------------- notebook 08


def check_conv_output_size(answer, size: int, kernel: int, padding: int, stride: int) -> bool:
    """Notebook 08, exercise 1: the output height of a ``kernel``×``kernel`` convolution on ``size``×``size``."""
    x, w = torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel)
    right = F.conv2d(x, w, padding=padding, stride=stride).shape[-1]
    inside = size + 2 * padding - kernel
    mistakes = [
        (inside / stride + 1, "Round the division down: a window must fit inside the image."),
        (inside + 1, "That is with stride 1: the window moves by the stride."),
        (inside // stride, "The +1 is missing: the first window sits at position 0."),
    ]
    return _verdict(answer, right, "the output height of this convolution", mistakes)


def check_conv_parameters(answer, c_in: int, c_out: int, kernel: int) -> bool:
    """Notebook 08, exercise 2: the number of parameters of ``nn.Conv2d(c_in, c_out, kernel)``."""
    weights = c_in * c_out * kernel * kernel
    mistakes = [
        (weights, "That counts the weights only: each output channel also has a bias."),
        (c_out * kernel * kernel + c_out, "Each kernel has one slice per input channel: multiply by c_in."),
    ]
    right = models.count_parameters(torch.nn.Conv2d(c_in, c_out, kernel))
    return _verdict(answer, right, f"the parameter count of nn.Conv2d({c_in}, {c_out}, {kernel})", mistakes)


def check_conv2d(conv2d) -> bool:
    """Notebook 08, exercise 3: ``conv2d(images, weight, bias, padding)`` computes what ``F.conv2d`` does (stride 1),
    here on 2 images of 2 channels, 8×8, with 3 kernels of 3×3 and padding 1."""
    gen = torch.Generator().manual_seed(0)
    images, weight, bias = (torch.randn(*s, generator=gen) for s in ((2, 2, 8, 8), (3, 2, 3, 3), (3,)))
    want = {"output": F.conv2d(images, weight, bias, padding=1)}
    usual = [
        ("output", F.conv2d(images, weight.flip(-1, -2), bias, padding=1), "The kernel is flipped: PyTorch's "
         "convolution slides the kernel as it is (a cross-correlation)."),
        ("output", F.conv2d(images, weight, None, padding=1), "The bias is missing: add one per output channel."),
    ]  # fmt: skip
    return _compare({"output": _run(conv2d, images, weight, bias, 1)}, want, usual)


def check_max_pool(max_pool) -> bool:
    """Notebook 08, exercise 4: ``max_pool(images)`` keeps the largest value of each 2×2 square, as
    ``F.max_pool2d(images, 2)`` does, here on 2 images of 3 channels, 6×6."""
    images = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    usual = [("output", F.avg_pool2d(images, 2), "That is the mean of each square: keep the largest value.")]
    want = {"output": F.max_pool2d(images, 2)}
    return _compare({"output": _run(max_pool, images)}, want, usual)


# ----------------------------------------------------------------------------------------------------- notebook 09


def check_smoothing_floor(answer, epsilon: float, classes: int = 10) -> bool:
    """Notebook 09, exercise 1: the lowest training loss that label smoothing ``epsilon`` allows (to 0.001)."""
    target = torch.full((1, classes), epsilon / classes, dtype=torch.float64)
    target[0, 0] += 1 - epsilon
    loss = torch.nn.CrossEntropyLoss(label_smoothing=epsilon)  # lowest where the probabilities equal the target
    right = loss(target.log(), torch.tensor([0])).item()
    mistakes = [
        (0.0, "With smoothing the target is not one-hot, so no prediction scores 0: the floor is the target's "
         "entropy."),
        (-math.log(1 - epsilon + epsilon / classes), "That is only the right digit's term: the other nine share "
         "ε/10 of the target too."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the floor of the loss with smoothing {epsilon}", mistakes, 1e-3)


def check_cnn_parameter_count(answer, channels: list[int]) -> bool:
    """Notebook 09, exercise 2: the number of parameters of ``models.CNN(channels)``."""
    model = models.CNN(channels)
    norms = sum(p.numel() for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d) for p in m.parameters())
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    right = models.count_parameters(model)
    mistakes = [
        (right - norms, "Batch norm has parameters too: a scale and a shift per channel."),
        (right + sum(m.out_channels for m in convs), "The convolutions have no bias here (bias=False)."),
    ]
    return _verdict(answer, right, f"the parameter count of the CNN with channels {list(channels)}", mistakes)


# ----------------------------------------------------------------------------------------------------- notebook 10


def check_log_share(answer, low: float, high: float, below: float) -> bool:
    """Notebook 10, exercise 1: the share of draws below ``below`` when a rate is drawn between ``low`` and ``high``
    on a log scale (to 0.005)."""
    right = math.log(below / low) / math.log(high / low)
    mistakes = [
        ((below - low) / (high - low), "That is the share on a linear scale: with log=True equal ratios, not equal "
         "lengths, get equal shares."),
        (1 - right, f"That is the share of draws above {below}."),
        (100 * right, "That is a percentage: give the share, a number between 0 and 1."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the share of log-scale draws below {below}", mistakes, 0.005)


def check_prune_threshold(answer, study, batch_size: int, epoch: int) -> bool:
    """Notebook 10, exercise 2: the accuracy at ``epoch`` below which ``SameBatchPruner`` (quantile 0.25, at least 2
    peers) stops a new trial with ``batch_size``, given the trials of ``study`` (to 0.0005)."""
    from optuna.trial import TrialState

    def reported(states, same_batch=True):
        trials = study.get_trials(deepcopy=False, states=states)
        return [t.intermediate_values[epoch] for t in trials if epoch in t.intermediate_values
                and (not same_batch or t.params.get("batch_size") == batch_size)]  # fmt: skip

    def quarter(values, q=0.25):
        return torch.tensor(values, dtype=torch.float64).quantile(q).item() if values else 0.0

    peers = reported((TrialState.COMPLETE,))
    right = quarter(peers) if len(peers) >= 2 else 0.0  # fewer than 2 peers: the pruner stops none
    mistakes = [
        (quarter(peers, 0.5), "That is the median: the pruner stops only the bottom quarter (quantile 0.25)."),
        (quarter(reported((TrialState.COMPLETE,), same_batch=False)), "That compares with the complete trials of "
         f"every batch size: the pruner compares only with those of batch size {batch_size}."),
        (quarter(reported((TrialState.COMPLETE, TrialState.PRUNED))), "That counts the pruned trials too: the "
         "pruner compares with complete trials only."),
        (min(peers, default=0.0), "That is the lowest of them: the pruner stops the bottom quarter, quantile 0.25."),
        (100 * right, "That is a percentage: give the accuracy as a share, between 0 and 1."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the epoch-{epoch} accuracy below which it stops a trial", mistakes, 5e-4)


def check_steps_ratio(answer, n_images: int, small: int, large: int) -> bool:
    """Notebook 10, exercise 3: how many times as many steps an epoch of ``n_images`` images takes in batches of
    ``small`` as in batches of ``large`` (to 0.01)."""
    right = math.ceil(n_images / small) / math.ceil(n_images / large)
    mistakes = [
        (large / small, "That divides the batch sizes: count the batches, the last partial one too (round up)."),
        ((n_images // small) / (n_images // large), "That drops the last, partial batch: it is a step too (round "
         "up, math.ceil)."),
        (1 / right, f"That is the other way round: batches of {small} take more steps."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the ratio of steps per epoch, batches of {small} to {large}", mistakes, 0.01)


# ----------------------------------------------------------------------------------------------------- notebook 11


def check_box_centring_offset(answer, boxed) -> bool:
    """Notebook 11, exercise 2: how far (pixels, to 0.1) the centre of mass of ``boxed`` lies from the centre of a
    28×28 image when the box is pasted in its middle by its bounding box."""
    from mnist_lab.draw import center_of_mass

    (row, col), (h, w) = center_of_mass(boxed), boxed.shape
    dy, dx = (28 - h) // 2 + row - 13.5, (28 - w) // 2 + col - 13.5
    mistakes = [
        (abs(dx) + abs(dy), "That adds the two offsets: the distance is √(dx² + dy²)."),
        (max(abs(dx), abs(dy)), "That is the larger of the two offsets: the distance is √(dx² + dy²)."),
    ]
    return _verdict(answer, math.hypot(dx, dy), "the distance of the centre of mass from 13.5", mistakes, 0.051)
