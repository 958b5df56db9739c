"""The numbers of a full default run of the notebooks, checked with tolerances.

`make nbval` executes every committed notebook with its default parameters and compares the outputs that are the
same on every machine. The numbers that come out of training change in their last digits with the machine (its CPU,
its float path, its thread count, a GPU), so nbval's sanitize file hides them; this module checks them instead, in
the artifacts folder that run wrote (``MNIST_LAB_EXECUTED``), against ranges that hold on any machine (the spread
over seeds and float paths is measured by `make bench`: docs/reproducibility.md) and fail on a real regression.

Not collected by `pytest tests` (its name does not start with ``test_``): `make nbval` runs it by path, after the
notebooks.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
import torch

from mnist_lab import course, data, metrics

MLP_PARAMETERS = 784 * 128 + 128 + 128 * 64 + 64 + 64 * 10 + 10  # 109,386
CNN_PARAMETERS = 38_458


@pytest.fixture(scope="module")
def executed() -> Path:
    """The artifacts folder of the run nbval just made."""
    if not os.environ.get("MNIST_LAB_EXECUTED"):
        pytest.fail("Set MNIST_LAB_EXECUTED to the artifacts folder of a full default run (make nbval does).")
    path = Path(os.environ["MNIST_LAB_EXECUTED"])
    assert path.is_dir(), f"{path} does not exist: run the notebooks first (make nbval)"
    return path


def read(folder: Path, name: str) -> dict:
    path = folder / name
    assert path.is_file(), f"the default run wrote no {name} in {folder}"
    return json.loads(path.read_text())


def steps_per_epoch(settings: dict, batch_size: int) -> int:
    """The steps of one trial epoch at ``batch_size``, on the search's ``trial_images`` (11a and 11b read them)."""
    return math.ceil(settings["trial_images"] / batch_size)


def validation_grid() -> dict[str, dict]:
    """Notebook 05b's full-length runs as the library keeps them, the same on every machine:
    ``{name: {value: [validation accuracy per seed]}}``."""
    from mnist_lab import runtime

    grid = runtime.read_json(course.VALIDATION_GRID)["grid"]
    return {name: {row["value"]: row["accuracies"] for row in rows} for name, rows in grid.items()}


def test_the_data_readings_of_01(executed):
    """01: what its prose says of the training images. No training makes them, so they are computed again here from
    the same split (nbval compares the printouts that give them, but hides the shares, as percentages). 02's
    untrained network prints lines that nbval compares as they are."""
    splits = data.load_splits(None, 5000)  # the default run's data folder and validation size
    images, labels = splits.train_images, splits.train_labels
    shares = torch.bincount(labels, minlength=10) / len(labels)
    # "The digits are close to balanced: each has 9.0% to 11.2% of the images" and answer 9
    assert f"{shares.min():.1%} to {shares.max():.1%}" == "9.0% to 11.2%"
    # "(chart: 1s the most, above the dashed tenth; 5s the fewest, below it)"
    assert int(shares.argmax()) == 1 and int(shares.argmin()) == 5
    assert shares[1] > 0.1 > shares[5]
    # "The pixel mean, 0.1306, is small because 81% of the pixels are blank paper."
    mean, std = images.mean().item(), images.std().item()
    blank = (images == 0).float().mean().item()
    assert f"{blank:.0%} {mean:.4f} {std:.4f}" == "81% 0.1306 0.3081"
    assert blank > 0.5 and mean < 0.2  # most pixels are 0, so the mean is small
    # "The standard deviation, 0.3081, is more than twice the mean: the other 19% average 0.68, and their large
    # distances from it count most." (printed: "the other 19% average 0.68"); those pixels give most of s²
    assert std > 2 * mean
    others = images[images > 0]
    assert f"{1 - blank:.0%} {others.mean().item():.2f}" == "19% 0.68"
    assert ((others - mean) ** 2).sum().item() > 0.5 * ((images - mean) ** 2).sum().item()
    # "torch's std divides by n − 1; with our 43 million pixels, n gives the same digits:" (printed beside it)
    assert f"{images.std(correction=0).item():.4f}" == f"{std:.4f}"
    # Further research: "Most pixels are 0 and the rest average 0.68: why does that make
    # the pixels' standard deviation larger than their mean?"
    assert mean < std and others.mean().item() > 4 * mean


def test_the_loader_and_damage_readings_of_01b():
    """01b: what its prose reads from the damaged digits and from its blurred pixel. No training makes them, so they
    are computed again here as the notebook computes them: its first eight training digits, the noise seeded with 0.
    Its loaders' check ("all 1,719 batches of both loaders identical: True") and its pixel changes are printed lines
    that nbval compares as they are; the loaders' seconds are hidden, and their reading is printed ("so: ...")."""
    from mnist_lab import augment

    images = data.load_splits(None, 5000).train_images  # 01b's train_images: notebook 01's split, converted
    # "`datasets.MNIST` keeps its pixels in memory as bytes; ours adds a float copy" and "`data.make_loaders` for
    # three: the training loader shuffled like ours, the others in the file's order."
    from torchvision import datasets

    assert datasets.MNIST(data.get_mnist(None), train=True).data.dtype == torch.uint8
    train_loader, val_loader, test_loader = data.make_loaders(None, batch_size=32, seed=0)
    assert train_loader.shuffle and not val_loader.shuffle and not test_loader.shuffle
    _, val_idx = data.split_indices(60_000)
    assert torch.equal(val_idx, val_idx.sort().values)
    sample, generator = images[:8], torch.Generator().manual_seed(0)
    rows = {"blur 1": augment.gaussian_blur(sample, 1.0), "blur 2": augment.gaussian_blur(sample, 2.0)}
    rows |= {f"noise {s}": augment.add_noise(sample, s, generator=generator) for s in (0.3, 0.6)}
    rows |= {"shift": augment.shift(sample, 3, 2), "rotate": augment.rotate(sample, 20.0)}
    change = {name: (row - sample).abs().mean().item() for name, row in rows.items()}
    # "The shift changes these eight digits more than both blurs, noise σ = 0.3 or the rotation." (also printed),
    # and "So a large pixel change need not make a digit harder for us to read, and a smaller one, blur σ = 2's,
    # can." (blur σ = 2 changes less than the shift)
    assert all(change["shift"] > change[name] for name in ("blur 1", "blur 2", "noise 0.3", "rotate"))
    # "so: noise σ=0.6 changes them most" (printed), answer 11, and "The largest change, noise σ = 0.6's, does."
    # (cell 17 reads noise σ = 0.6 as making several digits hard to read)
    assert max(change, key=change.get) == "noise 0.6"
    # "Noise changes a pixel by well under 0.80σ, the mean size of a draw. Clipping cuts draws that would leave 0
    # to 1: negative ones on blank paper, 82% of these pixels, and positive ones on ink near 1." (printed: 0.124
    # for σ = 0.3, 0.233 for σ = 0.6, then the notebook's next 100,000 draws and the blank share); without the
    # clip, the change would be larger
    assert change["noise 0.3"] < 0.3 / 2 and change["noise 0.6"] < 0.6 / 2
    assert (sample > 0.99).float().mean().item() > 0.01  # ink near 1, where positive draws are cut
    draws = torch.randn(100_000, generator=generator)  # the generator has made both noise rows, as in 01b
    assert f"{draws.abs().mean().item():.2f}" == "0.80"
    assert f"{(sample == 0).float().mean().item():.0%}" == "82%"
    unclipped = (sample + 0.3 * torch.randn(sample.shape, generator=torch.Generator().manual_seed(0))) - sample
    assert unclipped.abs().mean().item() > change["noise 0.3"]
    # "so most inked pixels (above 0.5) lose their ink (last two lines). After the 20° turn, more keep theirs."
    # (printed: 21% and 51% of the inked pixels still inked)
    ink = sample > 0.5
    kept = {name: (rows[name] > 0.5)[ink].float().mean().item() for name in ("shift", "rotate")}
    assert kept["shift"] < 0.5 and kept["rotate"] > kept["shift"]
    # "Now one pixel of the first training digit: row 12, column 15, blank paper beside a stroke." and "The blank
    # pixel turns grey: ink from the stroke beside it leaks in, and the library's blur agrees." (printed: 0.0000
    # before, 0.2637 after)
    assert images[0, 0, 12, 15] == 0 and images[0, 0, 9:16, 12:19].max() > 0.5
    assert augment.gaussian_blur(images[:1], 1.0)[0, 0, 12, 15] > 0.1
    # "The centre weighs most, and the weights fall off with the distance d": the weights depend on the distance
    # only, and fall with it
    steps = range(-3, 4)
    d2 = torch.tensor([[a**2 + b**2 for a in steps] for b in steps], dtype=torch.float64)
    weights = torch.exp(-d2 / 2) / torch.exp(-d2 / 2).sum()
    by_distance = sorted({(d, round(w, 12)) for d, w in zip(d2.flatten().tolist(), weights.flatten().tolist())})
    assert [w for _, w in by_distance] == sorted((w for _, w in by_distance), reverse=True)
    assert len(by_distance) == len({d for d, _ in by_distance})  # one weight per distance
    # "Beyond the square lies only 0.0005 of the weight (last line): leaving it out barely changes a blurred
    # pixel." A blurred pixel is a weighted mean of values from 0 to 1: leaving out a share w of the weight moves
    # it by at most about w.
    far = torch.arange(-10, 11, dtype=torch.float64) ** 2
    wide = torch.exp(-(far[None, :] + far[:, None]) / 2)  # σ = 1, 10 pixels to each side
    beyond = 1 - wide[7:14, 7:14].sum().item() / wide.sum().item()
    assert f"{beyond:.4f}" == "0.0005" and beyond < 0.001


def test_the_model_readings_of_02():
    """02: what its prose says of the MLP's sizes and of the library's MLP (no training: the same everywhere)."""
    from mnist_lab import models

    library = models.MLP()
    # "`fc1`'s weights, one per pixel per hidden unit, are 92% of the parameters."
    assert f"{784 * 128 / MLP_PARAMETERS:.0%}" == "92%"
    assert models.count_parameters(library) == MLP_PARAMETERS
    # "`models.MLP()`: the same layers in an `nn.Sequential` (steps run in order), with the ReLU as an object,
    # `nn.ReLU()`" and "The ReLUs hold no parameters, so the state dict skips `layers.1` and `layers.3`."
    shapes = [tuple(t.shape) for t in library.state_dict().values()]
    assert shapes == [(128, 784), (128,), (64, 128), (64,), (10, 64), (10,)]
    names = [f"layers.{i}.{kind}" for i in (0, 2, 4) for kind in ("weight", "bias")]
    assert list(library.state_dict()) == names
    assert isinstance(library.layers, torch.nn.Sequential)
    assert isinstance(library.layers[1], torch.nn.ReLU) and isinstance(library.layers[3], torch.nn.ReLU)
    # "A ReLU is a layer too, but we count linear layers only: 784-128-64-10 (sizes in order) has three."
    assert sum(isinstance(m, torch.nn.Linear) for m in library.layers) == 3
    # "On this batch one digit tops most images, and about as many are right as blind guessing gets" and "The image
    # changes the guess for only a few": printed ("so: 27 of 32 guesses are 3; 3 of 32 are right"), compared by
    # nbval. "On average, a logit varies less from image to image than the ten digits' mean logits differ (second
    # line)" and "The digit with the highest mean logit is the one that tops most images (first and last lines)":
    # printed from the numbers ("so: logits vary less between images ..." and "so: the highest mean logit is
    # digit 3's", the commonest guess of the first line), compared by nbval.
    # "(right one time in ten)": 32 / 10 = 3.2, printed.
    # "PyTorch draws $W$ and $b$ at random within $\pm 1/\sqrt{784}$, one over the root of the input count":
    # nn.Linear's default bound, 1/sqrt(n_in); also printed for the notebook's layer ("so: largest weight ...,
    # largest bias ...; both within ...: True"). fc2's 128 inputs give 1/sqrt(128).
    for n_in, n_out in [(784, 128), (128, 64)]:
        layer = torch.nn.Linear(n_in, n_out)
        bound = 1 / math.sqrt(n_in)
        assert layer.weight.abs().max() <= bound and layer.bias.abs().max() <= bound
        assert layer.weight.abs().max() > 0.9 * bound  # the bound is 1/sqrt(n_in), not smaller


def test_the_hidden_layer_readings_of_02c():
    """02c: what its prose says of stacked linear layers, of the ReLU and of a fixed shuffle of the pixels (no
    training: the same everywhere). Its checks print True lines that nbval compares as they are."""
    from mnist_lab import models

    torch.manual_seed(0)
    lin1, lin2 = torch.nn.Linear(6, 5), torch.nn.Linear(5, 4)
    x = torch.rand(3, 6)
    with torch.no_grad():
        stacked = lin2(lin1(x))
        # "one layer, with weight $W_2 W_1$ and bias $W_2 b_1 + b_2$. The first layer acts first, so $W_1$ stands on
        # the right, and its bias passes through $W_2$."
        folded = x @ (lin2.weight @ lin1.weight).T + lin2.weight @ lin1.bias + lin2.bias
        assert torch.allclose(stacked, folded, atol=1e-6)
        assert not torch.allclose(stacked, x @ (lin2.weight @ lin1.weight).T + lin2.bias, atol=1e-3)  # W2 b1 counts
    # "# PyTorch forbids overwriting parameters in place outside it" (and answer 6): copy_ raises without no_grad
    with pytest.raises(RuntimeError, match="in-place"):
        lin1.weight.copy_(torch.zeros_like(lin1.weight))
    # "That one layer ... is softmax regression": "7,850 parameters to our MLP's 109,386" (answer 8), both printed
    assert models.count_parameters(torch.nn.Linear(784, 10)) == 7850
    assert models.count_parameters(models.MLP()) == MLP_PARAMETERS
    # "The `fc1` sums and the logits stay the same, up to rounding": printed ("so: shuffled alike, fc1's sums stay
    # the same: True" and "so: the logits stay the same too: True"), compared by nbval. "for every MLP that reads
    # real digits, the one with its weight columns shuffled reads shuffled digits as well, up to rounding" and
    # "any (128, 784) matrix, `W_shuffled` too, is a valid `fc1`": the shuffled weights loaded as an MLP's fc1,
    # and the whole model's logits, compared here
    model, images = models.MLP(), torch.rand(32, 1, 28, 28)
    order = torch.randperm(784)
    shuffled = models.MLP()
    shuffled.load_state_dict(model.state_dict())
    with torch.no_grad():
        shuffled.layers[0].weight.copy_(model.layers[0].weight[:, order])
        same = torch.allclose(model(images), shuffled(images.reshape(32, -1)[:, order]), atol=1e-5)
    assert same
    # "In A the pixel changes nothing; in B it passes on whole": printed ("[0.0, 2.0]"), compared by nbval.


def test_the_loss_readings_of_02b():
    """02b: what its prose reads from the untrained MLP's logits on its one batch. No training makes them: they are
    computed again here as the notebook computes them with its default seed (the library's MLP drawn right after
    seeding, the first training batch of 32)."""
    import torch.nn.functional as F

    from mnist_lab import models, runtime

    runtime.seed_everything(0)
    model = models.MLP()
    images, labels = next(iter(data.make_loaders(None, batch_size=32, seed=0)[0]))
    with torch.no_grad():
        logits = model(images)
    guesses = logits.argmax(dim=1)
    # "Which digit it favours (3 in notebook 02, 0 here) is chance: notebook 02 drew other random numbers before
    # its model, so the same seed gave it other weights."
    # "Image 0's ten logits are all close to 0, and most images get the same guess, 0 (last lines)" (measured: 30 of
    # 32 guesses are 0, image 0's logits within 0.16 of 0)
    assert logits[0].abs().max() < 0.25 and int((guesses == 0).sum()) > 16
    assert int(torch.bincount(guesses, minlength=10).argmax()) == 0
    # "Every probability is close to one tenth: the small initial weights and biases keep the logits close to 0"
    # (printed: the probabilities run from 0.088 to 0.117, the logits from -0.134 to 0.162)
    probs = torch.softmax(logits, dim=1)
    assert (probs - 0.1).abs().max() < 0.025 and logits.abs().max() < 0.25
    # "Ours is close to ln 10 (last two lines): its probabilities are near 1/10" (printed: 2.2951 against 2.3026)
    loss = F.cross_entropy(logits, labels).item()
    assert abs(loss - math.log(10)) < 0.05
    # "Most of our guesses are wrong, so the surer the model, the more it pays: at ×100 its loss is several times
    # ln 10 (last line), for the same guesses" (printed: 2 of 32 right; loss 2.295, 2.457, 3.906, 11.409 at ×1, ×10,
    # ×30, ×100; "so: at ×100 the loss is 5.0 times ln 10")
    assert int((guesses == labels).sum()) < 16
    scaled = [F.cross_entropy(logits * k, labels).item() for k in (1, 10, 30, 100)]
    assert scaled == sorted(scaled) and scaled[-1] > 3 * math.log(10)
    # "from ×1 to ×100 the mean largest probability climbs from 0.113 to 0.903, and the loss from 2.295 to 11.409"
    tops = [torch.softmax(logits * k, dim=1).max(dim=1).values.mean().item() for k in (1, 10, 30, 100)]
    assert tops == sorted(tops) and tops[0] < 0.15 and tops[-1] > 0.85
    assert all(torch.equal((logits * k).argmax(dim=1), guesses) for k in (10, 30, 100))
    # "It moves little up to ×10, then climbs" (printed: 2.295, 2.457, then 3.906 and 11.409)
    assert scaled[1] - scaled[0] < 0.5 and scaled[3] - scaled[1] > 5
    # "The loss slopes, up one way and down the other (last line)", and "our nudges flip none": the nudges of 0.001
    # of the digit-9 logits (printed: +8.9e-05 and -8.9e-05; "so: the loss goes up one way and down the other: True;
    # no guess changes: True")
    changes = []
    for nudge in (-0.001, 0.001):
        nudged = logits.clone()
        nudged[:, 9] += nudge
        changes.append(F.cross_entropy(nudged, labels).item() - loss)
        assert torch.equal(nudged.argmax(dim=1), guesses)
    assert changes[0] * changes[1] < 0
    # "The loss slopes, up one way and down the other (last line): raising the digit-9 bias lowers it."
    assert changes[1] < 0 < changes[0]


