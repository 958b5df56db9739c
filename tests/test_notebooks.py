"""Papermill runs of every notebook with small parameters, and the runner behind `make run`.

Each run executes in a fresh kernel, from a temporary working directory (never the repo),
writing into a temporary artifacts folder. They need the real MNIST in the data root
(`make data`), like the integration tests.

Every kernel runs with a stand-in accelerator (tests/device_check.py): ``device="auto"``
chooses it, and any operation that mixes its tensors with CPU tensors fails as it would on
a GPU, so a notebook that compares predictions on the device with labels on the CPU fails here.
"""

from __future__ import annotations

import ast
import json
import math
import re
from pathlib import Path

import papermill
import pytest
from device_check import startup_dir

from mnist_lab import course, runtime, train

NB_DIR = runtime.repo_root() / "notebooks"
STUDENT_DIR = NB_DIR  # replaced by the student edition's folder (fixture below)
QUICK = {"subset": 2000, "epochs": 1}
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def kernels_with_a_stand_in_accelerator(tmp_path_factory):
    """Every kernel started by these tests installs the shadow accelerator at start-up."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("IPYTHONDIR", str(startup_dir(tmp_path_factory.mktemp("ipython"))))
        yield


@pytest.fixture(scope="module", autouse=True)
def student_edition(tmp_path_factory):
    """The notebooks as `make student` writes them: the papermill runs below use these, so every student
    notebook is shown to run without its solution cells (nbval runs the instructor's edition in full)."""
    global STUDENT_DIR
    STUDENT_DIR = tmp_path_factory.mktemp("student")
    course.write_student_edition(STUDENT_DIR)
    yield STUDENT_DIR


def execute(name: str, tmp_path: Path, artifacts: Path, **params) -> dict:
    """Run the student edition of notebook ``name`` with papermill from ``tmp_path``; return it executed, as JSON."""
    out = tmp_path / f"{name}.out.ipynb"
    papermill.execute_notebook(
        str(STUDENT_DIR / f"{name}.ipynb"),
        str(out),
        parameters={"artifacts": str(artifacts), **params},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    return json.loads(out.read_text())


def text_of(nb: dict) -> str:
    """Return all stream and text/plain output of an executed notebook (which ran on the stand-in accelerator)."""
    parts = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            parts.append("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")))
    text = "\n".join(parts)
    assert "device: cpu:0" in text, "the notebook did not run on the stand-in accelerator"
    return text


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """An artifacts folder in which notebook 03 trained a quick MLP."""
    tmp = tmp_path_factory.mktemp("nb03")
    artifacts = tmp / "artifacts"
    nb = execute(
        "03_training",
        tmp,
        artifacts,
        plain_epochs=1,
        ablation_epochs=1,
        ablation_seeds=2,
        progress=False,
        log_every=0,
        **QUICK,
    )
    assert "no target for these parameters" in text_of(nb)
    return artifacts


def test_01_data_runs_and_saves_its_figures(tmp_path):
    nb = execute("01_data", tmp_path, tmp_path / "a", subset=2000)
    out = text_of(nb)
    assert "identical: True" in out and "training images: 60,000" in out
    for fig in ("sample_batch", "class_counts", "perturbed_digits"):
        assert (tmp_path / "a" / "figures" / f"{fig}.png").stat().st_size > 1000


def test_02_model_runs(tmp_path):
    nb = execute("02_model", tmp_path, tmp_path / "a", hidden=[32, 16])
    out = text_of(nb)
    assert f"{784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10:,}" in out
    initial_loss = float(re.search(r"loss of the untrained model on this batch: ([\d.]+)", out).group(1))
    assert abs(initial_loss - math.log(10)) < 0.1  # every class about equally likely before training
    assert (tmp_path / "a" / "figures" / "shuffled_pixels.png").is_file()


