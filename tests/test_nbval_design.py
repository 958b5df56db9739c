"""nbval compares what is the same on every machine, and still fails on a wrong deterministic output.

The sanitize file (notebooks/sanitize.cfg) hides wall-clock values and the numbers that come out of training;
everything else a notebook prints is compared exactly. Here it is applied as nbval applies it: to what the library
prints in two real trainings that give other numbers, and to the committed notebooks' own outputs, whose checks and
whose numbers the library computes now must survive it. Where another machine's output cannot be made here (a verdict
that flips, another device), an example of it stands beside the committed line it varies.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from nbval.plugin import get_sanitize_patterns
from notebook_names import course_notebooks  # tools/notebook_names.py

from mnist_lab import course, data, models, runtime, train

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"
MNIST_TRAINING_IMAGES = 60_000


def sanitize(text: str) -> str:
    """Apply the sanitize file as nbval does (each pattern in order)."""
    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


def outputs(name: str) -> list[str]:
    """Return the text of each output of committed notebook ``name`` (``02_model``), as nbval compares it."""
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return [
        "".join(output.get("text", "")) + "".join(output.get("data", {}).get("text/plain", ""))
        for cell in cells
        for output in cell.get("outputs", [])
    ]


COMMITTED = [path.stem for path in course_notebooks(NOTEBOOKS)]


def blows_up_at(step: int, value: float):
    """Return a loss function that gives the cross-entropy until ``step``, then ``value`` (nan or inf)."""
    steps = []

    def loss_fn(logits, labels):
        steps.append(len(steps) + 1)
        return torch.nn.functional.cross_entropy(logits, labels) * (value if steps[-1] == step else 1.0)

    return loss_fn


def fit_prints(seed: int, blow_up: tuple[int, float], capsys) -> str:
    """Train a small MLP as notebook 05 does, printing what ``fit`` prints (each epoch, the loss every few steps, the
    progress bars), then a run whose loss blows up at ``blow_up`` (step, nan or inf), with its message; return all the
    lines, each progress bar as it was left when finished."""
    gen = torch.Generator().manual_seed(seed)
    x, y = torch.rand(256, 1, 28, 28, generator=gen), torch.randint(0, 10, (256,), generator=gen)
    train_loader = data.TensorLoader(x[:192], y[:192], 16, shuffle=True, seed=seed)
    val_loader = data.TensorLoader(x[192:], y[192:], 64)
    runtime.seed_everything(seed)
    recipe = {"lr": 0.05, "momentum": 0.9, "schedule": "onecycle", "device": "cpu"}
    train.fit(models.MLP(hidden=[32]), train_loader, val_loader, epochs=2, log_every=4, progress=True, **recipe)
    with pytest.raises(train.TrainingDiverged) as blown_up:  # at a constant rate, as notebook 05 shows it
        train.fit(models.MLP(hidden=[32]), train_loader, lr=1.0, device="cpu", loss_fn=blows_up_at(*blow_up))
    print(blown_up.value)
    out, err = capsys.readouterr()
    lines = [line for line in (out + err).split("\n") if line.strip()]  # a bar redraws itself after "\r"
    return "\n".join(
        [line for line in lines if "|" not in line] + [line.split("\r")[-1] for line in lines if "|" in line]
    )


def test_what_fit_prints_is_the_same_after_sanitizing_whatever_training_gives(capsys):
    """Two trainings that give other losses, accuracies and speeds, and whose loss blows up elsewhere, print the same
    lines once sanitized: no number that training gives is left for nbval to compare."""
    first = fit_prints(0, (4, float("nan")), capsys)
    second = fit_prints(3, (3, float("inf")), capsys)
    lines = 2 + 2 * 3 + 2 + 1  # two epochs, the loss every 4 of 12 steps, two progress bars, the blow-up
    assert len(first.splitlines()) == len(second.splitlines()) == lines, first
    differ = [(a, b) for a, b in zip(first.splitlines(), second.splitlines()) if a != b]
    assert len(differ) >= lines - 2, differ  # every line but the bars (whose speeds may agree) holds what training gave
    assert sanitize(first) == sanitize(second)


def check_lines(text: str) -> list[str]:
    """Return the lines of ``text`` that report a check ("...: True", "...: False"), conclusions ("so: ") aside."""
    return [line for line in text.splitlines() if re.search(r": (True|False)$", line) and not line.startswith("so: ")]


def test_every_check_a_notebook_prints_is_compared_as_it_is():
    """A check by hand against PyTorch or the library prints True or False: the same on every machine, so nbval must
    compare it; a pattern that hid it would let a broken lesson pass."""
    checks, hidden = 0, []
    for name in COMMITTED:
        for text in outputs(name):
            kept = set(sanitize(text).splitlines())
            checks += len(check_lines(text))
            hidden += [f"{name}: {line}" for line in check_lines(text) if line not in kept]
    assert checks >= 20, f"only {checks} check lines in the committed outputs: are the notebooks committed with them?"
    assert not hidden, f"the sanitize file hides checks: {hidden}"


def computed_facts() -> dict[str, list[str]]:
    """Return, by notebook, numbers that the library (and torch) compute now, as the notebook prints them."""
    mlp, cnn, recipe, count = models.MLP(), models.CNN(), course.RECIPES["mlp"], models.count_parameters
    batch_size = recipe["batch_size"]
    layers = models.layer_table(mlp, torch.zeros(batch_size, 1, 28, 28))
    batch = next(
        iter(data.TensorLoader(torch.zeros(2 * batch_size, 1, 28, 28), torch.zeros(2 * batch_size), batch_size))
    )
    batches = math.ceil((MNIST_TRAINING_IMAGES - recipe["val_size"]) / batch_size)
    eps = course.RECIPES["cnn"]["label_smoothing"]
    target = torch.full((10,), eps / 10) + (1 - eps) * torch.nn.functional.one_hot(torch.tensor(0), 10)
    return {
        "01_data": [f"{batches:,}", str(tuple(batch[0].shape))],
        "01b_loading": [f"{batches:,}"],
        "02_model": [f"{count(mlp):,}"] + [f"{row['params']:,}" for row in layers if row["params"]],
        "02b_loss": [f"{math.log(10):.4f}", f"{math.log(2):.3f}"],
        "02c_hidden_layers": [f"{count(mlp):,}", f"{count(torch.nn.Linear(784, 10)):,}"],
        "03_autograd": [f"{count(mlp):,}"],
        "03b_backprop": [f"{count(mlp):,}"],
        "03c_layers": [f"{count(mlp):,}"],
        "04_training": [f"{count(mlp):,}", f"{batches:,}"],
        "05_better_training": [f"{batches:,}"],
        "08_convolutions": [f"{count(torch.nn.Conv2d(16, 32, 3)):,}"],
        "08b_first_cnn": [f"{count(mlp):,}"],
        "09_cnn": [f"{count(cnn):,}", f"{count(mlp):,}", f"{float(-(target * target.log()).sum()):.4f}"],
        "10_cnn_training": [f"{count(cnn):,}", f"{count(mlp):,}", f"{float(-(target * target.log()).sum()):.4f}"],
    }


def missing_or_hidden(facts: dict[str, list[str]]) -> list[str]:
    """Return, for each fact, why it fails: not printed by its notebook, or printed and hidden by the sanitize file."""
    problems = []
    for name, numbers in facts.items():
        printed = "\n".join(outputs(name))
        kept = sanitize(printed)
        for number in numbers:
            alone = rf"(?<![\w.])(?<!\d,){re.escape(number)}(?!\w|[.,]\d)"  # not part of a longer number
            if not re.search(alone, printed):
                problems.append(f"{name} no longer prints {number}")
            elif not re.search(alone, kept):
                problems.append(f"{name}: the sanitize file hides {number}")
    return problems


def test_what_the_library_computes_is_compared_as_it_is():
    """Parameter counts, batches per epoch, the smoothing floor: the notebooks print what the
    library computes now, and nbval compares it."""
    assert missing_or_hidden(computed_facts()) == []


@pytest.mark.integration
def test_what_the_data_gives_is_compared_as_it_is():
    """The statistics of MNIST that the notebooks print (class counts, the training pixels' mean and spread, the test
    set's digits) are what the data gives at the printed precision, and nbval compares them."""
    s = data.load_splits(runtime.data_root(), val_size=course.RECIPES["mlp"]["val_size"])
    train_counts = torch.bincount(s.train_labels, minlength=10).tolist()
    facts = {
        "01_data": [f"{len(s.train_labels) + len(s.val_labels):,}", f"{len(s.test_labels):,}"]
        + [str(n) for n in train_counts]
        + [f"{s.train_images.mean().item():.4f}", f"{s.train_images.std().item():.4f}"],
        "06_evaluation": [str(n) for n in torch.bincount(s.test_labels, minlength=10).tolist()],
        "06b_per_digit": [str(n) for n in torch.bincount(s.val_labels, minlength=10).tolist()],  # the support
    }
    assert missing_or_hidden(facts) == []


# What another machine prints where the committed notebooks print the first line: a verdict or a conclusion that
# flips near its threshold, another device, other counts. These are only written here; each committed line must
# have the form of a line the committed notebooks print (with the numbers the sanitize file hides).
ANOTHER_MACHINE = [
    ("device: cpu", "device: cuda"),
    ("device: cpu", "device: mps"),
    ("largest gap |g - ours| in any entry: 4.7e-09", "largest gap |g - ours| in any entry: 1.4e-08"),  # 03c
    ("largest entry |g| of any gradient: 1.0e-01", "largest entry |g| of any gradient: 9.9e-02"),  # 03c
    (
        "the loss went down by 0.0154; the gradient predicted 0.0161",
        "the loss went down by 0.0153; the gradient predicted 0.0161",
    ),
    (
        "loss, last 20 steps              2.2961       2.1669       0.5190       2.3165",
        "loss, last 20 steps              2.2960       2.1670       0.5191       2.3165",
    ),
    (
        "+ momentum 0.9                                    93.92% ± 0.77%    +4.01 points: clear gain",
        "+ momentum 0.9                                    93.95% ± 0.74%    +0.05 points: within the seed spread",
    ),
    (
        "so: no change is a clear loss; we train the whole recipe in full",
        "so: a change is a clear loss at this budget; we still train the whole recipe",
    ),
    ("test accuracy: 98.48% (9848 of 10,000 right)", "test accuracy: 98.44% (9844 of 10,000 right)"),
    ("total: 5000 | right (the diagonal): 4903", "total: 5000 | right (the diagonal): 4892"),  # 06: validation
    (
        "        4      1     0     1     1   963     0     4     2     0    10",
        "        4      1     0     2     1   962     0     3     2     0    11",
    ),
    ("    9      0.976    0.968   0.972      494", "    9      0.975    0.962   0.968      494"),
    ("  7 -> 2: 9", "  5 -> 3: 8"),
    ("row 9:    [2, 1, 0, 2, 5, 2, 0, 4, 0, 478]", "row 9:    [2, 1, 0, 3, 6, 2, 0, 4, 1, 475]"),  # 06b
    ("column 9: [1, 0, 0, 0, 3, 3, 0, 1, 4, 478]", "column 9: [1, 0, 1, 0, 2, 3, 0, 1, 4, 475]"),
    (
        "Right: 0.993 is the precision of digit 9 among the answers given with over 90% confidence.",
        "Right: 0.991 is the precision of digit 9 among the answers given with over 90% confidence.",
    ),
    (
        "     0  horizontal edges  +0.62      0.26  -0.24  +0.05    0.05    0.10      0.05",
        "     0  box blur          -0.61      0.26  -0.31  +0.04    0.04    0.12      0.04",
    ),
    (
        "   0.0 to 0.5       41          43.34%    60.98%        +2.3",
        "   0.0 to 0.5       39          44.01%    58.97%        +1.1",
    ),
    ("F1 ranges from 0.982 to 0.992 over the ten digits", "F1 ranges from 0.980 to 0.991 over the ten digits"),
    ("first mistake: test digit 115, label 4, predicted 9", "first mistake: test digit 149, label 2, predicted 4"),
    ("best validation accuracy 98.12% at epoch 9 of 10", "best validation accuracy 98.10% at epoch 10 of 10"),
    (
        "  augmentation          clean -0.06 points: within the seed spread; shifted +21.03 points: clear gain",
        "  augmentation          clean +0.16 points: clear gain; shifted +19.80 points: clear gain",
    ),
    ("test mistakes: CNN 45, MLP 152, both 24", "test mistakes: CNN 43, MLP 156, both 22"),
    (
        "    4 complete   0.0013     0.161    256   128-64    9.84%      2",
        "    4 pruned     0.0013     0.161    256   128-64    9.80%      1",
    ),
    ("pruned: 4 of 12; best trial: 11, validation 94.96%", "pruned: 3 of 12; best trial: 5, validation 94.50%"),
    (
        "winner   (lr 0.184, momentum 0.811, batch 32, hidden 256-128): validation 94.81% ± 0.17% over 3 seeds",
        "winner   (lr 0.172, momentum 0.856, batch 32, hidden 128-64): validation 94.52% ± 0.20% over 3 seeds",
    ),
    (
        "gain +0.78 points, noise 0.24 points: clear gain",
        "gain +0.12 points, noise 0.31 points: within the seed spread",
    ),
    ("pad shrunk           MLP: 1 of 10 right", "pad shrunk           MLP: 2 of 10 right"),
    (
        "Right: 2 is the number of the 10, moved 4 pixels right, that the MLP reads right.",
        "Right: 3 is the number of the 10, moved 4 pixels right, that the MLP reads right.",
    ),
    (
        "4 pixel(s) right: MLP 2 of 10 right, CNN 10 of 10 right",
        "4 pixel(s) right: MLP 3 of 10 right, CNN 9 of 10 right",
    ),
    (
        "Right: 91 is the count of unit 4's digit among the 100 digits that raise it most.",
        "Right: 87 is the count of unit 4's digit among the 100 digits that raise it most.",
    ),
    (
        "Right: 4 is the index of the first digit the model gets wrong.",
        "Right: 9 is the index of the first digit the model gets wrong.",
    ),
    ("Right: 3.0 is the gain minus the noise, in points.", "Right: 2.91 is the gain minus the noise, in points."),
    ("Right: 8.7 is the paired gap in standard errors.", "Right: 8.4 is the paired gap in standard errors."),  # 10
]


@pytest.fixture(scope="module")
def committed_sanitized() -> str:
    """Every committed output, sanitized."""
    return "\n".join(sanitize(text) for name in COMMITTED for text in outputs(name))


@pytest.mark.parametrize("committed, elsewhere", ANOTHER_MACHINE)
def test_another_machines_line_is_sanitized_like_the_committed_one(committed, elsewhere, committed_sanitized):
    assert sanitize(committed) in committed_sanitized, "no committed notebook prints a line of this form any more"
    assert sanitize(committed) == sanitize(elsewhere)
    assert "<" in sanitize(committed)


def nbval(notebook: Path, artifacts: Path) -> subprocess.CompletedProcess:
    """Run nbval on one notebook as `make nbval` does; return the finished process."""
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env["MNIST_LAB_ARTIFACTS"] = str(artifacts)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "--nbval",
        "--nbval-current-env",
        "--nbval-sanitize-with",
        str(SANITIZE),
        "-q",
        str(notebook),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=notebook.parent, timeout=600)


@pytest.mark.integration
def test_nbval_fails_on_a_wrong_deterministic_output(tmp_path):
    nb = json.loads((NOTEBOOKS / "02_model.ipynb").read_text())
    (tmp_path / "as_committed.ipynb").write_text(json.dumps(nb))
    planted = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            if "parameters: 109,386" in "".join(output.get("text", [])):
                output["text"] = [line.replace("109,386", "109,387") for line in output["text"]]
                planted += 1
    assert planted == 1, "02's committed output no longer prints 'parameters: 109,386'"
    (tmp_path / "planted.ipynb").write_text(json.dumps(nb))

    good = nbval(tmp_path / "as_committed.ipynb", tmp_path / "a")
    assert good.returncode == 0, good.stdout[-3000:]
    bad = nbval(tmp_path / "planted.ipynb", tmp_path / "b")
    assert bad.returncode == 1, bad.stdout[-3000:]
    assert "1 failed" in bad.stdout and "109,387" in bad.stdout
