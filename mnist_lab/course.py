"""What the notebooks share: the one-line start, the artifacts folder, and the recipes of the two trained models.

Notebooks pass work to each other only through files in the artifacts folder: ``mlp.pt`` (notebook 05's MLP:
weights, history and recipe), ``metrics.json`` (06), ``cnn.pt`` and ``cnn_metrics.json`` (10), ``cnn_ablation.json``
(10b), ``tuning.json`` (11b), ``tuning_winner.json`` (11c), ``draw_readings.json`` (12b),
``draw_unlike_mnist.json`` (12c), and every figure in ``figures/``. A notebook that needs a trained model uses the
one in the artifacts folder, with its recipe; only when there is none does it train one, with the default recipe.
Nothing overwrites a model that another notebook trained.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path
from typing import Any

import torch

from . import augment, data, models, params, runtime, train

#: The recipes of the two models that later notebooks load, with their defaults: the parameters cells of
#: notebooks 05 (MLP) and 10 (CNN) declare these names with these values, the trainer reads them, and a
#: checkpoint records them.
RECIPES: dict[str, dict[str, Any]] = {
    "mlp": {"seed": 0, "hidden": [128, 64], "batch_size": 32, "epochs": 10, "lr": 0.05, "momentum": 0.9},
    "cnn": {"seed": 0, "channels": [16, 32, 64], "batch_size": 128, "epochs": 8, "lr": 0.2, "momentum": 0.9},
}
for _recipe in RECIPES.values():
    _recipe.update(weight_decay=5e-4, schedule="onecycle", subset=None, val_size=5000)
RECIPES["cnn"].update(label_smoothing=0.1, augment=True, max_shift=2, max_rotation=10.0)
MAKER = {"mlp": ("MLP", "05"), "cnn": ("CNN", "10")}  #: each model's name, and the notebook that trains it
#: The MLP's full-length validation runs over a grid of training values fixed before the runs, one value changed
#: at a time from the recipe (``tools/check_recipe.py --grid`` made it; notebook 05b reads it): under "grid",
#: for each name, ``[{"value": v, "accuracies": [seed 0's, ..., seed 4's]}, ...]``.
VALIDATION_GRID = Path(__file__).with_name("recipe_grid.json")


class MissingParameter(KeyError):
    """A notebook asked ``P`` for a parameter that its parameters cell no longer declares."""

    def __str__(self) -> str:
        return (
            f"{self.args[0]!r} is not a parameter of this notebook: its line in the parameters cell at the top is "
            "gone. Put the line back, then run the notebook again from the top."
        )


class Params(dict):
    """The notebook's parameters (``P``): a dict that says clearly which parameter is missing."""

    def __missing__(self, name: str):
        raise MissingParameter(name)


def declared(namespace: dict[str, Any]) -> dict[str, Any]:
    """Return ``{name: type}`` for the names the notebook declares with a type (``epochs: int = 10``).

    Python 3.13 and before put them in ``__annotations__``; 3.14 compiles an ``__annotate__`` function instead (PEP
    649), and IPython compiles each statement of a cell on its own, so only the last statement's function is left.
    The cells' own source, IPython's input history ``_ih``, names them all, on every Python.
    """
    found = dict(namespace.get("__annotations__") or {})
    if callable(namespace.get("__annotate__")):
        found.update({k: v for k, v in namespace["__annotate__"](1).items() if k not in found})  # 1: Format.VALUE
    for cell in namespace.get("_ih") or []:
        try:
            statements = ast.parse(cell).body
        except SyntaxError:
            continue
        for node in statements:
            if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                found.setdefault(node.target.id, ast.unparse(node.annotation))
    return {name: eval(kind, namespace) if isinstance(kind, str) else kind for name, kind in found.items()}


def start(namespace: dict[str, Any]) -> Params:
    """Check the parameters of the notebook whose ``globals()`` is ``namespace``, seed everything; return them as ``P``.

    The parameters are the names the parameters cell declares with a type (``epochs: int = 10``, see ``declared``),
    with their values after papermill's changes. ``P["artifacts"]`` and ``P["figures"]`` are folders that exist, and
    ``P["torch_device"]`` is the device chosen. A bad value raises a ``ValueError`` that says what is allowed.
    """
    kinds = declared(namespace)
    missing = [name for name in kinds if name not in namespace]
    if missing:
        raise ValueError(
            f"{missing} have a type but no value in the parameters cell: give each one, e.g. `seed: int = 0`."
        )
    values = {name: namespace[name] for name in kinds}
    if isinstance(values.get("device"), torch.device):  # `device = P["torch_device"]` ran: start again
        values["device"] = str(values["device"])
    P = Params({name: params.check(name, values[name], kind) for name, kind in kinds.items()})
    folders = {
        "data_root": runtime.data_root(P.get("data_root")),
        "artifacts": runtime.artifacts_dir(P.get("artifacts")),
    }
    for name, folder in folders.items():
        if folder.exists() and not folder.is_dir():
            raise ValueError(f"Parameter {name}={P.get(name)!r} is not allowed: {folder} is a file, not a folder.")
    (folders["artifacts"] / "figures").mkdir(parents=True, exist_ok=True)
    P.update(artifacts=str(folders["artifacts"]), figures=str(folders["artifacts"] / "figures"))
    P["torch_device"] = runtime.choose_device(P.get("device"))
    runtime.seed_everything(P.get("seed", 0))
    return P


