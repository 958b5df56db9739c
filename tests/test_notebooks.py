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

from mnist_lab import course, train

NB_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(p.stem for p in NB_DIR.glob("[0-9][0-9]_*.ipynb"))
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
    quick = dict(QUICK, ablation_images=1000, ablation_epochs=1, ablation_seeds=2, progress=False)
    out = execute(student, "05_better_training", tmp, tmp / "artifacts", **quick)
    assert "no target for these parameters" in out
    return tmp / "artifacts"


@pytest.fixture(scope="module")
def both_models(student, trained, tmp_path_factory) -> Path:
    """A copy of ``trained`` in which notebook 09 also trained a quick CNN."""
    tmp = tmp_path_factory.mktemp("nb09")
    shutil.copytree(trained, tmp / "artifacts")
    out = execute(student, "09_cnn", tmp, tmp / "artifacts", **QUICK, ablation_images=500, ablation_seeds=2)
    assert "Loaded the MLP trained by notebook 05 (<artifacts>/mlp.pt): the default recipe with" in out
    assert "no target for these parameters" in out
    return tmp / "artifacts"


def test_01_checks_its_loader_against_dataloader(student, tmp_path):
    out = execute(student, "01_data", tmp_path, tmp_path / "a", subset=2000)
    assert "the same split as data.split_indices: True" in out and "training images" in out
    assert "two epochs of ours and of data.TensorLoader, batch by batch, identical: True" in out
    figures(tmp_path / "a", "sample_batch", "class_counts", "perturbed_digits")


def test_02_builds_the_mlp_and_its_untrained_loss_is_near_ln_10(student, tmp_path):
    out = execute(student, "02_model", tmp_path, tmp_path / "a")
    assert "109,386" in out and "with the same weights, models.MLP gives exactly our outputs: True" in out
    loss = float(re.search(r"untrained[^\n]*?(\d\.\d{4})", out).group(1))
    assert abs(loss - math.log(10)) < 0.1
    figures(tmp_path / "a", "shuffled_pixels")


def test_03_computes_the_mlps_gradients_by_hand(student, tmp_path):
    out = execute(student, "03_autograd", tmp_path, tmp_path / "a")
    assert "every gradient by hand equals autograd's: True" in out
    assert "all agree to 6 significant digits: True" in out and "the loss on this batch went down: True" in out
    figures(tmp_path / "a", "finite_difference_error", "loss_along_gradient")


def test_04_loop_by_hand_equals_fit(student, tmp_path):
    out = execute(student, "04_training", tmp_path, tmp_path / "a", **QUICK, overfit_steps=30)
    assert "the same four numbers, to the last digit: True" in out
    assert "the loaded model gives identical outputs on the validation images: True" in out
    figures(tmp_path / "a", "learning_curves")


def test_05_writes_the_mlp_its_recipe_and_the_ablation(trained):
    model, checkpoint = train.load_checkpoint(trained / "mlp.pt")
    assert checkpoint["epoch"] == 1 and course.differences(checkpoint["recipe"], "mlp") == QUICK
    assert checkpoint["history"][0]["val_accuracy"] > 0.5  # one epoch on 2,000 images: far above chance
    ablation = json.loads((trained / "ablation.json").read_text())
    assert (ablation["images"], ablation["epochs"], ablation["seeds"]) == (1000, 1, [0, 1])
    assert len(ablation["rows"]) == 6 and all(len(row["accuracies"]) == 2 for row in ablation["rows"])
    figures(trained, "training_curves", "learning_rate_schedule")


def test_05s_model_is_what_the_library_trains_from_the_same_recipe(trained, tmp_path):
    """course.train_model, which rebuilds a missing model, is the saved copy of notebook 05's training cell."""
    _, checkpoint = train.load_checkpoint(trained / "mlp.pt")
    again, _ = course.train_model("mlp", course.differences(checkpoint["recipe"], "mlp"), tmp_path)
    for name, tensor in again.state_dict().items():
        assert (tensor - checkpoint["state_dict"][name]).abs().max() < 1e-4, name


def test_06_evaluates_the_model_it_finds_with_its_recipe(student, trained, tmp_path):
    out = execute(student, "06_evaluation", tmp_path, trained)
    assert "the same as metrics.confusion_matrix: True" in out
    m = json.loads((trained / "metrics.json").read_text())
    assert m["n_test"] == 2000 and m["recipe"]["epochs"] == 1 and 0.5 <= m["test_accuracy"] <= 0.97
    assert sum(map(sum, m["confusion_matrix"])) == 2000
    figures(trained, "confusion_matrix", "misclassified")


def test_07_draws_its_figures(student, trained, tmp_path):
    execute(student, "07_visualization", tmp_path, trained, blur_sigmas=[0.0, 2.0], noise_stds=[0.0, 0.5], n_pca=500)
    figures(trained, "history_curves", "first_layer_weights", "robustness", "hidden_pca", "predictions")


def test_08_convolves_by_hand_and_trains_a_small_cnn(student, tmp_path):
    out = execute(student, "08_convolutions", tmp_path, tmp_path / "a", train_images=1000)
    assert "max-pool by hand equals F.max_pool2d: True" in out
    figures(tmp_path / "a", "hand_made_feature_maps", "first_cnn_kernels", "first_cnn_feature_maps")


def test_09_trains_the_cnn_and_compares_it_with_the_mlp(both_models):
    m = json.loads((both_models / "cnn_metrics.json").read_text())
    assert [r["params"] for r in m["comparison"]] == [109_386, 38_458]
    assert m["recipe"]["epochs"] == 1 and len(m["ablation"]["rows"]) == 5
    assert train.load_checkpoint(both_models / "cnn.pt")[1]["epoch"] == 1
    figures(both_models, "cnn_augmentation", "cnn_curves", "cnn_misclassified", "both_wrong")


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
