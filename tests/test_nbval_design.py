"""nbval compares what is the same on every machine, and still fails on a wrong deterministic output.

The sanitize file (notebooks/sanitize.cfg) hides wall-clock values and the numbers that come out of
training; everything else a notebook prints is compared exactly.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nbval.plugin import get_sanitize_patterns

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"


def sanitize(text: str) -> str:
    """Apply the sanitize file as nbval does (each pattern in order)."""
    import re

    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


# The same line as printed on two machines (the committed outputs, and another CPU or float path or device).
MACHINE_DEPENDENT = [
    ("device: cpu", "device: cuda"),
    ("device: cpu", "device: mps"),
    ("layers.0.bias    (128,)      True      9.3e-10", "layers.0.bias    (128,)      True      1.4e-09"),
    (
        "η = 150: the loss goes from 2.2951 to 810.7056, higher than before the step",
        "η = 150: the loss goes from 2.2951 to 810.7059, higher than before the step",
    ),
    (
        "the loss went down by 0.0154; the gradient predicted 0.0161",
        "the loss went down by 0.0153; the gradient predicted 0.0161",
    ),
    (
        "epoch 1: 100%|██████████| 1719/1719 [00:02<00:00, 850.66it/s]",
        "epoch 1: 100%|██████████| 430/430 [00:02<00:00, 201.2it/s]",
    ),
    (
        "epoch 1/10  train loss 0.6909  train acc 78.54%  val loss 0.1968  val acc 93.78%",
        "epoch 1/10  train loss 0.6911  train acc 78.50%  val loss 0.1970  val acc 93.76%",
    ),
    (
        "loss, last 20 steps              2.2961       2.1669       0.5190       2.3165",
        "loss, last 20 steps              2.2960       2.1670       0.5191       2.3165",
    ),
    ("The loss became nan at step 4 of epoch 1, with", "The loss became inf at step 3 of epoch 1, with"),
    (
        "+ momentum 0.9                                    93.92% ± 0.77%    +4.01 points: clear gain",
        "+ momentum 0.9                                    93.95% ± 0.74%    +0.05 points: within the seed spread",
    ),
    (
        "within the seed spread: + onecycle schedule; + weight decay 0.0005: the recipe",
        "clear gain: + onecycle schedule",
    ),
    (
        "so: no change is a clear loss; we train the whole recipe in full",
        "so: a change is a clear loss at this budget; we still train the whole recipe",
    ),
    ("test accuracy: 98.48% (9848 of 10,000 right)", "test accuracy: 98.44% (9844 of 10,000 right)"),
    ("total: 10000 | right (the diagonal): 9848", "total: 10000 | right (the diagonal): 9844"),
    (
        "        4      1     0     1     1   963     0     4     2     0    10",
        "        4      1     0     2     1   962     0     3     2     0    11",
    ),
    ("    9      0.977    0.977   0.977     1009", "    9      0.980    0.975   0.978     1009"),
    ("  7 -> 2: 9", "  5 -> 3: 8"),
    (
        "   0.0 to 0.5       41          43.34%    60.98%        +2.3",
        "   0.0 to 0.5       39          44.01%    58.97%        +1.1",
    ),
    ("F1 ranges from 0.982 to 0.992 over the ten digits", "F1 ranges from 0.980 to 0.991 over the ten digits"),
    ("first mistake: test digit 115, label 4, predicted 9", "first mistake: test digit 149, label 2, predicted 4"),
    (
        "most mixed pair in the picture: 0 and 6, 115 digits nearest the other's centre; with all features: 2",
        "most mixed pair in the picture: 2 and 5, 110 digits nearest the other's centre; with all features: 0",
    ),
    ("43 mistakes among these 2,000 digits", "49 mistakes among these 2,000 digits"),
    ("mean |weight|, trained, on those pixels: 0.0020", "mean |weight|, trained, on those pixels: 0.0021"),
    ("best validation accuracy 98.12% at epoch 9 of 10", "best validation accuracy 98.10% at epoch 10 of 10"),
    (
        "  augmentation          clean -0.06 points: within the seed spread; shifted +21.03 points: clear gain",
        "  augmentation          clean +0.16 points: clear gain; shifted +19.80 points: clear gain",
    ),
    ("test mistakes: CNN 45, MLP 152, both 24", "test mistakes: CNN 43, MLP 156, both 22"),
    (
        "target of the default recipe, 99.5% test accuracy: reached",
        "target of the default recipe, 99.5% test accuracy: missed",
    ),
    (
        "so: on blurred digits the CNN does worse than the MLP: 90.96% against 95.29%",
        "so: on blurred digits the CNN does better than the MLP: 95.20% against 94.90%",
    ),
    (
        "swept 92 of 100 steps, from 1e-05 up to 1.08: the loss exploded just above 1.08",
        "swept 93 of 100 steps, from 1e-05 up to 1.17: the loss exploded just above 1.17",
    ),
    ("lowest smoothed loss at lr 0.267", "lowest smoothed loss at lr 0.281"),
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
        "gain +0.78 points, seed spread 0.24 points: clear gain",
        "gain +0.12 points, seed spread 0.31 points: within the seed spread",
    ),
    (
        "after 14 trials the best is trial 11 (the same): validation 94.96%",
        "after 14 trials the best is trial 13 (a new one): validation 95.02%",
    ),
    ("tilted 30°         MLP shrunk        misread: 0→3, 1→7", "tilted 30°         MLP shrunk        misread: none"),
    ("pad shrunk           MLP: 1 of 10 right", "pad shrunk           MLP: 2 of 10 right"),
]

# Lines that are the same everywhere: they must survive the sanitize file unchanged.
DETERMINISTIC = [
    "parameters: 109,386 (by hand 109,386, models.count_parameters 109,386)",
    "layers.0  Linear  (32, 128)          100,480",
    "training images: 60,000, test images: 10,000",
    "count:  5460  6161  5457  5594  5335  4953  5447  5750  5388  5455",
    "pixel mean 0.1306, standard deviation 0.3081",
    "one batch: images (32, 1, 28, 28) torch.float32, labels (32,) torch.int64",
    "true\\pred      0     1     2     3     4     5     6     7     8     9",
    "backward by hand: dL/da = 2.5198, dL/db = -1.6799, dL/dc = -0.8399, dL/df = 0.7616",
    "layers.0.weight  entry (108, 575) by hand +0.009760, finite difference +0.009760",
    "learning rate 0.002 at step 0, 0.05 at step 2,578 (15% of the way), 2e-07 at the last step",
    "study mlp-search-1b327ac8 in <artifacts>/tuning.log: 0 finished trials before this run, 12 run now",
    "CNN: 38,458 parameters; the MLP 784-128-64-10: 109,386",
    "the extra layer at 7×7: 451,584 multiply-adds; at 28×28 it would cost 7,225,344, 16 times as many",
    "nn.Conv2d(16, 32, 3): 4,640 parameters by hand, 4,640 by torch",
    "55,000 images in batches of 128: 430 batches per epoch, the last one of 88 images",
    "test pixel mean 0.1325, standard deviation 0.3105",
    "floor of the training loss (entropy of the target): 0.5003; the loss at p = q: 0.5003",
    "TPE draws at random until 5 trials have finished. Trial 0 is the queued baseline, so",
    "centre of mass in the 28×28 image: row 13.4, column 13.3",
    "pixels with no ink in any of the 55,000 training digits: 67 of 784",
    "device: cpu:0",  # the papermill tests' stand-in accelerator: they check that the notebooks ran on it
]


@pytest.mark.parametrize("committed, elsewhere", MACHINE_DEPENDENT)
def test_numbers_from_training_are_sanitized(committed, elsewhere):
    assert sanitize(committed) == sanitize(elsewhere)
    assert "<" in sanitize(committed)


@pytest.mark.parametrize("line", DETERMINISTIC)
def test_deterministic_outputs_are_compared_as_they_are(line):
    assert sanitize(line) == line


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
