"""The notebooks' parameters, checked in one call: ``validate_params`` raises a ``ValueError`` that names the
parameter, the value given and what is allowed (a typo in a papermill ``-p`` is refused too)."""

from __future__ import annotations

import math
import numbers
import os
import re
from typing import Any

from . import runtime
from .train import SCHEDULES

DEVICE_RULE = "'auto', 'cpu', 'mps', 'cuda' or 'cuda:N' (a GPU's number)"

# name: (kind, lowest, highest). Kinds: int, float, bool, str, a tuple of choices, "ints"/"floats" (a
# non-empty list), "folder". A bound in parentheses is open: (0,) means "> 0". None allowed where marked `?`.
RULES: dict[str, tuple] = {
    "seed": ("int", 0, None),
    "epochs": ("int", 1, 1000),
    "plain_epochs": ("int", 0, 1000),
    "cnn_epochs": ("int", 1, 1000),
    "trial_epochs": ("int", 1, 1000),
    "batch_size": ("int", 1, 60000),
    "cnn_batch_size": ("int", 1, 60000),
    "val_size": ("int", 0, 59999),
    "subset": ("int?", 1, None),
    "log_every": ("int?", 0, None),
    "max_shift": ("int", 0, 8),
    "n_trials": ("int", 1, 10000),
    "timing_repeats": ("int", 1, 100),
    "n_misclassified": ("int", 0, 200),
    "worker": ("int", 0, 10000),
    "n_pca": ("int", 10, 10000),
    "trial_images": ("int?", 1, 60000),
    "ablation_images": ("int", 1, 60000),
    "ablation_epochs": ("int", 1, 1000),
    "ablation_seeds": ("int", 1, 100),
    "lr": ("float", (0,), 10),
    "plain_lr": ("float", (0,), 10),
    "cnn_lr": ("float", (0,), 10),
    "momentum": ("float", 0, (1,)),
    "cnn_momentum": ("float", 0, (1,)),
    "weight_decay": ("float", 0, 1),
    "label_smoothing": ("float", 0, (1,)),
    "max_rotation": ("float", 0, 45),
    "min_accuracy": ("float?", 0, 1),
    "hidden": ("ints", 1, None),
    "channels": ("ints", 1, None),
    "blur_sigmas": ("floats", 0, None),
    "noise_stds": ("floats", 0, None),
    "augment": ("bool", None, None),
    "progress": ("bool", None, None),
    "schedule": (SCHEDULES, None, None),
    "device": ("device", None, None),
    "data_root": ("folder", None, None),
    "artifacts": ("folder", None, None),
    "storage": ("str?", None, None),
    "study_name": ("str?", None, None),
}


def _bounds(lo: Any, hi: Any) -> str:
    """Return " >= 1 and <= 1000" (a bound in a tuple is open: " > 0")."""
    parts = [f"> {lo[0]:g}" if isinstance(lo, tuple) else f">= {lo:g}"] if lo is not None else []
    parts += [f"< {hi[0]:g}" if isinstance(hi, tuple) else f"<= {hi:g}"] if hi is not None else []
    return " " + " and ".join(parts) if parts else ""


def _within(v: float, lo: Any, hi: Any) -> bool:
    low_ok = lo is None or (v > lo[0] if isinstance(lo, tuple) else v >= lo)
    high_ok = hi is None or (v < hi[0] if isinstance(hi, tuple) else v <= hi)
    return low_ok and high_ok


def check(name: str, v: Any) -> Any:
    """Return the value of parameter ``name`` checked and normalised; raise a ``ValueError`` if it is not allowed."""
    kind, lo, hi = RULES[name]
    optional = isinstance(kind, str) and kind.endswith("?")
    kind = kind.rstrip("?") if isinstance(kind, str) else kind
    allowed = {
        "int": f"an integer{_bounds(lo, hi)}",
        "float": f"a number{_bounds(lo, hi)}",
        "ints": "a non-empty list of positive integers, e.g. [128, 64]",
        "floats": "a non-empty list of numbers >= 0, e.g. [0, 0.5, 1.0]",
        "bool": "True or False",
        "str": "a string",
        "device": f"one of {DEVICE_RULE}",
        "folder": "a folder path (a string) or None for the default",
    }.get(kind, f"one of {list(kind)}")
    fail = ValueError(f"Parameter {name}={v!r} is not allowed: it must be {allowed}{' (or None)' * optional}.")
    if v is None and optional:
        return None
    if kind == "folder" and (v is None or isinstance(v, (str, os.PathLike))):
        return _folder(name, v)  # None: the default folder
    if kind == "int" and isinstance(v, float) and v.is_integer():
        v = int(v)
    if kind in ("int", "float"):
        wanted = numbers.Integral if kind == "int" else numbers.Real
        if isinstance(v, bool) or not isinstance(v, wanted) or not math.isfinite(v) or not _within(v, lo, hi):
            raise fail
        return int(v) if kind == "int" else float(v)
    if kind in ("ints", "floats"):
        wanted = numbers.Integral if kind == "ints" else numbers.Real
        items = list(v) if hasattr(v, "__iter__") and not isinstance(v, (str, bytes)) else None
        if not items or any(isinstance(x, bool) or not isinstance(x, wanted) or x < lo for x in items):
            raise fail
        return [int(x) if kind == "ints" else float(x) for x in items]
    if kind == "bool" and isinstance(v, bool) or kind == "str" and isinstance(v, str):
        return v
    if kind == "device" and isinstance(v, str) and re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", v.strip().lower()):
        return v.strip().lower()
    if isinstance(kind, tuple) and isinstance(v, str) and v.lower() in kind:
        return v.lower()
    raise fail


def _folder(name: str, v: str | os.PathLike | None) -> str:
    path = runtime.data_root(v) if name == "data_root" else runtime.artifacts_dir(v, create=False)
    if path.exists() and not path.is_dir():
        raise ValueError(
            f"Parameter {name}={v!r} is not allowed: it must be a folder, but {path} is a file; choose another path."
        )
    return str(path)


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Return ``params`` checked and normalised; raise ``ValueError`` on the first bad value or unknown name."""
    unknown = sorted(set(params) - set(RULES))
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown}; known parameters are {sorted(RULES)}.")
    return {name: check(name, value) for name, value in params.items()}
