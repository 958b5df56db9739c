"""What the notebooks share: start-up, the MLP and CNN artifact contract, and the papermill runner.

Notebooks pass work to each other only through files in the artifacts folder:

    mlp.pt          checkpoint of notebook 03 (weights, config, history, parameters)
    history.json    its training history; plain_history.json the plain-SGD run beside it
    metrics.json    notebook 04's evaluation (test_accuracy, model config, parameters)
    cnn.pt, cnn_metrics.json, tuning.db, tuning.json   notebooks 06 and 07
    draw_readings.json   what the models of notebook 08 read of its example drawings
    figures/*.png   every figure shown

A notebook that needs ``mlp.pt`` (or ``cnn.pt``) and finds it missing, or made with other
parameters, says so and trains it again with its own parameters (the same defaults as 03, or 06).
"""

from __future__ import annotations

import ast
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch

from . import data, models, runtime, train
from .params import validate_params

NOTEBOOKS = [
    "01_data",
    "02_model",
    "03_training",
    "04_evaluation",
    "05_visualization",
    "06_cnn",
    "07_tuning",
    "08_draw",
]

#: The parameters that define the trained MLP; a checkpoint made with other values is stale.
MLP_KEYS = (
    "seed",
    "hidden",
    "epochs",
    "batch_size",
    "lr",
    "momentum",
    "weight_decay",
    "schedule",
    "subset",
    "val_size",
)

#: Defaults shared by every notebook's parameters cell (a test checks that the cells agree).
DEFAULTS: dict[str, Any] = {
    "seed": 0,
    "data_root": None,
    "artifacts": None,
    "hidden": [128, 64],
    "batch_size": 32,
    "subset": None,
    "val_size": 5000,
    "device": "auto",
    **{k: v for k, v in train.DEFAULT_RECIPE.items() if k != "optimizer"},
}


#: The CNN recipe of notebook 06 (batch 128, SGD + momentum, one-cycle, light augmentation).
CNN_RECIPE: dict[str, Any] = {
    "channels": [16, 32, 64],
    "batch_size": 128,
    "epochs": 8,
    "lr": 0.2,
    "momentum": 0.9,
    "weight_decay": 5e-4,
    "schedule": "onecycle",
    "label_smoothing": 0.1,
    "augment": True,
    "max_shift": 2,
    "max_rotation": 10.0,
}

#: The parameters that define notebook 06's CNN (recorded in ``cnn.pt``); other values make it stale.
CNN_KEYS = (
    "seed",
    "channels",
    "cnn_batch_size",
    "cnn_epochs",
    "cnn_lr",
    "cnn_momentum",
    "weight_decay",
    "label_smoothing",
    "augment",
    "max_shift",
    "max_rotation",
    "subset",
    "val_size",
)


def start(notebook: str | None = None, namespace: dict | None = None, **params: Any) -> dict[str, Any]:
    """Check a notebook's parameters, seed everything, and return them as a dict ``P``.

    A notebook calls ``course.start("03_training", globals())``: the parameters are the names its
    ``parameters`` cell declares, with their values in ``namespace`` (after papermill's overrides).
    Tests and scripts pass them by name instead. ``P["artifacts"]`` and ``P["figures"]`` are folders
    that exist; ``P["torch_device"]`` is the device chosen. Raises ``ValueError`` naming any bad parameter.
    """
    if notebook is not None:
        params = {name: namespace[name] for name in _declared_parameters(notebook_dir() / f"{notebook}.ipynb")}
    P = validate_params(params)
    P["artifacts"] = str(runtime.artifacts_dir(P.get("artifacts")))
    P["figures"] = str(runtime.figures_dir(P["artifacts"]))
    P["torch_device"] = runtime.choose_device(P.get("device"))
    if "seed" in P:
        runtime.seed_everything(P["seed"])
    return P


def artifact(P: dict, name: str) -> Path:
    """Return the path of artifact ``name`` in this run's artifacts folder."""
    return Path(P["artifacts"]) / name


def figure(P: dict, name: str) -> Path:
    """Return the PNG path for figure ``name`` in this run's figures folder."""
    return Path(P["figures"]) / f"{name}.png"


