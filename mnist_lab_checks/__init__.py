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
import functools
import math

import torch
import torch.nn.functional as F

from mnist_lab import metrics, models, train


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
            gap = f"differs, largest difference {(value - expected).abs().max().item():.1e}"
            print(f"{name}: shape {tuple(value.shape)}, {'matches PyTorch' if match else gap}")
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


def check_majority_accuracy(answer, train_labels: torch.Tensor, val_labels: torch.Tensor) -> bool:
    """Notebook 01, exercise 2: the validation accuracy of always answering the commonest training digit, a
    fraction, to 0.0005."""
    train_counts = torch.bincount(train_labels, minlength=10)
    commonest = int(train_counts.argmax())
    n_right = int((val_labels == commonest).sum())
    right = n_right / len(val_labels)
    rarest = int(train_counts.argmin())
    mistakes = [
        (100 * right, "That is a percentage: give the accuracy as a fraction between 0 and 1."),
        (n_right, "That is a count of images: divide it by the number of validation images."),
        (
            train_counts[commonest].item() / len(train_labels),
            f"That is the share of {commonest}s among the training images: count them among the validation labels.",
        ),
        (0.1, "That assumes the ten digits are exactly balanced: count the validation labels."),
        (
            (val_labels == rarest).double().mean().item(),
            f"That answers {rarest}, the rarest training digit: the model answers the commonest one.",
        ),
    ]
    what = "the validation accuracy of always answering the commonest training digit"
    return _verdict(answer, right, what, mistakes, 5e-4)


# ---------------------------------------------------------------------------------------------------- notebook 01b