def test_the_readings_of_03():
    """03: what its prose reads from the central difference of tanh at u = 1 (computed again as the notebook does)."""

    def nudge(f, u, h):
        return (f(u + h) - f(u - h)) / (2 * h)

    slope = 1 - math.tanh(1.0) ** 2
    errors = {h: abs(nudge(math.tanh, 1.0, h) - slope) for h in (1e-2, 1e-3, 1e-6, 1e-9)}
    # "Tanh's bending itself changes between u - h and u + h: what is left shrinks like h^2, until rounding takes
    # over (below)." (printed: 1.0e-05 at h = 1e-2, 1.0e-07 at 1e-3: "so: h 10 times smaller, error 100 times
    # smaller: like h²")
    assert 50 < errors[1e-2] / errors[1e-3] < 200
    # "below some h the error grows (last line). At h = 10^{-6} rounding already dominates, yet stays far
    # below the four printed decimals." (printed: 2.3e-11 at 1e-6, against the h² law's 1.0e-13;
    # 6.4e-08 at 1e-9)
    h2_law = errors[1e-3] / 1000**2
    assert errors[1e-6] > 10 * h2_law and errors[1e-9] > errors[1e-6]
    assert errors[1e-6] < 1e-6
    # "Each weight's derivative is its input times the same 1 - L^2: a weight whose input is 0 gets 0 (second
    # entry)." (printed: w.grad +0.9901 +0.0000 +0.4950, for x_in = [1.0, 0.0, 0.5])
    x_in = torch.tensor([1.0, 0.0, 0.5], dtype=torch.float64)
    w = torch.tensor([0.3, 0.1, -0.4], dtype=torch.float64, requires_grad=True)
    torch.tanh((x_in * w).sum()).backward()
    assert w.grad[1].item() == 0.0 and (w.grad[[0, 2]] != 0).all()
    # "Before `backward()`, `a.grad` was `None`; `a` is a leaf, `L` is not (second line)."
    a = torch.tensor(2.0, dtype=torch.float64, requires_grad=True)
    loss = torch.tanh(a * -3.0 + 7.0)
    assert a.grad is None and a.is_leaf and not loss.is_leaf


def _untrained_mlp_and_batch_of_03b_03c():
    """The untrained MLP and first training batch of 32 that 03b and 03c draw with their default seed."""
    from mnist_lab import models, runtime

    runtime.seed_everything(0)
    model = models.MLP()
    images, labels = next(iter(data.make_loaders(None, batch_size=32, seed=0)[0]))
    return model, images.reshape(len(images), -1), labels


def test_the_readings_of_03b():
    """03b: what its prose reads from image 0's row of delta3 (no training: computed again as the notebook does)."""
    model, x, labels = _untrained_mlp_and_batch_of_03b_03c()
    with torch.no_grad():
        logits = model(x)
    delta3 = (torch.softmax(logits, dim=1) - torch.nn.functional.one_hot(labels, 10)) / len(labels)
    row, y = delta3[0], int(labels[0])
    # "The row bears the prediction out: the right entry sits near its expected value (second line), the nine
    # others around theirs (third line), as each p_k is only near 1/10." (printed: -0.0282 against
    # -0.0281 at 9; "so: the nine others run from +0.0028 to +0.0036", against +0.0031)
    expected = torch.full((10,), 0.1 / 32)
    expected[y] = (0.1 - 1) / 32
    assert (row - expected).abs().max() < 0.0015 and (row - expected).abs().max() > 0
    assert abs(row[y] - expected[y]) < 0.0005
    others = row[torch.arange(10) != y]
    assert others.min() < 0.1 / 32 < others.max()
    # "Its sum is 0 up to rounding (fifth line)." (printed: +4.7e-10; "so: 0 to within rounding (under a millionth
    # of its largest entry): True")
    assert abs(row.sum().item()) < 1e-6 * row.abs().max().item()
    # "Our forward pass gives the model's logits, the nudges bear out both slopes, and autograd agrees with our
    # delta3 (printed)."
    z3 = logits.clone().requires_grad_()
    torch.nn.functional.cross_entropy(z3, labels).backward()
    assert torch.allclose(delta3, z3.grad)
    # "Each kept result has one row per image, one column per unit of its layer." (printed: z1, a1, z2, a2 of
    # shapes (32, 128), (32, 128), (32, 64), (32, 64))
    assert len(x) == 32 and [model.layers[i].out_features for i in (0, 2)] == [128, 64]


def test_the_readings_of_03c():
    """03c: what its prose reads from the gradients by hand and autograd's (no training: computed again)."""
    import torch.nn.functional as F

    model, x, labels = _untrained_mlp_and_batch_of_03b_03c()
    W1, b1, W2, b2, W3, b3 = [p.detach() for p in model.parameters()]
    z1 = x @ W1.T + b1
    a1 = torch.relu(z1)
    z2 = a1 @ W2.T + b2
    a2 = torch.relu(z2)
    logits = a2 @ W3.T + b3
    delta3 = (torch.softmax(logits, dim=1) - F.one_hot(labels, 10)) / len(labels)
    delta2 = (delta3 @ W3) * (z2 > 0)
    delta1 = (delta2 @ W2) * (z1 > 0)
    ours = [delta1.T @ x, delta1.sum(dim=0), delta2.T @ a1, delta2.sum(dim=0), delta3.T @ a2, delta3.sum(dim=0)]
    # "Notebook 03's central difference, nudging the bias both ways, gives its slope: the code's entry, to within a
    # millionth (last line)." (printed: -0.0887 both; "so: the two agree to within a millionth: True")
    digit = int(labels[0])
    nudged = []
    for h in (1e-4, -1e-4):
        raised = logits.double()
        raised[:, digit] += h
        nudged.append(F.cross_entropy(raised, labels).item())
    assert abs((nudged[0] - nudged[1]) / 2e-4 - ours[5][digit].item()) < 1e-6
    # "Negative: raising this bias lowers the loss." (printed: -0.0887); the code's comment "at seed 0, b3[9]:
    # notebook 02b nudged it too" (02b nudged the digit-9 bias of the same untrained model on the same batch)
    assert digit == 9 and ours[5][digit] < 0
    # "All six gradients pass torch.allclose." and "The largest gap (first number) is not 0: some last digits
    # differ." (printed: 4.7e-09)
    F.cross_entropy(model(x), labels).backward()
    assert all(torch.allclose(p.grad, g) for p, g in zip(model.parameters(), ours))
    # "Most entries are under 10^-3 (last line): for them `allclose` allows a gap of about 10^-8, more than 5 digits
    # would." (printed: 84%; 82% to 86% with other seeds); the allowed gap, 1e-8 + 1e-5 |ours|, is under 2e-8 there
    # and above 1e-5 |ours|
    entries = torch.cat([p.grad.flatten() for p in model.parameters()])
    assert (entries.abs() < 1e-3).float().mean() > 0.6
    assert max((p.grad - g).abs().max().item() for p, g in zip(model.parameters(), ours)) > 0
    # "In each gradient, the largest gap is under a millionth of its largest entry (the worst ratio, third number)"
    # (measured: at most 2.2e-07 of its gradient's largest entry)
    for p, g in zip(model.parameters(), ours):
        assert (p.grad - g).abs().max() < 1e-6 * p.grad.abs().max()
    # "In float64, which keeps about 16 digits, every gap falls under a trillionth of its gradient's largest entry
    # (last line)." (measured: at most 6.0e-16)
    from mnist_lab import models

    model64 = models.MLP().double()
    model64.load_state_dict(model.state_dict())
    x64 = x.double()
    F.cross_entropy(model64(x64), labels).backward()
    W1, b1, W2, b2, W3, b3 = [p.detach() for p in model64.parameters()]
    z1 = x64 @ W1.T + b1
    z2 = torch.relu(z1) @ W2.T + b2
    delta3 = (torch.softmax(torch.relu(z2) @ W3.T + b3, dim=1) - F.one_hot(labels, 10)) / len(labels)
    delta2 = (delta3 @ W3) * (z2 > 0)
    delta1 = (delta2 @ W2) * (z1 > 0)
    ours64 = [
        delta1.T @ x64,
        delta1.sum(dim=0),
        delta2.T @ torch.relu(z1),
        delta2.sum(dim=0),
        delta3.T @ torch.relu(z2),
        delta3.sum(dim=0),
    ]
    for p, g in zip(model64.parameters(), ours64):
        assert (p.grad - g).abs().max() < 1e-12 * p.grad.abs().max()


def test_the_training_loop_of_04(executed):
    """04: what its prose reads from the loop's epochs and its generalisation gap (training_curves.json)."""
    curves = read(executed, "training_curves.json")
    history = curves["history"]
    # Question 14, "Why can an epoch's training accuracy be below its validation accuracy?", the prose's "In both
    # panels, validation beats training in every epoch. [...] epoch 1's first batches met an untrained network",
    # and the printed "the validation accuracy beat the epoch's training accuracy in 3 of 3 epochs" (measured:
    # 63.3% against 86.4%, then 88.8% against 89.9% and 90.7% against 91.5%); the loss panel below
    lead = [row["val_accuracy"] - row["train_accuracy"] for row in history]
    assert lead[0] == max(lead) and lead[0] > 0.1
    assert min(lead) > 0.002  # a margin, so that a near call fails here
    # the printed "so: the validation loss fell from each epoch to the next" and "so: the validation loss was below
    # the epoch's training loss in 3 of 3 epochs" (measured: validation loss 0.49, 0.36, 0.31)
    for before, after in zip(history, history[1:]):
        assert after["val_loss"] < before["val_loss"]
    assert all(row["val_loss"] < row["train_loss"] for row in history)
    # the loop's printed generalisation gap, "+0.0046 in loss and -0.06 points of accuracy": narrow beside the run
    # on 1,000 images' (notebook 04b, below)
    end_train_loss, end_train_acc = curves["end_train"]
    assert abs(history[-1]["val_loss"] - end_train_loss) < 0.05
    # the printed "so: under our margin of 1 point: the model does about as well on images it never trained on"
    # (the margin that notebooks 05 and 07 cite; measured: -0.06 points), with room so that a near call fails here,
    # the sentence after it, "A small gap says that the model has not learned its training images by heart, not that
    # it is good", and 04b's "After epoch 3 in notebook 04 it was under 1 point
    # of accuracy."
    assert abs(end_train_acc - history[-1]["val_accuracy"]) < 0.007
    # "Chance alone stays within 2 standard errors about 19 times in 20: take that on trust until notebook 06", "So
    # our gap gets validation's standard error alone.", the printed "validation's standard error is 0.39 points; our
    # gap is within 2 of them: chance could explain it" (printed from the numbers), and answer 14's "Measured at the
    # same moment, a gap within 2 standard errors can take either sign by luck" (measured: -0.06 points against
    # 2 x 0.39)
    acc = history[-1]["val_accuracy"]
    se = math.sqrt(acc * (1 - acc) / 5_000)
    assert abs(end_train_acc - acc) < 2 * se - 0.002  # a margin, so that a near call fails here
    # the printed "so: the two gaps differ in sign: the loss weighs how sure each answer is, the accuracy only
    # whether it is on top; at a gap this small they can point opposite ways" is printed from the numbers either way


def test_the_over_fitting_and_the_checkpoint_of_04b(executed):
    """04b: what its prose reads from the run on 1,000 images and from its checkpoint (overfitting_history.json,
    overfitting_run.pt), and 04's last sentence, which announces it. Each row of the run on 1,000 images holds the
    training images' numbers at the end of its epoch (``end_train_loss``, ``end_train_accuracy``), measured at the
    same moment as the validation numbers."""
    small = read(executed, "overfitting_history.json")
    # "`fit` saves a **checkpoint**, a training's state, after every epoch, overwriting the last"
    # (the file holds epoch 100),
    # "`optimizer_state`: for plain SGD, only its settings (`param_groups`): its `state` is empty (printed)" (the
    # printed `{}`, lr 0.03, momentum 0.0
    # "(momentum: notebook 05; 0 is plain SGD)"), and "`scheduler_state` and `recipe` (what sets how a model
    # trains): notebook 05's, empty here." (printed: None, {})
    checkpoint = torch.load(executed / "overfitting_run.pt", weights_only=True)
    assert checkpoint["optimizer_state"]["state"] == {} and checkpoint["epoch"] == 100
    assert checkpoint["scheduler_state"] is None and checkpoint["recipe"] == {}
    assert checkpoint["optimizer_state"]["param_groups"][0]["lr"] == 0.03
    # "`settings`: five of `fit`'s arguments (printed); notebook 05's options (momentum, weight decay, schedule) are
    # off;", and "`model_config`: the model's kind and layer sizes"
    # (printed)
    settings = checkpoint["settings"]
    assert len(settings) == 5 and settings["epochs"] == 100
    assert checkpoint["model_config"] == {"name": "mlp", "hidden": [128, 64]}
    assert settings["momentum"] == 0 and settings["weight_decay"] == 0 and settings["schedule"] == "none"
    # "**Over-fitting**: the validation loss rises over several epochs while the training loss still falls", "our
    # over-fitting rule** makes "several" precise with means; it needs 10 epochs past the lowest, so that the last 10
    # all come after it (under 15, the two means share epochs). A run over-fits when all three hold" (the printed
    # verdict is "too few for our rule" under 10 epochs past the lowest; the last 10 epochs' mean validation loss over
    # 10% above the mean of the epochs within 5 of its lowest; "the relative rise beats $\max_t |v_{t+1}/v_t - 1|$,
    # the largest relative change between neighbouring epochs from the lowest on"; "the training loss is lower at the
    # last epoch's end than at the lowest's"; the printed ": one wiggle alone tops 10%, hence our second condition"
    # is printed from the numbers)
    # and the printed "so: a rise over 10% and over that change; the training loss is lower at the last epoch than
    # at the lowest: over-fitting by our rule (set on this run: not a test of it)" (measured: the last 10 epochs'
    # validation loss averaged 24% above the 11 epochs around the lowest, at epoch 37 of 100; the largest change
    # between neighbouring epochs from it on 12%; training loss 0.164, then 0.015; not a test of the rule: with seed 1
    # it says over-fitting (rise 17%, largest change 9%), with seed 2 not (rise 15%, largest change 26%))
    lowest, end = min(small, key=lambda row: row["val_loss"]), small[-1]
    assert len(small) == 100 and 5 <= lowest["epoch"] <= 60  # so 40 and more epochs past the lowest
    vals, low = [row["val_loss"] for row in small], lowest["epoch"] - 1
    around, late = vals[max(0, low - 5) : low + 6], vals[-10:]
    rise = (sum(late) / len(late)) / (sum(around) / len(around)) - 1
    jump = max(abs(b / a - 1) for a, b in zip(vals[low:], vals[low + 1 :]))
    assert rise > max(0.1, jump) + 0.03  # a margin, so that a near call fails here
    assert end["end_train_loss"] < lowest["end_train_loss"] / 5
    # the figure's loss axis "cut at 1.2 so that the rise shows":
    # the rise lies below 1.2, epoch 1 above it, near ln 10 (measured: validation 2.277, training at its end 2.275)
    assert end["val_loss"] < 1.2
    first = small[0]
    assert min(first["val_loss"], first["end_train_loss"]) > 1.2 and abs(first["val_loss"] - math.log(10)) < 0.1

    def gaps(row):
        """Return the generalisation gaps of a row: in loss, and in accuracy (a share)."""
        return row["val_loss"] - row["end_train_loss"], row["end_train_accuracy"] - row["val_accuracy"]

    # "The dashed training curves now come from each epoch's end [...] They wiggle too." (measured: the training loss at
    # an epoch's end rose in 19 of the 80 epochs after the 20th, once by half)
    ends = [row["end_train_loss"] for row in small]
    assert sum(b > a for a, b in zip(ends[19:], ends[20:])) >= 5
    # "In the figure, the dashed and solid curves stay close at first, then part: the model learns its 1,000
    # images by heart." (measured: over the first 10 epochs, gaps of at most 2.78 points and 0.028 in loss; over
    # the last 10, at least 13.7 points and 0.55 in loss)
    early = [gaps(row) for row in small[:10]]
    assert max(abs(acc) for _, acc in early) < 0.04 and max(abs(loss) for loss, _ in early) < 0.05
    assert min(acc for _, acc in map(gaps, small[-10:])) > 0.1
    assert min(loss for loss, _ in map(gaps, small[-10:])) > 0.3
    # "Its training accuracy climbs to the top while the validation accuracy levels off." (measured: training
    # 100.00% at the end, from 93.7% at epoch 31; validation between 84.46% and 86.66% over epochs 31 to 100, a
    # spread of 2.2 points)
    assert end["end_train_accuracy"] > 0.99
    assert end["end_train_accuracy"] - small[30]["end_train_accuracy"] > 0.04
    late_val = [row["val_accuracy"] for row in small[30:]]
    assert max(late_val) - min(late_val) < 0.03

    # "Both gaps widened" (both printed) and "The validation loss got worse; the validation accuracy hardly
    # moved" (measured: in loss +0.27 then +0.57, in accuracy +10.34 then
    # +13.88 points; validation accuracy 86.56%, then 86.12%; over seeds 0 to 2 within 0.5 points)
    (loss_1, acc_1), (loss_2, acc_2) = gaps(lowest), gaps(end)
    assert loss_2 > loss_1 and acc_2 > acc_1
    # "Many texts call a wide gap over-fitting; this course keeps the word for a rising validation loss: this run's
    # gap was already wide at its lowest", answer 9, and 04's "Notebook 04b trains on far fewer images, for many
    # more epochs at a larger rate, chosen so that the validation loss turns up" (the rise: asserted above;
    # measured: +0.27 in loss, +10.34 points; "wide": over 0.05 in loss and 1 point, where the loop's gap above
    # was under 0.05)
    assert loss_1 > 0.05 and acc_1 > 0.01
    assert abs(end["val_accuracy"] - lowest["val_accuracy"]) < 0.01
    # "If the checkpoint holds the trained parameters, the rebuilt model reads the validation images as the last
    # epoch did" and the printed "so: the same numbers: the rebuilt model reads them as the last epoch did" (printed
    # from the numbers); the checkpoint's history is the run's
    assert [row["val_loss"] for row in checkpoint["history"]] == [row["val_loss"] for row in small]