def test_03_training_writes_checkpoint_history_and_curves(trained):
    model, ckpt = train.load_checkpoint(trained / "mlp.pt")
    assert ckpt["epoch"] == 1 and ckpt["params"]["subset"] == 2000
    assert 0.6 <= ckpt["metrics"]["test_accuracy"] <= 0.97  # one epoch on 2,000 images: far above chance
    assert json.loads((trained / "history.json").read_text())["history"] == ckpt["history"]
    assert len(json.loads((trained / "plain_history.json").read_text())["history"]) == 1
    ablation = json.loads((trained / "ablation.json").read_text())
    assert (ablation["images"], ablation["epochs"], ablation["seeds"]) == (2000, 1, [0, 1])  # the subset's 2,000
    assert len(ablation["rows"]) == 6 and all(len(row["accuracies"]) == 2 for row in ablation["rows"])
    assert (trained / "figures" / "training_curves.png").stat().st_size > 1000


def test_04_evaluation_writes_metrics_json(trained, tmp_path):
    nb = execute("04_evaluation", tmp_path, trained, **QUICK)
    assert "Loaded the MLP trained by notebook 03" in text_of(nb)
    m = json.loads((trained / "metrics.json").read_text())
    assert 0.6 <= m["test_accuracy"] <= 0.97 and m["n_test"] == 2000
    assert m["model_config"]["hidden"] == [128, 64] and m["params"]["epochs"] == 1
    assert sum(map(sum, m["confusion_matrix"])) == 2000
    for fig in ("confusion_matrix", "misclassified"):
        assert (trained / "figures" / f"{fig}.png").is_file()


def test_05_visualization_runs(trained, tmp_path):
    nb = execute(
        "05_visualization", tmp_path, trained, blur_sigmas=[0.0, 2.0], noise_stds=[0.0, 0.5], n_pca=500, **QUICK
    )
    assert "of 32 right" in text_of(nb)
    for fig in ("history_curves", "first_layer_weights", "robustness", "hidden_pca", "predictions"):
        assert (trained / "figures" / f"{fig}.png").is_file()


def test_06_cnn_trains_and_compares_with_the_mlp(trained, tmp_path):
    artifacts = tmp_path / "a"  # its own folder: the CNN it writes must not reach the other tests
    artifacts.mkdir()
    (artifacts / "mlp.pt").write_bytes((trained / "mlp.pt").read_bytes())
    nb = execute("06_cnn", tmp_path, artifacts, cnn_epochs=1, ablation_epochs=1, ablation_seeds=2, **QUICK)
    out = text_of(nb)
    assert "Loaded the MLP trained by notebook 03" in out and "no target for these parameters" in out
    assert "CNN parameters: 38,458" in out
    m = json.loads((artifacts / "cnn_metrics.json").read_text())
    assert m["params"]["cnn_epochs"] == 1 and m["mistakes"]["cnn"] == round(2000 * m["test_error"])
    assert [r["params"] for r in m["comparison"]] == [109_386, 38_458]
    aug = m["augmentation"]
    assert (aug["images"], aug["epochs"], aug["seeds"]) == (2000, 1, [0, 1])
    assert list(aug["validation"]) == ["with augmentation", "without augmentation"]
    assert all(len(row["clean"]) == len(row["shifted"]) == 2 for row in aug["validation"].values())
    assert train.load_checkpoint(artifacts / "cnn.pt")[1]["epoch"] == 1
    for fig in ("cnn_augmentation", "cnn_curves", "cnn_misclassified", "both_wrong"):
        assert (artifacts / "figures" / f"{fig}.png").is_file()


def test_07_tuning_searches_then_resumes(tmp_path):
    artifacts = tmp_path / "a"
    small = dict(n_trials=2, trial_epochs=1, epochs=1, subset=2000)
    out = text_of(execute("07_tuning", tmp_path, artifacts, **small))
    assert "0 finished trials before this run, 2 now" in out and "trial 0, notebook 03's recipe" in out
    first = json.loads((artifacts / "tuning.json").read_text())
    assert first["n_trials"] == 2 and 0.3 <= first["test_accuracy"] <= 0.99
    out = text_of(execute("07_tuning", tmp_path, artifacts, **small))
    assert "2 finished trials before this run, 2 now" in out  # resumed: nothing ran again
    figures = {p.name for p in (artifacts / "figures").iterdir()}
    assert {"lr_range_test.png", "tuning.png", "tuning_curves.png"} <= figures


