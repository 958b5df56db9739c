"""What the three benchmark scripts share: the machine's description, a child process on another float path,
training a recipe as the course does, and mean ± std. Maintainers' code: the notebooks never import it."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from torch import nn

from mnist_lab import augment, course, models, runtime, train

HERE = Path(__file__).resolve().parent
QUICK_DIR = HERE.parent / "build" / "bench"  #: where --quick runs write, so they never replace the records
#: Another float path on this machine, as another CPU would round: no vectorised kernels, MKL's reproducible
#: code path, one thread (each alone changes the trained weights' bits). Set before torch starts: a child process.
OTHER_FLOAT_PATH = {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "OMP_NUM_THREADS": "1"}
QUICK_CHANGES = {"subset": 2000, "epochs": 1}  #: --quick: each split cut to 2,000 images, one epoch


def machine() -> dict:
    """Return this machine's CPU model, cores, versions, threads and the CPU capability torch uses."""
    import torchvision

    cpu = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines() if Path("/proc/cpuinfo").exists() else []:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "threads": torch.get_num_threads(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "python": platform.python_version(),
    }


def describe(info: dict) -> str:
    """Return "AMD EPYC, 2 cores, torch 2.14.1 (2 threads, AVX2), Python 3.11.7"."""
    return (
        f"{info['cpu']}, {info['cores']} cores, torch {info['torch']} ({info['threads']} threads, "
        f"{info['cpu_capability']}), Python {info['python']}"
    )


def spawn(script: str, job: dict, env: dict | None = None) -> dict:
    """Run ``script --worker job`` in a fresh Python with ``env`` added; return the JSON it prints last."""
    command = [sys.executable, script, "--worker", json.dumps(job)]
    proc = subprocess.run(command, stdout=subprocess.PIPE, text=True, env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise SystemExit(f"{Path(script).name} worker {job} failed (its error is above)")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def train_as_course(kind: str, changes: dict, network=None, on_epoch_end=None):
    """Train model ``kind`` with the default recipe and ``changes`` step by step as ``course.train_model`` does (its
    loaders, seeding, loss, augmentation and ``fit``), on the CPU, with no checkpoint; ``network(model)`` may change
    the freshly built model. Return ``(model, history, recipe, test_loader)``."""
    r = {**course.RECIPES[kind], **changes}
    train_loader, val_loader, test_loader = course.loaders(r)
    runtime.seed_everything(r["seed"])
    options = {}
    if kind == "cnn":
        model = models.CNN(r["channels"])
        options["loss_fn"] = nn.CrossEntropyLoss(label_smoothing=r["label_smoothing"])
        options["augment"] = augment.Augment(r["max_shift"], r["max_rotation"]) if r["augment"] else None
    else:
        model = models.MLP(r["hidden"])
    model = network(model) if network else model
    settings = {name: r[name] for name in train.SETTINGS}
    history = train.fit(
        model, train_loader, val_loader, device="cpu", recipe=r, verbose=False, on_epoch_end=on_epoch_end,
        **settings, **options,
    )  # fmt: skip
    return model, history, r, test_loader


def check_same_as_course(kind: str) -> None:
    """Stop unless ``train_as_course`` trains the very weights ``course.train_model`` does (1,000 images, 1 epoch)."""
    changes = {"subset": 1000, "epochs": 1, "seed": 5}
    ours = train_as_course(kind, changes)[0]
    with tempfile.TemporaryDirectory() as tmp:
        theirs = course.train_model(kind, changes, tmp)[0]
    pairs = zip(ours.state_dict().values(), theirs.state_dict().values())
    if not all(torch.equal(a, b) for a, b in pairs):
        raise SystemExit(f"train_as_course no longer trains the {kind} as course.train_model does: update it.")


def mean_std(values: list[float]) -> tuple[float, float]:
    """Return the mean and the sample standard deviation (0 for one value)."""
    return statistics.mean(values), statistics.stdev(values) if len(values) > 1 else 0.0


def pct(values: list[float]) -> str:
    """Return "98.40% ± 0.05%" (mean ± std over seeds), or "98.40%" for one value."""
    mean, std = mean_std(values)
    return f"{mean:.2%} ± {std:.2%}" if len(values) > 1 else f"{mean:.2%}"


def out_path(args, name: str) -> Path:
    """Return where a script writes its JSON: ``--out``, else ``build/bench/`` for ``--quick``, else here."""
    return Path(args.out) if args.out else (QUICK_DIR if args.quick else HERE) / name