def short(path: str | os.PathLike, P: dict | None = None) -> str:
    """Return ``path`` relative to the artifacts folder (``<artifacts>/...``) or the repo, for printing."""
    path = Path(path).resolve()
    if P is not None:
        base = Path(P["artifacts"]).resolve()
        if path == base or base in path.parents:
            return "<artifacts>/" + str(path.relative_to(base)) if path != base else "<artifacts>"
    root = runtime.repo_root().resolve()
    if root in path.parents:
        return str(path.relative_to(root))
    return str(path)


def mlp_params(P: dict) -> dict[str, Any]:
    """Return the subset of ``P`` that defines the trained MLP."""
    return {k: P[k] for k in MLP_KEYS if k in P}


def loaders(P: dict, batch_size: int | None = None):
    """Return ``(train, val, test)`` in-memory loaders for ``P`` (evaluation batches of ``data.EVAL_BATCH_SIZE``);
    ``batch_size`` overrides ``P["batch_size"]`` (the CNN and the tuned MLP train with their own).

    The data stays on the CPU whatever ``P["device"]`` is: the model and each batch move to the
    device, and predictions come back to the CPU before they meet labels (README, Reliability: Devices).
    """
    batch_size = batch_size if batch_size is not None else P.get("batch_size", 32)
    return data.make_loaders(
        P.get("data_root"),
        batch_size=batch_size,
        val_size=P.get("val_size", 5000),
        seed=P.get("seed", 0),
        subset=P.get("subset"),
    )


def save_mlp(P: dict, model: torch.nn.Module, history: list[dict], extra: dict | None = None) -> Path:
    """Write ``mlp.pt`` (checkpoint with the MLP parameters) and ``history.json`` atomically; return mlp.pt's path."""
    params = mlp_params(P)
    path = train.save_checkpoint(
        artifact(P, "mlp.pt"), model, epoch=len(history), history=history, params=params, metrics=extra or {}
    )
    runtime.write_json(artifact(P, "history.json"), {"params": params, "history": history})
    return path


def train_mlp(P: dict, progress: bool = False, log_every: int | None = None) -> tuple[torch.nn.Module, list[dict]]:
    """Train the MLP exactly as notebook 03 does with ``P``, save it, and return ``(model, history)``."""
    runtime.seed_everything(P["seed"])
    tl, vl, _ = loaders(P)
    model = models.MLP(hidden=P["hidden"])
    history = train.fit(
        model,
        tl,
        vl,
        epochs=P["epochs"],
        lr=P["lr"],
        momentum=P["momentum"],
        weight_decay=P["weight_decay"],
        schedule=P["schedule"],
        device=P["torch_device"],
        progress=progress,
        log_every=log_every,
        checkpoint_path=artifact(P, "mlp.pt"),
        params=mlp_params(P),
    )
    save_mlp(P, model, history)
    return model, history


def _checkpoint_problem(P: dict, path: Path, want: dict, epochs: int | None, maker: str) -> tuple[str | None, Any, Any]:
    """Return ``(reason, model, checkpoint)``: why the checkpoint at ``path`` cannot be used for
    parameters ``want`` and ``epochs`` (``None`` when it can), and what was loaded."""
    try:
        model, ckpt = train.load_checkpoint(path)
    except FileNotFoundError:
        return f"No trained {maker}", None, None
    except (train.CheckpointError, KeyError) as exc:
        return f"{short(path, P)} cannot be used: {exc}", None, None
    got = {k: ckpt.get("params", {}).get(k) for k in want}
    diff = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    if diff:
        return (
            f"{short(path, P)} was trained with other parameters: "
            + ", ".join(f"{k}={a!r} (this notebook: {b!r})" for k, (a, b) in diff.items()),
            model,
            ckpt,
        )
    if ckpt.get("epoch") != epochs:
        return f"{short(path, P)} holds an unfinished run (epoch {ckpt.get('epoch')} of {epochs})", model, ckpt
    return None, model, ckpt


