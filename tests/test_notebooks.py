"""Papermill runs of every notebook with small parameters, as an instructor runs them.

Each run executes the student edition (the notebooks without their solution cells, as `make student` writes them)
in a fresh kernel, from a temporary folder (never the checkout), writing into a temporary artifacts folder. They
need the real MNIST in the data root (`make data`). Every kernel runs with a stand-in accelerator
(tests/device_check.py): ``device="auto"`` chooses it, and any operation that mixes its tensors with CPU tensors
fails as it would on a GPU, so a notebook that compares predictions on the device with labels on the CPU fails here.
"""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import nbformat
import papermill
import pytest
from device_check import startup_dir
from nbconvert.preprocessors import TagRemovePreprocessor
from notebook_names import course_notebooks  # tools/notebook_names.py

from mnist_lab import course, runtime, train

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = [p.stem for p in course_notebooks(NB_DIR)]
QUICK = {"subset": 2000, "epochs": 1}
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def kernels_with_a_stand_in_accelerator(tmp_path_factory):
    """Every kernel started by these tests installs the stand-in accelerator at start-up."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(startup_dir(tmp_path_factory.mktemp("ipython"))))
        mp.delenv("MPLBACKEND", raising=False)
        yield


@pytest.fixture(scope="module")
def student(tmp_path_factory) -> Path:
    """The student edition, written with nbconvert's TagRemovePreprocessor as `make student` does."""
    folder = tmp_path_factory.mktemp("student")
    remove = TagRemovePreprocessor(remove_cell_tags={"solution"}, enabled=True)
    for name in NOTEBOOKS:
        nb, _ = remove.preprocess(nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4), {})
        nbformat.write(nb, folder / f"{name}.ipynb")
    return folder


def execute(student: Path, name: str, tmp_path: Path, artifacts: Path, **params) -> str:
    """Run notebook ``name`` of the student edition with papermill; return all the text it printed."""
    out = tmp_path / f"{name}.out.ipynb"
    papermill.execute_notebook(
        str(student / f"{name}.ipynb"),
        str(out),
        parameters={"artifacts": str(artifacts), **params},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
        coalesce_streams=True,  # one print can arrive in two pieces; run_course.py joins them the same way
    )
    nb = json.loads(out.read_text())
    text = "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
        for cell in nb["cells"]
        for o in cell.get("outputs", [])
    )
    failed = [line for line in text.splitlines() if re.search(r": False\b", line) and "training after" not in line]
    assert not failed, f"{name}: a check by hand disagrees with PyTorch or the library: {failed}"
    if "device" in papermill.inspect_notebook(str(student / f"{name}.ipynb")):
        assert "device: cpu:0" in text, f"{name} did not run on the stand-in accelerator"
    return text


def figures(artifacts: Path, *names: str) -> None:
    for name in names:
        assert (artifacts / "figures" / f"{name}.png").stat().st_size > 1000, name


@pytest.fixture(scope="module")
def trained(student, tmp_path_factory) -> Path:
    """An artifacts folder in which notebook 05 trained a quick MLP."""
    tmp = tmp_path_factory.mktemp("nb05")
    out = execute(student, "05_better_training", tmp, tmp / "artifacts", **QUICK, progress=False)
    assert "test accuracy of the recipe, measured once:" in out and "target" not in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    return tmp / "artifacts"


@pytest.fixture(scope="module")
def both_models(student, trained, tmp_path_factory) -> Path:
    """A copy of ``trained`` in which notebook 10 also trained a quick CNN."""
    tmp = tmp_path_factory.mktemp("nb10")
    shutil.copytree(trained, tmp / "artifacts")
    out = execute(student, "10_cnn_training", tmp, tmp / "artifacts", **QUICK)
    assert "CNN: 38,458 parameters" in out and "floor of the training loss with ε = 0.1: 0.5003" in out
    assert "so: notebook 05's MLP:" in out and "SE of the difference above our error" in out
    # a run that changes the recipe is told, beside its test score, to choose on validation
    assert "this run: the default recipe with epochs=1, subset=2000. Its test score is for reading" in out
    assert not re.search(r"accuracy: (reached|missed)", out)  # a release's target is a test, not a lesson
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    return tmp / "artifacts"


def test_01_splits_batches_and_reads_the_training_images(student, tmp_path):
    out = execute(student, "01_data", tmp_path, tmp_path / "a", seed=1)  # another batch order than the committed
    assert "training 55,000 | validation 5,000 | test 10,000" in out
    assert "1,719 batches per epoch" in out and "the last batch: 55,000 − 1,718 × 32 = 24" in out
    figures(tmp_path / "a", "sample_batch", "class_counts")
    stats = re.search(r"pixel mean (\S+), standard deviation (\S+)", out)
    assert stats and float(stats[1]) < float(stats[2])  # as its Further research reads them
    assert "81% of the pixels are exactly 0, blank paper" in out
    assert "standardised: mean 0 and standard deviation 1, to 4 decimals: True" in out
    assert out.count("No answer yet") == 2  # the student edition: two checked exercises, none answered