def test_the_first_cnn_of_08b(executed):
    """08b: what its prose reads from the CNN and the MLP trained alike with several seeds (first_cnn.json: their mean
    validation accuracies; first_cnn_seeds.json: one per seed). Notebook 08's reading of the hand-made kernels' maps
    needs no check here: they come from no training."""
    means = read(executed, "first_cnn.json")
    runs = read(executed, "first_cnn_seeds.json")
    assert runs["seeds"] == [0, 1, 2] and len(runs["SmallCNN"]) == len(runs["MLP"]) == 3
    summary = {name: metrics.mean_std(runs[name]) for name in ("SmallCNN", "MLP")}
    assert all(abs(means[name] - summary[name][0]) < 1e-9 for name in summary)
    (cnn, cnn_std), (mlp, mlp_std) = summary["SmallCNN"], summary["MLP"]
    # "After this short training, SmallCNN reads more validation digits right than the MLP [...]: a clear gain by
    # notebook 05b's noise rule (last line)." and answer 12 "That the lead is larger than the seed noise, the two
    # spreads added" (printed: "so: SmallCNN minus the MLP: +5.99 points: clear gain (noise 2.74 points; 2.2
    # times it)"; measured with seeds 0 to 2: SmallCNN 94.51% ± 0.62%, the MLP 88.52% ± 2.12%; over seeds 0 to 4
    # the lead of each seed was 3.2 to 8.6 points): the lead must beat the noise by a point, so that a near call
    # fails
    assert 0.88 <= cnn <= 0.97 and cnn - mlp > cnn_std + mlp_std + 0.01
    # "most of the noise is the MLP's spread." and answer 13 (measured: 2.12% against SmallCNN's 0.62%)
    assert mlp_std > cnn_std
    # "Each SmallCNN seed beats each MLP seed" (measured: SmallCNN's lowest 93.80%, the MLP's highest 90.60%)
    assert min(runs["SmallCNN"]) > max(runs["MLP"])


def test_the_learned_kernels_of_08c(executed):
    """08c: what its prose reads from the first layer of the SmallCNNs it trains again as 08b does
    (first_cnn_kernels.json: the first seed's 8 trained kernels' cosines with the three hand-made kernels, vertical
    edges, horizontal edges and box blur, and their untrained starts'; each map's mean on the digit's ink and paper;
    each kernel's bias; per seed, how many kernels ended closer to one of the three than they began)."""
    k = read(executed, "first_cnn_kernels.json")
    assert k["seeds"] == [0, 1, 2] and len(k["closer"]) == 3 and len(k["cosines"]) == len(k["untrained"]) == 8
    cos, on_ink, on_paper, bias = (torch.tensor(k[name]) for name in ("cosines", "on_ink", "on_paper", "bias"))
    # "Most kernels ended closer to one of ours or its negative, in each seed; how many to a negative varies." and
    # answer 13 "Most, in each seed (the printed counts)" (printed: "so: by seed [0, 1,
    # 2]: closer [6, 7, 7], of them to a negative [4, 6, 2]; 20 of 24 in all")
    assert all(n >= 5 for n in k["closer"]) and sum(k["closer"]) >= 16
    assert max(k["negative"]) - min(k["negative"]) >= 2
    # "The count is not compared with random changes as large as training's (*Further research*)": no chance level
    # is claimed; the
    # count over the seeds stays well above half (measured 20 of 24)
    assert sum(k["closer"]) >= 18
    # "So did they become like notebook 08's kernels? Partly. The untrained column reaches 0.66, above most trained
    # |cos|: a random start can be as alike. Only kernels 3 and 4 end clearly above all 8 untrained starts of this
    # seed." and
    # answer 13 "random starts reach |cos| as large as most trained kernels'" (measured: untrained at most 0.662,
    # kernel 3's start, a seeded draw no machine changes; trained 0.62, 0.66, 0.59, 0.85, 0.80, 0.41, 0.18, 0.58)
    untrained_top, trained_top = torch.tensor(k["untrained"]).abs().max(), cos.abs().amax(dim=1)
    assert round(untrained_top.item(), 2) == 0.66
    assert (trained_top < untrained_top).sum() >= 5
    assert [i for i in range(8) if trained_top[i] > untrained_top + 0.1] == [3, 4], trained_top
    kernels = torch.tensor(k["kernels"]).reshape(8, 3, 3)
    # "We train it again as 08b did, with the same seeds": no sentence reads the accuracies; in a full run on one
    # machine they are 08b's (first_cnn_seeds.json)
    assert k["accuracies"] == read(executed, "first_cnn_seeds.json")["SmallCNN"]
    # "On blank paper every product is 0, so a map is ReLU(bias) there (column "on paper")." and answer 14
    # (on paper: pixels whose 3×3 square is all 0)
    assert torch.allclose(on_paper, bias.clamp(min=0), atol=1e-5)
    # "Only 12 of the 125 ink pixels have a square all inked (above 0.5)" (printed; a count of the digit's pixels,
    # no training in it)
    assert k["all_ink"] * 5 < 125
    # "So column "on ink" can lie below ReLU(sum + bias) or above it" (measured: kernel 2 1.13 below 1.83, kernel 4
    # 0.46 above 0.31)
    relu_full = (torch.tensor(k["sums"]) + bias).clamp(min=0)
    assert (on_ink < relu_full - 0.1).any() and (on_ink > relu_full + 0.05).any()
    # "Still, in this table every kernel with sum + bias > 0 has a larger "on ink" than every kernel without."
    # (measured: sum + bias +1.83, +0.31, +0.85, +0.35 for kernels 2, 4, 5, 7, on ink 1.13, 0.46, 0.60, 0.38; -0.19,
    # -1.44, -1.66, -0.21 for kernels 0, 1, 3, 6, on ink 0.05, 0.00, 0.00, 0.00)
    sums = torch.tensor(k["sums"])
    above = sums + bias > 0
    assert above.any() and not above.all(), above
    assert on_ink[above].min() > on_ink[~above].max() + 0.2, (sums + bias, on_ink)
    # "A negative of ours marks something too. Our vertical edge (right column minus left) is large on a stroke's
    # left side, its negative on the right side. An exact negative blur is 0 after the ReLU unless a positive bias
    # lifts it; then it is largest on blank paper." and answers 5 and 16 read notebook 08's hand-made kernels (digit
    # pixels are >= 0), no result; which side each trained kernel marks is left to Further research
    # "Kernels 1, 3 and 6 are 0 on the ink and positive on the paper: a white digit on darker paper." (measured:
    # on ink 0.00, 0.00, 0.0015; on paper 0.17, 0.51, 0.05) and answer 15 "as kernel 3's map in the figure"
    for i in (1, 3, 6):
        assert on_ink[i] < 0.005 and on_paper[i] > 0.02, (i, on_ink[i], on_paper[i])
    assert sums[3] < 0 < bias[3] and on_paper[3] > 0.1
    # "Kernels 2, 5 and 7 are 0 on the paper: a dark digit on white paper." (measured: biases -0.35, -0.52, -0.19,
    # so 0 on paper; on ink 1.13, 0.60, 0.38)
    for i in (2, 5, 7):
        assert on_paper[i] == 0 and on_ink[i] > 0.25, (i, on_ink[i], on_paper[i])
    # "Kernels 0 and 4 are neither." (measured: on ink 0.05, 0.46; on paper 0.05, 0.06): both printed above 0.00
    for i in (0, 4):
        assert on_ink[i] > 0.01 and on_paper[i] > 0.01, (i, on_ink[i], on_paper[i])
    # "\"closest\" is only the largest |cos|, however small (kernel 6's resembles none of ours)" (measured 0.18)
    assert cos[6].abs().max() < 0.3
    # "Kernel 4's top row is mostly red, its bottom row blue: it is closest to the negative of our horizontal edge,
    # though not exactly (its cosine in the table below)." (measured: top row -0.03, 0.62, 0.62; bottom row -0.15,
    # -0.61, -0.46; cosine -0.80)
    assert kernels[4, 0].sum() > 0.5 and (kernels[4, 0] > -0.1).all() and (kernels[4, 2] < 0).all()
    assert cos[4].abs().argmax() == 1 and -0.95 < cos[4, 1] < -0.5


def test_the_learning_rates_of_05(executed):
    """05: what its prose reads from four short runs of plain SGD (learning_rates.json: each run's losses)."""
    runs = read(executed, "learning_rates.json")
    losses, ln10 = runs["losses"], math.log(10)
    end = {name: sum(run[-20:]) / 20 for name, run in losses.items()}  # measured 2.296, 2.167, 0.519, 2.317
    # "At the smallest rate the loss has hardly left ln 10. Notebook 04's rate learns, slowly."
    assert ln10 - end["too small"] < 0.05 and 0.02 < ln10 - end["notebook 04"] < 0.6
    # "The recipe's rate brings the loss far lower" and "Above, lr 0.05 learned far faster than notebook 04's rate."
    assert end["recipe's lr"] < end["notebook 04"] - 0.5
    # "The recipe's rate stays near ln 10 for its first steps, then brings the loss far lower." (measured: the
    # first 20 steps' mean 2.29)
    assert abs(sum(losses["recipe's lr"][:20]) / 20 - ln10) < 0.1
    # "At lr 2 the loss jumps far above ln 10 early on, then stays near ln 10" (also answer 2; measured: above 50
    # at step 11); whether that model gives every digit 1/10 is left to Further research
    assert max(losses["too large"][:50]) > 2 * ln10 and abs(end["too large"] - ln10) < 0.1
    assert all(math.isfinite(loss) for loss in losses["too large"])


def test_the_default_mlp_of_05_and_its_evaluation_by_06(executed):
    checkpoint = torch.load(executed / "mlp.pt", weights_only=True)
    assert checkpoint["recipe"] == course.RECIPES["mlp"] and checkpoint["epoch"] == 10
    history = checkpoint["history"]
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 10
    assert 0.975 <= history[-1]["val_accuracy"] <= 0.99  # measured 98.0-98.2% over seeds and float paths
    # epoch 1's validation accuracy is above its training accuracy (07 reads the curves' start); 05: "in the first
    # epochs the training accuracy is even below validation's (printed)" (measured: 78.54% against 93.78%, 94.35%
    # against 95.34%; epoch 3 is a near tie, 96.24% against 96.26%, so only epochs 1 and 2 are read)
    assert all(row["val_accuracy"] > row["train_accuracy"] for row in history[:2])
    # 05: "At the last epoch's end, training accuracy exceeds validation's by over notebook 04's 1-point
    # margin (printed): a generalisation gap": the printed "so: ... over notebook 04's 1-point margin" is worded
    # from the numbers (measured:
    # 99.77% against 98.06%, +1.71 points); the epoch average, which understates it, is already over (99.74%)
    assert history[-1]["train_accuracy"] - history[-1]["val_accuracy"] > 0.01
    # 05: "The printed loss ratio, validation's loss divided by training's, sets validation's end against
    # training's epoch average" reads no result: the code divides the two, and fit's history holds the epoch's
    # average training loss (printed: "val loss 0.0659, 3.9 times higher")
    # 05: "Here it rose slightly in the last epoch only, while training's fell (printed): too few epochs for
    # notebook 04b's rule to call that over-fitting or a wiggle (printed)." and answer 15 (measured: fell in 8 of
    # 9, lowest at epoch 9, the last 1.4% (2.1% on another path) above it; the training loss still fell)
    val = [row["val_loss"] for row in history]
    assert sum(b < a for a, b in zip(val, val[1:])) > (len(val) - 1) / 2 and val[-1] - min(val) < 0.05 * min(val)
    assert val.index(min(val)) == len(val) - 2 and val[-1] > val[-2]  # it rose, in the last epoch only
    # 05: "`fit` saves the last epoch, even where another scored higher on validation (printed)." (printed: best
    # 98.10% at epoch 9; the last 98.06%): the checkpoint is the last epoch's
    accuracy = [row["val_accuracy"] for row in history]
    assert checkpoint["epoch"] == len(history) and max(accuracy) >= accuracy[-1]
    train = [row["train_loss"] for row in history]
    assert all(b < a for a, b in zip(train[-4:], train[-3:])) and abs(val[-1] - val[-2]) < 0.1 * val[-2]
    # the printed "so: 1 epoch(s) after the lowest: too few for notebook 04b's over-fitting rule to settle it either
    # way" is printed from the numbers (04's rule needs 10 epochs past the lowest; 05 trains 10 in all)
    metrics = read(executed, "metrics.json")
    assert metrics["n_test"] == 10_000 and 0.978 <= metrics["test_accuracy"] <= 0.99  # the recipe's target: 98%
    # 06 analyses the validation digits of 05's split with the saved (last-epoch) model: the validation accuracy it
    # prints, which its exercise compares with the test accuracy, is 05's last epoch's ("we study the validation
    # digits (their accuracy: notebook 05's last epoch's)")
    assert metrics["n_val"] == 5_000 and sum(map(sum, metrics["val_confusion_matrix"])) == 5_000
    assert abs(metrics["val_accuracy"] - history[-1]["val_accuracy"]) < 1e-4