def load_mlp(P: dict, rebuild: bool = True) -> tuple[torch.nn.Module, dict]:
    """Return ``(model, checkpoint)`` of notebook 03's MLP, never a stale one.

    When ``mlp.pt`` is missing, unreadable, or was trained with parameters other than
    ``P``'s, this says so and (``rebuild=True``) trains it again with ``P``; with
    ``rebuild=False`` it raises ``RuntimeError`` giving the command that rebuilds it.
    """
    path = artifact(P, "mlp.pt")
    want = mlp_params(P)
    reason, model, ckpt = _checkpoint_problem(
        P, path, want, want.get("epochs"), f"MLP at {short(path, P)} (notebook 03 makes it)"
    )
    if reason is None:
        print(f"Loaded the MLP trained by notebook 03 ({ckpt['epoch']} epochs) from {short(path, P)}.")
        return model.to(P["torch_device"]), ckpt
    if not rebuild:
        raise RuntimeError(
            f"{reason}. Rebuild it with: make run NOTEBOOKS=03 (or run notebook 03 with the same parameters)."
        )
    print(f"{reason}.\nTraining it now with this notebook's parameters (the same recipe as notebook 03)...")
    train_mlp(P)
    model, ckpt = train.load_checkpoint(path)
    return model.to(P["torch_device"]), ckpt


def cnn_params(P: dict) -> dict[str, Any]:
    """Return the subset of ``P`` that defines notebook 06's CNN."""
    return {k: P[k] for k in CNN_KEYS if k in P}


def train_cnn(P: dict, progress: bool = False) -> tuple[torch.nn.Module, list[dict]]:
    """Train the CNN exactly as notebook 06 does with ``P`` (checkpoint ``cnn.pt``); return ``(model, history)``."""
    from .augment import Augment

    runtime.seed_everything(P["seed"])
    tl, vl, _ = loaders(P, batch_size=P["cnn_batch_size"])
    model = models.CNN(channels=P["channels"])
    history = train.fit(
        model,
        tl,
        vl,
        epochs=P["cnn_epochs"],
        lr=P["cnn_lr"],
        momentum=P["cnn_momentum"],
        weight_decay=P["weight_decay"],
        schedule=P["schedule"],
        device=P["torch_device"],
        loss_fn=torch.nn.CrossEntropyLoss(label_smoothing=P.get("label_smoothing", 0.0)),
        augment=Augment(P["max_shift"], P["max_rotation"]) if P["augment"] else None,
        log_every=0,
        progress=progress,
        checkpoint_path=artifact(P, "cnn.pt"),
        params=cnn_params(P),
    )
    return model, history


def load_cnn(P: dict) -> tuple[torch.nn.Module, dict]:
    """Return ``(model, checkpoint)`` of notebook 06's CNN; when ``cnn.pt`` is missing or stale,
    say so and train it again with ``P`` (the recipe of notebook 06)."""
    path = artifact(P, "cnn.pt")
    reason, model, ckpt = _checkpoint_problem(
        P, path, cnn_params(P), P.get("cnn_epochs"), f"CNN at {short(path, P)} (notebook 06 makes it)"
    )
    if reason is None:
        print(f"Loaded the CNN trained by notebook 06 ({ckpt['epoch']} epochs) from {short(path, P)}.")
    else:
        print(f"{reason}.\nTraining it now with this notebook's parameters (the same recipe as notebook 06)...")
        train_cnn(P)
        model, ckpt = train.load_checkpoint(path)
    return model.to(P["torch_device"]), ckpt


def perturbed_accuracy(
    model: torch.nn.Module,
    images: torch.Tensor,
    labels: torch.Tensor,
    device: Any,
    seed: int = 0,
    blur: float = 1.5,
    noise: float = 0.3,
    shift: int = 3,
) -> dict[str, float]:
    """Return test accuracy on clean, blurred (σ=``blur``), noisy (σ=``noise``, seeded) and
    shifted (``shift`` px right and down) copies of ``images``."""
    from . import augment

    variants = {
        "clean": images,
        "blurred": augment.gaussian_blur(images, blur),
        "noisy": augment.add_noise(images, noise, generator=torch.Generator().manual_seed(seed)),
        "shifted": augment.shift(images, shift, shift),
    }
    return {
        name: train.evaluate(model, data.TensorLoader(x, labels, data.EVAL_BATCH_SIZE), device=device)["accuracy"]
        for name, x in variants.items()
    }


# --------------------------------------------------------------------------- running the course


def notebook_dir() -> Path:
    """Return the folder of the committed notebooks."""
    return runtime.repo_root() / "notebooks"


def _select(spec: str | None) -> list[str]:
    """Return the notebook names picked by ``spec`` ("01,03" or "03_training"); all when empty."""
    if not spec:
        return list(NOTEBOOKS)
    picked = []
    for item in spec.replace(" ", ",").split(","):
        if not item:
            continue
        match = [n for n in NOTEBOOKS if n == item or n.split("_")[0] == item.zfill(2) or n.split("_", 1)[1] == item]
        if not match:
            raise ValueError(f"Unknown notebook {item!r}; choose from {NOTEBOOKS} (or their numbers).")
        picked += [m for m in match if m not in picked]
    return picked