def test_01b_checks_its_loader_against_dataloader_and_blurs_a_pixel_by_hand(student, tmp_path):
    out = execute(student, "01b_loading", tmp_path, tmp_path / "a", subset=2000)
    assert "training images: 55,000; the loaders read the first 2,000" in out
    assert "all 63 batches of both loaders identical: True" in out  # 2,000 images in batches of 32
    assert "ours saved more in one pass than its conversion took: True" in out
    figures(tmp_path / "a", "perturbed_digits")
    assert "1 pixel away: 0.61 × the centre's weight; 2 away: 0.14 ×" in out
    assert "the two blurred values agree: True" in out
    assert "after shift (3, 2) px: 21% of the inked pixels stay inked" in out  # the first eight digits
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered


def test_02_builds_the_mlp_and_reads_its_untrained_logits(student, tmp_path):
    out = execute(student, "02_model", tmp_path, tmp_path / "a")
    assert "parameters: 109,386 (by hand 109,386)" in out
    assert "input (32, 1, 28, 28) -> logits (32, 10)" in out
    assert "layer(x) equals x @ W.T + b: True" in out
    assert "so: the highest mean logit is digit" in out
    assert out.count("No answer yet") == 2  # the student edition: two checked exercises, none answered


def test_02b_turns_the_logits_into_a_loss_near_ln_10(student, tmp_path):
    out = execute(student, "02b_loss", tmp_path, tmp_path / "a", seed=1)  # other weights than the committed run's
    loss = float(re.search(r"untrained[^\n]*?(\d\.\d{4})", out).group(1))
    assert abs(loss - math.log(10)) < 0.1
    for check in ("softmax of z + 10: [0.114, 0.844, 0.042]", "softmax by formula equals torch.softmax: True",
                  "each row sums to 1: True",
                  "cross-entropy by formula equals F.cross_entropy: True",
                  "so: the loss goes up one way and down the other: True; no guess changes: True"):  # fmt: skip
        assert check in out
    assert out.count("same guesses True") == 4  # scaled logits keep every guess
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered


def test_02c_folds_linear_layers_and_shuffles_pixels_from_a_fresh_kernel(student, tmp_path):
    out = execute(student, "02c_hidden_layers", tmp_path, tmp_path / "a", seed=1)  # alone: nothing of 02's run
    assert "so: two layers without a ReLU equal one layer: True" in out
    assert "one layer, nn.Linear(784, 10): 7,850 parameters; our MLP: 109,386" in out
    assert "the pixel's effect after the ReLU: [0.0, 2.0]" in out  # nothing at -3, all of it at 3
    assert "shuffled alike, fc1's sums stay the same: True" in out  # nothing in the MLP says which are neighbours
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered


def test_03_finds_derivatives_by_nudging_and_with_autograd(student, tmp_path):
    out = execute(student, "03_autograd", tmp_path, tmp_path / "a", seed=1)
    for check in ("notebook 02's MLP has 109,386 parameters",
                  "so: in exact fractions the central difference gives 2: the float64 error is rounding",
                  "so: the nudge gives b + 1, the two paths' rates added",
                  "autograd agrees with the chain rule: True", "a.grad before backward: None",
                  "so: autograd's gradient has w's shape and the chain rule's values"):  # fmt: skip
        assert check in out
    assert out.count("No answer yet") == 1  # the student edition: one exercise, not answered, not raising


def test_03b_finds_where_the_backward_pass_starts(student, tmp_path):
    out = execute(student, "03b_backprop", tmp_path, tmp_path / "a", seed=1)
    for check in ("our forward pass gives the model's logits (allclose): True",
                  "so: the nudges agree with exp's and ln's slopes used above: True",
                  "delta3 (32, 10) agrees with autograd's dL/dz3 (allclose): True",
                  "0 to within rounding",
                  "so: the right entry is negative, the nine others positive: True"):  # fmt: skip
        assert check in out  # with other starting weights than the committed run's
    assert out.count("No answer yet") == 1  # the student edition: one exercise, not answered, not raising