def test_the_readings_of_06(executed):
    """06: what its prose reads from the evaluation of the default MLP (metrics.json): the test accuracy, recomputed
    once, then the confusion matrix of the validation digits (val_* keys)."""
    metrics = read(executed, "metrics.json")
    # "Nothing makes the matrix symmetric": the printed "so: 29 of 45 mirror pairs hold different counts" (a
    # conclusion nbval hides) is not 0
    matrix = torch.tensor(metrics["val_confusion_matrix"])
    assert not torch.equal(matrix, matrix.T)
    # "The diagonal is dark; off it, the largest cells hold only a few digits. [...] about $\sqrt c$ when the share
    # is small [...] Their order says little." and answers 14, 16 (measured: 5 digits, 1.0% of the 9s, then six
    # cells of 4; 8 digits, 1.6% of the 9s, on another float path; the diagonal 448 to 575; 41 of the 90 cells off
    # it empty): at most 15 digits and 3% of a row, a diagonal in the hundreds, and some empty cells
    off = matrix.clone().fill_diagonal_(0)
    assert (off.double() / matrix.sum(dim=1, keepdim=True)).max() < 0.03 and off.max() <= 15
    empty = int((off == 0).sum()) - 10  # the 10 zeroed diagonal cells are not counted
    assert matrix.diag().min() >= 300 and empty >= 10
    # the printed "largest cells off the diagonal, ties with the fifth included"
    assert int((off > 0).sum()) >= 5
    # answer 13: the diagonal's sum over the total is the validation accuracy
    assert abs(matrix.diag().sum().item() / matrix.sum().item() - metrics["val_accuracy"]) < 1e-12
    # "Mirror counts $c_1$ and $c_2$ differ by noise of about $\sqrt{c_1 + c_2}$: small counts can differ by chance
    # alone, and a pair with an odd total cannot be equal." (a property of the noise, not a reading; the count of odd
    # totals is printed: measured 23 of the 29 differing pairs) and "Under 1 draw in 20 as
    # lopsided would tell which mistake is more common.": the most lopsided pair, the count of differing pairs and the
    # verdict are printed in so: lines (measured: 29 of 45 pairs differ; 8 -> 9: 4 against 9 -> 8: 0, 2.0 sqrt(c1 + c2);
    # noise alone as lopsided in 66.4% of 20,000 draws: "noise could explain it"); no sentence reads a side. Answer 14,
    # "With counts of a few, a difference between mirror cells may be noise", reads the counts: the guard above "A mean
    # of many 0/1 scores follows a bell curve, the normal distribution (why: Further research): within 2 SE about 19
    # times in 20 (simulated below)." (printed: "so: 95.5% of 20,000 simulated test sets lie within 2 SE of 98.47%:
    # about 19 in 20", worded from the share); here the same simulation for the saved test accuracy, with its own draws
    a, n = metrics["test_accuracy"], metrics["n_test"]
    generator = torch.Generator().manual_seed(1)
    tries = torch.full((20_000,), float(n), dtype=torch.float64)
    simulated = torch.binomial(tries, torch.full_like(tries, a), generator=generator) / n
    inside = ((simulated - a).abs() <= 2 * math.sqrt(a * (1 - a) / n)).double().mean().item()
    assert round(20 * inside) == 19
    # the exercise's solution does not read the side of 2 SE (measured: +0.41 points, 1.8 SE; +0.57, 2.4 SE, on
    # another float path); the printed "so:" line gives the side, from the unrounded ratio, and "(near 2:
    # another sample could flip it)" within 0.5 of 2 ("whether it lies near 2" in the prose). It reads the sign:
    # "A recipe set with test accuracies in view would tend to lift test above validation, the direction printed"
    # (+0.41 and +0.57 points)
    assert metrics["test_accuracy"] > metrics["val_accuracy"]


def test_the_readings_of_06b(executed):
    """06b: what its prose reads from the validation digits of the default MLP, digit by digit (per_digit.json)."""
    per_digit = read(executed, "per_digit.json")
    # "As in notebook 06, we study the validation digits [...] `metrics.confusion_matrix` gives the counts of its
    # loop": the matrix 06b recomputes with the library's copies is the one 06 counted with its loop
    assert per_digit["val_confusion_matrix"] == read(executed, "metrics.json")["val_confusion_matrix"]
    assert per_digit["n_val"] == 5_000
    matrix = torch.tensor(per_digit["val_confusion_matrix"])
    # "Some mistakes had a confidence above 99% (printed): a confident answer can be wrong." (also answer 13; the
    # most confident measured 99.99% on the validation digits, 99.98% on another float path): see below for "Some"
    assert per_digit["val_most_confident_mistake"] > 0.99
    # "We test the two shares F1 combines, not F1 itself, so F1's order stays untested. Recall counts right answers
    # out of a known number, the digit's images. Precision counts them out of the answers $d$, a number that varies
    # too: we treat it as known, so that test is approximate. For each, we compare the lowest digit with the highest.
    # [...] so that rule does not apply. Instead we simulate "no difference": each digit right as often as the whole
    # set (the validation accuracy: the diagonal over the total). [...] Noise can fool
    # either test, so a gap counts as beyond noise only if under 1 draw in 40 gives one as many SE wide: the chance
    # of either is then at most 1/40 + 1/40 = 1/20."
    # (a union bound, not a reading; the code's cut is 1 / 40) The verdicts, the near calls ("near 1 in 40: a weak
    # verdict", within a point of the cut) and the conclusion ("no digit's precision or recall is shown to differ beyond
    # noise") are only printed, in so: lines (measured with 20,000 draws: precision, digit 6's 0.975 to digit 8's 0.991,
    # 1.8 SE, 74.5%; recall, digit 8's 0.968 (digit 9's too) to digit 6's 0.996, 3.1 SE, 5.5%: both "noise could explain
    # it", neither near 1 in 40), so no sentence reads a side. "So a widest gap beyond 2 SE can still be noise" says
    # what the method allows, not which side a line falls on. The whole set's share, for both measures, is the
    # validation accuracy (the notebook's `pooled`), and each SE of a gap is finite and small.
    diagonal, pooled = matrix.diag().double(), per_digit["val_accuracy"]
    assert abs(diagonal.sum().item() / matrix.sum().item() - pooled) < 1e-12
    for counts in (matrix.sum(dim=0).double(), matrix.sum(dim=1).double()):
        values = diagonal / counts
        low, high = values.argmin(), values.argmax()
        se_of_gap = math.sqrt(pooled * (1 - pooled) * (1 / counts[low] + 1 / counts[high]))
        assert 0.9 < values.min() <= values.max() <= 1 and 0 < se_of_gap < 0.02
    # "The table's columns disagree on the lowest digit." (measured: precision digit 6, recall digit 8, with 9 equal
    # at three decimals, F1 digit 9): the three columns' lowest digits are not all one
    on_diagonal = matrix.diag().double()
    precision, recall = on_diagonal / matrix.sum(dim=0), on_diagonal / matrix.sum(dim=1)
    f1 = 2 * precision * recall / (precision + recall)
    assert len({int(precision.argmin()), int(recall.argmin()), int(f1.argmin())}) > 1
    # the saved per-digit table is the one the formulas print ("the same as metrics.precision_recall: True")
    for row in per_digit["val_per_class"]:
        k = row["class"]
        assert row["support"] == int(matrix[k].sum()) and abs(row["recall"] - matrix[k, k] / matrix[k].sum()) < 1e-9
    # precision and recall ties: the so: lines name the digit whose count the SE uses first, then every other digit
    # that prints alike (3 decimals): "digit 8's 0.968 (digit 9's too)". The worked
    # example's shares of the 9s and the exercise's verdict ("The last line says which precision is higher, for
    # digit 9 at this one threshold. Whether beyond noise we do not test") are printed in so: lines; no sentence
    # reads their values.
    # "The gallery holds the most confident mistakes (printed: 24 of 97), not a fair sample of them. Notebook 06's
    # largest cells recur among the tiles, at the share printed last; we do not test it against noise." (so: lines,
    # measured: the 7 cells of 06's printed list, the fifth's ties included, hold 29 of the 97 mistakes, and 11 of
    # the 24 tiles; 30% against 46%, "more than the 7.2 a random 24 would hold on average", printed from the
    # numbers): "recur", at least 3 of them among the tiles, recomputed from the saved model
    from mnist_lab import train

    model, checkpoint = train.load_checkpoint(executed / "mlp.pt")
    _, val_loader, _ = course.loaders(checkpoint["recipe"])
    logits, labels = train.predict(model, val_loader, "cpu")
    preds = logits.argmax(dim=1)
    confidence = torch.softmax(logits, dim=1).max(dim=1).values
    wrong = (preds != labels).nonzero().flatten()
    shown = wrong[confidence[wrong].argsort(descending=True)][:24]
    tiles = set(zip(labels[shown].tolist(), preds[shown].tolist()))
    cells = metrics.most_confused(metrics.confusion_matrix(preds=preds, labels=labels), k=90)
    largest = [(t, p) for t, p, c in cells if c >= cells[4][2]]
    assert sum(cell in tiles for cell in largest) >= 3
    # "Some mistakes had a confidence above 99% (printed)" and answer 13, "the gallery shows mistakes made with a
    # confidence above 99%" (printed: "5 of the 24 shown had over 99%"): at least 2 of the tiles
    assert int((confidence[shown] > 0.99).sum()) >= 2
    # "The first row's 3 read as 8 may look like an 8; no label is checked." (the gallery's 8 columns; measured: the
    # third tile, 99.6%): a 3 read as 8 among the first 8 tiles
    assert (3, 8) in list(zip(labels[shown].tolist(), preds[shown].tolist()))[:8]


def test_the_readings_of_07(executed):
    """07: what its prose (and its questionnaire's answers) read from the saved history and the first-layer weights
    (visualization.json), and what its exercise's solution reads from unit 4's digits."""
    r = read(executed, "visualization.json")
    history = r["history"]
    val_loss = [row["val_loss"] for row in history]
    # c6, "Under 3 epochs past the lowest, it settles nothing.", and c10, "here the screen settles nothing
    # (printed)." and answer 3, "with few epochs past the lowest, as
    # here, it settles nothing" (printed verdict: "so: 1 epoch(s) past the lowest: too few [...]"; measured: lowest
    # at epoch 9 of 10, the last 2% above): within 10%, and under 3 epochs past the lowest
    assert val_loss[-1] <= 1.1 * min(val_loss)
    assert len(val_loss) - 1 - val_loss.index(min(val_loss)) < 3
    # "The dashed training curves start worse" and answer 2 (measured: 0.6909 against 0.1968, 78.5% against 93.78%
    # at epoch 1)
    first = history[0]
    assert first["train_loss"] > first["val_loss"] and first["train_accuracy"] < first["val_accuracy"]
    # "Notebook 06 measured how often the MLP of notebook 05 is right": 07 reads the very model that 05 saved and 06
    # measured (its history is mlp.pt's)
    assert history == torch.load(executed / "mlp.pt", weights_only=True)["history"]
    # "The training digits do better in both, in accuracy by over notebook 04's 1-point margin."
    # (04's margin: 1 point; measured: 99.77% against 98.06%, +1.71 points)
    gap = r["end_train"] - history[-1]["val_accuracy"]
    assert r["end_train_loss"] < history[-1]["val_loss"] and gap > 0.01
    # "A fraction of a point." (measured: 2 of 5,000 digits, +0.04 points)
    lowest = history[val_loss.index(min(val_loss))]
    assert abs(r["behind"]) / r["n"] < 0.01 and r["n"] == 5000
    # the untrained copy's comment: "seeded and sized by the recipe, as notebook 05 built our model: it seeded, then
    # built the MLP before any other random draw" (07 reads the seed and the hidden sizes from mlp.pt's recipe;
    # course.train_model and notebook 05 call runtime.seed_everything, then models.MLP)
    saved = torch.load(executed / "mlp.pt", weights_only=True)
    assert {"seed", "hidden"} <= set(saved["recipe"]) and saved["recipe"]["hidden"] == [128, 64]
    # its printed first weights, "# 05b's line for seed 0" (05b prints "seed 0: first weights [-0.0003, 0.0192,
    # -0.0294]" for models.MLP(P["hidden"]) right after runtime.seed_everything(seed))
    from mnist_lab import models, runtime

    runtime.seed_everything(saved["recipe"]["seed"])
    start = [round(w, 4) for w in models.MLP(saved["recipe"]["hidden"]).layers[0].weight[0, :3].tolist()]
    assert saved["recipe"]["seed"] == 0 and start == [-0.0003, 0.0192, -0.0294]
    assert lowest["val_accuracy"] + history[-1]["val_accuracy"] - 1 > 0.9
    # the units shown whose eight digits hold one digit 6 or more times, and whether the palest panel's unit still
    # ranks one kind first 6 or more times (the same threshold): only printed, in so: lines (4 of 8 units and "still
    # ranks 9s first" on the committed run, 2 of 8 on another float path), so no sentence reads them
    assert len(r["alike"]) == 8 and all(1 <= a <= 8 for a in r["alike"]) and 0 <= r["pale"] < 8
    # "Even untrained units' top eights often share a kind, perhaps because digits of one kind look alike; trained
    # units do so far more often (printed)." and answer 17, "Far more trained units than untrained ones have 6 or
    # more of one digit among their 8" (6 or more of one kind over all 128 units; measured: 79 trained against 37 of
    # a newly built MLP; 27 to 37 over newly built MLPs of seeds 0 to 4): "far more", at least 1.5 times as many
    trained = sum(a >= 6 for a in r["alike_trained"])
    untrained = sum(a >= 6 for a in r["alike_untrained"])
    assert len(r["alike_trained"]) == len(r["alike_untrained"]) == 128 and untrained > 10
    assert trained >= 1.5 * untrained
    # "Inside it most weights are positive" (the black line: where the 8 digits' mean ink passes 0.3; printed: the share
    # of positive weights there, measured 64% to 73% in the 8 rows): over half in every row
    assert len(r["red"]) == 8 and min(r["red"]) > 0.5
    # "Inside it most weights are positive, on average for the newly built MLP too (printed)" (measured: 55% to 63% in
    # the 8 rows, mean printed): over half on average, where "on average" reads no single row
    assert len(r["red_new"]) == 8 and sum(r["red_new"]) / 8 > 0.5
    # "The trained rows' mean is higher, 68% against 59% (row by row: printed)" and answer 17, "In the 8 rows
    # drawn, more of the weights inside the black line are positive on average (printed)" (the newly built MLP is seeded
    # and sized as 05's; the means are compared, with a margin of 3 points; row by row is only printed, in a so:
    # line). "A mixed row's digits may share a stroke, a loop or an arc, that its unit looks for." reads no side.
    assert sum(r["red"]) / 8 > sum(r["red_new"]) / 8 + 0.03
    # exercise 1's solution reads its verdict ("unit 4 prefers 2s well beyond its top eight") only in so: lines;
    # its comment is conditional ("Far above the digit's share [...], it says"), so no sentence reads a side.