def _declared_parameters(path: Path) -> list[str]:
    """Return the names a notebook's ``parameters`` cell assigns: the names papermill can set.

    Read with ``ast``, not ``papermill.inspect_notebook``: importing papermill (nbformat, jsonschema) would
    add about 3 s to every notebook's start. No parameters cell: no names, as papermill says.
    """
    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    cell = next((c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])), {"source": ""})
    names = []
    for node in ast.parse("".join(cell["source"])).body:  # in the cell's order, like papermill's
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [t.id for t in targets if isinstance(t, ast.Name)]
    return names


def _load_params(params_file: str | None, overrides: list[list[str]]) -> tuple[dict, dict]:
    """Return ``(shared, per_notebook)`` parameters from a YAML file and ``-p NAME VALUE`` overrides.

    In the YAML file, top-level names apply to every notebook that declares them; a
    top-level key naming a notebook (``03_training:``) holds that notebook's own values.
    """
    import yaml

    shared: dict[str, Any] = {}
    per_nb: dict[str, dict] = {}
    if params_file:
        path = Path(params_file)
        if not path.is_file():
            raise ValueError(f"PARAMS={params_file} is not a file; give a YAML file of parameters.")
        content = yaml.safe_load(path.read_text()) or {}
        if not isinstance(content, dict):
            raise ValueError(f"{params_file} must hold a YAML mapping of parameter names to values.")
        for key, value in content.items():
            if key in NOTEBOOKS:
                if not isinstance(value, dict):
                    raise ValueError(f"{params_file}: the section {key!r} must be a mapping of parameters.")
                per_nb[key] = value
            else:
                shared[key] = value
    for name, raw in overrides:
        shared[name] = yaml.safe_load(raw)
    for nb, values in per_nb.items():
        declared = _declared_parameters(notebook_dir() / f"{nb}.ipynb")
        unknown = sorted(set(values) - set(declared))
        if unknown:
            raise ValueError(f"{params_file}: {nb} has no parameter(s) {unknown}; it takes {sorted(declared)}.")
    return shared, per_nb


def run_course(
    name: str = "default",
    params_file: str | None = None,
    overrides: list | None = None,
    notebooks: str | None = None,
    in_place: bool = False,
) -> int:
    """Execute the notebooks in order with papermill; print a summary; return the exit status.

    Into ``runs/<name>/`` (executed notebooks, ``artifacts/``, ``artifacts/figures/``), or
    with ``in_place`` over the committed notebooks themselves (for maintainers).
    """
    import papermill

    # Kernels inherit the environment: an MPLBACKEND such as Agg would keep figures out of the
    # executed notebooks (they are still saved as PNGs), so the kernels get the inline backend.
    backend = os.environ.pop("MPLBACKEND", None)
    try:
        return _run_notebooks(papermill, name, params_file, overrides, notebooks, in_place)
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend


def write_student_edition(out_dir: str | os.PathLike) -> list[Path]:
    """Write every notebook without its cells tagged ``solution`` (nbconvert's ``TagRemovePreprocessor``) to
    ``out_dir``; return the paths written. The committed notebooks are the instructor's edition."""
    import nbformat
    from nbconvert.preprocessors import TagRemovePreprocessor

    remove = TagRemovePreprocessor(remove_cell_tags={"solution"}, enabled=True)
    written = []
    for name in NOTEBOOKS:
        notebook, _ = remove.preprocess(nbformat.read(notebook_dir() / f"{name}.ipynb", as_version=4), {})
        with runtime.atomic_path(Path(out_dir) / f"{name}.ipynb") as tmp:
            nbformat.write(notebook, str(tmp))
        written.append(Path(out_dir) / f"{name}.ipynb")
    return written


def clear_run(out_dir: Path, keep: str = "artifacts/tuning.db") -> None:
    """Delete what an earlier run wrote in ``out_dir``, except ``keep`` (the study notebook 07 resumes)."""
    import shutil

    kept = out_dir / keep
    for item in sorted(out_dir.rglob("*"), key=lambda p: len(p.parts), reverse=True):  # deepest first
        if item == kept or item in kept.parents:
            continue
        shutil.rmtree(item) if item.is_dir() else item.unlink()


