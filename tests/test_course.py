"""The one-line start and the models passed between notebooks: parameters read from the notebook itself, checked
with clear errors; a trained model used as it is, with its recipe, and never overwritten by a notebook that did not
train it; one recipe table for the trainer, the checkpoint and the notebooks' defaults."""

from __future__ import annotations

from typing import Optional

import pytest
import torch

from mnist_lab import course, params, runtime, train

PARAMETERS_CELL = """
from typing import Optional
seed: int = 0
data_root: Optional[str] = None
artifacts: Optional[str] = None
device: str = "cpu"
epochs: int = 10
lr: float = 0.05
hidden: list[int] = [128, 64]
subset: Optional[int] = None
schedule: str = "onecycle"
"""


def namespace(**changes) -> dict:
    """The globals() of a notebook after its parameters cell ran and papermill injected ``changes``."""
    ns: dict = {}
    exec(PARAMETERS_CELL, ns)
    ns.update(changes)
    return ns


def test_start_reads_the_parameters_from_the_notebooks_own_namespace(tmp_path):
    P = course.start(namespace(artifacts=str(tmp_path), epochs=3, hidden=(32, 16)))
    assert {k: P[k] for k in ("seed", "epochs", "lr", "hidden", "subset")} == {
        "seed": 0, "epochs": 3, "lr": 0.05, "hidden": [32, 16], "subset": None
    }  # fmt: skip
    assert P["artifacts"] == str(tmp_path) and (tmp_path / "figures").is_dir()
    assert P["torch_device"] == torch.device("cpu") and "Optional" not in P


def test_start_runs_again_after_the_notebook_named_its_device(tmp_path):
    """A student re-runs the imports cell: `device = P["torch_device"]` has replaced the parameter's string."""
    ns = namespace(artifacts=str(tmp_path))
    ns["device"] = course.start(ns)["torch_device"]
    assert course.start(ns)["torch_device"] == torch.device("cpu")


def python_314_namespace(**changes) -> dict:
    """The globals() of a notebook on Python 3.14 (PEP 649) in IPython: no ``__annotations__``; each statement of the
    parameters cell compiled on its own, so the ``__annotate__`` left is the last statement's; the cells' source in
    IPython's input history ``_ih``."""
    ns = namespace(**changes)
    ns.pop("__annotations__")
    ns["__annotate__"] = lambda format: {"schedule": str} if format == 1 else NotImplemented
    ns["_ih"] = ["", PARAMETERS_CELL, "from mnist_lab import course\nP = course.start(globals())"]
    return ns


def test_start_reads_the_parameters_as_python_314_lays_them_out(tmp_path):
    """Issue 31, defect 1: on 3.14 start found no parameters and every notebook stopped at its first P[...]."""
    P = course.start(python_314_namespace(artifacts=str(tmp_path), epochs=3))
    assert (P["epochs"], P["lr"], P["hidden"], P["schedule"], P["subset"]) == (3, 0.05, [128, 64], "onecycle", None)
    with pytest.raises(ValueError, match="Parameter epochs=2.5 is not allowed"):
        course.start(python_314_namespace(artifacts=str(tmp_path), epochs=2.5))  # the types are read too
    only_annotate = python_314_namespace(artifacts=str(tmp_path))
    del only_annotate["_ih"]  # plain exec of a whole module: one __annotate__ holds every annotation
    only_annotate["__annotate__"] = lambda format: {"epochs": int, "artifacts": str | None}
    assert set(course.declared(only_annotate)) == {"epochs", "artifacts"}