def test_a_notebook_rebuilds_a_missing_checkpoint(tmp_path):
    nb = execute("04_evaluation", tmp_path, tmp_path / "fresh", **QUICK)
    out = text_of(nb)
    assert "No trained MLP at <artifacts>/mlp.pt" in out and "Training it now" in out
    assert train.load_checkpoint(tmp_path / "fresh" / "mlp.pt")[1]["params"]["subset"] == 2000
    assert (tmp_path / "fresh" / "metrics.json").is_file()


def test_a_stale_checkpoint_is_never_evaluated(trained, tmp_path):
    artifacts = tmp_path / "copy"
    artifacts.mkdir()
    (artifacts / "mlp.pt").write_bytes((trained / "mlp.pt").read_bytes())
    nb = execute("04_evaluation", tmp_path, artifacts, subset=2000, epochs=2)
    out = text_of(nb)
    assert "was trained with other parameters: epochs=1 (this notebook: 2)" in out
    assert train.load_checkpoint(artifacts / "mlp.pt")[1]["epoch"] == 2
    assert json.loads((artifacts / "metrics.json").read_text())["params"]["epochs"] == 2


def test_a_bad_parameter_fails_the_run_with_the_clear_error(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as err:
        execute("03_training", tmp_path, tmp_path / "a", epochs=-1)
    assert err.value.ename == "ValueError"
    assert "Parameter epochs=-1 is not allowed: it must be an integer >= 1" in err.value.evalue
    assert err.value.exec_count <= 3  # fails in the first cells, before any work
    with pytest.raises(papermill.PapermillExecutionError, match="Parameter lr='abc'"):
        execute("04_evaluation", tmp_path, tmp_path / "a", lr="abc")
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    with pytest.raises(papermill.PapermillExecutionError, match="Parameter data_root=.*is a file"):
        execute("01_data", tmp_path, tmp_path / "a", data_root=str(afile))


def _defaults(name: str) -> dict:
    info = papermill.inspect_notebook(str(NB_DIR / f"{name}.ipynb"))
    return {k: ast.literal_eval(v["default"]) for k, v in info.items()}


@pytest.mark.parametrize("name", course.NOTEBOOKS)
def test_every_notebook_has_valid_parameters_agreeing_with_the_library(name):
    if not (NB_DIR / f"{name}.ipynb").exists():
        pytest.fail(f"{name}.ipynb is missing")
    defaults = _defaults(name)
    assert {"seed", "data_root", "artifacts"} <= set(defaults)
    for key, value in defaults.items():
        if key in course.DEFAULTS:
            assert value == course.DEFAULTS[key], (
                f"{name}: {key}={value!r} but the library says {course.DEFAULTS[key]!r}"
            )
    from mnist_lab.params import validate_params

    validate_params(defaults)
    info = papermill.inspect_notebook(str(NB_DIR / f"{name}.ipynb"))
    assert course._declared_parameters(NB_DIR / f"{name}.ipynb") == list(info)  # start() reads the same names
    untyped = [k for k, v in info.items() if v["inferred_type_name"] in ("None", "Unknown type")]
    assert not untyped, f"{name}: give {untyped} a type in the parameters cell (papermill --help-notebook shows it)"
    nb = json.loads((NB_DIR / f"{name}.ipynb").read_text())
    assert f'P = course.start("{name}", globals())' in "".join(nb["cells"][2]["source"])  # one line starts it


def test_runner_refuses_unknown_parameters_and_reads_yaml(tmp_path, capsys):
    assert course.run_course(notebooks="02", overrides=[["epoch", "3"]]) == 2
    assert "unknown parameter(s) ['epoch']" in capsys.readouterr().err
    yml = tmp_path / "p.yaml"
    yml.write_text("epochs: 3\nsubset: 500\n03_training:\n  plain_epochs: 1\n")
    shared, per_nb = course._load_params(str(yml), [["lr", "0.1"]])
    assert shared == {"epochs": 3, "subset": 500, "lr": 0.1} and per_nb == {"03_training": {"plain_epochs": 1}}
    with pytest.raises(ValueError, match="is not a file"):
        course._load_params(str(tmp_path / "missing.yaml"), [])
    yml.write_text("03_training:\n  plain_epoch: 1\n")  # a typo inside a notebook's section
    with pytest.raises(
        ValueError, match=r"03_training has no parameter\(s\) \['plain_epoch'\]; it takes \[.*'plain_epochs'"
    ):
        course._load_params(str(yml), [])
    assert course._select("1,03_training,evaluation") == ["01_data", "03_training", "04_evaluation"]
    with pytest.raises(ValueError, match="Unknown notebook '9'"):
        course._select("9")


def test_a_new_run_clears_the_old_one_but_keeps_its_optuna_study(tmp_path):
    for name in ("01_data.ipynb", "artifacts/mlp.pt", "artifacts/tuning.db", "artifacts/figures/a.png"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(name)
    course.clear_run(tmp_path)
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == ["artifacts", "artifacts/tuning.db"]
    assert (tmp_path / "artifacts/tuning.db").read_text() == "artifacts/tuning.db"


def test_the_student_edition_has_every_notebook_without_a_solution(tmp_path):
    written = course.write_student_edition(tmp_path)
    assert [p.name for p in written] == [f"{name}.ipynb" for name in course.NOTEBOOKS]
    for path in written:
        instructor = json.loads((NB_DIR / path.name).read_text())["cells"]
        student = json.loads(path.read_text())["cells"]
        solutions = [c for c in instructor if "solution" in c["metadata"].get("tags", [])]
        assert not [c for c in student if "solution" in c["metadata"].get("tags", [])]
        assert len(student) == len(instructor) - len(solutions)
        assert [c["source"] for c in student] == [c["source"] for c in instructor if c not in solutions]
        # the instructor's edition: at least 3 exercises, each with a hint and a collapsed worked solution after it
        # (where the answer is a value, a self-check cell between them that the solution passes), then a
        # questionnaire and further research
        assert len(solutions) >= 3, path.name
        for k, cell in enumerate(instructor):
            if cell in solutions:
                before = "".join(instructor[k - 1]["source"])
                if instructor[k - 1]["cell_type"] == "code":  # the self-check: the student's answer, then the check
                    check = re.search(r"\nis_right = exercises\.(check_\w+)\(answer, ", before)
                    assert before.startswith("answer = None") and check, (path.name, k)
                    assert f"assert exercises.{check[1]}(" in "".join(cell["source"]), (path.name, k)
                    before = "".join(instructor[k - 2]["source"])
                assert "*Hint:*" in before, (path.name, k)
                assert cell["metadata"]["jupyter"]["source_hidden"], (path.name, k)
        headings = [c["source"][0].strip() for c in instructor if c["cell_type"] == "markdown" and c["source"]]
        assert headings[-2:] == ["## Questionnaire", "## Further research"], path.name


def test_runner_executes_a_notebook_into_its_run_folder(capsys):
    name = "pytest-runner"
    run_dir = runtime.repo_root() / "runs" / name
    try:
        assert course.run_course(name=name, notebooks="02", overrides=[["hidden", "[16, 8]"]]) == 0
        out = capsys.readouterr().out
        assert "Summary" in out and "02_model" in out
        assert (run_dir / "02_model.ipynb").is_file()
        assert (run_dir / "artifacts" / "figures" / "shuffled_pixels.png").is_file()
    finally:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)


def test_08_draw_reads_the_example_drawings_and_trains_a_missing_cnn(trained, tmp_path):
    nb = execute("08_draw", tmp_path, trained, cnn_epochs=1, **QUICK)
    out = text_of(nb)
    assert "Loaded the MLP trained by notebook 03" in out
    assert "No trained CNN at <artifacts>/cnn.pt" in out and "same recipe as notebook 06" in out
    assert train.load_checkpoint(trained / "cnn.pt")[1]["params"]["cnn_epochs"] == 1
    assert "the library's one call gives the same image: True" in out
    assert "MNIST preprocessing  MLP:" in out and "pad shrunk           CNN:" in out
    readings = json.loads((trained / "draw_readings.json").read_text())
    assert readings["labels"] == list(range(10)) and set(readings["right"]) == {"pad shrunk", "MNIST preprocessing"}
    pad = [
        o
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if "DigitReader" in "".join(o.get("data", {}).get("text/plain", ""))
    ]
    assert len(pad) == 1 and {"image/png", "application/vnd.jupyter.widget-view+json"} <= set(pad[0]["data"])
    for fig in ("draw_preprocessing", "draw_readings", "draw_probabilities", "draw_your_digit"):
        assert (trained / "figures" / f"{fig}.png").stat().st_size > 1000