def _run_notebooks(
    papermill, name: str, params_file: str | None, overrides: list | None, notebooks: str | None, in_place: bool
) -> int:
    """Execute the chosen notebooks (see ``run_course``); return the exit status."""
    chosen = _select(notebooks)
    shared, per_nb = _load_params(params_file, overrides or [])
    src = notebook_dir()
    declared = {nb: _declared_parameters(src / f"{nb}.ipynb") for nb in chosen}
    known = set().union(*[set(d) for d in declared.values()]) if declared else set()
    unknown = sorted(set(shared) - known)
    if unknown:
        print(f"error: unknown parameter(s) {unknown}; the notebooks take {sorted(known)}.", file=sys.stderr)
        return 2
    if in_place:
        out_dir = src
    else:
        out_dir = runtime.repo_root() / "runs" / name
        if out_dir.exists():
            print(f"Replacing the earlier run in {out_dir} (its Optuna study, artifacts/tuning.db, is kept)")
            clear_run(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        shared.setdefault("artifacts", str(out_dir / "artifacts"))
    rows = []
    for nb in chosen:
        params = {**{k: v for k, v in shared.items() if k in declared[nb]}, **per_nb.get(nb, {})}
        shown = {k: v for k, v in params.items() if k != "artifacts"}
        print(f"==> {nb}" + (f"  {shown}" if shown else ""), flush=True)
        t0 = time.perf_counter()
        if not _execute(papermill, nb, params, out_dir / f"{nb}.ipynb"):
            return 1
        rows.append((nb, time.perf_counter() - t0, runtime.peak_rss_mb(children=True)))
    print(summary(rows, Path(shared.get("artifacts") or runtime.artifacts_dir()), out_dir))
    return 0


def _execute(papermill, nb: str, params: dict, out: Path) -> bool:
    """Run notebook ``nb`` with papermill into ``out``; return whether it ran to the end (else say where it failed)."""
    try:
        papermill.execute_notebook(
            str(notebook_dir() / f"{nb}.ipynb"),
            str(out),
            parameters=params,
            kernel_name="python3",
            cwd=str(notebook_dir()),
            progress_bar=False,
            log_output=False,
        )
    except papermill.PapermillExecutionError as exc:
        print(
            f"error: {nb} failed in cell {exc.exec_count}: {exc.ename}: {exc.evalue}\n"
            f"The executed notebook with the error is {out}",
            file=sys.stderr,
        )
        return False
    finally:  # saved widget views would show a bar frozen at 0% in JupyterLab: keep their final text instead
        from . import widget_outputs  # imports nbformat: only the runner needs it, not a notebook's start

        widget_outputs.freeze_widget_outputs_file(out)
    return True


def summary(rows: list[tuple[str, float, float | None]], artifacts: Path, out_dir: Path) -> str:
    """Return the end-of-run summary: seconds and peak kernel memory per notebook, and the test
    accuracies found in the artifacts.

    The memory column is the largest kernel so far (``getrusage`` keeps a running maximum): a
    notebook that did not raise it shows the earlier value in parentheses.
    """
    lines = ["", "Summary", "-------", f"  {'notebook':<18} {'seconds':>8}  {'peak kernel memory':>18}"]
    previous = 0.0
    for nb, seconds, peak in rows:
        if peak is None:
            mem = "n/a"
        elif peak > previous:
            mem = f"{peak:,.0f} MB"
        else:
            mem = f"(<= {peak:,.0f} MB)"
        previous = max(previous, peak or 0.0)
        lines.append(f"  {nb:<18} {seconds:8.1f}  {mem:>18}")
    lines.append(f"  {'total':<18} {sum(r[1] for r in rows):8.1f}")
    for label, fname, key in (
        ("MLP test accuracy", "metrics.json", "test_accuracy"),
        ("CNN test accuracy", "cnn_metrics.json", "test_accuracy"),
        ("Tuned MLP test accuracy", "tuning.json", "test_accuracy"),
    ):
        path = artifacts / fname
        if path.is_file():
            try:
                value = json.loads(path.read_text())[key]
                lines.append(f"  {label:<24} {value:.2%}")
            except (KeyError, ValueError, TypeError):
                pass
    lines.append(f"  notebooks: {out_dir}")
    lines.append(f"  artifacts: {artifacts}")
    return "\n".join(lines)