def test_start_in_a_real_ipython_shell_finds_every_parameter(tmp_path):
    """The path a notebook takes: IPython runs the parameters cell, then papermill's injected cell, then start."""
    from IPython.core.interactiveshell import InteractiveShell

    shell = InteractiveShell.instance()
    try:
        for cell in (PARAMETERS_CELL, f"epochs = 4\nartifacts = {str(tmp_path)!r}", "P = course.start(globals())"):
            shell.user_ns["course"] = course
            assert shell.run_cell(cell).success, cell
        P = shell.user_ns["P"]
        assert (P["epochs"], P["schedule"], P["artifacts"]) == (4, "onecycle", str(tmp_path))
    finally:
        InteractiveShell.clear_instance()


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("epochs", -1, "Parameter epochs=-1 is not allowed: it must be an integer, >= 1."),
        ("epochs", 2.5, "Parameter epochs=2.5 is not allowed: it must be an integer, >= 1."),
        ("epochs", True, "Parameter epochs=True is not allowed: it must be an integer, >= 1."),
        ("lr", "abc", "Parameter lr='abc' is not allowed: it must be a number, > 0."),
        ("lr", float("nan"), "Parameter lr=nan is not allowed: it must be a number, > 0."),
        ("hidden", [], "Parameter hidden=[] is not allowed: it must be a non-empty list of integers"),
        ("subset", 0, "Parameter subset=0 is not allowed: it must be an integer or None, >= 1."),
        ("schedule", "warp", "Parameter schedule='warp' is not allowed: it must be a string, one of ['none',"),
        ("device", "gpu", "Parameter device='gpu' is not allowed: it must be a string, 'auto', 'cpu', 'cuda'"),
    ],
)
def test_a_bad_value_is_refused_with_what_is_allowed(tmp_path, name, value, message):
    with pytest.raises(ValueError) as err:
        course.start(namespace(artifacts=str(tmp_path), **{name: value}))
    assert str(err.value).startswith(message)


def test_integral_numbers_and_tuples_are_accepted_as_what_they_mean(tmp_path):
    P = course.start(namespace(artifacts=str(tmp_path), epochs=3.0, lr=1, hidden=(8,)))
    assert (P["epochs"], P["lr"], P["hidden"]) == (3, 1.0, [8]) and isinstance(P["lr"], float)
    assert params.check("noise_stds", [0, 0.5], list[float]) == [0.0, 0.5]
    assert params.check("n_misclassified", None, Optional[int]) is None  # noqa: UP045 (as parameters cells write it)


def test_a_deleted_parameter_line_gives_a_clear_error_not_a_bare_key_error(tmp_path):
    """Issue 26, defect 7: a student who deleted a parameter line got a bare KeyError."""
    ns = namespace(artifacts=str(tmp_path))
    del ns["lr"], ns["__annotations__"]["lr"]  # the line `lr: float = 0.05` is gone
    P = course.start(ns)
    with pytest.raises(KeyError) as err:
        P["lr"]
    assert "'lr' is not a parameter of this notebook: its line in the parameters cell at the top is gone" in str(
        err.value
    )
    ns = namespace(artifacts=str(tmp_path))
    del ns["epochs"]  # `epochs: int` left without its value
    with pytest.raises(ValueError, match=r"\['epochs'\] have a type but no value in the parameters cell"):
        course.start(ns)


