"""Paths, seeding, the device and file writes: plumbing no lesson needs to read.

A notebook behaves the same from a checkout of the course, from an installed wheel, or copied alone into
an empty folder. In a checkout, the data and the artifacts live in the checkout (``data/``, ``artifacts/``);
elsewhere the data goes to a per-user folder and the artifacts beside the notebook (``./artifacts``).
"""

from __future__ import annotations

import json
import os
import random
import re
from pathlib import Path
from typing import Any

import numpy as np
import torch

DATA_ENV = "MNIST_LAB_DATA"
ARTIFACTS_ENV = "MNIST_LAB_ARTIFACTS"
MIRROR_ENV = "MNIST_LAB_MIRROR"
DEVICE_ENV = "MNIST_LAB_DEVICE"
DEVICES = r"auto|cpu|mps|cuda(:\d+)?"  #: the devices a notebook may ask for


def checkout() -> Path | None:
    """Return the course's checkout when the package runs from one (``pyproject.toml`` and ``notebooks/`` beside
    it), else ``None`` (an installed wheel)."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() and (here / "notebooks").is_dir() else None


def _folder(value: str | os.PathLike | None, env: str, in_checkout: str, elsewhere: Path) -> Path:
    """Return ``value``, else ``$env``, else ``<checkout>/in_checkout``, else ``elsewhere``. A relative path is
    taken from the checkout (from the current folder outside one)."""
    raw = value if value not in (None, "") else os.environ.get(env) or None
    base = checkout() or Path.cwd()
    if raw is None:
        return base / in_checkout if checkout() else elsewhere
    path = Path(raw).expanduser()
    return path if path.is_absolute() else base / path


def data_root(value: str | os.PathLike | None = None) -> Path:
    """Return the data root: ``value``, else ``$MNIST_LAB_DATA``, else ``<checkout>/data``, else a per-user
    folder (``$XDG_CACHE_HOME/mnist-lab``, by default ``~/.cache/mnist-lab``)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return _folder(value, DATA_ENV, "data", cache / "mnist-lab")


def artifacts_dir(value: str | os.PathLike | None = None) -> Path:
    """Return the artifacts folder: ``value``, else ``$MNIST_LAB_ARTIFACTS``, else ``<checkout>/artifacts``, else
    ``artifacts`` in the current folder (beside the notebook)."""
    return _folder(value, ARTIFACTS_ENV, "artifacts", Path.cwd() / "artifacts")


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and PyTorch: the same seed gives the same run on the same machine."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def choose_device(preference: str | None = None) -> torch.device:
    """Return the device to train on: ``preference`` (or ``$MNIST_LAB_DEVICE``), where "auto" (the default) means
    cuda, then mps, then cpu. An unknown or unavailable device raises ``ValueError`` saying what to use instead."""
    pref = (preference or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if pref == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "mps" if mps else "cpu")
    if not re.fullmatch(DEVICES, pref):
        raise ValueError(f"device={preference!r} is not known: use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'.")
    index = int(pref[5:]) if pref.startswith("cuda:") else 0
    missing = pref.startswith("cuda") and index >= torch.cuda.device_count() or pref == "mps" and not mps
    if missing:
        raise ValueError(f"device={preference!r} was asked for, but this machine has no such device: use 'auto'.")
    return torch.device(pref)


def replace_file(path: str | os.PathLike, write) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``: a crash or Ctrl-C
    while writing leaves the old file whole. Return ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` (whole or not at all); return the path."""
    return replace_file(path, lambda tmp: tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n"))


def read_json(path: str | os.PathLike) -> Any:
    """Return the parsed JSON in ``path``."""
    return json.loads(Path(path).read_text())