def test_03c_computes_the_mlps_gradients_by_hand_from_a_fresh_kernel(student, tmp_path):
    out = execute(student, "03c_layers", tmp_path, tmp_path / "a", seed=1)  # alone: nothing of 03b's run
    for check in ("our forward pass gives the model's logits (allclose): True",
                  "delta.T @ a: -4.0 | by hand, δ_A a_A + δ_B a_B: -4",
                  "dW3 (10, 64), db3 (10,), grad_a2 (32, 64); shaped like W3, b3 and a2: True",
                  "each sum written out equals its code's entry (allclose): True",
                  "nothing has called backward() yet; every .grad is None: True",
                  "a second backward() doubles b3's .grad: True",
                  "(1e8 + 1) - 1e8 = 0.0 | (1e8 - 1e8) + 1 = 1.0",
                  "largest gap |g - ours| in any entry:",
                  "so: in each gradient, every gap is under a millionth of its largest entry: True"):  # fmt: skip
        assert check in out  # with other starting weights than the committed run's
    assert out.count("No answer yet") == 1  # the student edition: one exercise, not answered, not raising


def test_04_steps_by_hand_equal_the_optimizers_and_the_loop_runs(student, tmp_path):
    out = execute(student, "04_training", tmp_path, tmp_path / "a", **QUICK)
    for check in ("one step by hand gives the parameters of optimizer.step(): True",
                  "a second backward() without zero_grad doubles the gradient: True",
                  "after optimizer.zero_grad() the gradient is None: True"):  # fmt: skip
        assert check in out
    assert out.count("No answer yet") == 2  # the student edition: two checked exercises, none answered
    figures(tmp_path / "a", "learning_curves")
    curves = json.loads((tmp_path / "a" / "training_curves.json").read_text())
    assert len(curves["history"]) == 1 and len(curves["end_train"]) == 2  # epochs=1


def test_04b_over_fits_on_1000_images_and_rebuilds_the_model_from_its_checkpoint(student, tmp_path):
    out = execute(student, "04b_overfitting", tmp_path, tmp_path / "a", subset=2000)
    assert "so: the same numbers: the rebuilt model reads them as the last epoch did" in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    figures(tmp_path / "a", "overfitting_curves")
    small = json.loads((tmp_path / "a" / "overfitting_history.json").read_text())
    assert len(small) == 100  # the run on 1,000 images
    # every row of the run on 1,000 images holds the training images' numbers at the end of its epoch (measure)
    assert all(0 <= row["end_train_accuracy"] <= 1 and row["end_train_loss"] > 0 for row in small)
    assert train.read_checkpoint(tmp_path / "a" / "overfitting_run.pt")["epoch"] == 100


def test_05_writes_the_mlp_and_its_recipe(trained):
    model, checkpoint = train.load_checkpoint(trained / "mlp.pt")
    assert checkpoint["epoch"] == 1 and course.differences(checkpoint["recipe"], "mlp") == QUICK
    assert checkpoint["history"][0]["val_accuracy"] > 0.5  # one epoch on 2,000 images: far above chance
    runs = json.loads((trained / "learning_rates.json").read_text())  # what check_executed_notebooks reads
    assert set(runs["losses"]) == {"too small", "notebook 04", "recipe's lr", "too large"}
    assert not (trained / "ablation.json").exists()  # 05b's
    figures(trained, "learning_rate_diagnostics", "training_curves")


def test_05b_runs_the_ablation_on_its_own(student, tmp_path):
    """Notebook 05b alone, from a fresh kernel: the seeds, a row's mean ± std by hand, the ablation and the
    neighbouring rates (ablation.json); one checked exercise."""
    quick = dict(subset=2000, ablation_images=1000, ablation_epochs=1, ablation_seeds=2)
    out = execute(student, "05b_ablation", tmp_path, tmp_path / "a", **quick)
    assert "2,000 training images, 2,000 validation images" in out
    assert out.count("first weights") == 2 and "the same: True" in out  # by hand = metrics.mean_std
    assert "6 rows × 2 seeds × 1 epochs on 1,000 images" in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    ablation = json.loads((tmp_path / "a" / "ablation.json").read_text())  # what check_executed_notebooks reads
    assert (ablation["images"], ablation["epochs"], ablation["seeds"]) == (1000, 1, [0, 1])
    assert len(ablation["rows"]) == 6 and all(len(row["accuracies"]) == 2 for row in ablation["rows"])
    assert [row["change"] for row in ablation["other_rates"]] == ["lr 0.025", "lr 0.1"]
    assert not (tmp_path / "a" / "mlp.pt").exists()  # it trains no model for later notebooks


def test_05s_model_is_what_the_library_trains_from_the_same_recipe(trained, tmp_path):
    """course.train_model, which rebuilds a missing model, is the saved copy of notebook 05's training cell."""
    _, checkpoint = train.load_checkpoint(trained / "mlp.pt")
    again, _ = course.train_model("mlp", course.differences(checkpoint["recipe"], "mlp"), tmp_path)
    for name, tensor in again.state_dict().items():
        assert (tensor - checkpoint["state_dict"][name]).abs().max() < 1e-4, name


