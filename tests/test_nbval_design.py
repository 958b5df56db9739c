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

from mnist_lab import runtime

NOTEBOOKS = runtime.repo_root() / "notebooks"
SANITIZE = NOTEBOOKS / "sanitize.cfg"


def sanitize(text: str) -> str:
    """Apply the sanitize file as nbval does (each pattern in order)."""
    import re

    for regex, replace in get_sanitize_patterns(SANITIZE.read_text()):
        text = re.sub(regex, replace, text)
    return text


# The same line as printed on two machines (the committed outputs and another CPU or float path).
MACHINE_DEPENDENT = [
    ("device: cpu", "device: cuda"),  # a machine with a GPU (an H100 printed it)
    ("device: cpu", "device: mps"),
    (
        "epoch 5: train loss 0.2572, validation accuracy 92.96%",
        "epoch 5: train loss 0.2571, validation accuracy 92.96%",
    ),
    (
        "epoch 1/10  train loss 0.5381  train acc 0.8303  val loss 0.2105  val acc 0.9366",
        "epoch 1/10  train loss 0.5379  train acc 0.8304  val loss 0.2113  val acc 0.9362",
    ),
    ("epoch 1 step  1500/1719  loss 0.2431", "epoch 1 step  1500/1719  loss 0.2433"),
    ("test accuracy: 98.48% (9848 of 10,000 right)", "test accuracy: 98.44% (9844 of 10,000 right)"),
    (
        "blurred, σ = 1.5 px  the CNN does worse than the MLP: 90.15% against 94.96%",
        "blurred, σ = 1.5 px  the CNN does better than the MLP: 95.20% against 94.90%",
    ),
    (
        "        4      1     0     1     1   963     0     4     2     0    10",
        "        4      1     0     2     1   962     0     3     2     0    11",
    ),
    ("    9      0.977    0.977   0.977     1009", "    9      0.980    0.975   0.978     1009"),
    ("  4 -> 9: 10", "  7 -> 2: 9"),
    (
        "accuracy :  98.5%   98.4%   98.1%   95.3%   73.0%    9.4%",
        "accuracy :  98.4%   98.4%   98.0%   95.1%   72.4%   10.1%",
    ),
    (
        "MLP 784-128-64-10 (ours)            109,386     11 s    98.48%   95.26%  92.92%   23.41%",
        "MLP 784-128-64-10 (ours)            109,386    108 s    98.44%   95.31%  92.90%   23.50%",
    ),
    ("CNN mistakes: 44, MLP mistakes: 152, both wrong: 27", "CNN mistakes: 52, MLP mistakes: 156, both wrong: 30"),
    (
        "target of the default recipe, 99.5% test accuracy: reached",
        "target of the default recipe, 99.5% test accuracy: missed",
    ),
    ("best validation accuracy 97.96% at epoch 9 of 10", "best validation accuracy 97.94% at epoch 10 of 10"),
    (
        "swept 92 of 100 steps, from 1e-05 up to 1.08 (stopped early: the loss exploded)",
        "swept 93 of 100 steps, from 1e-05 up to 1.17 (stopped early: the loss exploded)",
    ),
    (
        "lowest smoothed loss at lr 0.267; a tenth of it, a safe starting rate: 0.0267",
        "lowest smoothed loss at lr 0.281; a tenth of it, a safe starting rate: 0.0281",
    ),
    (
        "pruned 1 of 12 trials, each against the complete trials with its batch size",
        "pruned 3 of 12 trials, each against the complete trials with its batch size",
    ),
    (
        "its learning rate, 0.511, is 51% of the search's maximum 1",
        "its learning rate, 0.0901, is 9% of the search's maximum 1",
    ),
    (
        "best trial 11: validation 97.58%, +0.54 points against trial 0 with the same budget",
        "best trial 0: validation 97.04%, +0.00 points against trial 0 with the same budget",
    ),
    (
        "plain SGD, lr 1, 1 epoch on 4,000 images: validation accuracy 38.16%",
        "plain SGD, lr 1, 1 epoch on 4,000 images: the loss became NaN",
    ),
    ("lr 50, momentum 0.9: validation accuracy 11.62%", "lr 50, momentum 0.9: the loss became NaN"),
    ("lowest recall: digit 8, 0.978 (21 of 974 missed)", "lowest recall: digit 9, 0.975 (25 of 1009 missed)"),
    (
        "22 of 152 mistakes were made with over 90% confidence",
        "25 of 156 mistakes were made with over 90% confidence",
    ),
    (
        "accuracy when over 90% confident: 99.77% (9,541 digits); below: 71.68%",
        "accuracy when over 90% confident: 99.75% (9,538 digits); below: 71.02%",
    ),
    (
        "validation 98.08% (5,000 digits), test 98.48%: a gap of 2.3 standard errors of a 5,000-digit estimate",
        "validation 98.12% (5,000 digits), test 98.41%: a gap of 1.6 standard errors of a 5,000-digit estimate",
    ),
    ("43 mistakes among these 2,000 digits", "45 mistakes among these 2,000 digits"),
    ("test digit  445: label 6, CNN 0, MLP 0", "test digit 1014: label 6, CNN 5, MLP 5"),
    ("small in a corner  MLP shrunk        misread: 0→5, 1→2", "small in a corner  MLP shrunk        misread: none"),
    (
        "after 14 trials the best is trial 11 (the same as before): validation 94.36%",
        "after 14 trials the best is trial 13 (a new one): validation 94.52%",
    ),
    (
        "notebook 03's recipe (evaluated by 04): test 98.48%; the tuned MLP does as well as it",
        "notebook 03's recipe (evaluated by 04): test 98.41%; the tuned MLP does worse than it",
    ),
    (
        "    4 pruned     0.0078     0.415     32  512-256   87.68%      1",
        "    4 complete   0.0078     0.415     32  512-256   88.02%      2",
    ),
    (
        "best trial 2: validation accuracy 96.94% with {'lr': 0.26}",
        "best trial 10: validation accuracy 97.10% with {'lr': 0.27}",
    ),
]

# Lines that are the same everywhere: they must survive the sanitize file unchanged.
DETERMINISTIC = [
    "parameters: 109,386",
    "layers.0  Linear  (32, 128)          100,480",
    "training images: 60,000   test images: 10,000",
    "count :  5460  6161  5457  5594  5335  4953  5447  5750  5388  5455",
    "pixel mean 0.1306, standard deviation 0.3081",
    "1719 batches per epoch; one batch: images (32, 1, 28, 28), labels (32,)",
    "labels of this batch: [7, 5, 7, 7, 3, 1, 0, 0, 7, 9]",
    "loss of the untrained model on this batch: 2.30; ln 10 = 2.30",
    "true\\pred      0     1     2     3     4     5     6     7     8     9",
    "study 'mlp-search': 0 finished trials before this run, 12 now",
    "CNN parameters: 38,458 (the MLP has 109,386)",
    "55,000 images in batches of 128: 430 batches per epoch, the last one of 88 images",
    "test pixel mean 0.1325, standard deviation 0.3105",
    "the study already holds 12 finished trials; a second run executes 0",
    "784-300-100-10: 266,610 parameters",
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