def test_the_readings_of_07b(executed):
    """07b: what its prose (and its questionnaire's answers) read from the damaged validation digits and the answers
    the model gives them (robustness.json)."""
    r = read(executed, "robustness.json")
    # "We load notebook 05's MLP": the clean validation accuracy it measures is mlp.pt's last epoch's
    history = torch.load(executed / "mlp.pt", weights_only=True)["history"]
    assert abs(r["clean"] - history[-1]["val_accuracy"]) < 1e-9 and r["n"] == 5000
    # blur σ 2 changes the pixels less than noise σ 0.3 and reads over 10 points fewer (measured: change 0.111,
    # 72.82% against 0.128, 92.64%)
    rows = {(row["kind"], row["sigma"]): row for row in r["damage"]}
    blur2, noise3 = rows["blur", 2.0], rows["noise", 0.3]
    assert blur2["change"] < noise3["change"] and blur2["accuracy"] < noise3["accuracy"] - 0.10
    # "In the figure, both curves start nearly flat, then fall steeply" (measured: the mildest σ cost 0.02 and 0.26
    # points; then a step of 21 points (blur σ 1.5 to 2) and 27 (noise σ 0.3 to 0.5); the strongest cost 68 and 53):
    # each kind's mildest σ costs at most a point, one step between σ costs over 10 points, the strongest over 30
    for kind in ("blur", "noise"):
        mine = sorted((row for row in r["damage"] if row["kind"] == kind), key=lambda row: row["sigma"])
        accuracies = [row["accuracy"] for row in mine]
        assert r["clean"] - accuracies[1] <= 0.01 and r["clean"] - accuracies[-1] > 0.30
        assert max(a - b for a, b in zip(accuracies, accuracies[1:])) > 0.10
        # "Their accuracies stay above the 10% of guessing at random among ten digits" (measured: 29.48%, 44.86%)
        assert accuracies[-1] > 0.15

    # "In the figure, from blur σ 1.5 on, blur's curve lies below noise's." (the curves: straight lines between the
    # points; measured: blur σ 1.5, 2, 3 at 94.12%, 72.82%, 29.48% against noise's line at 96.59%, 94.31%,
    # 87.32% at the same changes): each blur point from σ 1.5 on, and each noise point in blur's range, lies on its
    # side of the other curve, by over a point
    def line(kind, x):
        points = sorted((row["change"], row["accuracy"]) for row in r["damage"] if row["kind"] == kind)
        (x0, y0), (x1, y1) = next((a, b) for a, b in zip(points, points[1:]) if a[0] <= x <= b[0])
        return y0 + (y1 - y0) * (x - x0) / (x1 - x0)

    for sigma in (1.5, 2.0, 3.0):
        assert rows["blur", sigma]["accuracy"] < line("noise", rows["blur", sigma]["change"]) - 0.01
    for sigma in (0.2, 0.3):
        assert rows["noise", sigma]["accuracy"] > line("blur", rows["noise", sigma]["change"]) + 0.01
    # "Each kind's first σ costing over a point costs over 3 SE, even notebook 06's larger SEs (printed)." (the lines
    # under each so: line print "beyond 3 SE" from the numbers) and answer 11 (the SE of a
    # difference on the same digits: at most sqrt(d / n), d the share read differently; measured: blur σ 1.5, 3.94
    # points, 13 times the bound; noise σ 0.2, 1.36, 7 times): each kind has such a σ, its drop over 3 SE
    # ("several"), so that a near call fails here
    # "Summed over every σ and blur-noise pair we could have picked, luck's chances bound nothing at 2 SE; at 3 SE,
    # under one in ten (printed)." (10 σ and 5 x 5 pairs, 35 comparisons, each with a bell curve's share beyond x SE
    # on both sides; printed: 159.3% and 9.4%; depends on the counts of σ only)
    assert len(r["damage"]) == 12
    damaging = [row["kind"] for row in r["damage"] if row["sigma"] > 0]
    compared = len(damaging) + damaging.count("blur") * damaging.count("noise")
    assert compared == 35 and compared * math.erfc(2 / math.sqrt(2)) > 1
    assert compared * math.erfc(3 / math.sqrt(2)) < 0.1
    firsts = {}
    for kind in ("blur", "noise"):
        out = [row for row in r["damage"] if row["kind"] == kind and r["clean"] - row["accuracy"] > 0.01]
        firsts[kind] = min(out, key=lambda row: row["sigma"])
        assert r["clean"] - firsts[kind]["accuracy"] > 3 * math.sqrt(firsts[kind]["differ"] / r["n"])
        # "notebook 06's formula adds this shared luck, which cancels in the drop, so it can overstate the SE" and
        # answer 10, "Here it gives a larger SE than the bound (printed)": notebook 06's SE of the difference is
        # larger than the bound sqrt(d / n) (measured: 0.39 against 0.31 points for blur, 0.32 against 0.20 for
        # noise; the lines under the so: lines print "larger" from the numbers)
        a, b = r["clean"], firsts[kind]["accuracy"]
        se_06 = math.sqrt((a * (1 - a) + b * (1 - b)) / r["n"])
        assert se_06 > math.sqrt(firsts[kind]["differ"] / r["n"])
        # "[...] costs over 3 SE, even notebook 06's larger SEs (printed)." (measured: 3.94 points, 10 times 0.39;
        # 1.36, 4 times 0.32; also printed from the numbers)
        assert a - b > 3 * se_06
    # "Blur σ 1.5 and noise σ 0.2 change the pixels about equally" and answer 13, "from blur σ 1.5 [...]: at about
    # equal change it costs more": changes within 0.01, blur's drop over twice noise's (measured on CI's run: 3.68
    # against 0.96 points, where noise σ 0.2 costs under a point)
    pair = {row["kind"]: row for row in r["damage"] if (row["kind"], row["sigma"]) in (("blur", 1.5), ("noise", 0.2))}
    drops = {kind: r["clean"] - row["accuracy"] for kind, row in pair.items()}
    assert abs(pair["blur"]["change"] - pair["noise"]["change"]) < 0.01
    assert drops["blur"] > 2 * drops["noise"]
    # "[...] and noise reads several SE bounds more digits right (printed)." (the pair printed in a so: line, its d
    # saved; measured: 2.58 points, 8 times the bound): over 3 bounds
    assert (r["pair"]["blur"], r["pair"]["noise"]) == (1.5, 0.2)
    assert drops["blur"] - drops["noise"] > 3 * math.sqrt(r["pair"]["differ"] / r["n"])
    # "So from these σ up to the strongest blur, blur hurts more on this scale; below them, each costs at most a point
    # (printed)." (blur σ 2 against noise σ 0.3 at the top, the line asserts above, and the strongest blur against a
    # noise that changes more, below) and
    # answer 13, "Below, each costs at most a point" (measured: blur σ 0.5 and 1, 0.02 and 0.46 points; noise σ 0.1,
    # 0.26)
    below = [row for row in r["damage"] if row["sigma"] < {"blur": 1.5, "noise": 0.2}[row["kind"]]]
    assert len(below) == 5 and all(r["clean"] - row["accuracy"] <= 0.01 for row in below)
    # "A noise changing them at least as much as the strongest blur reads far more, 40 bounds." (also answer 13: "a
    # noise that changes the pixels more reads far more digits right"; "far more": over 5 points, 250 of the 5,000
    # digits and over 3 SE bounds; measured: noise σ 0.5, change 0.204, 65.22%, against blur σ 3,
    # change 0.143, 29.48%: 40 bounds)
    blur = max((row for row in r["damage"] if row["kind"] == "blur"), key=lambda row: row["change"])
    more = [row for row in r["damage"] if row["kind"] == "noise" and row["change"] >= blur["change"]]
    assert more and more[0]["accuracy"] >= blur["accuracy"] + 0.05
    # "40 times the SE bound" (printed; the notebook prints it only beyond 3 SE): the SE of that difference on the same
    # digits is at most sqrt(d / n), d the share of digits the two read differently; "far more": over 10 of them
    noise = more[0]
    ahead = noise["accuracy"] - blur["accuracy"]
    assert r["blur_noise_differ"] is not None and ahead > 10 * math.sqrt(r["blur_noise_differ"] / r["n"])
    # "On clean digits the mistakes spread over many answers (printed). The strongest blur sends nearly all of them
    # to 8, the strongest noise most of them (printed)." and answer 15 (measured: clean, 12 of 97 to each of 4
    # answers, 12%, and every answer 0 to 9 gets 4 or more; blur σ 3, 3,448 of 3,526 read as 8, 98%; noise σ 0.7,
    # 2,042 of 2,757, 74%)
    turned = r["misread_answers"]
    assert set(turned) == {"clean", "blur σ 3", "noise σ 0.7"}
    assert turned["clean"]["most"] < 0.25 * turned["clean"]["misread"]
    assert sum(count > 0 for count in turned["clean"]["counts"]) >= 8
    for name in ("blur σ 3", "noise σ 0.7"):
        assert turned[name]["answers"] == [8] and turned[name]["most"] > 0.5 * turned[name]["misread"]
    assert turned["blur σ 3"]["most"] > 0.9 * turned["blur σ 3"]["misread"]  # "nearly all" (measured: 98%)
    # "the strongest noise most of them (printed)": the assert above (over half go to 8)
    # exercise 1 gives its own counts (180 lost, 30 won of 5,000): its solution reads no result of this run ("beyond
    # 3 SE" is printed from its numbers)


def test_the_grid_of_07c(executed):
    """07c: what its prose (and its questionnaire's answers) read from the grid of 32 validation digits and the
    binomial chance of as many mistakes (prediction_grid.json)."""
    r = read(executed, "prediction_grid.json")
    # "We load notebook 05's MLP": the same accuracy as 07b's and as mlp.pt's last epoch's
    history = torch.load(executed / "mlp.pt", weights_only=True)["history"]
    assert abs(r["clean"] - history[-1]["val_accuracy"]) < 1e-9 and r["n"] == 5000
    assert abs(r["clean"] - read(executed, "robustness.json")["clean"]) < 1e-9
    # "Under the grid, most answers have a confidence above 95%; every mistake and some right answers are below" (the
    # count printed, 28 of 32) and answers 8 and 9, "Yes: some right answers in our grid have a confidence below 95%
    # (printed under the grid)" (measured: mistakes at 73.8% and 48.9%, right answers at 62.7% and 76.5%)
    confidence, right = r["grid_confidence"], r["grid_right"]
    assert len(confidence) == len(right) == 32
    assert any(ok and c <= 0.95 for c, ok in zip(confidence, right))
    assert all(c <= 0.95 for c, ok in zip(confidence, right) if not ok)
    assert sum(c > 0.95 for c in confidence) > 16  # "most"
    # "As many mistakes as ours or more come about 1 grid in 8 (printed): ordinary." and answer 14 (the binomial
    # chance of as many mistakes or more, printed; measured: 13%): ordinary, over 1 grid in 20
    wrong, rate, size = r["grid_wrong"], 1 - r["clean"], len(right)
    at_least = sum(math.comb(size, i) * rate**i * r["clean"] ** (size - i) for i in range(wrong, size + 1))
    assert r["grid_wrong"] == size - sum(right) and at_least > 0.05
    # "32 digits cannot show how often the model is wrong. [...] Nor would a spotless grid show a perfect model: at
    # this accuracy, about half the grids are spotless (printed)." and answers 13, 15 and 16 (32 digits each right
    # with the clean validation accuracy; measured at 98.06%: 53.4% spotless), and answer 16's "the model misreads
    # 1.9% of the validation digits (printed)" (1.94%)
    assert 0.35 < r["clean"] ** size < 0.65 and 0.015 < rate < 0.025
    # "A grid's share wrong still spreads with an SE larger than the validation share (printed)." and answer 15
    # (notebook 06's SE for 32 digits at the validation share wrong; measured: 2.4% against 1.9%; the so: line prints
    # "larger" from the numbers); the next so: line prints "under one" mistake a grid on average (measured: 0.6) from
    # the numbers
    assert math.sqrt(rate * (1 - rate) / size) > rate and size * rate < 1


def test_the_ablation_of_05b_one_change_at_a_time(executed):
    """05b: what its prose (and its questionnaire's answers) read from the ablation's rows and the neighbouring rates
    (ablation.json). Its seeds' first weights and labels and its mean ± standard deviation by hand against
    metrics.mean_std ("The two agree (printed)") print lines that nbval compares as they are."""
    ablation = read(executed, "ablation.json")
    assert (ablation["images"], ablation["epochs"], ablation["seeds"]) == (10_000, 3, [0, 1, 2])
    rows = ablation["rows"]
    mean, std = [row["mean"] for row in rows], [row["std"] for row in rows]
    assert len(mean) == 6 and all(len(row["accuracies"]) == 3 for row in rows)
    plain, larger_lr, momentum, schedule, decay, softmax_regression = mean
    # Measured (mean of 3 seeds, 3 epochs on 10,000 images): 80.2%, 89.9%, 93.9%, 94.8%, 94.8%, 90.5%.
    assert 0.70 <= plain <= 0.87 and larger_lr > plain + 0.05 and momentum > larger_lr + 0.02
    assert 0.93 <= decay <= 0.96 and abs(decay - schedule) < 0.015 and abs(schedule - momentum) < 0.03
    assert softmax_regression < decay - 0.02
    # "The larger rate and momentum bring most of the gain, each far beyond its noise." and answer 14 (measured:
    # +9.74 and +3.95 points of +14.64, noise 1.14 and 0.98; +4.05 and 1.05 on another float path); exercise 1's
    # solution reads momentum's margin over its noise only in a so: line
    # "So runs of one recipe usually end at different accuracies" and answer 2, and "the three seeds end at
    # different accuracies (printed)" (the first row's): no row's seeds all tie (measured:
    # two of the recipe's three seeds tie at 94.96%, hence "usually")
    assert all(len(set(row["accuracies"])) > 1 for row in rows + ablation["other_rates"])
    assert larger_lr - plain > std[0] + std[1] and momentum - larger_lr > std[1] + std[2]
    assert momentum - plain > 0.8 * (decay - plain)
    # "The schedule's gain is near its noise, between half and twice it (printed): a **weak verdict**, clear or
    # not: other seeds could flip it." and answer 15 (compare() prints the gain in noises and flags 0.5 to 2 as a
    # weak verdict, the range of notebook 11c; measured: 0.8 times the noise; the margin, gain minus noise, +0.04,
    # -0.18 and -0.09 points on three float paths)
    assert 0.5 <= abs(schedule - momentum) / (std[3] + std[2]) < 2
    assert abs(schedule - momentum - (std[3] + std[2])) < 0.004
    # "Weight decay is within the seed spread: we cannot tell whether it helps." (measured: +0.03 points,
    # noise 0.46; -0.05, noise 0.60; the printed "so: ties (the tie rule keeps the recipe's setting): ..." lists the
    # rows within the seed spread, from the numbers)
    assert abs(decay - schedule) <= std[4] + std[3]
    # "In short runs with the MLP's recipe, the MLP clearly beats its baseline (printed)." (measured: +4.27
    # points, noise 0.41)
    assert decay - softmax_regression > std[4] + std[5]
    # "Yet the baseline's mean is above the two rows without momentum (printed)" and answer 16 (measured: 90.54%
    # against 80.17% and 89.91%; the rows with momentum 93.86% and more)
    assert plain < larger_lr < softmax_regression < momentum
    # answer 16 ("softmax regression with the whole recipe beats the MLP with plain SGD"; printed: +10.37 points,
    # a clear gain, noise 1.00)
    assert softmax_regression - plain > std[5] + std[0]
    # "At the recipe's rate its lead is a weak verdict (printed)." and answer 16 (compare() flags a gain from 0.5
    # to 2 times its noise; measured: +0.63 points, noise 0.47: 1.3 times it)
    assert 0.5 <= (softmax_regression - larger_lr) / (std[5] + std[1]) < 2
    assert abs(softmax_regression - larger_lr - (std[5] + std[1])) < 0.004
    # "Here half the rate is a clear loss, and double the rate ties (printed): validation cannot
    # choose between 0.05 and 0.1." and answer 17. "So validation supports the larger rate and momentum, in this
    # order of changes [the asserts above]; the printed ties, and 0.05 over 0.1, are kept by the tie rule alone."
    # (which changes tie is printed from the numbers; the schedule's verdict flips between float paths): no change
    # is a clear loss against the row above
    assert all(mean[k + 1] - mean[k] >= -(std[k + 1] + std[k]) for k in range(4))
    # (the whole recipe at lr 0.025 and 0.1 against 0.05; measured: -1.31 points, noise 0.36; -0.03, noise 0.57)
    other = ablation["other_rates"]
    assert [row["change"] for row in other] == ["lr 0.025", "lr 0.1"]
    assert all(len(row["accuracies"]) == 3 and row["mean"] - decay <= row["std"] + std[4] for row in other)
    halved, doubled = other
    assert decay - halved["mean"] > halved["std"] + std[4]
    assert abs(doubled["mean"] - decay) <= doubled["std"] + std[4]

    # "At our 3 seeds, our rule asks more than 2 of these (notebook 04's yardstick) when two rows' spreads are
    # alike, less when one is many times the other": 2 standard errors of a difference of two means of 3 runs
    # against the noise s1 + s2 (equal spreads: 1.63 s against 2 s; the two cross where s1 = 5.83 s2)
    def two_standard_errors(s1: float, s2: float, k: int = 3) -> float:
        return 2 * math.sqrt((s1**2 + s2**2) / k)

    assert two_standard_errors(1, 1) < 1 + 1 and two_standard_errors(6, 1) > 6 + 1

    # "Weight decay 0 ties with 0.0005 too; notebook 04's rate, 0.01, is a clear loss against 0.05." (the stored
    # full-length runs, 5 seeds each: the same on every machine; measured: -0.12 points, noise 0.22; -0.57
    # points, noise 0.24)
    full = {name: {v: metrics.mean_std(a) for v, a in rows.items()} for name, rows in validation_grid().items()}
    (no_decay, no_decay_s), (chosen, chosen_s) = full["weight_decay"][0.0], full["weight_decay"][0.0005]
    assert abs(chosen - no_decay) <= chosen_s + no_decay_s
    (plain_lr, plain_s), (recipe_lr, recipe_s) = full["lr"][0.01], full["lr"][0.05]
    assert recipe_lr - plain_lr > recipe_s + plain_s