def test_06_evaluates_the_model_it_finds_with_its_recipe(student, trained, tmp_path):
    out = execute(student, "06_evaluation", tmp_path, trained)
    assert "the same as metrics.confusion_matrix: True" in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    m = json.loads((trained / "metrics.json").read_text())
    assert m["n_test"] == 2000 and m["recipe"]["epochs"] == 1 and 0.5 <= m["test_accuracy"] <= 0.97
    a = m["test_accuracy"]
    assert abs(m["standard_error"] - math.sqrt(a * (1 - a) / 2000)) < 1e-12
    # the error analysis reads the validation digits (the subset keeps 2,000 of them too), never the test digits
    assert m["n_val"] == 2000 and sum(map(sum, m["val_confusion_matrix"])) == 2000
    assert 0.5 <= m["val_accuracy"] <= 0.97 and "confusion_matrix" not in m
    assert "val_per_class" not in m and "val_most_confident_mistake" not in m  # 06b's
    figures(trained, "confusion_matrix")


def test_06b_reads_the_matrix_digit_by_digit_and_shows_the_mistakes(student, trained, tmp_path):
    """Notebook 06b alone: 05's MLP on its validation digits, one digit's row and column by hand, precision and
    recall checked against the library, the widest gaps against noise, the mistakes; one exercise."""
    out = execute(student, "06b_per_digit", tmp_path, trained, n_misclassified=8)
    assert "the same three counts by hand and from the matrix: True" in out
    assert "the same as metrics.precision_recall: True" in out
    assert "of 2,000 validation digits; shown: 8" in out  # the recipe's subset of 2,000
    assert out.count("noise alone gives a gap as wide in") == 2  # precision, then recall
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    r = json.loads((trained / "per_digit.json").read_text())  # what check_executed_notebooks reads
    assert r["n_val"] == 2000 and sum(map(sum, r["val_confusion_matrix"])) == 2000 and len(r["val_per_class"]) == 10
    assert 0 < r["val_most_confident_mistake"] < 1
    figures(trained, "misclassified")


def test_07_draws_its_figures_and_writes_its_readings(student, trained, tmp_path):
    """Notebook 07: the curves and the first-layer units of 05's MLP, one checked exercise; no damaged digits."""
    out = execute(student, "07_visualization", tmp_path, trained)
    assert "first-layer weights: (128, 784)" in out and "unit 7 is raised most by the digits" in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    figures(trained, "history_curves", "first_layer_weights", "what_raises_units")
    readings = json.loads((trained / "visualization.json").read_text())  # what check_executed_notebooks reads
    assert len(readings["history"]) == 1 and len(readings["alike"]) == 8 and len(readings["alike_trained"]) == 128
    assert "damage" not in readings and "grid_right" not in readings  # 07b's


def test_07b_damages_the_digits(student, trained, tmp_path):
    """Notebook 07b alone: blur and noise on 05's MLP, the drops' SE bounds, the answers to the misread digits; one
    exercise; no grid (07c's)."""
    out = execute(student, "07b_robustness", tmp_path, trained, blur_sigmas=[0.0, 2.0], noise_stds=[0.0, 0.5])
    assert "validation digits: (2000, 1, 28, 28), labels (2000,)" in out  # the recipe's subset of 2,000
    assert "blur  σ 2  : mean change" in out and "noise σ 0.5: mean change" in out
    assert "mean 2, mean of squares 5, variance 1, and 5 − 2² = 1" in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    figures(trained, "damaged_digits", "robustness")
    readings = json.loads((trained / "robustness.json").read_text())  # what check_executed_notebooks reads
    assert len(readings["damage"]) == 4 and readings["n"] == 2000 and 0 <= readings["clean"] <= 1
    assert set(readings["misread_answers"]) == {"clean", "blur σ 2", "noise σ 0.5"}
    assert "grid_right" not in readings  # 07c's


def test_07c_reads_a_grid_alone(student, trained, tmp_path):
    """Notebook 07c from a fresh kernel, without 07b's file: 05's MLP, the grid of 32, the binomial chance; one
    exercise."""
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained, artifacts, ignore=shutil.ignore_patterns("robustness.json"))
    out = execute(student, "07c_prediction_grid", tmp_path, artifacts)
    assert "validation digits: (2000, 1, 28, 28), labels (2000,)" in out  # the recipe's subset of 2,000
    assert "all 2,000 validation digits: accuracy" in out and " of 32 right" in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    assert "Loaded the MLP trained by notebook 05" in out
    assert not (artifacts / "robustness.json").exists()  # 07b's file: not needed, not written
    figures(artifacts, "predictions")
    readings = json.loads((artifacts / "prediction_grid.json").read_text())  # what check_executed_notebooks reads
    assert readings["n"] == 2000 and 0 <= readings["clean"] <= 1
    assert len(readings["grid_confidence"]) == len(readings["grid_right"]) == 32