def test_folders_that_are_files_are_refused(tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("not a folder")
    for name in ("data_root", "artifacts"):
        with pytest.raises(ValueError, match=rf"Parameter {name}=.* is a file, not a folder"):
            course.start(namespace(**{"artifacts": str(tmp_path / "a"), name: str(afile)}))


def test_paths_are_printed_without_this_machines_folders(tmp_path):
    P = course.start(namespace(artifacts=str(tmp_path / "a")))
    assert course.short(tmp_path / "a" / "figures" / "x.png", P) == "<artifacts>/figures/x.png"
    assert course.short("/somewhere/else/mlp.pt", P) == "mlp.pt"


def test_one_recipe_table_names_every_setting_the_trainer_uses():
    """Issue 26, defect 3: the keys of a recipe, the recipe and the trainer were three hand-kept lists (the CNN's
    keys had no schedule). Now every setting fit receives comes from the table, and a recipe is the table's names."""
    for kind, recipe in course.RECIPES.items():
        assert set(train.SETTINGS) <= set(recipe) and {"seed", "batch_size", "subset", "val_size"} <= set(recipe)
        P = {**recipe, "extra": 1}
        assert course.recipe(P, kind) == recipe and course.differences(recipe, kind) == {}
    changed = {**course.RECIPES["cnn"], "schedule": "cosine"}
    assert course.differences(changed, "cnn") == {"schedule": "cosine"}
    assert course.describe(changed, "cnn") == "the default recipe with schedule='cosine'"
    # A checkpoint may store its recipe in any order; the description follows the table's, so it reads the same.
    shuffled = dict(reversed(list({**course.RECIPES["mlp"], "subset": 2000, "epochs": 1}.items())))
    assert course.describe(shuffled, "mlp") == "the default recipe with epochs=1, subset=2000"


@pytest.fixture()
def P(tmp_path, tiny_root):
    """Parameters of a notebook that loads a model, on the tiny data set."""
    return course.start(namespace(artifacts=str(tmp_path / "artifacts"), data_root=str(tiny_root)))


TINY = {"val_size": 20, "epochs": 2, "batch_size": 16}


def test_a_missing_model_is_trained_with_the_default_recipe_and_said(P, capsys, monkeypatch):
    monkeypatch.setitem(course.RECIPES, "mlp", {**course.RECIPES["mlp"], **TINY})  # a default fit for tiny data
    model, checkpoint = course.load_model(P, "mlp")
    out = capsys.readouterr().out
    assert "No trained MLP at <artifacts>/mlp.pt (notebook 05 trains it): training one, default recipe" in out
    assert "Loaded the MLP trained by notebook 05 (<artifacts>/mlp.pt): the default recipe" in out
    assert checkpoint["recipe"] == course.RECIPES["mlp"] and checkpoint["epoch"] == TINY["epochs"]


def test_an_instructors_model_is_evaluated_as_trained_and_never_overwritten(P, capsys):
    """Issue 26, defect 2: notebook 04 found the instructor's 256-128 model "trained with other parameters",
    retrained the default recipe and overwrote it. Now the model is used with the recipe it records."""
    theirs = {**TINY, "hidden": [32, 16]}
    course.train_model("mlp", theirs, P["artifacts"], P["data_root"])
    path = course.artifact(P, "mlp.pt")
    before = path.read_bytes()
    model, checkpoint = course.load_model(P, "mlp")
    assert path.read_bytes() == before  # not retrained, not rewritten
    assert model.config["hidden"] == [32, 16] and checkpoint["recipe"]["hidden"] == [32, 16]
    assert "the default recipe with hidden=[32, 16], batch_size=16, epochs=2, val_size=20" in capsys.readouterr().out
    _, val_loader, _ = course.loaders(checkpoint["recipe"], P["data_root"])
    assert len(val_loader.labels) == 20  # evaluated on the data its recipe names


def test_a_cnn_with_another_schedule_is_reported_as_such(P, capsys):
    """Issue 26, defect 3: a CNN trained with another schedule was taken for the default one."""
    course.train_model("cnn", {**TINY, "schedule": "cosine", "channels": [4, 8, 8]}, P["artifacts"], P["data_root"])
    _, checkpoint = course.load_model(P, "cnn")
    assert checkpoint["recipe"]["schedule"] == "cosine"
    assert course.differences(checkpoint["recipe"], "cnn")["schedule"] == "cosine"
    assert "schedule='cosine'" in capsys.readouterr().out


def test_an_unfinished_run_is_refused_with_how_to_finish_it(P):
    course.train_model("mlp", TINY, P["artifacts"], P["data_root"])
    path = course.artifact(P, "mlp.pt")
    checkpoint = torch.load(path, weights_only=True)
    checkpoint["recipe"]["epochs"] = checkpoint["settings"]["epochs"] = 5  # as if Ctrl-C had stopped a 5-epoch run
    torch.save(checkpoint, path)
    before = path.read_bytes()
    with pytest.raises(RuntimeError, match=r"mlp.pt holds an unfinished run, epoch 2 of 5: finish it in notebook 05"):
        course.load_model(P, "mlp")
    assert path.read_bytes() == before


def test_a_model_without_a_recipe_is_judged_by_the_epochs_it_was_trained_for(P, tiny_root, capsys):
    """Issue 31, defect 6: a checkpoint without a recipe was called unfinished against the default recipe's 10
    epochs."""
    loaders = course.loaders({**course.RECIPES["mlp"], **TINY}, tiny_root)
    model = course.models.MLP([8])
    train.fit(model, loaders[0], loaders[1], epochs=2, lr=0.05, checkpoint=course.artifact(P, "mlp.pt"), verbose=False)
    loaded, checkpoint = course.load_model(P, "mlp")
    assert "no recipe recorded" in capsys.readouterr().out and checkpoint["epoch"] == 2
    assert all(torch.equal(a.cpu(), b.cpu()) for a, b in zip(model.parameters(), loaded.parameters()))


def test_a_damaged_model_file_is_named_and_kept(P):
    path = course.artifact(P, "mlp.pt")
    path.write_bytes(b"truncated")
    with pytest.raises(ValueError, match=r"mlp.pt is not a checkpoint torch.load can read"):
        course.load_model(P, "mlp")
    assert path.read_bytes() == b"truncated"


def test_train_model_records_and_returns_the_recipe_it_trained(P, tmp_path):
    """``train_model`` trains the default recipe with ``changes``: the checkpoint records that recipe, the model it
    returns is the one whose validation scores it wrote, the same recipe gives the same model whatever the random
    state before, and each value of the recipe, changed alone, changes the model and is recorded as changed."""

    def trained(kind: str, changes: dict) -> tuple[torch.nn.Module, list[dict], dict]:
        """Train ``kind`` with ``changes`` in a folder of its own; return the model, its history and checkpoint."""
        folder = tmp_path / "runs" / str(len(list(tmp_path.glob("runs/*"))))
        model, history = course.train_model(kind, changes, folder, P["data_root"])
        return model, history, torch.load(folder / f"{kind}.pt", weights_only=True)

    def weights(model: torch.nn.Module) -> torch.Tensor:
        return torch.cat([t.flatten() for t in model.state_dict().values()])

    model, history, checkpoint = trained("mlp", TINY)
    recipe = {**course.RECIPES["mlp"], **TINY}
    assert checkpoint["recipe"] == recipe and checkpoint["settings"] == {k: recipe[k] for k in train.SETTINGS}
    assert checkpoint["epoch"] == len(history) == TINY["epochs"] and checkpoint["history"] == history
    assert torch.equal(weights(model), torch.cat([t.flatten() for t in checkpoint["state_dict"].values()]))
    _, val_loader, _ = course.loaders(recipe, P["data_root"])  # the validation set its recipe names
    scores = train.evaluate(model, val_loader)
    assert (scores["accuracy"], scores["loss"]) == pytest.approx((history[-1]["val_accuracy"], history[-1]["val_loss"]))
    runtime.seed_everything(123)  # another random state: train_model seeds from the recipe
    assert torch.equal(weights(trained("mlp", TINY)[0]), weights(model))
    one_change = [{"seed": 1}, {"batch_size": 8}, {"epochs": 1}, {"lr": 0.01}, {"momentum": 0.0}]
    one_change += [{"weight_decay": 0.1}, {"schedule": "cosine"}, {"subset": 60}, {"val_size": 40}]
    for change in one_change:
        other, _, saved = trained("mlp", {**TINY, **change})
        assert course.differences(saved["recipe"], "mlp") == {**course.differences(recipe, "mlp"), **change}, change
        assert not torch.equal(weights(other), weights(model)), f"{change} did not change the trained model"
    small_cnn = {**TINY, "channels": [4, 8, 8]}
    cnn = weights(trained("cnn", small_cnn)[0])
    for change in ({"label_smoothing": 0.0}, {"augment": False}, {"max_rotation": 0.0}):
        other, _, saved = trained("cnn", {**small_cnn, **change})
        assert {k: saved["recipe"][k] for k in change} == change
        assert not torch.equal(weights(other), cnn), f"{change} did not change the trained CNN"