def test_the_parts_of_09(executed):
    """09: what its prose reads from its printed numbers holds (the parameter counts and the smoothing floor that
    notebook 10 saves in cnn_metrics.json with the same recipe)."""
    cnn = read(executed, "cnn_metrics.json")
    assert cnn["recipe"] == course.RECIPES["cnn"]
    # "The CNN has about a third of the MLP's parameters."
    assert cnn["params"] == {"MLP": MLP_PARAMETERS, "CNN": CNN_PARAMETERS}
    assert 0.3 <= cnn["params"]["CNN"] / cnn["params"]["MLP"] <= 0.37
    # "At 0.99 it is higher than at 0.91 (surer than the target costs more)" (printed: 0.6214 against 0.5003,
    # the floor; the smoothed loss of a 0 given probability p, the other nine sharing 1 - p)
    eps = cnn["recipe"]["label_smoothing"]
    q = torch.full((10,), eps / 10)
    q[0] += 1 - eps

    def smoothed_loss(p_true: float) -> float:
        p = torch.full((10,), (1 - p_true) / 9)
        p[0] = p_true
        return -(q * p.log()).sum().item()

    assert smoothed_loss(q.max().item()) == pytest.approx(cnn["floor"], abs=1e-6)  # 0.91: the floor
    assert smoothed_loss(0.99) > cnn["floor"]
    # "Below the target the loss falls as p rises (0.8909 at 0.50, 0.5457 at 0.80)"
    assert smoothed_loss(0.5) > smoothed_loss(0.8) > cnn["floor"]
    assert smoothed_loss(0.5) == pytest.approx(0.8909, abs=1e-4)
    assert smoothed_loss(0.8) == pytest.approx(0.5457, abs=1e-4)

    # "the 0's term falls, but the other nine's grow more" (printed: 0.0858 to 0.0091 for the 0, 0.4145 to 0.6122
    # for the other nine, from 0.91 to 0.99)
    def true_term(p_true: float) -> float:
        return -q[0].item() * math.log(p_true)

    fall = true_term(q.max().item()) - true_term(0.99)
    rise = (smoothed_loss(0.99) - true_term(0.99)) - (cnn["floor"] - true_term(q.max().item()))
    assert 0 < fall < rise

    # "`nn.BatchNorm2d` divides by n, as said, and its running variance by n − 1" (printed True/False on 4 digits,
    # atol 1e-5 and 1e-6): the margins hold for any first weights, not only seed 0's
    images = data.load_splits(None, 5000).train_images[:4]
    for seed in range(3):
        torch.manual_seed(seed)
        conv = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1, bias=False), torch.nn.MaxPool2d(2))
        with torch.no_grad():
            out = conv(images)
            norm = torch.nn.BatchNorm2d(16)
            normed = norm(out)
        mean = out.mean(dim=(0, 2, 3), keepdim=True)
        var_n, var_n1 = (out.var(dim=(0, 2, 3), keepdim=True, unbiased=u) for u in (False, True))
        gap_n, gap_n1 = ((out - mean) / torch.sqrt(v + 1e-5) - normed for v in (var_n, var_n1))
        assert gap_n.abs().max() < 3e-6 and gap_n1.abs().max() > 1e-4  # atol 1e-5: far off either way
        moved_gaps = [(norm.running_var - (0.9 + 0.1 * v.flatten())).abs().max() for v in (var_n, var_n1)]
        assert moved_gaps[1] < 2e-7 and moved_gaps[0] > 5e-6  # atol 1e-6: n - 1 within it, n well outside


def test_the_cnn_of_10(executed):
    """10: what its prose reads from the full training and the test (cnn_metrics.json) holds."""
    cnn = read(executed, "cnn_metrics.json")
    assert cnn["recipe"] == course.RECIPES["cnn"]
    # "Our CNN's test error is under 1% (printed)." (measured 99.5-99.6% over seeds)
    assert 0.994 <= cnn["test_accuracy"] <= 0.998
    history = cnn["history"]
    # "The training loss stays above the validation loss because of its floor. It uses smoothed targets,
    # floored at 0.5003 (dotted), above every validation loss" (measured: 0.53 against 0.13 at epoch 8, the floor
    # 0.5003, validation losses 0.11 to 0.17)
    assert all(h["train_loss"] > h["val_loss"] and h["train_loss"] > cnn["floor"] for h in history)
    assert all(cnn["floor"] > h["val_loss"] for h in history)
    # "Other differences may add to it (unmeasured): augmented digits, batch norm on batch statistics, and early
    # on, averaging over an epoch that still improves" (the prose claims no size; the early excess is at least
    # there: 0.19 above the floor at epoch 1, 0.025 at epoch 8)
    assert history[0]["train_loss"] - cnn["floor"] > 3 * (history[-1]["train_loss"] - cnn["floor"])
    # "The training loss ends a few hundredths above its floor (the last epoch's line against the floor printed
    # above)" (measured: 0.5257 against 0.5003)
    assert 0.01 <= history[-1]["train_loss"] - cnn["floor"] < 0.1
    # "The validation loss ends above its lowest (printed)." and "Keeping the last epoch costs no validation
    # accuracy, or next to none (the first line printed)." (measured: 99.48%, the best; its loss 12% above epoch
    # 6's)
    assert history[-1]["val_accuracy"] >= max(h["val_accuracy"] for h in history) - 0.002
    assert history[-1]["val_loss"] > min(h["val_loss"] for h in history)
    # "Training accuracy is measured the same way: it starts well below validation accuracy, then levels with it
    # (the accuracy panel)."
    # (measured: 94.85% against 98.40% after epoch 1; +0.03, +0.01 and +0.06 points at epochs 6 to 8)
    assert history[0]["train_accuracy"] < history[0]["val_accuracy"] - 0.01
    assert all(abs(h["train_accuracy"] - h["val_accuracy"]) < 0.003 for h in history[-3:])
    # "Its rule needs 10 epochs after the lowest, and ours has fewer (printed), so it cannot say." and answer 8
    # "too few follow ours (printed)" (notebook 04b's rule is for runs that go on 10 epochs past the lowest; the
    # code prints this verdict from the same count; measured: the lowest at epoch 6 of 8).
    val_losses = [h["val_loss"] for h in history]
    assert len(history) == 8 and len(history) - 1 - val_losses.index(min(val_losses)) < 10
    error = cnn["test_error"]
    # "Our CNN misreads far fewer test digits than notebook 05's MLP (printed), with about a third of its
    # parameters" (measured: 0.46% against 1.53%, 7.6 SE; 38,458 against 109,386)
    mlp_error = 1 - cnn["mlp_test_accuracy"]
    assert mlp_error > 2 * error and cnn["mlp_se_above_ours"] > 4
    assert mlp_error - error > 2 * (error * (1 - error) / 10_000 + mlp_error * (1 - mlp_error) / 10_000) ** 0.5
    assert 0.3 <= cnn["params"]["CNN"] / cnn["params"]["MLP"] <= 0.37
    # Exercise 1's solution prints its reading ("so: both models misread ... the paired count is larger") from the
    # numbers, and its check (mnist_lab_checks) works the answer out from the two models.


def test_the_ablation_of_10b_on_validation(executed):
    """10b: what its prose reads from the remove-one ablation (cnn_ablation.json) holds."""
    ablation = read(executed, "cnn_ablation.json")
    assert ablation["seeds"] == [0, 1, 2] and ablation["epochs"] == 1 and ablation["images"] == 8000
    rows = {row["change"]: row for row in ablation["rows"]}
    assert list(rows) == [
        "the recipe",
        "without augmentation",
        "without label smoothing",
        "without the extra 7×7 layer",
        "without batch norm",
    ]
    assert 0.94 <= rows["the recipe"]["clean_mean"] <= 0.985
    recipe, no_aug = rows["the recipe"], rows["without augmentation"]

    def noise(name, column="shifted"):
        return recipe[f"{column}_std"] + rows[name][f"{column}_std"]

    # "On shifted digits augmentation's gain is beyond twice its noise (printed): not weak, evidence for it."
    # (measured, seeds 0 to 2, one thread: +29.62 points against a noise of 7.36, 4.0 times it)
    assert no_aug["gain_shifted"] > 2 * noise("without augmentation")
    # "Any other gain there is weak, or within the seed spread (printed)." (measured: 0.9, 0.9 and 1.4 times
    # the noise)
    for name in ("without label smoothing", "without the extra 7×7 layer", "without batch norm"):
        assert rows[name]["gain_shifted"] < 2 * noise(name)
    # "Even the recipe loses much on shifted digits at this budget (printed). Augmentation shifted its training
    # digits by at most 2 pixels per axis, and these move 3"
    # (measured: 96.39% clean, 79.81% shifted)
    assert recipe["clean_mean"] - recipe["shifted_mean"] > 0.05
    # "The row without batch norm looks odd: its spread is huge (printed). One of its three seeds ended near
    # chance" (measured: clean 10.30%, 89.76% and 86.54%, ± 44.98% against ± 0.45% for the recipe); notebook 10d
    # trains the same runs again and reads them seed by seed (its guard below)
    no_norm = rows["without batch norm"]
    assert no_norm["clean_std"] > 3 * max(row["clean_std"] for row in ablation["rows"][:4])
    assert min(no_norm["clean"]) < 0.2 and sorted(no_norm["clean"])[1] > 0.5
    # "That seed pulls both of its means down and swells both of its spreads": the same seed is lowest on shifted
    # digits, near chance there too (measured: 10.30% on both)
    failed = no_norm["clean"].index(min(no_norm["clean"]))
    assert no_norm["shifted"][failed] == min(no_norm["shifted"]) < 0.2
    # "On clean digits no part shows a clear gain or loss at this budget." and "A negative gain means the row
    # without the part scored higher; none is beyond the seed spread (printed)." (clear loss: the assert below)
    choices = ablation["rows"][1:]
    assert all(r["verdict_clean"] != "clear gain" for r in choices)
    # "No part shows a clear loss, so all four stay in the recipe, and nothing is retrained." and "On clean
    # digits, the kind notebook 10 tests, every part ties, and the tie rule keeps it" (the assert above and this
    # one; measured: the worst gains -0.39 points clean against a noise of 0.73, all shifted gains positive).
    # Which parts gain clearly on shifted digits, which verdicts are weak and which parts tie on both kinds of
    # digits is printed on "so:" lines; exercise 1's solution prints its verdict from the numbers.
    assert all(r[f"verdict_{c}"] != "clear loss" for r in choices for c in ("clean", "shifted"))
    # "Batch norm's tie there is weak, and rests on its failed seed: notebook 10d finds the recipe ahead on every
    # seed." (measured: 34.43 points clean against a noise of 45.41, 0.76 times it; 10d's guard: ahead on 3 of 3)
    assert no_norm["verdict_clean"] == "within the seed spread"
    assert 0.5 <= no_norm["gain_clean"] / noise("without batch norm", "clean") < 1
    # "For the first three parts, about half or more of each clean noise is the recipe's own spread (printed)."
    # (measured: 0.59 of noises 0.64, 0.74 and 0.95, 62% to 92%; 50% to 80% on another CPU's float path)
    for name in ("without augmentation", "without label smoothing", "without the extra 7×7 layer"):
        assert recipe["clean_std"] >= 0.45 * noise(name, "clean")


def test_the_failed_seed_of_10d(executed):
    """10d: what its prose reads from notebook 10b's two rows trained again (failed_seed.json) holds, and that they
    are notebook 10b's runs."""
    failed = read(executed, "failed_seed.json")
    ablation = read(executed, "cnn_ablation.json")
    rows = {row["change"]: row for row in ablation["rows"]}
    assert failed["seeds"] == ablation["seeds"] == [0, 1, 2] and failed["images"] == ablation["images"]
    # "So these are notebook 10b's runs again." and answer 1 (measured: every score equal)
    for name in ("the recipe", "without batch norm"):
        for c in ("clean", "shifted"):
            assert [run[c] for run in failed["runs"][name]] == rows[name][c]
    recipe, without = failed["runs"]["the recipe"], failed["runs"]["without batch norm"]
    # "One seed without batch norm ended near chance on both kinds of digits (printed): 10% is what guessing
    # scores [...] It scores the same on both [...] The other two learned, but less well than the recipe."
    # (measured: seed 0 at 10.30% on both;
    # seeds 1 and 2 at 89.76% and 86.54% clean against the recipe's 96.22% and 96.06%)
    low = min(range(3), key=lambda i: without[i]["clean"])
    assert failed["failed_seed"] == failed["seeds"][low]
    assert without[low]["clean"] < 0.2 and abs(without[low]["clean"] - without[low]["shifted"]) < 0.01
    for i in range(3):
        if i != low:
            assert 0.5 < without[i]["clean"] < recipe[i]["clean"] and without[i]["shifted"] < recipe[i]["shifted"]
    # "The failed seed pulls the row's mean tens of points below its other two seeds, and its spread is huge
    # (printed)." and "The recipe's gain of tens of points then lies within the seed spread (printed)." (measured:
    # 62.20% against 88.15% without it, ± 44.98%; gain 34.19 points against a noise of 45.42)
    clean = [run["clean"] for run in without]
    ours = [run["clean"] for run in recipe]
    learned = [a for i, a in enumerate(clean) if i != low]
    (mean, std), (learned_mean, _), (ours_mean, ours_std) = (metrics.mean_std(v) for v in (clean, learned, ours))
    assert learned_mean - mean > 0.1 and std > 0.2
    assert 0.1 < ours_mean - mean < ours_std + std
    # "The recipe is ahead on every seed (printed)." and answer 9
    assert failed["ahead"] == 3 == sum(a > b for a, b in zip(ours, clean))
    # "On shifted digits the recipe is ahead on every seed too (the table)." (measured: 79.98%, 77.06%, 82.92%
    # against 10.30%, 59.70%, 44.18%)
    assert all(r["shifted"] > w["shifted"] for r, w in zip(recipe, without))
    # "On the two seeds that learned without batch norm, it leads there by far more than on clean digits." (measured:
    # 17.36 and 38.74 points shifted against 6.24 and 10.26 clean)
    for i in range(3):
        if i != low:
            shifted_gap = recipe[i]["shifted"] - without[i]["shifted"]
            assert shifted_gap > 1.5 * (recipe[i]["clean"] - without[i]["clean"])


def test_the_parts_of_the_search_in_11(executed):
    """11: what its prose reads from the range test and the one trial holds for the default run (search_parts.json;
    the other readings are printed on "so:" lines)."""
    parts = read(executed, "search_parts.json")
    settings, test = parts["settings"], parts["range_test"]
    lrs, losses = test["lrs"], test["losses"]
    # "The curve is flat at tiny rates, falls (from about 2.3 to 1.9), then climbs back past its lowest (red line)
    # and explodes." and answer 4 (measured: within 2% of the first smoothed loss, 2.295, up to lr 0.058; lowest
    # 1.896 at 0.267; 4.98 at 1.08, then exploded after 92 of 100 steps; the so: line prints these)
    flat = [loss for lr, loss in zip(lrs, losses) if lr < test["falls"]]
    assert len(flat) >= 10 and max(flat) <= 1.02 * losses[0]
    assert lrs[0] < test["falls"] < test["lowest"] < lrs[-1] and test["exploded"] and losses[-1] > losses[0]
    assert 2.2 < losses[0] < 2.4 and 1.8 < min(losses) < 2.0
    # "The upper bound is the power of 10 nearest the explosion.", and the search space takes "the range test's
    # bounds with the default settings" (0.01 to 1)
    assert test["bounds"] == [0.01, 1] and test["bounds"][0] < test["falls"] and test["bounds"][1] > test["lowest"]
    # "The lower bound is the power of 10 below where the loss first fell by 2%" (the fall at lr 0.058; 0.01 below it)
    assert test["bounds"][0] < test["falls"] < 10 * test["bounds"][0]
    # "at momentum 0.9, notebook 05b's full-length runs at a peak rate a fifth of the upper bound already varied
    # widely over seeds" (05b's grid, which 05b prints: lr 0.2, 74.67% ± 35.31%)
    runs_at_fifth = validation_grid()["lr"][test["bounds"][1] / 5]
    assert max(runs_at_fifth) - min(runs_at_fifth) > 0.3
    # "Each trial trains `trial_epochs` epochs on `trial_images` sampled images: the trial budget"
    assert settings["trial_epochs"] == 2 and settings["trial_images"] == 10_000
    # "The trial ran all its epochs: it is complete." (measured: 91.38% after epoch 1, 94.00% after epoch 2)
    assert parts["baseline_trial"]["state"] == "complete" and len(parts["baseline_trial"]["accuracies"]) == 2
    # "it is below notebook 05b's full-length runs, as a trial trains far less" (05b's grid at the recipe's rate:
    # 97.99% ± 0.10%; measured: 94.00%)
    assert parts["baseline_trial"]["accuracies"][-1] < min(validation_grid()["lr"][0.05])