def test_08_convolves_and_pools_by_hand(student, tmp_path):
    """Notebook 08 alone: convolutions and max-pooling by hand against PyTorch, two checked exercises, no training."""
    out = execute(student, "08_convolutions", tmp_path, tmp_path / "a")
    for check in ("F.conv2d agrees: True", "F.conv2d with 2 input channels agrees: True", "equals F.max_pool2d: True"):
        assert check in out
    assert "nn.Conv2d(16, 32, 3): 4,640 by the formula, 4,640 by torch" in out
    assert out.count("No answer yet") == 2  # the student edition: two exercises, none answered, none raising
    figures(tmp_path / "a", "hand_made_feature_maps")


def test_08b_trains_a_small_cnn_against_the_mlp(student, tmp_path):
    out = execute(student, "08b_first_cnn", tmp_path, tmp_path / "a", train_images=1000, n_seeds=2)
    assert "digit (1, 1, 28, 28) -> maps (1, 8, 28, 28) -> pooled (1, 8, 14, 14)" in out
    assert "SmallCNN: 9,098 parameters, 86% of them in the linear head" in out
    assert "SmallCNN trained on 1,000 images for 1 epoch(s), " in out and "each with the seeds [0, 1]" in out
    accuracy = json.loads((tmp_path / "a" / "first_cnn.json").read_text())  # what check_executed_notebooks reads
    assert set(accuracy) == {"SmallCNN", "MLP"} and all(0 <= a <= 1 for a in accuracy.values())
    seeds = json.loads((tmp_path / "a" / "first_cnn_seeds.json").read_text())
    assert seeds["seeds"] == [0, 1] and len(seeds["SmallCNN"]) == len(seeds["MLP"]) == 2
    assert out.count("No answer yet") == 2  # the student edition: two exercises, none answered, none raising


def test_08c_reads_the_first_kernels_alone_from_a_fresh_kernel(student, tmp_path):
    """Notebook 08c alone, with nothing of 08b's in its artifacts folder: it trains SmallCNN again."""
    out = execute(student, "08c_kernels", tmp_path, tmp_path / "a", train_images=1000, n_seeds=2)
    assert "SmallCNN trained on 1,000 images with the seeds [0, 1]\n" in out
    assert "cosine of u and v: +0.89" in out and "cosine of u and -u: -1.00" in out
    assert "125 ink and 492 paper pixels; 12 of the 125 ink pixels have a 3×3 square all inked" in out
    assert "kernel  closest of ours  cosine untrained    sum   bias  on ink  on paper" in out
    kernels = json.loads((tmp_path / "a" / "first_cnn_kernels.json").read_text())  # what check_executed_notebooks reads
    assert kernels["seeds"] == [0, 1] and len(kernels["closer"]) == 2 and len(kernels["cosines"]) == 8
    assert all(abs(c) <= 1 + 1e-6 for row in kernels["cosines"] + kernels["untrained"] for c in row)
    assert len(kernels["on_ink"]) == 8 and kernels["all_ink"] == 12
    assert out.count("No answer yet") == 1  # the student edition: one exercise, not answered
    figures(tmp_path / "a", "learned_kernels")


def test_09_builds_the_parts_of_the_cnn(student, tmp_path):
    """Notebook 09 alone: batch norm by hand, the augmentation figure, one checked exercise, no training."""
    out = execute(student, "09_cnn", tmp_path, tmp_path / "a")
    assert "by hand, dividing by n, equals nn.BatchNorm2d: True" in out
    assert "dividing by n - 1 instead, it differs: True" in out
    assert "running variance moved to the variance divided by n - 1: True" in out
    assert "and not to the one divided by n: True" in out
    assert "CNN: 38,458 parameters; the MLP 784-128-64-10: 109,386" in out
    assert out.count("No answer yet") == 1  # the student edition: one checked exercise, not answered
    figures(tmp_path / "a", "cnn_augmentation")


def test_10_trains_the_cnn_and_compares_it_with_the_mlp(both_models):
    m = json.loads((both_models / "cnn_metrics.json").read_text())
    assert m["params"] == {"MLP": 109_386, "CNN": 38_458}
    assert m["recipe"]["epochs"] == 1 and len(m["history"]) == 1 and "ablation" not in m  # 10b's
    gap = m["test_accuracy"] - m["mlp_test_accuracy"]  # the MLP's error minus ours
    assert math.isfinite(m["mlp_se_above_ours"]) and (m["mlp_se_above_ours"] > 0) == (gap > 0)
    assert 0 < m["test_accuracy"] <= 1
    assert train.load_checkpoint(both_models / "cnn.pt")[1]["epoch"] == 1
    figures(both_models, "cnn_curves")


