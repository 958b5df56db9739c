"""Seeding, device choice, paths, atomic file writes, and the SQLite storage that tuning workers share.

Every path the course uses comes from here, never from the current directory, so a
notebook behaves the same whether it is started from the repo root, from
``notebooks/`` or by papermill from anywhere.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

DATA_ENV = "MNIST_LAB_DATA"
ARTIFACTS_ENV = "MNIST_LAB_ARTIFACTS"
MIRROR_ENV = "MNIST_LAB_MIRROR"
DEVICE_ENV = "MNIST_LAB_DEVICE"


def repo_root() -> Path:
    """Return the folder that holds ``pyproject.toml`` and ``notebooks/``.

    The package is installed in editable mode, so this is the parent of the
    ``mnist_lab`` folder. Outside a checkout it falls back to ``~/.mnist_lab``.
    """
    here = Path(__file__).resolve().parent.parent
    if (here / "pyproject.toml").is_file():
        return here
    return Path.home() / ".mnist_lab"


def _resolve(value: str | os.PathLike | None, env: str, default: str) -> Path:
    """Return ``value``, else the environment variable ``env``, else ``repo_root()/default``.

    Relative paths are taken relative to the repo root, not the current directory.
    """
    raw = value if value not in (None, "") else os.environ.get(env) or None
    path = Path(raw).expanduser() if raw is not None else Path(default)
    if not path.is_absolute():
        path = repo_root() / path
    return path


def data_root(value: str | os.PathLike | None = None) -> Path:
    """Return the data root: ``value``, else ``$MNIST_LAB_DATA``, else ``<repo>/data``."""
    return _resolve(value, DATA_ENV, "data")


def artifacts_dir(value: str | os.PathLike | None = None, create: bool = True) -> Path:
    """Return the artifacts folder: ``value``, else ``$MNIST_LAB_ARTIFACTS``, else ``<repo>/artifacts``."""
    path = _resolve(value, ARTIFACTS_ENV, "artifacts")
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path


def figures_dir(artifacts: str | os.PathLike | None = None) -> Path:
    """Return ``<artifacts>/figures``, created if missing."""
    path = artifacts_dir(artifacts) / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a ``torch.Generator`` seeded the same way.

    The same seed gives the same training history on the same machine.
    """
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def choose_device(preference: str | None = None) -> torch.device:
    """Return the device to train on: ``preference`` (or ``$MNIST_LAB_DEVICE``) if given,
    else cuda, then mps, then cpu.

    ``"auto"`` means the same as no preference. An unavailable device raises ``ValueError``.
    """
    pref = (preference or os.environ.get(DEVICE_ENV) or "auto").strip().lower()
    if pref == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if not re.fullmatch(r"cpu|mps|cuda(:\d+)?", pref):
        raise ValueError(f"device={preference!r} is not known; use 'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'.")
    if pref.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={preference!r} was asked for but CUDA is not available here; use 'auto' or 'cpu'.")
    if pref.startswith("cuda:") and int(pref[5:]) >= torch.cuda.device_count():
        n = torch.cuda.device_count()
        raise ValueError(f"device={preference!r} was asked for but this machine has {n} GPUs (cuda:0 to cuda:{n - 1}).")
    if pref == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device='mps' was asked for but MPS is not available here; use 'auto' or 'cpu'.")
    return torch.device(pref)


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; on success it replaces ``target`` atomically.

    A crash or Ctrl-C while writing leaves the old ``target`` untouched and no
    half-written file under its name.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp_path, 0o666 & ~umask)
    try:
        yield tmp_path
        with open(tmp_path, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def peak_rss_mb(children: bool = False) -> float | None:
    """Return the peak resident memory in MB of this process, or with ``children`` of its largest
    finished child process (``getrusage`` keeps a maximum, not a sum). ``None`` without ``resource``."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    peak = resource.getrusage(who).ru_maxrss  # KiB on Linux, bytes on macOS
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def write_json(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` as indented JSON to ``path`` atomically; return the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, sort_keys=True) + "\n")
    return path


def read_json(path: str | os.PathLike) -> Any:
    """Return the parsed JSON in ``path``."""
    return json.loads(Path(path).read_text())


def sqlite_storage(url: str, attempts: int = 5):
    """Return an Optuna storage for the SQLite database at ``url`` that several worker processes can share.

    Notebook 07's ``open_study`` calls it. A worker waits up to a minute for a busy file instead of failing.
    SQLite has no ``SELECT ... FOR UPDATE``, so two workers could both read the queued trial as waiting and both
    run it; every transaction therefore takes the file's write lock when it begins (``BEGIN IMMEDIATE``, with
    pysqlite's own transaction handling off: SQLAlchemy's recipe for pysqlite). Workers started together on a new
    file all try to create its tables, and all but one are refused ("table ... already exists"); each of those
    tries again a moment later, up to ``attempts`` times, and finds the tables made.
    """
    import optuna
    import sqlalchemy

    connect_args = {"timeout": 60, "isolation_level": None}
    for attempt in range(1, attempts + 1):
        try:
            storage = optuna.storages.RDBStorage(url, engine_kwargs={"connect_args": connect_args})
            break
        except sqlalchemy.exc.DBAPIError:
            if attempt == attempts:
                raise
            time.sleep(0.2 * attempt)  # another worker is creating the tables
    sqlalchemy.event.listen(storage.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))
    return storage