def check_blurred_pixel(answer, pixels: list, weights: list) -> bool:
    """Notebook 01b, exercise 1: the centre of the square ``pixels`` after a blur whose ``weights`` (the same square,
    not yet divided by their sum) weigh it, to 0.0005."""
    p, w = torch.tensor(pixels, dtype=torch.float64), torch.tensor(weights, dtype=torch.float64)
    weighted_sum = (w * p).sum().item()
    centre = p[p.shape[0] // 2, p.shape[1] // 2].item()
    mistakes = [
        (weighted_sum, "That is the weighted sum: divide it by the sum of the weights, so that they add up to 1."),
        (p.mean().item(), "That is the plain mean of the pixels: each pixel counts with its weight."),
        (weighted_sum / p.numel(), "That divides by the number of pixels: divide by the sum of the weights."),
        (centre, "That is the centre pixel as it was: the blur mixes in its neighbours, with their weights."),
    ]
    right = weighted_sum / w.sum().item()
    return _verdict(answer, right, "the blurred value of the centre pixel", mistakes, 5e-4)


# ----------------------------------------------------------------------------------------------------- notebook 02


def check_parameter_count(answer, hidden: list[int]) -> bool:
    """Notebook 02, exercise 1: the number of parameters of ``models.MLP(hidden=hidden)``."""
    widths = [784, *hidden, 10]
    weights = sum(a * b for a, b in zip(widths, widths[1:]))
    mistakes = [
        (weights, "That counts the weights only: each output of a layer also has a bias."),
        (weights + sum(widths[:-1]), "Each layer has one bias per output, not per input."),
    ]
    right = models.count_parameters(models.MLP(hidden=hidden))
    return _verdict(answer, right, f"the parameter count of the MLP with hidden layers {list(hidden)}", mistakes)


def check_broadcast_shape(answer, a: tuple[int, ...], b: tuple[int, ...]) -> bool:
    """Notebook 02, exercise 2: the shape of a tensor of shape ``a`` plus one of shape ``b`` (broadcasting), a tuple."""
    right = tuple(torch.broadcast_shapes(a, b))
    padded = (1,) * (len(a) - len(b)) + tuple(b)  # b with size-1 dimensions on its left
    mistakes = [
        (tuple(a), "That is the first shape unchanged: its size-1 dimensions are repeated to match the other's."),
        (tuple(b), "That is the second shape unchanged: it gains size-1 dimensions on its left, then repeated."),
        (right[::-1], "The sizes are swapped: shapes line up from the right, so the last sizes stay last."),
        (padded, "That is the second shape with its new dimension: that size 1 is then repeated to match."),
        (math.prod(right), "That is the number of entries: give the shape, a tuple such as (2, 5)."),
    ]
    return _verdict(answer, right, f"the shape of a {tuple(a)} tensor plus a {tuple(b)} tensor", mistakes)


# ---------------------------------------------------------------------------------------------------- notebook 02b


def check_cross_entropy(answer, logits: list[float], label: int) -> bool:
    """Notebook 02b, exercise 1: the cross-entropy of one image with these ``logits`` and true class ``label``."""
    p = torch.softmax(torch.tensor(logits, dtype=torch.float64), 0)[label].item()
    mistakes = [
        (-math.log10(p), "That uses log base 10: cross-entropy uses the natural log, ln (math.log)."),
        (p, "That is the probability of the right digit: the loss is minus its log."),
        (math.log(p), "The sign is flipped: the loss is minus the log of the probability."),
        (-logits[label], "That is minus the logit: turn the logits into probabilities with softmax first."),
    ]
    return _verdict(answer, -math.log(p), "the cross-entropy of these logits", mistakes, 1e-3)


# ---------------------------------------------------------------------------------------------------- notebook 02c


def _as_matrix(value) -> torch.Tensor:
    """Return ``value`` (a list of numbers or of rows, or a tensor) as a float64 tensor; raise for anything else."""
    if isinstance(value, (str, bool)) or value is None:
        raise TypeError(f"{value!r} is not a list of numbers")
    return torch.as_tensor(value.detach() if torch.is_tensor(value) else value, dtype=torch.float64)


def check_folded_layer(answer, W1: list, b1: list, W2: list, b2: list) -> bool:
    """Notebook 02c, exercise 1: ``(W, b)``, the weight and bias of the one linear layer that the layers ``(W1, b1)``
    then ``(W2, b2)``, with no ReLU between them, fold into: ``W = W2 W1``, ``b = W2 b1 + b2``."""
    W1, b1, W2, b2 = (_as_matrix(v) for v in (W1, b1, W2, b2))
    right_W, right_b = W2 @ W1, W2 @ b1 + b2
    what = "the folded layer's weight and bias, (W, b)"
    if answer is None:
        print(f"No answer yet: replace None with {what}, then run this cell again.")
        return False
    try:
        W, b = (_as_matrix(v) for v in answer)
    except (TypeError, ValueError, RuntimeError):
        print(f"Not quite: {answer!r} is not {what}. Give a pair: a list of rows, then a list, such as "
              "([[1, 0], [0, 1]], [0, 0]).")  # fmt: skip
        return False
    if W.shape != right_W.shape or b.shape != right_b.shape:
        print(f"Not quite: W has shape {tuple(W.shape)} and b {tuple(b.shape)}; the folded layer's W has shape "
              f"{tuple(right_W.shape)} and b {tuple(right_b.shape)}.")  # fmt: skip
        return False
    x = torch.eye(W1.shape[1], dtype=torch.float64) * 2 - 1  # fixed inputs, one per row
    stacked, yours = (x @ W1.T + b1) @ W2.T + b2, x @ W.T + b
    W_ok, b_ok = torch.allclose(W, right_W), torch.allclose(b, right_b)
    if W_ok and b_ok and torch.allclose(yours, stacked):
        print(f"Right: {answer!r} is {what}: on {len(x)} inputs it gives the two layers' outputs.")
        return True
    why_W = [
        (W1 @ W2, "W is W1 W2, the wrong order: the first layer acts first, so W1 stands on the right, W2 W1."),
        (right_W.T, "W is W2 W1 with rows and columns swapped: row i of W2 times column j of W1 is entry (i, j)."),
        (W2 * W1, "W multiplies entry by entry: use the matrix product, row of W2 times column of W1, added up."),
    ]
    why_b = [
        (b2, "b misses W2 b1: the first layer's bias passes through the second layer's weights too."),
        (b1 + b2, "b adds b1 as it is: b1 passes through W2 first, so the bias is W2 b1 + b2."),
        (W2 @ b1, "b misses b2, the second layer's own bias: add it to W2 b1."),
        (W1 @ b2 + b1, "b takes the layers in the wrong order: b1 passes through W2, then b2 is added."),
    ]
    named = [] if W_ok else [why for wrong, why in why_W if torch.allclose(W, wrong)][:1]
    named += [] if b_ok else [why for wrong, why in why_b if torch.allclose(b, wrong)][:1]
    differs = "b differs" if W_ok else "W differs" if b_ok else "W and b differ"
    print(f"Not quite: {answer!r} is not {what}: its {differs}, so its outputs differ from the two layers'. "
          + (" ".join(named) or "Open the next hint, or read the question again."))  # fmt: skip
    return False


# ----------------------------------------------------------------------------------------------------- notebook 03

#: The points (a, b) at which the check of notebook 03's exercise compares the pair with autograd's.
_TWO_PATH_POINTS = ((2.0, -0.5), (0.5, 1.5), (-1.0, 0.3))


def _two_path_mistakes(a: float, b: float) -> list[tuple[tuple[float, float], str]]:
    """Return, for u = a b, t = tanh(u), L = t a, the pair (dL/da, dL/db) that each usual mistake gives, with the
    mistake."""
    t = math.tanh(a * b)
    dL_du, wrong_slope = a * (1 - t**2), a * (1 - (a * b) ** 2)  # the right dL/du; with 1 - u² for tanh's slope
    return [
        ((dL_du * b, dL_du * a), "dL/da leaves out a's direct path to L (rate t): gradients add, so add t."),
        ((t, dL_du * a), "dL/da leaves out a's path through u: add dL/du times b, with dL/du = a (1 - t²)."),
        ((a * t * b + t, a * t * a), "That uses t = tanh(u) as tanh's slope: its local derivative is 1 - t²."),
        ((wrong_slope * b + t, wrong_slope * a), "That uses 1 - u²: tanh's local derivative is 1 - tanh(u)², 1 - t²."),
        (
            ((1 - t**2) * b + t, (1 - t**2) * a),
            "The path through u leaves out L = t a's rate for t, a: dL/du = a (1 - t²).",
        ),
        ((dL_du * a, dL_du * b + t), "The pair is swapped: return (dL/da, dL/db), in that order."),
    ]


def _autograd_pair(a: float, b: float) -> tuple[float, float]:
    """Return autograd's (dL/da, dL/db) for u = a b, t = tanh(u), L = t a, in float64."""
    ta, tb = (torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in (a, b))
    (torch.tanh(ta * tb) * ta).backward()
    return ta.grad.item(), tb.grad.item()


def _pair(value) -> tuple[float, float] | None:
    """Return ``value`` as a pair of floats (a tuple, a list, a tensor of two numbers), or None when it is not one."""
    try:
        first, second = value
        return _number(first), _number(second)
    except (TypeError, ValueError, RuntimeError):
        return None


def check_two_path_grads(grads) -> bool:
    """Notebook 03, exercise 1: ``grads(a, b)`` returns the pair (dL/da, dL/db) for u = a b, t = tanh(u), L = t a.
    It must give autograd's pair at three points; a usual mistake whose pairs it gives at all three is named."""
    got = []
    for a, b in _TWO_PATH_POINTS:
        answer = _student_output(grads, "two_path_grads", a, b)
        if answer is None:
            return False
        pair, want = _pair(answer), _autograd_pair(a, b)
        if pair is None:
            print(f"At a = {a}, b = {b} your function gave {answer!r}: return a pair of numbers, (dL/da, dL/db).")
            return False
        verdict = "matches autograd's" if _same(pair, want, 1e-6) else "differs"
        print(f"a = {a:+.1f}, b = {b:+.1f}: yours ({pair[0]:+.6f}, {pair[1]:+.6f}), {verdict}")
        got.append(pair)
    if all(_same(pair, _autograd_pair(a, b), 1e-6) for pair, (a, b) in zip(got, _TWO_PATH_POINTS)):
        print("Right: your pair matches autograd's at every point.")
        return True
    by_point = [_two_path_mistakes(a, b) for a, b in _TWO_PATH_POINTS]
    why = next(
        (
            mistake
            for k, (_, mistake) in enumerate(by_point[0])
            if all(_same(pair, mistakes[k][0], 1e-6) for pair, mistakes in zip(got, by_point))
        ),
        "Open the next hint, or draw the graph again: which arrows leave a, and which leave b?",
    )
    print(f"Not quite: {why}")
    return False


# ----------------------------------------------------------------------------------------------------- notebook 03b


def check_delta3_row(answer, logits: list[float], label: int, n_images: int) -> bool:
    """Notebook 03b, exercise 1: one image's row of δ3 = ∂L/∂z3, for L the mean cross-entropy of a batch of
    ``n_images`` images, this image's ``logits`` and its true class ``label``: one number per class, each to 0.001."""
    what = f"the image's row of δ3 for the mean loss of {n_images} images"
    if answer is not None:
        try:
            values = [_number(v) for v in answer]
        except (TypeError, ValueError, RuntimeError):  # a number, a string, a nested list: not one row
            values = []
        if len(values) != len(logits):
            print(f"Not quite: {answer!r} is not a row of {len(logits)} numbers: give one per class, in a list.")
            return False
    z = torch.tensor(logits, dtype=torch.float64)
    p, onehot = torch.softmax(z, dim=0), F.one_hot(torch.tensor(label), len(logits)).double()

    def row(t: torch.Tensor) -> tuple:
        return tuple(t.tolist())  # a tuple: what _verdict compares entry by entry

    n, classes = n_images, len(logits)
    mistakes = [
        (row(p - onehot), f"That is one image's ∂ℓ/∂z, the summed loss's row: the mean divides it by N = {n}."),
        (row((onehot - p) / n), "The sign is flipped: the right class's entry, (p_y − 1)/N, is negative."),
        (row(p / n), "The one-hot row is missing: subtract 1 from the right class's probability."),
        (row(p), "That is the softmax alone: subtract the one-hot row, then divide by N."),
        (row((p - onehot) / classes), f"That divides by the {classes} classes: N counts the images, {n}."),
        (row((z - onehot) / n), "That uses the logits themselves: turn them into probabilities first, p = softmax(z)."),
        (row((z.exp() - onehot) / n), "That uses e^z without dividing by S = Σ e^z: p_k = e^(z_k) / S."),
    ]
    return _verdict(answer, row((p - onehot) / n), what, mistakes, 1e-3)


# ----------------------------------------------------------------------------------------------------- notebook 03c


def _tanh_mlp_gradients(x, y, params, step_back) -> dict:
    """Notebook 03c's backward pass for the MLP 784-128-64-10 with tanh in its hidden layers, where
    ``step_back(grad_a, z, a)`` takes ∂L/∂a back through a = tanh(z): the right step, or a usual mistake's."""
    W1, b1, W2, b2, W3, b3 = params
    z1 = x @ W1.T + b1
    a1 = torch.tanh(z1)
    z2 = a1 @ W2.T + b2
    a2 = torch.tanh(z2)
    delta3 = (torch.softmax(a2 @ W3.T + b3, dim=1) - F.one_hot(y, 10)) / len(y)
    delta2 = step_back(delta3 @ W3, z2, a2)
    delta1 = step_back(delta2 @ W2, z1, a1)
    grads = [delta1.T @ x, delta1.sum(0), delta2.T @ a1, delta2.sum(0), delta3.T @ a2, delta3.sum(0)]
    return dict(zip(["dW1", "db1", "dW2", "db2", "dW3", "db3"], grads))


_TANH_MISTAKES = [  # (a wrong step back through a = tanh(z), the mistake that gives it)
    (lambda g, z, a: g * (z > 0), "That is the ReLU's mask [z > 0]: tanh's local derivative is 1 − a²."),
    (lambda g, z, a: g * (1 - z**2), "That uses 1 − z²: tanh's local derivative is 1 − tanh(z)², 1 − a²."),
    (lambda g, z, a: g * (1 - a), "That uses 1 − a: tanh's local derivative is 1 − a², with a squared."),
    (lambda g, z, a: g * (a**2 - 1), "The sign is flipped: tanh's local derivative, 1 − a², is positive."),
    (lambda g, z, a: g, "The step through tanh is missing: multiply by its local derivative."),
    (lambda g, z, a: 1 - a**2, "That is the local derivative alone: multiply it by grad_a (the chain rule)."),
]


def check_tanh_step_back(step_back) -> bool:
    """Notebook 03c, exercise 1: ``step_back(grad_a, z, a)`` returns δ = ∂L/∂z from grad_a = ∂L/∂a, for a = tanh(z).
    Put into notebook 03c's backward pass in place of the ReLU's step, for the MLP 784-128-64-10 with tanh hidden
    layers, it must give autograd's six gradients on a batch of 8 random images; a usual mistake is named."""
    gen = torch.Generator().manual_seed(0)
    x, y = torch.rand(8, 784, generator=gen), torch.randint(0, 10, (8,), generator=gen)
    shapes = [(128, 784), (128,), (64, 128), (64,), (10, 64), (10,)]
    params = [(0.1 * torch.randn(*shape, generator=gen)).requires_grad_() for shape in shapes]
    W1, b1, W2, b2, W3, b3 = params
    loss = F.cross_entropy(torch.tanh(torch.tanh(x @ W1.T + b1) @ W2.T + b2) @ W3.T + b3, y)
    want = dict(zip(["dW1", "db1", "dW2", "db2", "dW3", "db3"], torch.autograd.grad(loss, params)))
    plain = [p.detach() for p in params]
    z = x[:2, :5] - 0.5
    if _student_output(step_back, "tanh_step_back", torch.ones_like(z), z, torch.tanh(z)) is None:
        return False
    try:
        got = _tanh_mlp_gradients(x, y, plain, step_back)
    except Exception as exc:  # noqa: BLE001 - the student's code: report it, never stop the notebook
        print(f"The backward pass with your function raised {type(exc).__name__}: {exc}")
        return False
    usual = []
    for wrong, mistake in _TANH_MISTAKES:
        usual += [(n, g, mistake) for n, g in _tanh_mlp_gradients(x, y, plain, wrong).items()]
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


#: The usual mistakes of a step by hand that ``_reference_step`` makes on request, and what the check says of each.
_STEP_MISTAKES = {
    "no zero": "The gradients piled up: clear them (model.zero_grad()) before each loss.backward().",
    "uphill": "The weights moved up the gradient: subtract lr times the gradient, w -= lr * w.grad.",
    "no update": "The weights did not move: subtract lr times each gradient, inside torch.no_grad().",
    "summed loss": 'The loss is summed over the batch (reduction="sum"): step on its mean, F.cross_entropy\'s '
    "default, or every step is 16 times too long here.",
}
_LOSSES = "the losses it returns"


def _reference_step(model, images, labels, lr: float, mistake: str | None = None) -> float:
    """One step of notebook 04's loop with ``torch.optim.SGD``, or one with a usual ``mistake`` (a key of
    ``_STEP_MISTAKES``, or "loss after": it returns the loss after the update); return the loss it returns."""
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    if mistake != "no zero":
        optimizer.zero_grad()
    loss = F.cross_entropy(model(images), labels, reduction="sum" if mistake == "summed loss" else "mean")
    loss.backward()
    if mistake == "uphill":
        with torch.no_grad():
            for w in model.parameters():
                w += lr * w.grad
    elif mistake != "no update":
        optimizer.step()
    if mistake == "loss after":
        with torch.no_grad():
            return F.cross_entropy(model(images), labels).item()
    return loss.item()


def _as_numbers(values: list) -> torch.Tensor | None:
    """Return ``values`` (numbers or one-number tensors) as a float64 tensor, or None if one of them is not."""
    try:
        return torch.tensor([_number(v) for v in values], dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        return None


def check_sgd_step(sgd_step) -> bool:
    """Notebook 04, exercise 2: ``sgd_step(model, images, labels, lr)`` takes one step of gradient descent on one
    batch without an optimizer and returns the batch's mean loss before the step. Two steps are compared with two of
    ``torch.optim.SGD``'s from the same weights (a small MLP, a batch of 16 random images, lr 0.1): each parameter,
    then the losses it returns. Two, because a gradient left from the first step shows only in the second."""
    gen = torch.Generator().manual_seed(0)
    images, labels = torch.rand(16, 1, 28, 28, generator=gen), torch.randint(0, 10, (16,), generator=gen)
    torch.manual_seed(0)
    start = copy.deepcopy(models.MLP([16]).state_dict())

    def two_steps(step):
        model = models.MLP([16])
        model.load_state_dict(start)
        losses = [step(model, images, labels, 0.1) for _ in range(2)]
        return {**{name: p.detach() for name, p in model.named_parameters()}, _LOSSES: _as_numbers(losses)}

    def reference(mistake=None):
        return two_steps(lambda *args: _reference_step(*args, mistake=mistake))

    try:
        got = two_steps(sgd_step)
    except Exception as exc:  # noqa: BLE001 - the student's code: report it, never stop the notebook
        print(f"Your function raised {type(exc).__name__}: {exc}")
        print("Not quite: fix what raised, then run this cell again.")
        return False
    if got[_LOSSES] is None and all(torch.equal(got[name], start[name]) for name in start):
        print("No answer yet: write the body of sgd_step (it still returns None), then run this cell again.")
        return False
    print("Two steps of your sgd_step beside two of torch.optim.SGD's, from the same weights,")
    print("on the check's own small MLP (16 hidden units) and 16 random images:")
    if got[_LOSSES] is None:
        print("sgd_step should return the batch's loss as a number: return loss.item().")
    wrong = {mistake: reference(mistake) for mistake in _STEP_MISTAKES}
    usual = [(name, value, _STEP_MISTAKES[mistake]) for mistake, run in wrong.items() for name, value in run.items()]
    usual += [(_LOSSES, reference("loss after")[_LOSSES], "That is the loss after the step: return the one that "
               "loss.backward() used, computed before the update.")]  # fmt: skip
    return _compare(got, reference(), usual)


# ---------------------------------------------------------------------------------------------------- notebook 04b


def check_first_rise_epoch(answer, history: list[dict]) -> bool:
    """Notebook 04b, exercise 1: the first epoch (counted from 1, as ``row["epoch"]``) after the lowest validation
    loss in ``history`` whose validation loss is over 1.1 times that lowest (0 if none is). Names the lowest epoch
    itself, the epochs counted after it, a position counted from 0, a search that starts before the lowest, and
    0.1 added instead of 10%."""
    lowest = min(history, key=lambda row: row["val_loss"])
    after = [row for row in history if row["epoch"] > lowest["epoch"]]

    def first(rows, bar):
        return next((row["epoch"] for row in rows if row["val_loss"] > bar), 0)

    right = first(after, 1.1 * lowest["val_loss"])
    mistakes = [
        (lowest["epoch"], "That is the epoch of the lowest itself: the exercise asks for the first rise after it."),
        (right - lowest["epoch"], "That counts the epochs after the lowest: give the epoch itself, row['epoch']."),
        (right - 1, "That is its position in the list, counted from 0: epochs count from 1 (row['epoch'])."),
        (first(history, 1.1 * lowest["val_loss"]), "That epoch comes before the lowest: look only after it."),
        (first(after, lowest["val_loss"] + 0.1), "That is 0.1 above the lowest: 10% above means over 1.1 times it."),
    ]  # fmt: skip
    what = "the first epoch after the lowest with a validation loss over 10% above it"
    return _verdict(answer, right, what, mistakes)


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


# ---------------------------------------------------------------------------------------------------- notebook 05b


def check_margin_over_noise(answer, row: dict, above: dict) -> bool:
    """Notebooks 05b and 10b, exercise 1: by how many points (to 0.03, what the table's rounding allows) the gain of
    ablation row ``row`` over ``above`` (each with its ``mean`` and ``std`` over seeds) beats the noise rule's noise,
    the two standard deviations added. Names the gain alone, the noise alone, the standard deviations subtracted,
    one row's standard deviation, a fraction instead of points, and the sign flipped."""
    gain, noise = row["mean"] - above["mean"], row["std"] + above["std"]
    right = 100 * (gain - noise)
    one_row = "That takes one row's standard deviation: both rows vary with the seed, so the noise adds both."
    subtracted = "That subtracts one standard deviation from the other: the noise rule adds them."
    mistakes = [
        (100 * gain, "That is the gain alone: subtract the noise, the two standard deviations added."),
        (100 * noise, "That is the noise alone: subtract it from the gain."),
        (100 * (gain - (row["std"] - above["std"])), subtracted),
        (100 * (gain - (above["std"] - row["std"])), subtracted),
        (100 * (gain - row["std"]), one_row),
        (100 * (gain - above["std"]), one_row),
        (right / 100, "That is a difference of accuracies as a fraction: give points, 100 times it."),
        (-right, "That is the noise minus the gain: give the gain minus the noise."),
    ]  # fmt: skip
    return _verdict(answer, right, "the gain minus the noise, in points", mistakes, 0.03)


# ----------------------------------------------------------------------------------------------------- notebook 06


def check_gap_in_standard_errors(answer, val_logits, val_labels, test_logits, test_labels) -> bool:
    """Notebook 06, exercise 1: |test - validation accuracy| in standard errors of that difference (to 0.05)."""
    pairs = ((val_logits, val_labels), (test_logits, test_labels))
    (a, n), (b, m) = ((metrics.accuracy(z.argmax(1), y), len(y)) for z, y in pairs)
    gap, one, other = abs(b - a), math.sqrt(b * (1 - b) / m), math.sqrt(a * (1 - a) / n)

    def over(se: float) -> float:
        return gap / se if se else math.inf  # an accuracy of 0 or 1 has a standard error of 0

    right = over(math.hypot(one, other))
    mistakes = [
        (gap, "That is the gap itself: divide it by the standard error of the difference."),
        (100 * gap, "That is the gap in points: divide it by the standard error of the difference."),
        (over(one), "That uses the test accuracy's standard error alone: both accuracies are noisy, so the "
         "squares of their standard errors add."),
        (over(other), "That uses the validation accuracy's standard error alone: both accuracies are noisy, so "
         "the squares of their standard errors add."),
        (over(one + other), "That adds the two standard errors: for a difference their squares add, then take "
         "the square root."),
    ]  # fmt: skip
    return _verdict(answer, right, "the gap in standard errors of the difference", mistakes, 0.051)


# ---------------------------------------------------------------------------------------------------- notebook 06b


def check_sure_precision(answer, confidence, preds, labels, digit: int = 9, above: float = 0.9) -> bool:
    """Notebook 06b, exercise 1: the precision of ``digit`` among the answers given with a confidence over ``above``
    (a fraction, to 0.0005). Names the row read for the column (the recall), a percentage, the threshold forgotten
    or reversed, and the right answers counted twice."""
    what = f"the precision of digit {digit} among the answers given with over {above:.0%} confidence"
    if answer is None:
        return _verdict(answer, None, what)  # says what to do before anything is counted
    confidence, preds, labels = confidence.cpu(), preds.cpu(), labels.cpu()

    def cm(keep: torch.Tensor) -> torch.Tensor:
        return metrics.confusion_matrix(preds=preds[keep], labels=labels[keep]).double()

    def share(count, total) -> float:
        return float(count / total) if total else math.nan  # nan: equal to no answer

    sure = cm(confidence > above)
    column, row, hit = sure[:, digit].sum(), sure[digit].sum(), sure[digit, digit]
    if not column:
        print(f"The model gives no answer {digit} with a confidence over {above:.0%}: this check has nothing to count.")
        return False
    right = share(hit, column)
    whole, unsure = cm(torch.ones_like(labels, dtype=torch.bool)), cm(confidence <= above)
    mistakes = [
        (share(hit, row), f"That reads row {digit}, the real {digit}s: that is the recall. Precision reads column "
         f"{digit}, every answer {digit} (a matrix built with labels and answers swapped gives the same)."),
        (100 * right, "That is a percentage: give a fraction, between 0 and 1."),
        (share(whole[digit, digit], whole[:, digit].sum()), f"That is digit {digit}'s precision over all the "
         f"answers: keep only those given with a confidence over {above:.0%}."),
        (share(unsure[digit, digit], unsure[:, digit].sum()), f"That keeps the answers at or below {above:.0%}: "
         "keep those above it."),
        (share(hit, column + hit), f"That counts the right answers twice: the column's sum already holds "
         f"C[{digit}, {digit}], so divide by the sum alone."),
        (share(column - hit, column), f"That is the share of the answers {digit} that are wrong: give the share "
         "that are right."),
    ]  # fmt: skip
    merged: dict[float, str] = {}  # two mistakes may give the same value: name both
    for wrong, why in mistakes:
        merged[wrong] = f"{merged[wrong]} Or t{why[1:]}" if wrong in merged else why
    return _verdict(answer, right, what, list(merged.items()), 0.00051)


# ----------------------------------------------------------------------------------------------------- notebook 07


def check_unit_top_digits(answer, layers, images: torch.Tensor, labels: torch.Tensor, unit: int, k: int = 100) -> bool:
    """Notebook 07, exercise 1: how many of the ``k`` digits of ``images`` that raise unit ``unit`` of ``layers`` (the
    first layer and its ReLU) most are the unit's digit, the commonest among the 8 that raise it most."""
    with torch.no_grad():
        h = layers(images.flatten(1).to(next(layers.parameters()).device)).cpu()  # one row of units per digit
    labels = labels.cpu()
    column = h[:, unit]
    digit = int(labels[column.topk(8).indices].bincount().argmax())

    def count(rows: torch.Tensor) -> int:
        return int((labels[rows] == digit).sum())

    right = count(column.topk(k).indices)
    mistakes = [
        (k - right, f"That counts the other digits among the {k}: give how many are the unit's digit."),
        (right / k, "That is the share: give the count."),
        (count(column.topk(8).indices), f"That counts among its 8: take the {k} digits that raise it most."),
        (count(column.topk(k, largest=False).indices), "That takes the digits that raise it least: topk gives the "
         "largest."),
        (int((labels == digit).sum()), f"That counts the digit among all the digits: keep only the {k} that raise "
         "the unit most."),
    ]  # fmt: skip
    if k <= h.shape[1]:  # h[unit] is a row: one digit's units, not one unit's digits
        mistakes.append((count(h[unit].topk(k).indices), f"That ranks row {unit}, one digit's units: the unit is "
                         f"column {unit}, h[:, {unit}]."))  # fmt: skip
    merged: dict[float, str] = {}  # two mistakes may give the same count: name both
    for wrong, why in mistakes:
        merged[wrong] = f"{merged[wrong]} Or t{why[1:]}" if wrong in merged else why
    what = f"the count of unit {unit}'s digit among the {k} digits that raise it most"
    return _verdict(answer, right, what, list(merged.items()), 1e-3)


# ---------------------------------------------------------------------------------------------------- notebook 07b


def check_drop_se_bound(answer, lost: int, won: int, n: int) -> bool:
    """Notebook 07b, exercise 1: the upper bound on the SE of a drop measured on the same ``n`` digits, ``lost`` of
    them read right clean and wrong damaged and ``won`` the reverse, in points (to 0.01): 100 √(d / n), d = (lost +
    won) / n."""
    d = (lost + won) / n
    right = 100 * math.sqrt(d / n)
    mistakes = [
        (right / 100, "That is a share: multiply by 100 for points."),
        (100 * math.sqrt(abs(lost - won) / n / n), "That uses lost − won: every digit read differently counts, "
         "lost + won."),
        (100 * math.sqrt(lost / n / n), "That counts the lost digits only: the won ones are read differently too."),
        (100 * math.sqrt(d), "That is the bound on the scores' standard deviation, √d: divide by √n for the SE."),
        (100 * (lost - won) / n, "That is the drop itself: the question asks for the bound on its SE."),
        (200 * math.sqrt(d / n), "That is 2 SE, the line the drop is compared with: give one SE."),
    ]  # fmt: skip
    what = f"the upper bound on the SE of the drop, in points, for {lost} lost and {won} won of {n:,} digits"
    return _verdict(answer, right, what, mistakes, 0.006)


# ---------------------------------------------------------------------------------------------------- notebook 07c


def check_first_mistake(answer, preds: torch.Tensor, labels: torch.Tensor) -> bool:
    """Notebook 07c, exercise 1: the index (from 0) of the first digit whose prediction differs from its label."""
    wrong = (preds != labels).nonzero().flatten().tolist()
    if not wrong:
        print("The model reads every one of these digits right: this check has nothing to compare.")
        return False
    first = wrong[0]
    mistakes = [
        (first + 1, "Counted from 1: Python counts positions from 0."),
        (len(wrong), "That is the number of mistakes: give the position of the first one."),
        (int(labels[first]), "That is the first mistake's label, the digit it really is: give its position."),
        (int(preds[first]), "That is the digit the model read: give the position of that digit."),
    ]
    mistakes += [(i, "That digit is wrong too, but it is not the first.") for i in wrong[1:]]
    return _verdict(answer, first, "the index of the first digit the model gets wrong", mistakes)


# ----------------------------------------------------------------------------------------------------- notebook 08


def _student_output(function, name: str, *args):
    """Return what the student's ``function`` gives for ``args``; None, after saying why, when it raised or is still
    the stub (it returns None)."""
    try:
        got = function(*args)
    except Exception as exc:  # noqa: BLE001 - the student's code: report it, never stop the notebook
        print(f"Your function raised {type(exc).__name__}: {exc}")
        return None
    if got is None:
        print(f"No answer yet: write the body of {name} (it still returns None), then run this cell again.")
    return got


def _still_zeros(got, name: str) -> bool:
    """Return whether ``got``, what a scaffold of notebook 08 gave, is still all zeros (its line marked "your code
    here" not written yet), after saying so."""
    if torch.is_tensor(got) and got.numel() and not got.any():
        print(f"No answer yet: {name} still gives zeros: replace the zeros marked 'your code here', then run this "
              "cell again.")  # fmt: skip
        return True
    return False


def check_conv2d(conv2d) -> bool:
    """Notebook 08, exercise 1: ``conv2d(images, weight, bias, padding)`` computes what ``F.conv2d`` does (stride 1),
    here on 2 images of 2 channels, 8×8, with 3 kernels of 3×3 and padding 1. The notebook's scaffold, whose one
    line to write gives zeros, is "no answer yet"."""
    gen = torch.Generator().manual_seed(0)
    images, weight, bias = (torch.randn(*s, generator=gen) for s in ((2, 2, 8, 8), (3, 2, 3, 3), (3,)))
    want = {"output": F.conv2d(images, weight, bias, padding=1)}
    usual = [
        ("output", F.conv2d(images, weight.flip(-1, -2), bias, padding=1), "The kernel is flipped: PyTorch's "
         "convolution slides the kernel as it is (a cross-correlation)."),
        ("output", F.conv2d(images, weight, None, padding=1), "The bias is missing: add one per output channel."),
        ("output", F.conv2d(images[:, :1], weight[:, :1], bias, padding=1), "Only the first input channel counts: "
         "a kernel has one slice per channel, and the results of all channels add up."),
    ]  # fmt: skip
    got = _student_output(conv2d, "conv2d", images, weight, bias, 1)
    return got is not None and not _still_zeros(got, "conv2d") and _compare({"output": got}, want, usual)


def check_max_pool(max_pool) -> bool:
    """Notebook 08, exercise 2: ``max_pool(images)`` keeps the largest value of each 2×2 square, as
    ``F.max_pool2d(images, 2)`` does, here on 2 images of 3 channels, 6×6. A function that still
    gives zeros is "no answer yet"."""
    images = torch.randn(2, 3, 6, 6, generator=torch.Generator().manual_seed(0))
    pooled = F.max_pool2d(images, 2)
    usual = [
        ("output", F.avg_pool2d(images, 2), "That is the mean of each square: keep the largest value."),
        ("output", pooled.amax(dim=(0, 1), keepdim=True).expand(2, 3, 3, 3), "Each square got the largest over "
         "every image and channel too: take the largest over the square's rows and columns only."),
        ("output", F.max_pool2d(images, 2, stride=1)[:, :, :3, :3], "Those squares overlap: square (i, j) starts "
         "at row 2i and column 2j."),
        ("output", images.reshape(2, 3, 2, 3, 2, 3).amax(dim=(2, 4)), "Those are not 2×2 squares of neighbours: "
         "square (i, j) covers rows 2i and 2i + 1 and columns 2j and 2j + 1."),
    ]  # fmt: skip
    got = _student_output(max_pool, "max_pool", images)
    if got is None or _still_zeros(got, "max_pool"):
        return False
    return _compare({"output": got}, {"output": pooled}, usual)


# ----------------------------------------------------------------------------------------------------- notebook 08b


def check_conv_output_size(answer, size: int, kernel: int, padding: int, stride: int) -> bool:
    """Notebook 08b, exercise 1: the output height of a ``kernel``×``kernel`` convolution on ``size``×``size``."""
    x, w = torch.zeros(1, 1, size, size), torch.zeros(1, 1, kernel, kernel)
    right = F.conv2d(x, w, padding=padding, stride=stride).shape[-1]
    inside = size + 2 * padding - kernel
    mistakes = [
        (inside / stride + 1, "Round the division down: a window must fit inside the image."),
        (inside + 1, "That is with stride 1: the window moves by the stride."),
        (inside // stride, "The +1 is missing: the first window sits at position 0."),
    ]
    return _verdict(answer, right, "the output height of this convolution", mistakes)


def _small_cnn(kernels: tuple[int, int]) -> torch.nn.Module:
    """Return notebook 08b's SmallCNN with ``kernels`` in its two convolutions, as one ``nn.Sequential``."""
    a, b, nn = *kernels, torch.nn
    block = [nn.Conv2d(1, a, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(a, b, 3, padding=1), nn.ReLU()]
    return nn.Sequential(*block, nn.MaxPool2d(2), nn.Flatten(), nn.Linear(b * 7 * 7, 10))


def check_small_cnn_parameters(answer, kernels: tuple[int, int]) -> bool:
    """Notebook 08b, exercise 2: the parameter count of SmallCNN with ``kernels`` in its two convolutions (3×3,
    padding 1, each followed by a 2×2 max-pool) and its linear head on the last maps, of 7×7, to 10 logits."""
    (a, b), right = kernels, models.count_parameters(_small_cnn(kernels))

    def count(second_in=a, side=7, head_maps=b, biases=True, head=True):  # a usual mistake's count
        convs = a * 9 + b * second_in * 9 + biases * (a + b)
        return convs + head * (head_maps * side * side * 10 + biases * 10)

    mistakes = [
        (count(biases=False), "The biases are missing: one per kernel, and one per logit in the head."),
        (count(second_in=1), f"A kernel of the second convolution has one 3×3 slice per input channel: {a} of them."),
        (count(second_in=8), f"The second convolution reads the first one's {a} maps now, not 8."),
        (count(side=28), "Each pool halves height and width: the head reads maps of 7×7, not 28×28."),
        (count(side=14), "There are two pools: 28 → 14 → 7, so the head reads maps of 7×7."),
        (count(head_maps=16), f"The head reads the second block's {b} maps of 7×7 now, not 16."),
        (count(head=False), "The head's weights and biases count too."),
        (models.count_parameters(_small_cnn((8, 16))), "That is SmallCNN with 8 and 16 kernels: widen both."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the parameter count of SmallCNN with {a} and {b} kernels", mistakes)


# ----------------------------------------------------------------------------------------------------- notebook 08c


def check_kernel_cosine(answer, a, b) -> bool:
    """Notebook 08c, exercise 1: the cosine similarity of kernels ``a`` and ``b`` (lists of rows), to 0.005."""
    a, b = (torch.tensor(k, dtype=torch.float64) for k in (a, b))
    if torch.is_tensor(answer) and answer.numel() > 1:
        print(f"Not quite: that is {answer.numel()} numbers, one per row or column: flatten each kernel into its "
              f"{a.numel()} numbers first, then compute one cosine.")  # fmt: skip
        return False
    dot, length_a, length_b = (a * b).sum().item(), a.norm().item(), b.norm().item()
    right = dot / (length_a * length_b)
    rows = F.cosine_similarity(a, b, dim=1).mean().item()  # each row on its own
    mistakes = [
        (dot, "That is the sum of products: divide it by both lengths."),
        (dot / (length_a**2 * length_b**2), "That divides by the squared lengths: a length is the square root of "
         "the sum of squares."),
        (rows, "That is the mean of the rows' cosines: flatten each kernel into one arrow of 9 numbers first."),
        (dot / length_a, "That divides by a's length only: divide by both."),
        (dot / length_b, "That divides by b's length only: divide by both."),
        (abs(right), "The sign is lost: the cosine keeps it (we take |cos| only afterwards)."),
    ]  # fmt: skip
    mistakes = [(wrong, why) for wrong, why in mistakes if abs(wrong - right) > 0.01]
    return _verdict(answer, right, "the cosine similarity of a and b", mistakes, 0.005)


# ----------------------------------------------------------------------------------------------------- notebook 09


def check_smoothing_floor(answer, epsilon: float, classes: int = 10) -> bool:
    """Notebook 09, exercise 1: the lowest training loss that label smoothing ``epsilon`` allows (to 0.001)."""

    def entropy(eps: float, log=torch.log) -> float:
        target = torch.full((classes,), eps / classes, dtype=torch.float64)
        target[0] += 1 - eps
        return -(target * log(target)).sum().item()

    right = entropy(epsilon)  # the loss is lowest where the probabilities equal the target: its entropy
    mistakes = [
        (0.0, "With smoothing the target is not one-hot, so no prediction scores 0: the floor is the target's "
         "entropy."),
        (-math.log(1 - epsilon + epsilon / classes), "That is only the true digit's term: the other nine digits get "
         "ε/10 of the target each, and their terms count too."),
        (-math.log(1 - epsilon), "That is −ln(1 − ε): the true digit gets 1 − ε + ε/10, and the other nine digits' "
         "terms count too."),
        (entropy(epsilon, torch.log10), "That uses log base 10: the loss uses the natural log, ln."),
        (entropy(0.1), "That is the floor with ε = 0.1, the recipe's: build the target with the ε of the question."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the floor of the loss with smoothing {epsilon}", mistakes, 1e-3)


# ----------------------------------------------------------------------------------------------------- notebook 10


def check_paired_gap_in_standard_errors(answer, model, other, loader, device="cpu") -> bool:
    """Notebook 10, exercise 1: by how many standard errors (to 0.05) ``model``'s accuracy on ``loader`` lies above
    ``other``'s, the two paired digit by digit: the mean of d = (model right) - (other right) over d's standard
    deviation divided by √n."""
    right = []
    for m in (model, other):
        logits, labels = train.predict(m, loader, device)
        right.append((logits.argmax(1) == labels.to(logits.device)).double())
    d, n = right[0] - right[1], len(right[0])
    gap, std = d.mean().item(), d.std().item() if n > 1 else 0.0
    a, b = (r.mean().item() for r in right)

    def over(se: float) -> float:
        return gap / se if se else math.inf  # no digit read differently: no spread

    paired = over(std / math.sqrt(n))
    mistakes = [
        (over(math.sqrt(a * (1 - a) / n + b * (1 - b) / n)), "That is the unpaired count, the squares of two SEs "
         "added: pair the digits, and divide the mean of d by its standard deviation over √n."),
        (over(std), "That divides by d's standard deviation: the SE of a mean of n values is their standard "
         "deviation over √n."),
        (over(std**2 / n), "That divides by d's variance over n: take its square root."),
        (gap, "That is the gap itself, the mean of d: divide it by its standard error."),
        (100 * gap, "That is the gap in points: divide the mean of d by its standard error."),
        (-paired, "That is the MLP's minus ours: d is 1 where only the first model, our CNN, reads the digit."),
    ]  # fmt: skip
    return _verdict(answer, paired, "the paired gap in standard errors", mistakes, 0.051)


# ---------------------------------------------------------------------------------------------------- notebook 10d


def check_gain_without_failed(answer, recipe: list[float], without: list[float]) -> bool:
    """Notebook 10d, exercise 1: by how many points (to 0.02) the mean of ``recipe`` (accuracies, one per seed) beats
    the mean of ``without`` once its lowest value, the failed seed (one that did not learn), is left out."""
    kept = sorted(without)[1:]
    mean = sum(recipe) / len(recipe)
    failed = without.index(min(without))  # its seed
    paired = [a for seed, a in enumerate(recipe) if seed != failed]
    right = 100 * (mean - sum(kept) / len(kept))
    mistakes = [
        (100 * (mean - sum(without) / len(without)), "That keeps the seed that ended near chance: leave out the "
         "lowest accuracy without batch norm."),
        (right / 100, "That is a difference of accuracies: give points, 100 times it."),
        (-right, "That is the row minus the recipe: the gain is the recipe's mean minus the row's."),
        (100 * (sum(paired) / len(paired) - sum(kept) / len(kept)), "That leaves the seed out of the recipe's row "
         "too, as a seed-by-seed reading would: this exercise compares the rows' means, as the noise rule does, so "
         "keep the recipe's mean over all its seeds."),
    ]  # fmt: skip
    what = "the recipe's gain over the seeds that learned without batch norm, in points"
    return _verdict(answer, right, what, mistakes, 0.02)


# ---------------------------------------------------------------------------------------------------- notebook 10c


def check_gain_in_noises(answer, ours: list[float], other: list[float]) -> bool:
    """Notebook 10c, exercise 1: how many times its noise (to 0.06, what the table's rounding allows) the mean of
    runs ``other`` beats the mean of runs ``ours`` (accuracies, one per seed); the noise adds the two standard
    deviations."""
    (mean, std), (other_mean, other_std) = metrics.mean_std(ours), metrics.mean_std(other)
    gap, noise = other_mean - mean, std + other_std
    right = gap / noise
    mistakes = [
        (100 * gap, "That is the gap in points: divide it by the noise, the two standard deviations added."),
        (100 * noise, "That is the noise in points: divide the gap by it."),
        (noise / gap, "That is the noise over the gap: divide the gap by the noise."),
        (gap / other_std, "That divides by the wider CNN's spread only: the noise adds both rows' spreads."),
        (gap / std, "That divides by the recipe's spread only: the noise adds both rows' spreads."),
    ]
    return _verdict(answer, right, "the gain over its noise", mistakes, 0.06)


# ---------------------------------------------------------------------------------------------------- notebook 10e


def check_digits_between(answer, ours: list[float], other: list[float], n_digits: int) -> bool:
    """Notebook 10e, exercise 1: how many more validation digits, over all the seeds, runs ``ours`` read right than
    runs ``other``, each run scored on the same ``n_digits`` digits (accuracies per seed)."""
    gap = sum(ours) - sum(other)  # summed over the seeds: each accuracy is a count over n_digits
    right = round(gap * n_digits)
    mean_gap = gap / len(ours)
    mistakes = [
        (round(mean_gap * n_digits), "That is the count for one seed on average: add up all the seeds' counts."),
        (100 * mean_gap, "That is the gap in points: turn it into digits, n_digits per seed."),
        (mean_gap, "That is the gap of the means as a fraction: turn it into digits, n_digits per seed."),
        (-right, "That counts the other way round: how many more the others read right."),
    ]  # fmt: skip
    what = "how many more validation digits these runs read right than the others"
    return _verdict(answer, right, what, mistakes, 0.01)


# ----------------------------------------------------------------------------------------------------- notebook 11


def check_log_share(answer, low: float, high: float, below: float) -> bool:
    """Notebook 11, exercise 1: the share of draws below ``below`` when a rate is drawn between ``low`` and ``high``
    on a log scale (to 0.005)."""
    right = math.log(below / low) / math.log(high / low)
    mistakes = [
        ((below - low) / (high - low), "That is the share on a linear scale: with log=True equal ratios, not equal "
         "lengths, get equal shares."),
        (1 - right, f"That is the share of draws above {below}."),
        (math.log(below) / math.log(high / low), f"That takes the log of {below} alone: measure from the lower "
         f"end, log({below} / {low})."),
        (100 * right, "That is a percentage: give the share, a number between 0 and 1."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the share of log-scale draws below {below}", mistakes, 0.005)


# ---------------------------------------------------------------------------------------------------- notebook 11a


def check_quantile(answer, values: list[float], q: float = 0.25) -> bool:
    """Notebook 11a, exercise 1: the ``q`` quantile of ``values``, at position q × (n − 1) of them sorted, between two
    neighbours if needed, as ``torch.quantile`` places it (to 1e-4)."""
    ordered = torch.tensor(sorted(float(v) for v in values))
    right = ordered.quantile(q).item()
    # the usual slip: position q × n instead of q × (n − 1), which is the quantile q × n / (n − 1), at most the top
    at_qn = ordered.quantile(min(q * len(ordered) / max(len(ordered) - 1, 1), 1.0)).item()
    mistakes = [
        (ordered.quantile(0.5).item(), "That is the median, the middle value: the pruner's bar sits a quarter of the "
         "way along."),
        (ordered[0].item(), "That is the lowest value: the bar sits between two neighbours, at position q × (n − 1)."),
        (at_qn, "That places it at q × n: counting from 0, the position is q × (n − 1)."),
        (100 * right, "That is a percentage: give a fraction between 0 and 1."),
    ]  # fmt: skip
    return _verdict(answer, right, f"the {q} quantile of these {len(ordered)} values", mistakes, 1e-4)


# ---------------------------------------------------------------------------------------------------- notebook 11b


def check_steps_skipped(answer, rows: list[dict], trial_epochs: int, n_images: int) -> bool:
    """Notebook 11b, exercise 1: the share (to 0.005) of the steps that the search's trials would take at full budget,
    ``trial_epochs`` epochs of ``n_images`` images each, that pruning skipped. ``rows``: the trials table, each row
    with its ``batch_size`` and the ``epochs`` it ran."""
    steps = [math.ceil(n_images / row["batch_size"]) for row in rows]  # per epoch
    skipped = [trial_epochs - row["epochs"] for row in rows]  # epochs
    full = max(1, trial_epochs * sum(steps))
    right = sum(e * s for e, s in zip(skipped, steps)) / full
    mistakes = [
        (sum(e > 0 for e in skipped) / len(rows), "That is the share of trials pruned: count the steps they skipped; "
         "a pruned trial keeps the epochs it ran."),
        (sum(skipped) / (trial_epochs * len(rows)), "That counts epochs: an epoch of batches of 32 has about eight "
         "times the steps of one of 256. Weigh each epoch by its steps."),
        (1 - right, "That is the share of steps the trials ran: give the share pruning skipped."),
        (100 * right, "That is a percentage: give the share, a number between 0 and 1."),
        (right * full, "That is a count of steps: divide it by the steps of the full budget."),
    ]  # fmt: skip
    return _verdict(answer, right, "the share of the full budget's steps that pruning skipped", mistakes, 0.005)


# ---------------------------------------------------------------------------------------------------- notebook 11c


def check_seed_verdict(answer, baseline: list[float], challenger: list[float]) -> bool:
    """Notebook 11c, exercise 1: ``(gain, noise, verdict)`` for two recipes' validation accuracies over seeds,
    ``baseline`` and ``challenger``: the challenger's mean minus the baseline's and the two standard deviations over
    seeds added together (fractions, to 0.0002), and notebook 05b's verdict in ``metrics.seed_verdict``'s words."""
    (m_b, s_b), (m_c, s_c) = metrics.mean_std(baseline), metrics.mean_std(challenger)
    gain, noise = m_c - m_b, s_b + s_c
    what = "the gain, the noise and the verdict by the noise rule"
    if answer is None:
        return _verdict(None, None, what)
    try:
        got_gain, got_noise, got_verdict = answer
    except (TypeError, ValueError):
        print(f"Not quite: {answer!r} is not {what}. Give three things: (gain, noise, verdict).")
        return False
    pop = [torch.tensor(v).std(correction=0).item() for v in (baseline, challenger)]  # n, not n - 1
    n_b, n_c = math.sqrt(len(baseline)), math.sqrt(len(challenger))
    gain_mistakes = [
        (-gain, "That is the baseline minus the challenger: the gain is the challenger's mean minus the baseline's."),
        (100 * gain, "That is in points: give fractions, as the accuracies are (0.01 is one point)."),
        (max(challenger) - max(baseline), "That compares the best seeds: compare the means over seeds."),
    ]  # fmt: skip
    noise_mistakes = [
        (s_b / n_b + s_c / n_c, "Those are standard errors (σ / √n): the noise rule adds the standard deviations."),
        (math.hypot(s_b, s_c), "That is √(σ₁² + σ₂²): the noise rule adds the two standard deviations."),
        (max(s_b, s_c), "That is the larger standard deviation alone: add the two."),
        (sum(pop), "That divides by n, not n - 1: metrics.mean_std (torch's std) divides by n - 1."),
        (100 * noise, "That is in points: give fractions, as the accuracies are (0.01 is one point)."),
    ]  # fmt: skip
    for got, right, mistakes, name in ((got_gain, gain, gain_mistakes, "gain"), (got_noise, noise, noise_mistakes,
                                                                                 "noise")):  # fmt: skip
        if not _same(got, right, 0.0002):
            why = next((why for wrong, why in mistakes if _same(got, wrong, 0.0002)), None)
            print(f"Not quite: {got!r} is not the {name}. " + (why or "Open the next hint."))
            return False
    verdict = metrics.seed_verdict(gain, noise)
    if got_verdict != verdict:
        why = {"clear gain": "A positive gain counts only when it is larger than the noise."}.get(got_verdict, "")
        print(f"Not quite: the gain and the noise are right, but the verdict is not {got_verdict!r}. {why}".strip())
        return False
    print(f"Right: gain {got_gain:.4f}, noise {got_noise:.4f}: {verdict}.")
    return True


# ----------------------------------------------------------------------------------------------------- notebook 12


def check_box_width(answer, strokes) -> bool:
    """Notebook 12, exercise 1: how many pixels wide the box of ``strokes`` is, fitted as ``draw.fit_in_box`` fits
    it: the points scaled by (20 − pen) / longest side, the pen added, rounded up."""
    from mnist_lab import draw

    x0, y0, x1, y1 = draw.bounding_box(strokes)
    width, height = x1 - x0, y1 - y0
    scale = (draw.BOX - draw.INK) / max(width, height)
    mistakes = [
        (math.ceil(width * scale - 1e-6), "That leaves out the pen: add draw.INK, half on each side."),
        (math.ceil(width * draw.BOX / max(width, height) + draw.INK - 1e-6),
         "That scales by 20 / longest side: the lines may fill only 20 − draw.INK, the pen adds the rest."),
        (width * scale + draw.INK, "That is the width before rounding: round up to whole pixels."),
        (draw.BOX, "That is the box's height: its longest side."),
    ]  # fmt: skip
    right = draw.fit_in_box(strokes).shape[1]
    return _verdict(answer, right, "the box's width in pixels", mistakes, 0.01)


# ---------------------------------------------------------------------------------------------------- notebook 12a


def check_box_centring_offset(answer, boxed) -> bool:
    """Notebook 12a, exercise 1: how far (pixels, to 0.1) the centre of mass of ``boxed`` lies from the centre of a
    28×28 image, index (14, 14) where step 3 puts it, when the box is pasted in its middle by its bounding box."""
    from mnist_lab.draw import FIELD, center_of_mass

    (row, col), (h, w), middle = center_of_mass(boxed), boxed.shape, FIELD // 2  # where draw.center_by_mass aims
    dy, dx = (FIELD - h) // 2 + row - middle, (FIELD - w) // 2 + col - middle
    mistakes = [
        (abs(dx) + abs(dy), "That adds the two offsets: the distance is √(dx² + dy²)."),
        (max(abs(dx), abs(dy)), "That is the larger of the two offsets: the distance is √(dx² + dy²)."),
    ]
    return _verdict(answer, math.hypot(dx, dy), "the distance of the centre of mass from (14, 14)", mistakes, 0.051)


# ---------------------------------------------------------------------------------------------------- notebook 12b


def check_smoothing_target(answer, epsilon: float, classes: int = 10) -> bool:
    """Notebook 12b, exercise 1: label smoothing's target for the true digit (to 0.001), share ``epsilon`` spread
    over all ``classes`` digits, the true one included (notebook 09): 1 - ε + ε / K."""
    right = 1 - epsilon + epsilon / classes
    mistakes = [
        (1 - epsilon, "That forgets the true digit's own share of the spread: add ε / 10 back."),
        (1 - epsilon + epsilon / (classes - 1), "That spreads ε over the other nine only: it goes over all ten."),
        (1 - epsilon / classes, "That takes away only ε / 10: the true digit gives up ε, then gets ε / 10 back."),
        (epsilon / classes, "That is each other digit's target: the question asks for the true digit's."),
        (1.0, "That is the target without smoothing: with it, the true digit gets less than 1."),
        (100 * right, "That is in percent: give a probability, between 0 and 1."),
    ]  # fmt: skip
    what = f"label smoothing's target for the true digit with ε = {epsilon}, over {classes} digits"
    return _verdict(answer, right, what, mistakes, 0.0006)


# ---------------------------------------------------------------------------------------------------- notebook 12c


def check_shifted_reads(answer, model, images, labels, pixels: int, other=None, name: str = "MLP") -> bool:
    """Notebook 12c, exercise 1: how many of ``images`` (28×28 digits, one per label of ``labels``), moved ``pixels``
    pixels right, ``model`` (the ``name``) reads right. ``other``, the other model, gives one of the usual
    mistakes."""
    from mnist_lab.augment import shift
    from mnist_lab.draw import predict_proba

    def count(reader, dx: int, dy: int) -> int:
        read = [int(predict_proba(reader, x).argmax()) for x in shift(images, dx, dy)]
        return sum(r == int(d) for r, d in zip(read, labels))

    right = count(model, pixels, 0)
    mistakes = [
        (len(labels) - right, "That counts the drawings it misreads: give how many it reads right."),
        (count(model, 0, pixels), "That moves them down: shift(images, dx, dy) takes the move right first."),
        (count(model, -pixels, 0), "That moves them left: a move right is a positive dx."),
        (count(model, pixels, pixels), "That moves them right and down: move them right only, dy = 0."),
        (count(model, 0, 0), "That is the count before the move: read the shifted images."),
    ]
    if other is not None:
        why = f"That is the other model's count: the question asks about the {name}."
        mistakes.append((count(other, pixels, 0), why))
    merged: dict[int, str] = {}  # counts are small whole numbers: two mistakes may give the same one
    for wrong, why in mistakes:
        merged[wrong] = f"{merged[wrong]} Or t{why[1:]}" if wrong in merged else why
    what = f"the number of the {len(labels)}, moved {pixels} pixels right, that the {name} reads right"
    return _verdict(answer, right, what, list(merged.items()))


def _own_random_numbers(check):
    """Return ``check`` run on its own random numbers: whether a student runs a check or not, the notebook's
    next random numbers (a model's first weights, the order of the batches) stay the same."""

    @functools.wraps(check)
    def run(*args, **kwargs):
        with torch.random.fork_rng(devices=[]):
            return check(*args, **kwargs)

    return run


for _name, _check in list(globals().items()):
    if _name.startswith("check_") and callable(_check):
        globals()[_name] = _own_random_numbers(_check)