def test_10b_takes_each_part_away_on_validation(student, tmp_path):
    """Notebook 10b alone, from a fresh kernel: the remove-one ablation on a small sample; no model is loaded or
    saved, and the test digits are never scored."""
    out = execute(student, "10b_ablation", tmp_path, tmp_path / "a", subset=2000, ablation_images=500,
                  ablation_seeds=2)  # fmt: skip
    assert "blocks: 4 -> 3; logits for two digits: (2, 10)" in out
    assert "10 runs of 1 epoch(s) on 500 training images, seeds [0, 1]" in out
    assert "so: clear gains on shifted digits at this budget:" in out
    assert out.count("No answer yet") == 1 and "Loaded" not in out and "test accuracy" not in out
    m = json.loads((tmp_path / "a" / "cnn_ablation.json").read_text())
    assert [row["change"] for row in m["rows"]] == [
        "the recipe",
        "without augmentation",
        "without label smoothing",
        "without the extra 7×7 layer",
        "without batch norm",
    ]
    assert m["seeds"] == [0, 1] and all(len(row["clean"]) == len(row["shifted"]) == 2 for row in m["rows"])
    assert "rate_check" not in m and not (tmp_path / "a" / "cnn.pt").exists()


def test_10d_reads_the_row_without_batch_norm_seed_by_seed(student, tmp_path):
    """Notebook 10d alone, from a fresh kernel: notebook 10b's two rows (the recipe, without batch norm) trained
    again on a small sample and read seed by seed; no model is loaded or saved, the test digits never scored."""
    out = execute(student, "10d_failed_seed", tmp_path, tmp_path / "a", subset=2000, ablation_images=500,
                  ablation_seeds=2)  # fmt: skip
    ahead = int(re.search(r"so: on clean digits the recipe is ahead on (\d) of 2 seeds", out)[1])
    # the sign test's tail: the chance of `ahead` or more wins of 2 coin tosses
    chance = sum(math.comb(2, k) for k in range(ahead, 3)) / 4
    assert f"{ahead} or more of 2 ahead by chance {chance:.3f} of the time, 1 in {1 / chance:.0f}" in out
    assert "so: all three seeds: gain" in out
    assert out.count("No answer yet") == 1 and "Loaded" not in out and "test accuracy" not in out
    m = json.loads((tmp_path / "a" / "failed_seed.json").read_text())
    assert m["seeds"] == [0, 1] and list(m["runs"]) == ["the recipe", "without batch norm"]
    assert all(len(runs) == 2 and set(runs[0]) == {"clean", "shifted"} for runs in m["runs"].values())
    assert not (tmp_path / "a" / "cnn.pt").exists()


def test_10e_counts_the_grid_in_digits_and_swaps_in_notebook_10s_run(student, tmp_path):
    """Notebook 10e alone, from a fresh kernel: it trains nothing; it reads the CNN's runs in the library in
    validation digits, and the rule's reading with notebook 10's seed-0 run in place of the stored one."""
    out = execute(student, "10e_digits", tmp_path, tmp_path / "a")
    assert "one validation digit: 0.02 points of one run's accuracy" in out
    assert "seed 0, digits read right: notebook 10's run 4,974, the stored run 4,977" in out
    assert "so: the rule takes notebook 10's value for 6 of 8 settings with the stored run, 4 with notebook 10's" in out
    assert out.count("No answer yet") == 1 and "Loaded" not in out and "test accuracy" not in out


def test_10c_reads_the_full_length_runs_the_library_keeps(student, tmp_path):
    """Notebook 10c alone, from a fresh kernel: it trains nothing and reads the CNN's runs in the library, one line
    per value tried and validation's choice for each training value; the test digits are never read."""
    out = execute(student, "10c_recipe_check", tmp_path, tmp_path / "a")
    grid = runtime.read_json(course.VALIDATION_GRID)["cnn"]["grid"]
    assert f"{len(grid)} settings;" in out and out.count("the rule takes") == len(grid) + 1
    assert "epochs (notebook 10's: 8)" in out and "so: highest mean: 8, 16; the rule takes 8 (an exact tie)" in out
    assert "so: the tie rule keeps notebook 10's value unless another beats it beyond the seed spread" in out
    assert out.count("No answer yet") == 1 and "Loaded" not in out and "test accuracy" not in out


def test_11_runs_the_range_test_and_one_trial(student, tmp_path):
    """Notebook 11 alone, on the stand-in accelerator: the range test and its figure and the baseline's one trial,
    whose records it saves; no study is kept on disk."""
    out = execute(student, "11_tuning", tmp_path, tmp_path / "a", subset=2000, trial_images=500)
    parts = json.loads((tmp_path / "a" / "search_parts.json").read_text())
    test = parts["range_test"]
    assert 11 <= len(test["lrs"]) == len(test["losses"]) <= 100 and test["lrs"] == sorted(test["lrs"])
    assert parts["settings"] == {"seed": 0, "val_size": 5000, "trial_epochs": 2, "trial_images": 500}
    assert parts["baseline_trial"]["state"] == "complete" and len(parts["baseline_trial"]["accuracies"]) == 2
    assert "trial 0: {'lr': 0.05, 'momentum': 0.9, 'batch_size': 32, 'hidden': '128-64'}" in out
    assert out.count("No answer yet") == 1 and not (tmp_path / "a" / "tuning.log").exists()
    figures(tmp_path / "a", "lr_range_test")