def test_the_pruner_of_11a(executed):
    """11a: what its prose reads from the four trials set by hand under the pruner holds (pruner_trials.json)."""
    parts = read(executed, "pruner_trials.json")
    settings = parts["settings"]
    assert settings["trial_epochs"] == 2 and settings["trial_images"] == 10_000
    # "In one epoch, batches of 32 take nearly eight times the steps of batches of 256" (313 and 40)
    assert 7.5 <= steps_per_epoch(settings, 32) / steps_per_epoch(settings, 256) < 8
    # "At batch 32 the weak values fell below their peers after epoch 1: pruned, an epoch saved. At batch 256
    # they stayed near chance, one digit in ten, yet ran on: no two complete peers existed."
    # (measured: 29.38% against a 0.25 quantile of 90.63%; 9.86% after epoch 1, 9.80% after epoch 2) and answers
    # 11 and 12
    baseline, faster, weak_32, weak_256 = parts["four_trials"]
    assert [t["batch_size"] for t in parts["four_trials"]] == [32, 32, 32, 256]
    assert baseline["state"] == faster["state"] == "complete"
    threshold = torch.tensor([baseline["accuracies"][0], faster["accuracies"][0]]).quantile(0.25).item()
    assert weak_32["state"] == "pruned" and len(weak_32["accuracies"]) == 1 and weak_32["accuracies"][0] < threshold
    assert weak_256["state"] == "complete" and weak_256["accuracies"][0] < weak_32["accuracies"][0]
    assert weak_256["accuracies"][-1] < 0.2
    # "weak values (low rate, no momentum) at batch 32 and 256": the same values at both batch sizes
    assert weak_32["momentum"] == weak_256["momentum"] == 0.0 and weak_32["lr"] == weak_256["lr"]
    # the four trials' comment "steady step lr / (1 - momentum): trial 0: 0.05 / 0.1 = 0.5; trial 1: 0.3 / 0.5 =
    # 0.6" and
    # "Trials 0 and 1 ran once each: too few to rank them" (no reading of their scores); the exercise's solution
    # prints whether its third peer lowered the bar, from the numbers
    assert math.isclose(faster["lr"], 6 * baseline["lr"]) and faster["momentum"] < baseline["momentum"]
    assert math.isclose(faster["lr"] / (1 - faster["momentum"]), 0.6)
    assert math.isclose(baseline["lr"] / (1 - baseline["momentum"]), 0.5)


def test_the_search_of_11b(executed):
    """11b: what its prose says about the search holds for the default run (every other reading of the search is
    printed from its numbers on a "so:" line)."""
    tuning = read(executed, "tuning.json")
    settings, trials = tuning["settings"], tuning["trials"]
    # "It trains `trial_epochs` epochs on `trial_images` sampled images, the trial budget"
    assert tuning["n_trials"] == 12 and settings["trial_epochs"] == 2 and settings["trial_images"] == 10_000
    # "trial 0 the baseline" (the study), notebook 05's recipe
    baseline = {"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": "128-64"}
    assert trials[0]["state"] == "complete" and {k: trials[0][k] for k in baseline} == baseline
    assert len({t["number"] for t in trials}) == len(trials) >= 12
    assert trials[0]["val_accuracy"] <= tuning["best_val_accuracy_in_search"] <= 0.98
    # "The baseline led the search. TPE's batch sizes and layers leaned towards the leader's (printed)."
    # (measured: trial 0 94.00%, the next 93.22%; 5 of TPE's 7 picks took batch 32, 4 also 128-64, against 1.75
    # and 0.58)
    assert tuning["best_val_accuracy_in_search"] == trials[0]["val_accuracy"]
    tpe_trials = [t for t in trials if t["number"] >= settings["startup_trials"]]
    same_batch = [t for t in tpe_trials if t["batch_size"] == 32]  # trial 0 leads the start-up trials
    same_both = [t for t in same_batch if t["hidden"] == "128-64"]
    assert len(same_batch) > 2 * len(tpe_trials) / 4 and len(same_both) > 2 * len(tpe_trials) / 12
    # "For TPE's first six picks (at most 10 finished trials), its best group was the leader alone; for the last, the
    # leader and trial 9, with the same batch size and layers." (Optuna's best group: the best tenth of the
    # finished trials, rounded up; complete trials rank before pruned ones; one worker: pick k after k trials)
    assert settings["startup_trials"] == 5 and tpe_trials[-1]["number"] == 11 and len(tpe_trials) == 7
    before_last = [t for t in trials if t["number"] < 11 and t["state"] == "complete"]
    best_two = sorted(before_last, key=lambda t: t["val_accuracy"], reverse=True)[:2]
    assert [t["number"] for t in best_two] == [0, 9]
    # "The leader is the baseline, whose lead rests on values first set with test accuracies in view" (the leader:
    # the best start-up trial, trial 0, the baseline asserted above)
    startup_done = [t for t in trials if t["number"] < settings["startup_trials"] and t["state"] == "complete"]
    assert max(startup_done, key=lambda t: t["val_accuracy"])["number"] == 0
    assert trials[9]["batch_size"] == 32 and trials[9]["hidden"] == "128-64"
    # "Nor were the random draws and TPE's picks treated alike: the pruner could stop none of the random draws (each
    # had under two peers), but six of TPE's seven picks (not trial 7: one peer at batch 256)." and the answer
    # "(trial 7: trial 1 alone)"
    # (the random draws' values come from the seed alone; one worker: trials finish in number order)
    complete = [t for t in trials if t["state"] == "complete"]
    peers = {
        t["number"]: [p["number"] for p in complete if p["number"] < t["number"] and p["batch_size"] == t["batch_size"]]
        for t in trials
    }
    assert all(len(peers[t["number"]]) < 2 for t in trials if 0 < t["number"] < settings["startup_trials"])
    assert [t["number"] for t in tpe_trials if len(peers[t["number"]]) < 2] == [7] and peers[7] == [1]
    assert trials[7]["batch_size"] == 256
    # "its rates and momenta spread over most of their ranges (table)" (measured: lr 0.0137 to 0.606 of 0.01 to
    # 1, on the log scale the search draws on; momentum 0.025 to 0.924 of 0 to 0.95)
    log_lr = [math.log(t["lr"]) for t in tpe_trials]
    assert max(log_lr) - min(log_lr) > 0.5 * math.log(1.0 / 0.01)
    momenta = [t["momentum"] for t in tpe_trials]
    assert max(momenta) - min(momenta) > 0.5 * 0.95
    # the answers "15. Trial 4 (92.00%), with the highest rate drawn (0.7751)." and "16. Trial 7 (76.14%), a TPE
    # pick at batch 256 with the smallest layers, 64-32."
    draws = [t for t in trials if 0 < t["number"] < settings["startup_trials"]]
    assert max(draws, key=lambda t: t["val_accuracy"])["number"] == 4
    assert max(trials, key=lambda t: t["lr"])["number"] == 4
    assert min(complete, key=lambda t: t["val_accuracy"])["number"] == 7
    assert trials[7]["hidden"] == "64-32"

    # "The 2-epoch budget may add to batch 32's lead: its epochs take about eight times the steps of batch 256's"
    # (measured: complete trials average 92.29% at batch 32 against 80.61% at batch 256; 313 and 40 steps)
    def mean_at(batch):
        return metrics.mean_std([t["val_accuracy"] for t in complete if t["batch_size"] == batch])[0]

    assert mean_at(32) > mean_at(256)
    assert 7.5 <= steps_per_epoch(settings, 32) / steps_per_epoch(settings, 256) < 8
    # "Trial 10 ended near chance (10%), like notebook 11a's weak values (a low rate, no
    # momentum) at batch 256. ... So its low rate made
    # short steps, and batch 256 gives few steps per epoch. The other trials at batch 256 had higher rates and
    # learned."
    # (measured: 9.46%, lr 0.0138, momentum 0.025; trials 1 and 7 at batch 256: lr 0.125 and 0.195, 85.08% and
    # 76.14%; notebook 11's weak values at batch 256: 9.80%, and at batch 32 they learned: 29.38% after one epoch)
    trial_10 = trials[10]
    assert trial_10["number"] == 10 and trial_10["val_accuracy"] < 0.2 and trial_10["batch_size"] == 256
    assert trial_10["lr"] < 0.05 and trial_10["momentum"] < 0.1
    other_256 = [t for t in trials if t["batch_size"] == 256 and t["number"] != 10]
    assert other_256 and all(t["lr"] > trial_10["lr"] and t["val_accuracy"] > 0.5 for t in other_256)
    weak_32, weak_256 = read(executed, "pruner_trials.json")["four_trials"][2:]
    assert weak_256["batch_size"] == 256 and weak_256["accuracies"][-1] < 0.2
    assert weak_32["accuracies"][0] > weak_256["accuracies"][0] + 0.1
    # the search space's comment: "notebook 11's range test's bounds; notebook 05's 0.05 inside"
    assert [*settings["search_space"]["lr"]] == [0.01, 1.0]
    assert all(0.01 <= t["lr"] <= 1.0 for t in trials)


def test_the_winner_of_11c(executed):
    """11c: what its prose says about the seed-spread check, the verdict and the retrained recipe holds for the
    default run (the other readings are printed from the numbers on "so:" lines)."""
    from mnist_lab.metrics import seed_verdict

    tuning, winner = read(executed, "tuning.json"), read(executed, "tuning_winner.json")
    settings, trials = tuning["settings"], tuning["trials"]
    baseline = {"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": "128-64"}
    # "The next cells reopen notebook 11b's study (...), so no trial runs again"
    assert winner["study_name"] == tuning["study_name"]
    # "So the search's own runs are left out": the seed-spread check trains with new seeds only
    assert settings["seed"] == 0 and winner["seeds"] == [1, 2, 3]
    # "the challenger, the best complete trial other than the baseline"
    others = [t for t in trials if t["state"] == "complete" and t["number"] != 0]
    challenger = max(others, key=lambda t: t["val_accuracy"])
    assert winner["challenger"] == challenger["number"]
    assert winner["challenger_in_search"] == challenger["val_accuracy"]
    # "Here the search's best trial was the baseline itself, and the challenger below scored lower in the search"
    # (measured: 94.00% against 93.22%; 94.02% against 93.30% on CI's float path)
    assert trials[0]["number"] == 0 and tuning["best_val_accuracy_in_search"] == trials[0]["val_accuracy"]
    assert trials[0]["val_accuracy"] > challenger["val_accuracy"]
    # The verdict is made on validation (the challenger after a clear gain, else notebook 05's values); "Read
    # "clear loss" as "not shown to be a gain", a weak verdict" and "We keep `chosen`: in this run, notebook 05's
    # recipe, because the challenger did not beat it."
    # (measured: -0.85 points against a noise of 0.82)
    (base_mean, base_std), (mean, std) = winner["seed_spread"]["baseline"], winner["seed_spread"]["challenger"]
    gain, noise = mean - base_mean, std + base_std
    assert winner["verdict"] == seed_verdict(gain, noise)  # notebook 05b's noise rule
    expected = {k: challenger[k] for k in baseline} if winner["verdict"] == "clear gain" else baseline
    assert winner["chosen"] == expected
    assert winner["verdict"] == "clear loss" and winner["chosen"] == baseline and abs(gain) < 2 * noise
    # "Both readings rest on 3 seeds, where each standard deviation is rough (printed: the noise rule's margin, the
    # gap in standard errors, and whether the noise asked less than notebook 06's line). Read "clear loss" as "not
    # shown to be a gain", a weak verdict: the tie rule ... would keep notebook 05's recipe too." (the so: lines
    # print the margin, the gap and the noise in standard errors from the numbers; measured: 1.04 times the noise,
    # 2.0 standard errors, the noise 1.93 of them; on CI's float path 1.67 and 3.4; a weak verdict: under twice
    # the noise)
    assert len(winner["seeds"]) == 3 and winner["verdict"] != "clear gain" and winner["chosen"] == baseline
    # "Both means landed close to their search scores (printed)" (measured: 0.00 and 0.07 points below)
    assert abs(trials[0]["val_accuracy"] - base_mean) < 0.005
    assert abs(challenger["val_accuracy"] - mean) < 0.005
    # the so: line "on new seeds the challenger averages ... within the spread of that difference" (s √(1 + 1/k);
    # measured: 93.15% ± 0.73% against its search run's 93.22%, the baseline's spread 0.09%)
    assert abs(challenger["val_accuracy"] - mean) <= std and std > 3 * base_std
    # "The baseline's rate was kept after a look at these digits: notebook 05b tried halving it (a loss beyond the
    # noise) and doubling it (a tie), 3 epochs on 10,000 images." (05b's noise rule on its other_rates rows)
    ablation = read(executed, "ablation.json")
    assert ablation["epochs"] == 3 and ablation["images"] == 10_000 and len(ablation["seeds"]) == 3
    recipe_row, (halved, doubled) = ablation["rows"][4], ablation["other_rates"]
    assert [halved["change"], doubled["change"]] == ["lr 0.025", "lr 0.1"]
    verdicts = [
        seed_verdict(row["mean"] - recipe_row["mean"], row["std"] + recipe_row["std"]) for row in (halved, doubled)
    ]
    assert verdicts == ["clear loss", "within the seed spread"]
    # "We retrain it on all training images for `epochs` epochs (3; notebook 05 took 10)"
    assert winner["epochs"] == 3
    assert 0.96 <= winner["test_accuracy"] <= 0.99  # the choice retrained for 3 epochs on all 55,000 images
    # "Notebook 06 found a positive gap for notebook 05's MLP too, near 2 standard errors (its exercise 1): the
    # samples alone might explain it. If the gaps are real, ... both would push test above validation."
    # (measured: test minus validation +0.41 points here; +0.41 for notebook 05's MLP, 98.47% against 98.06%, 1.8
    # SE; on CI's float path 98.41% against 97.84%, 2.4 SE)
    mlp_history = torch.load(executed / "mlp.pt", weights_only=True)["history"]
    assert winner["test_accuracy"] > winner["val_accuracy"]
    test_05, val_05 = read(executed, "metrics.json")["test_accuracy"], mlp_history[-1]["val_accuracy"]
    assert test_05 > val_05
    se_05 = math.sqrt(test_05 * (1 - test_05) / 10_000 + val_05 * (1 - val_05) / settings["val_size"])
    assert 1.4 <= (test_05 - val_05) / se_05 <= 2.8  # "near 2 standard errors"
    # "notebook 05b's full-length runs point the same way (5 epochs below 10 on these validation digits, 5 seeds
    # each), though 3 epochs were not among them." (05b's validation grid; measured: 97.74% against 97.99%)
    epochs_rows = validation_grid()["epochs"]
    assert 3 not in epochs_rows and len(epochs_rows[5]) == len(epochs_rows[10]) == 5
    assert sum(epochs_rows[5]) < sum(epochs_rows[10])
    # "the noise rule cannot judge notebook 05's lead over our 3 epochs (printed)" and the so: line
    # "notebook 05's 10 epochs reached ..., above our 3's" (measured: 97.96% against 97.48%)
    assert len(mlp_history) == 10 and mlp_history[-1]["val_accuracy"] > winner["val_accuracy"]


