"""The numbers of a full default run of the notebooks, checked with tolerances.

`make nbval` executes every committed notebook with its default parameters and compares the
outputs that are the same on every machine. The numbers that come out of training change in
their last digits with the CPU's vector unit, the BLAS code path, the thread count and the
device, so nbval's sanitize file hides them; this module checks them instead, in the artifacts
folder that run wrote (``MNIST_LAB_EXECUTED``), against ranges that hold on any machine (the
spread over seeds and float paths is measured by `make bench`) and fail on a real regression.

Not collected by `pytest tests` (its name does not start with ``test_``): `make nbval` runs it
by path, after the notebooks.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

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


def test_default_mlp_recipe(executed):
    metrics = read(executed, "metrics.json")
    assert metrics["n_test"] == 10_000
    assert 0.978 <= metrics["test_accuracy"] <= 0.99  # measured 98.4-98.5% over seeds and float paths
    history = read(executed, "history.json")["history"]
    assert [h["epoch"] for h in history] == list(range(1, 11))
    assert history[-1]["train_loss"] < history[0]["train_loss"] / 10
    assert 0.975 <= history[-1]["val_accuracy"] <= 0.99
    assert sum(sum(row) for row in metrics["confusion_matrix"]) == 10_000


def test_plain_sgd_recipe(executed):
    plain = read(executed, "plain_history.json")
    history = plain["history"]
    assert len(history) == 10 and plain["params"]["lr"] == 0.01
    assert 0.9 <= history[0]["train_loss"] <= 1.7  # from ln 10 = 2.30 at step 0 down to ~1.25 over epoch 1
    assert 0.93 <= history[-1]["val_accuracy"] <= 0.965  # measured 94.86% (on a DataLoader)
    assert "test_accuracy" not in plain  # 03 tests only the recipe it chose on validation
    assert history[-1]["val_accuracy"] < read(executed, "history.json")["history"][-1]["val_accuracy"] - 0.02


def test_ablation_one_change_at_a_time(executed):
    ablation = read(executed, "ablation.json")
    assert (ablation["images"], ablation["epochs"], ablation["seeds"]) == (10_000, 3, [0, 1, 2])
    rows = {row["change"].split(":")[0]: row for row in ablation["rows"]}
    assert list(rows) == [
        "plain SGD, lr 0.01",
        "learning rate 0.05",
        "+ momentum 0.9",
        "+ onecycle schedule",
        "+ weight decay 0.0005",
        "no hidden layers",
    ]
    mean = {name: row["mean"] for name, row in rows.items()}
    for row in rows.values():
        assert len(row["accuracies"]) == 3 and abs(row["mean"] - sum(row["accuracies"]) / 3) < 1e-6
    # Measured (mean of 3 seeds, 3 epochs on 10,000 images): 80.1%, 90.2%, 93.5%, 94.8%, 94.9%, 90.4%. The
    # larger rate, momentum, the schedule and the hidden layers each gain more than their seeds' spread.
    assert 0.70 <= mean["plain SGD, lr 0.01"] <= 0.87
    assert mean["learning rate 0.05"] > mean["plain SGD, lr 0.01"] + 0.05
    assert mean["+ momentum 0.9"] > mean["learning rate 0.05"] + 0.01
    assert mean["+ onecycle schedule"] > mean["+ momentum 0.9"] + 0.005
    assert abs(mean["+ weight decay 0.0005"] - mean["+ onecycle schedule"]) < 0.01  # within noise at this budget
    assert 0.93 <= mean["+ weight decay 0.0005"] <= 0.96
    assert 0.88 <= mean["no hidden layers"] <= 0.92
    assert mean["no hidden layers"] < mean["+ weight decay 0.0005"] - 0.02


def test_cnn_and_the_comparison(executed):
    cnn = read(executed, "cnn_metrics.json")
    assert 0.994 <= cnn["test_accuracy"] <= 0.998  # target 99.5%, goal 99.6% over seeds; spread in the README
    rows = {r["model"].split()[0]: r for r in cnn["comparison"]}
    assert rows["MLP"]["params"] == MLP_PARAMETERS and rows["CNN"]["params"] == CNN_PARAMETERS
    # The lesson of the table in notebook 06: a 3-pixel shift breaks the MLP, not the CNN.
    assert rows["MLP"]["shifted"] < 0.4 and rows["CNN"]["shifted"] > 0.9
    # Blur and noise: 06 prints which model copes better in this run (it changes with the seed), and damage
    # costs both models accuracy.
    for model in rows.values():
        assert model["blurred"] < model["clean"] and model["noisy"] < model["clean"]
    assert cnn["mistakes"]["both"] <= min(cnn["mistakes"]["cnn"], cnn["mistakes"]["mlp"])


def test_cnn_with_and_without_augmentation(executed):
    aug = read(executed, "cnn_metrics.json")["augmentation"]
    assert (aug["images"], aug["epochs"], aug["seeds"]) == (10_000, 1, [0, 1])
    mean = {name: {k: sum(v) / len(v) for k, v in row.items()} for name, row in aug["validation"].items()}
    with_aug, without = mean["with augmentation"], mean["without augmentation"]
    # Measured (validation, 1 epoch, 2 seeds): clean 96.94% with, 97.37% without; shifted by 3 px 82.1% with, 61.6%
    # without; the MLP of 03 reads 23.4% of the shifted digits.
    assert abs(with_aug["clean"] - without["clean"]) < 0.01 and 0.96 <= without["clean"] <= 0.99
    assert with_aug["shifted"] > without["shifted"] + 0.10
    assert aug["mlp_shifted"] < 0.4 < without["shifted"]


def test_tuning(executed):
    tuning = read(executed, "tuning.json")
    assert tuning["n_trials"] == 12
    trials = tuning["trials"]
    assert trials[0]["state"] == "complete" and trials[0]["lr"] == 0.05  # notebook 03's recipe is the baseline
    # trials train 2 epochs on 10,000 images: the best reaches ~94-95% on validation (measured 94.5%)
    assert (
        trials[0]["val_accuracy"] <= tuning["best_val_accuracy_in_search"]
        and 0.90 <= tuning["best_val_accuracy_in_search"] <= 0.98
    )
    assert all(t["hidden"] != "512-256" and 1e-3 <= t["lr"] <= 1.0 for t in trials)
    assert 0.97 <= tuning["test_accuracy"] <= 0.99  # retrained on all 55,000 images for 10 epochs


def test_drawing(executed):
    """08: what its prose says about its counts holds for any trained pair of models."""
    right = read(executed, "draw_readings.json")["right"]
    # with MNIST's preprocessing both models read the built-in drawings (measured: 10 of 10 each)
    assert right["MNIST preprocessing"]["MLP"] >= 9 and right["MNIST preprocessing"]["CNN"] >= 9
    # shrunk as drawn, the MLP misreads most of them and the CNN fewer (measured: 1 and 8 of 10)
    assert right["pad shrunk"]["MLP"] <= 4 and right["pad shrunk"]["MLP"] < right["pad shrunk"]["CNN"]