def test_11a_runs_four_trials_under_the_pruner(student, tmp_path):
    """Notebook 11a alone, on the stand-in accelerator: four trials set by hand under the pruner, whose records it
    saves; no study is kept on disk."""
    out = execute(student, "11a_pruning", tmp_path, tmp_path / "a", subset=2000, trial_images=500)
    four = json.loads((tmp_path / "a" / "pruner_trials.json").read_text())["four_trials"]
    assert [t["batch_size"] for t in four] == [32, 32, 32, 256] and four[0]["lr"] == 0.05  # trial 0: the baseline
    assert four[3]["state"] == "complete"  # no complete trial of batch 256 before it: never pruned
    assert all(1 <= len(t["accuracies"]) <= 2 and all(0 <= a <= 1 for a in t["accuracies"]) for t in four)
    assert out.count("No answer yet") == 1 and not (tmp_path / "a" / "tuning.log").exists()


def test_11b_runs_the_search_and_keeps_its_trials(student, tmp_path):
    """Notebook 11b on the stand-in accelerator: the search fills its study, trial 0 notebook 05's recipe, and its
    trials table is saved."""
    out = execute(student, "11b_search", tmp_path, tmp_path / "a", subset=2000, n_trials=4, trial_epochs=2,
                  trial_images=500)  # fmt: skip
    result = json.loads((tmp_path / "a" / "tuning.json").read_text())
    baseline = {"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": "128-64"}
    assert result["n_trials"] == 4 and {k: result["trials"][0][k] for k in baseline} == baseline
    assert result["settings"]["seed"] == 0 and (tmp_path / "a" / "tuning.log").exists()
    assert "trials run now: 4; kept from an earlier run: 0" in out and out.count("No answer yet") == 1


def test_11c_judges_the_challenger_on_new_seeds_tests_once_and_reopens_11b_s_study(student, trained, tmp_path):
    """Notebook 11c alone runs the search itself (no study yet), trains the baseline and the challenger with seeds
    the search did not use, and keeps the recipe its verdict names; 11b run after it with the same settings finds
    that study and runs no trial."""
    shutil.copytree(trained, tmp_path / "a")  # what notebook 05 wrote, as in a run of the whole course
    small = {"subset": 2000, "n_trials": 4, "trial_epochs": 2, "trial_images": 500}
    out = execute(student, "11c_winner", tmp_path, tmp_path / "a", **small, ablation_seeds=2, epochs=1)
    assert "trials run now: 4; kept from notebook 11b's run: 0" in out  # no study: it ran the search
    again = execute(student, "11b_search", tmp_path, tmp_path / "a", **small)
    assert "trials run now: 0; kept from an earlier run: 4" in again  # the same settings, the same study
    trials = json.loads((tmp_path / "a" / "tuning.json").read_text())["trials"]
    result = json.loads((tmp_path / "a" / "tuning_winner.json").read_text())
    assert result["seeds"] == [1, 2]  # not the search's own runs (seed 0)
    assert result["challenger"] != 0 and set(result["seed_spread"]) == {"baseline", "challenger"}
    challenger = next(t for t in trials if t["number"] == result["challenger"])
    kept = {k: challenger[k] for k in ("lr", "momentum", "batch_size", "hidden")}
    if result["verdict"] != "clear gain":
        kept = {"lr": 0.05, "momentum": 0.9, "batch_size": 32, "hidden": "128-64"}
    assert result["chosen"] == kept and 0 <= result["test_accuracy"] <= 1
    assert "test accuracy:" in out and out.count("No answer yet") == 1
    assert "notebook 05's" in out


def test_12_fits_a_drawing_in_a_box_like_an_mnist_digit(student, tmp_path):
    """Notebook 12 alone: steps 1 and 2 by hand; no model, one checked exercise."""
    out = execute(student, "12_draw", tmp_path, tmp_path / "a")
    assert "box: 20×15 pixels (height×width)" in out and "Loaded" not in out  # no model: nothing loaded, none trained
    assert "block means: [[2.5, 4.5], [10.5, 12.5]]" in out
    assert "fit_in_box equal to draw.fit_in_box on all ten drawings: True" in out
    assert out.count("No answer yet") == 1  # exercise 1, the one exercise, not answered
    figures(tmp_path / "a", "draw_box")