def artifact(P: dict, name: str) -> Path:
    """Return the path of file ``name`` in this run's artifacts folder."""
    return Path(P["artifacts"]) / name


def figure(P: dict, name: str) -> Path:
    """Return the path of the PNG of figure ``name`` in this run's figures folder."""
    return Path(P["figures"]) / f"{name}.png"


def short(path: str | os.PathLike, P: dict) -> str:
    """Return ``path`` as printed in a notebook: ``<artifacts>/mlp.pt`` rather than a path of this machine."""
    path, base = Path(path).resolve(), Path(P["artifacts"]).resolve()
    return "<artifacts>/" + path.relative_to(base).as_posix() if base in path.parents else path.name


def recipe(P: dict, kind: str) -> dict[str, Any]:
    """Return the recipe of model ``kind`` ("mlp" or "cnn") that ``P`` sets: the values of its ``RECIPES`` names."""
    return {name: P[name] for name in RECIPES[kind]}


def differences(recipe: dict, kind: str) -> dict[str, Any]:
    """Return what ``recipe`` changes from the default of ``kind``, in the table's order (empty: the default):
    notebook 10 prints, beside the test score of a run that changed its recipe, to choose on validation."""
    order = [*RECIPES[kind], *(name for name in recipe if name not in RECIPES[kind])]
    return {name: recipe[name] for name in order if name in recipe and RECIPES[kind].get(name) != recipe[name]}


def describe(recipe: dict, kind: str) -> str:
    """Return "the default recipe", or "the default recipe with hidden=[256, 128], batch_size=64": what
    ``load_model`` prints when notebooks 06, 06b, 07, 07b, 07c, 10, 12b and 12c load a model."""
    changed = ", ".join(f"{name}={value!r}" for name, value in differences(recipe, kind).items())
    return "the default recipe" + (f" with {changed}" if changed else "")


def loaders(recipe: dict, data_root=None) -> tuple:
    """Return the ``(train, val, test)`` loaders a recipe trains and is evaluated on (``data.make_loaders``):
    notebooks 06, 06b, 07, 07b, 07c and 10 load the digits of a saved model's recipe with it."""
    return data.make_loaders(data_root, recipe["batch_size"], recipe["val_size"], recipe["subset"], recipe["seed"])


def train_model(kind: str, changes: dict, artifacts, data_root=None, device="cpu", progress=False):
    """Train model ``kind`` with its default recipe and ``changes`` as notebook 05 (MLP) or 10 (CNN) does, writing
    ``<artifacts>/<kind>.pt``; return ``(model, history)``."""
    r = {**RECIPES[kind], **changes}
    train_loader, val_loader, _ = loaders(r, data_root)
    runtime.seed_everything(r["seed"])
    options: dict[str, Any] = {"progress": progress, "verbose": False, "recipe": r}
    options.update({name: r[name] for name in train.SETTINGS}, checkpoint=Path(artifacts) / f"{kind}.pt")
    if kind == "cnn":
        model = models.CNN(r["channels"])
        options["loss_fn"] = torch.nn.CrossEntropyLoss(label_smoothing=r["label_smoothing"])
        options["augment"] = augment.Augment(r["max_shift"], r["max_rotation"]) if r["augment"] else None
    else:
        model = models.MLP(r["hidden"])
    history = train.fit(model, train_loader, val_loader, device=device, **options)
    return model, history


def load_model(P: dict, kind: str) -> tuple[torch.nn.Module, dict]:
    """Return ``(model, checkpoint)`` of the ``kind`` model in the artifacts folder, on ``P``'s device (notebooks 06,
    06b, 07, 07b, 07c, 10, 12b and 12c load the MLP or the CNN with it); its recipe is
    ``checkpoint["recipe"]``. When there is none, first train one with the default recipe. An unfinished run (Ctrl-C
    during training) is refused with a message that says how to finish it."""
    path, (name, notebook) = artifact(P, f"{kind}.pt"), MAKER[kind]
    if not path.exists():
        print(f"No trained {name} at {short(path, P)} (notebook {notebook} trains it): training one, default recipe.")
        train_model(kind, {}, P["artifacts"], P.get("data_root"), P["torch_device"])
    model, checkpoint = train.load_checkpoint(path)
    recorded = checkpoint.get("recipe") or {}
    epochs = checkpoint.get("settings", recorded).get("epochs", checkpoint["epoch"])  # what fit was asked for
    if checkpoint["epoch"] < epochs:
        raise RuntimeError(
            f"{short(path, P)} holds an unfinished run, epoch {checkpoint['epoch']} of {epochs}: finish it in "
            f"notebook {notebook} (fit(..., resume=...)), or move it away to train a new one here."
        )
    checkpoint["recipe"] = {**RECIPES[kind], **recorded}  # the data's split and batches: the default's unless recorded
    said = describe(checkpoint["recipe"], kind) if recorded else "no recipe recorded, the default data split"
    print(f"Loaded the {name} trained by notebook {notebook} ({short(path, P)}): {said}.")
    return model.to(P["torch_device"]), checkpoint