def test_the_steps_of_12(executed):
    """12: what its prose reads from its steps (no model: the same on every machine, and nbval compares most of the
    printed lines; these are the readings that lean on a "so:" line, which nbval hides)."""
    import numpy as np
    from notebook_code import definitions

    from mnist_lab import draw

    steps = definitions("12_draw")  # steps 1 and 2; 12a's step 3 below
    centring = definitions("12a_centring")
    steps.center_of_mass, steps.center_by_mass = centring.center_of_mass, centring.center_by_mass
    steps.rasterize = centring.rasterize
    # 12a: "Notebooks 12b and 12c use `draw.rasterize_strokes`, the library's copy of all three steps. Our step 3,
    # after the library's steps 1 and 2, gives the same pixels as the library's, exactly, on ten built-in drawings
    # (printed)." (12a prints
    # that comparison, and 12 its steps 1 and 2 against draw.fit_in_box); 12b's "the library's copies of steps 1-2
    # and 3 (notebooks 12 and 12a), with other pens" (1.6, 1.8 and 3.0 pixels) and 12c's offsets, measured with
    # draw.center_of_mass
    for digit in range(10):
        strokes = draw.example_strokes(digit)
        assert torch.equal(steps.rasterize(strokes), draw.rasterize_strokes(strokes))
        for ink in (1.6, 1.8, 3.0):
            ours, library = steps.fit_in_box(strokes, ink=ink), draw.fit_in_box(strokes, ink=ink)
            assert (ours == library).all() and (steps.center_by_mass(ours) == draw.center_by_mass(library)).all()
        shrunk_digit = draw.shrink_canvas(strokes).numpy()
        assert steps.center_of_mass(shrunk_digit) == draw.center_of_mass(shrunk_digit)
    # 12a's "Panel 1: the 7 as drawn, in the pad's lower half." (12 prints its points: y 146 to 260)
    x0, y0, x1, y1 = steps.bounding_box(draw.example_strokes(7))
    assert round(y1 - y0) == 114 and draw.CANVAS == 280 and y0 > draw.CANVAS / 2
    # "our lines' 2.2 × 8 = 17.6 fine pixels become 18, that is 2.25 pixels"
    assert round(2 * (draw.INK * 8 / 2)) / 8 == 2.25
    # "The toy's top-left block mean is its mean by hand." (printed: block means [[2.5, ...]], by hand 2.5)
    toy = np.arange(16.0).reshape(4, 4)
    assert steps.block_mean(toy, fine=2)[0, 0] == toy[:2, :2].mean() == 2.5
    seven = draw.example_strokes(7)
    boxed, digit, shrunk = steps.fit_in_box(seven), steps.rasterize(seven).numpy(), draw.shrink_canvas(seven).numpy()
    # "More than half of this 7's pixels with any ink are grey" and answer 10 (measured: 56%)
    assert ((boxed > 0) & (boxed < 1)).sum() > (boxed > 0).sum() / 2
    # answer 7: "which makes 14.004, rounded up to whole pixels: 15" and step 2's "The 7's points then span just
    # over 11.8 pixels across; the pen on both sides makes just over 14, and rounding up gives 15 (printed below)."
    assert boxed.shape == (20, 15)
    # "For the 7 (printed below), the box is 15 wide and the points 11.8: they lie 1.6 pixels in from each side, and
    # the pen's half-width covers part of that." (printed: "the points span 17.8×11.8"; (15 - 11.804) / 2 = 1.598,
    # the pen's half-width 1.1)
    x0, y0, x1, y1 = steps.bounding_box(seven)
    points_width = (x1 - x0) * (20 - draw.INK) / max(x1 - x0, y1 - y0)
    assert f"{points_width:.1f}" == "11.8" and f"{(boxed.shape[1] - points_width) / 2:.1f}" == "1.6"
    assert 11.8 < points_width and 14 < points_width + draw.INK < 14.05  # "just over 11.8", "just over 14"
    assert 0 < draw.INK / 2 < (boxed.shape[1] - points_width) / 2
    # 12a: "The centre of mass then lands within half a pixel of 14 (MNIST's mean, printed below) on each axis" and
    # answer 10, "At row 14.4, column 14.3 (printed)"
    row, col = steps.center_of_mass(digit)
    assert max(abs(row - 14), abs(col - 14)) <= 0.5 and f"{max(abs(row - 14), abs(col - 14)):.1f}" == "0.4"
    # 12a: "in panel 4 it is small and low" and answer 14, "the built-in 7 comes out small and low (panel 4)"
    # (measured: 14 pixels tall against our steps' 20, centre of mass at row 17.8)
    assert (shrunk.sum(axis=1) > 0).sum() < (digit.sum(axis=1) > 0).sum() and steps.center_of_mass(shrunk)[0] > 14
    # 12's exercise 1 and answer 15: "12 pixels (the solution prints it); its points alone, at the same scale, round
    # up to 9: the pen and rounding up add 3"
    from mnist_lab_checks import check_box_width

    zero = draw.example_strokes(0)
    assert steps.fit_in_box(zero).shape[1] == 12 and check_box_width(12, zero)
    x0, y0, x1, y1 = steps.bounding_box(zero)
    assert math.ceil((x1 - x0) * (20 - draw.INK) / max(x1 - x0, y1 - y0)) == 9
    # 12a's exercise 1 solution: "the 7's heavy top bar puts its centre of mass high in its box" (3.6 pixels off when
    # centred by its box, the farthest of the ten)
    from mnist_lab_checks import check_box_centring_offset

    assert check_box_centring_offset(3.6, boxed)
    # and "the box's middle lands at (13.5, 13), and the 7's heavy top bar puts its centre of mass high in its box,
    # 3.1 rows above its middle (6.4 against 9.5)" (the box of 20×15 from row 4, column 6)
    box_row, _ = steps.center_of_mass(boxed)
    assert f"{box_row:.1f}" == "6.4" and f"{(boxed.shape[0] - 1) / 2 - box_row:.1f}" == "3.1"
    assert ((28 - 20) // 2 + (20 - 1) / 2, (28 - 15) // 2 + (15 - 1) / 2) == (13.5, 13)
    # its comments: "the 9, its loop on top, is next" and "Centring by the box leaves even ink up to about a pixel off
    # (its middle, printed); the ink's shape moves most centres about a pixel or less from that middle, the 9's and
    # the 7's far more (printed)" (measured: the boxes' middles 0.71 to 1.12 off; the ink's pull 0.0 to 1.24 for
    # eight digits, the 9 1.96, the 7 3.37)
    offsets, pulls, middle_offsets = [], [], []
    for d in range(10):
        box = steps.fit_in_box(draw.example_strokes(d))
        h, w = box.shape
        image = np.zeros((28, 28))
        image[(28 - h) // 2 : (28 - h) // 2 + h, (28 - w) // 2 : (28 - w) // 2 + w] = box
        middle = ((28 - h) // 2 + (h - 1) / 2, (28 - w) // 2 + (w - 1) / 2)
        centre = steps.center_of_mass(image)
        offsets.append(math.dist(centre, (14, 14)))
        pulls.append(math.dist(centre, middle))
        middle_offsets.append(math.dist(middle, (14, 14)))
    assert sorted(range(10), key=offsets.__getitem__)[-2:] == [9, 7]
    assert sorted(range(10), key=pulls.__getitem__)[-2:] == [9, 7]
    assert 0.5 < min(middle_offsets) and max(middle_offsets) < 1.5
    others = [p for d, p in enumerate(pulls) if d not in (7, 9)]
    assert max(others) < 1.5 and 1.5 * max(others) < pulls[9] < pulls[7]


def test_the_drawings_of_12b(executed):
    """12b: what its prose says about its counts, pens and confidences holds for the trained pair of models."""
    readings = read(executed, "draw_readings.json")
    right = readings["right"]
    # "On these ten, shrunk as built, the MLP misreads most and the CNN reads most; after our steps both read all ten
    # (printed)." and the so: lines "MLP, our steps minus pad shrunk: +9 right on these ten: an illustration, not a
    # measure" (measured: 10 of 10 each; +9 and +1)
    assert right["our steps"] == {"MLP": 10, "CNN": 10}
    # "On these ten, shrunk as built, the MLP misreads most and the CNN reads most" and answer 7, "The CNN reads most
    # shrunk drawings, the MLP few." (measured: 1 and 9 of 10; 1 and 8 in an earlier run)
    assert right["pad shrunk"]["MLP"] <= 4 and right["pad shrunk"]["CNN"] >= 6
    # "On the shrunk 7 both give their top digit less." and answer 12, "The MLP reads 5 (0.53; the 7 gets 0.08); the
    # CNN reads 7 (0.63). Both give their top digit less than after our steps." (measured: MLP 0.53 against 1.00,
    # CNN 0.63 against 0.89; the values are printed by the so: lines)
    seven = readings["seven"]
    assert all(seven[f"pad shrunk, {m}"] < seven[f"our steps, {m}"] for m in ("MLP", "CNN"))
    # "After our steps the MLP, trained without label smoothing, gives its top digit about 1.00 on all ten. The
    # CNN's stay well below, around the 0.91 its label smoothing aimed at: one plausible cause, untested" and answer
    # 14, "Its top probabilities stay around that target" (the CNN's ten are also printed, digit by digit)
    # (measured: MLP 0.998 to 1.00, CNN 0.88 to 0.94; CNN 0.82 to 0.93 on CI's float path). Now: "The CNN's stay
    # lower (printed): its label smoothing trained it towards 0.91, one plausible cause, untested" and answer 14, "Its
    # top probabilities stay lower."
    assert min(readings["top"]["MLP"]) >= 0.99
    assert 0.7 <= min(readings["top"]["CNN"]) and max(readings["top"]["CNN"]) <= 0.96
    # "A target is not a ceiling: a model can still give more than 0.91 to a digit, as ours does to some (printed)."
    # (measured: 0.92, 0.93 and 0.94 of ten; 0.94 at most on CI's float path)
    assert max(readings["top"]["CNN"]) > 1 - 0.1 + 0.1 / 10
    # "With all ten right at 2.2, counts could only fall; none did (printed), so the shrunk drawings' pen alone did
    # not cause their misreads." (1.8, the shrunk drawings' pen, reads 10 of 10 with our steps), answer 10, "All
    # counts were 10 of 10. At 2.2 all were right, so counts could only fall; none did." (the count at 2.2 is
    # asserted above).
    # (measured: 10 of 10 each, and with pens 1.4 to 3.4)
    assert set(readings["pens"]) == {"1.6", "1.8", "3.0"}
    assert all(count == 10 for counts in readings["pens"].values() for count in counts.values())
    recipes = {kind: torch.load(executed / f"{kind}.pt", weights_only=True)["recipe"] for kind in ("mlp", "cnn")}
    # "Its value, 0.1, was set by hand with test accuracies in view. Notebook 10b's short runs compared it with no
    # smoothing on validation and could not tell them apart. No notebook tries another value of ε." and answer 15 (10b's
    # reading "within the seed spread" is guarded by 10b's own test; its CHOICES try only with and without)
    assert recipes["mlp"].get("label_smoothing", 0.0) == 0.0 and recipes["cnn"]["label_smoothing"] == 0.1
    # "The CNN's also adds shifted and turned training digits and label smoothing. So a lead here may reflect the
    # recipe, not the layers." and answer 5
    assert recipes["cnn"]["augment"] and recipes["cnn"]["max_shift"] > 0 and recipes["cnn"]["max_rotation"] > 0
    assert not recipes["mlp"].get("augment", False)
    # "Validation's means later picked the MLP's rate, momentum and weight decay again, within the seed spread
    # (notebook 05b)" and answer 5 (05b's grid: the best mean of each row is notebook 05's value; "within the seed
    # spread" is guarded by 05b's test)
    grid = validation_grid()
    for name in ("lr", "momentum", "weight_decay"):
        best = max(grid[name], key=lambda value: metrics.mean_std(grid[name][value])[0])
        assert best == recipes["mlp"][name]
    # the exercise's solution: "A CNN trained with ε = 0.3 would aim its top probability at 0.73, not 0.91"
    assert round(1 - 0.3 + 0.03, 2) == 0.73 and round(1 - 0.1 + 0.01, 2) == 0.91


def test_the_drawings_of_12c(executed):
    """12c: what its prose says about the shrunk drawings against MNIST's digits, the two recipes and the moved
    drawings holds for the trained pair of models."""
    readings, unlike = read(executed, "draw_readings.json"), read(executed, "draw_unlike_mnist.json")
    # "Shrunk, the MLP misreads most and the CNN reads most; after our steps both read all ten (printed)." (12c prints
    # the same counts as 12b: measured 1 and 9 of 10, 10 and 10); "Yet the CNN reads most of them (notebook 12b)",
    # said of the ten that lie farther off than any moved training digit (asserted below)
    assert readings["right"]["our steps"] == {"MLP": 10, "CNN": 10}
    assert readings["right"]["pad shrunk"]["MLP"] <= 4 and readings["right"]["pad shrunk"]["CNN"] >= 6
    recipes = {kind: torch.load(executed / f"{kind}.pt", weights_only=True)["recipe"] for kind in ("mlp", "cnn")}
    # exercise 1's solution: "Why is not tested here: augmentation, label smoothing, convolutions and pooling, batch
    # norm, learning rate, batch size and epochs all differ."
    assert recipes["cnn"]["augment"] and not recipes["mlp"].get("augment", False)
    assert recipes["cnn"]["label_smoothing"] > 0 and recipes["mlp"].get("label_smoothing", 0.0) == 0
    # "other settings: another learning rate, fewer epochs (8 against the MLP's 10), larger batches"; "The CNN here
    # trained 8 epochs on all 55,000 training digits, not 1 epoch on a sample" and answer 13; the solution's "batch
    # norm, learning rate, batch size and epochs differ"; 12b's "its other differences (layers, augmentation,
    # learning rate, batch size, epochs)"
    assert recipes["cnn"]["epochs"] == 8 and recipes["mlp"]["epochs"] == 10 and recipes["cnn"]["subset"] is None
    assert recipes["cnn"]["batch_size"] > recipes["mlp"]["batch_size"] and recipes["cnn"]["lr"] != recipes["mlp"]["lr"]
    # "These ten shrunk drawings, drawn small and off-centre on purpose, are unlikely in MNIST's distribution. Their
    # ink's longer side is under 20 pixels; MNIST's is 20 in 54,858 of its 55,000 training digits (printed), so any
    # other side is rare. Their centres lie farther from (14, 14) than any MNIST training digit's." and answers 4, 7
    # (our steps: 20 pixels, centre within half a pixel of 14, by construction: guarded in 12's test)
    # (measured: sides 13 to 19; MNIST's longer side 20 in 54,858 of 55,000; offsets 3.8 to 8.3 against at most 0.71)
    assert max(unlike["sides"]) < 20 and unlike["mnist_side_20"] > 0.99
    assert min(unlike["offsets"]) > unlike["mnist_offset"]
    # answer 8, "MNIST's: at most 0.71 pixels (printed). The shrunk drawings': 3.8 to 8.3 pixels." (measured 0.7095;
    # the offsets are printed); "The 0.71 is a measured maximum"
    assert 0.5 < unlike["mnist_offset"] < 0.75 and f"{unlike['mnist_offset']:.2f}" == "0.71"
    # "per axis, the most is a little over half a pixel (printed)" and answer 9, "A little over half a pixel"
    # (measured: row 0.520, column 0.506; the MNIST data, not a model)
    assert all(0.5 < offset < 0.55 for offset in unlike["axis_offsets"])
    # answer 10, "3 right and 3 down: 4.2 pixels for a centred digit, at most 4.95 for a MNIST one. Most of our
    # shrunk drawings lie farther off (printed)." (measured: 8 of 10; 10b's reading is guarded by its own test)
    assert unlike["shift_10b"] == math.hypot(3, 3) + unlike["mnist_offset"]
    assert f"{unlike['shift_10b']:.2f}" == "4.95"
    assert sum(offset > unlike["shift_10b"] for offset in unlike["offsets"]) > len(unlike["offsets"]) / 2
    # "Their centres lie farther from (14, 14) than any MNIST training digit's, and than any in one random draw of the
    # CNN's shifts and turns (printed)."
    # (measured: one random move each, at most 3.44 pixels off; the shrunk drawings 3.78 and more). Beyond the sample,
    # a bound: a shift of at most 2 pixels per axis, plus MNIST's own offset, plus what a turn of at most 10° about
    # the grid's centre, (13.5, 13.5), adds to a point half a pixel off on each axis: 3.66 pixels.
    assert recipes["cnn"]["max_shift"] == 2 and recipes["cnn"]["max_rotation"] == 10.0
    assert min(unlike["offsets"]) > unlike["moved_offset"]
    turn = 2 * math.sin(math.radians(10 / 2)) * math.hypot(0.5, 0.5)
    assert unlike["moved_offset"] < math.hypot(2, 2) + unlike["mnist_offset"] + turn < min(unlike["offsets"])
    from mnist_lab import draw

    # "pen width (1.8 against 2.2)" and answer 11, "1.8 pixels"
    assert f"{draw.PEN * 28 / draw.CANVAS:.1f}" == "1.8" and draw.INK == 2.2
    # Exercise 1's solution, "place alone can make the MLP misread these drawings, a few pixels off; the CNN reads
    # all ten moved farther (so: lines)", answer 13's "exercise 1 shows it reading our ten moved farther
    # than the MLP does", and answer 14, "the MLP misreads our drawings, made with our steps, once
    # they move a few pixels" (measured: the MLP reads all ten up to 2 pixels right, 2 of 10 moved 4; the CNN all
    # ten up to 5 pixels, 10 of 10 moved 4)
    from mnist_lab import train
    from mnist_lab.augment import shift

    images = torch.stack([draw.rasterize_strokes(draw.example_strokes(d)) for d in range(10)])
    # the solution's so: line "the ink's rightmost column is 21 at most: moved 6 right, it stays inside the grid" and
    # its comment "Only the place changes from row to row: no ink leaves the grid (printed)."
    assert max(int((x.sum(dim=0) > 0).nonzero().max()) for x in images) == 21
    assert torch.equal(shift(images, 6, 0)[..., 6:], images[..., :-6])
    reach = {}
    for kind in ("mlp", "cnn"):
        model = train.load_checkpoint(executed / f"{kind}.pt")[0]
        counts = [
            sum(int(draw.predict_proba(model, x).argmax()) == d for d, x in enumerate(shift(images, dx, 0)))
            for dx in range(7)
        ]
        reach[kind] = next((dx for dx, n in enumerate(counts) if n < 10), 7) - 1
    assert 1 <= reach["mlp"] <= 4 and reach["cnn"] > max(reach["mlp"], 2)