def test_12a_centres_the_box_by_its_mass(student, tmp_path):
    """Notebook 12a alone: step 3 by hand after the library's steps 1 and 2, equal to the library's copy of all
    three; no model, one checked exercise."""
    out = execute(student, "12a_centring", tmp_path, tmp_path / "a")
    assert "equal to draw.rasterize_strokes on all ten drawings: True" in out
    assert "centre of mass in the 28×28 image: row 14.4, column 14.3" in out and "Loaded" not in out
    assert out.count("No answer yet") == 1
    figures(tmp_path / "a", "draw_preprocessing")


def test_12b_reads_the_drawings_with_both_models(student, both_models, tmp_path):
    artifacts = tmp_path / "artifacts"
    shutil.copytree(both_models, artifacts)
    out = execute(student, "12b_read_drawings", tmp_path, artifacts)
    assert "Loaded the CNN trained by notebook 10 (<artifacts>/cnn.pt): the default recipe with" in out
    assert out.count("No answer yet") == 1  # exercise 1, the one exercise, not answered
    assert "a target of 0.91 for the true digit" in out  # the CNN's label smoothing, 0.1, whatever its training
    readings = json.loads((artifacts / "draw_readings.json").read_text())
    assert set(readings["right"]) == {"pad shrunk", "our steps"} and set(readings["pens"]) == {"1.6", "1.8", "3.0"}
    assert all(len(values) == 10 and all(0 < p <= 1 for p in values) for values in readings["top"].values())
    figures(artifacts, "draw_readings", "draw_probabilities")


def test_12c_measures_the_drawings_alone(student, both_models, tmp_path):
    """12c from a fresh kernel, without 12b's file: it rebuilds the drawings, loads both models and measures."""
    artifacts = tmp_path / "artifacts"
    shutil.copytree(both_models, artifacts)
    out = execute(student, "12c_unlike_mnist", tmp_path, artifacts)
    assert "Loaded the MLP trained by notebook 05" in out and "Loaded the CNN trained by notebook 10" in out
    assert "our steps            MLP:" in out and "the 3, our steps:" in out
    assert out.count("No answer yet") == 1  # exercise 1, the one exercise, not answered
    assert not (artifacts / "draw_readings.json").exists()  # 12b's file: not needed, not written
    unlike = json.loads((artifacts / "draw_unlike_mnist.json").read_text())
    assert unlike["sides"] == [14, 16, 15, 17, 13, 18, 17, 14, 19, 13]  # the drawings, not the models: fixed
    assert len(unlike["offsets"]) == 10 and 0 < unlike["mnist_offset"] < 1


def test_a_notebook_never_overwrites_a_model_it_did_not_train(student, trained, tmp_path):
    """Issue 26, defect 2, as an instructor meets it: notebook 05 trained a 1-epoch MLP on 2,000 images; notebook 06,
    run with no parameters, evaluates that model (its recipe from the checkpoint) and leaves the file as it was."""
    artifacts = tmp_path / "artifacts"
    shutil.copytree(trained, artifacts)
    before = (artifacts / "mlp.pt").read_bytes()
    out = execute(student, "06_evaluation", tmp_path, artifacts)
    assert "the default recipe with epochs=1, subset=2000" in out and "Training" not in out
    assert (artifacts / "mlp.pt").read_bytes() == before


def test_a_bad_parameter_fails_the_run_with_the_clear_error(student, tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as err:
        execute(student, "05_better_training", tmp_path, tmp_path / "a", epochs=-1)
    assert err.value.ename == "ValueError" and err.value.exec_count <= 4  # before any work
    assert "Parameter epochs=-1 is not allowed: it must be an integer, >= 1" in err.value.evalue
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    with pytest.raises(papermill.PapermillExecutionError, match=r"Parameter data_root=.*is a file"):
        execute(student, "01_data", tmp_path, tmp_path / "a", data_root=str(afile))


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_every_notebook_declares_typed_parameters_that_agree_with_the_recipes(name):
    info = papermill.inspect_notebook(str(NB_DIR / f"{name}.ipynb"))
    assert {"seed", "data_root", "artifacts"} <= set(info)
    untyped = [k for k, v in info.items() if v["inferred_type_name"] in ("None", "Unknown type")]
    assert not untyped, f"{name}: give {untyped} a type in the parameters cell"
    for kind, recipe in course.RECIPES.items():
        if set(recipe) <= set(info):  # the notebook that trains this model declares its whole recipe
            defaults = {k: eval(info[k]["default"]) for k in recipe}  # noqa: S307 - literals of our own notebooks
            assert defaults == recipe, f"{name}: its defaults differ from course.RECIPES[{kind!r}]"
    cells = nbformat.read(NB_DIR / f"{name}.ipynb", as_version=4).cells
    assert "setup" in cells[1].metadata.get("tags", []) and "parameters" in cells[2].metadata.get("tags", [])
    assert "P = course.start(globals())" in cells[3].source
