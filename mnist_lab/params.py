"""Validation of the notebooks' parameters: one call, one clear ``ValueError``.

Each notebook's ``parameters`` cell is followed by::

    P = validate_params(dict(seed=seed, epochs=epochs, ...))

which returns the values checked and normalised (paths resolved, numbers typed),
or raises ``ValueError`` naming the parameter, the value and what is allowed.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import Any, Callable

from . import runtime
from .models import MODELS
from .train import OPTIMIZERS, SCHEDULES

DEVICES = ("auto", "cpu", "cuda", "mps")


def _fail(name: str, value: Any, allowed: str) -> ValueError:
    return ValueError(f"Parameter {name}={value!r} is not allowed: {allowed}.")


def _int(lo: int | None = None, hi: int | None = None, optional: bool = False) -> Callable:
    text = "an integer" + (f" >= {lo}" if lo is not None else "") + (f" and <= {hi}" if hi is not None else "")
    if optional:
        text += " (or None)"

    def check(name: str, v: Any) -> Any:
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            if isinstance(v, float) and v.is_integer():
                v = int(v)
            else:
                raise _fail(name, v, f"it must be {text}")
        v = int(v)
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            raise _fail(name, v, f"it must be {text}")
        return v
    return check


def _float(lo: float | None = None, hi: float | None = None, lo_open: bool = False, hi_open: bool = False,
           optional: bool = False) -> Callable:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    text = "a number" + (" " + " and ".join(parts) if parts else "") + (" (or None)" if optional else "")

    def check(name: str, v: Any) -> Any:
        if v is None and optional:
            return None
        if isinstance(v, bool) or not isinstance(v, numbers.Real):
            raise _fail(name, v, f"it must be {text}, e.g. 0.05")
        v = float(v)
        if v != v or v in (float("inf"), float("-inf")):
            raise _fail(name, v, f"it must be {text}")
        if lo is not None and (v < lo or (lo_open and v == lo)):
            raise _fail(name, v, f"it must be {text}")
        if hi is not None and (v > hi or (hi_open and v == hi)):
            raise _fail(name, v, f"it must be {text}")
        return v
    return check


def _choice(options: tuple[str, ...]) -> Callable:
    def check(name: str, v: Any) -> str:
        if not isinstance(v, str) or v.lower() not in options:
            raise _fail(name, v, f"it must be one of {list(options)}")
        return v.lower()
    return check


def _bool(name: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise _fail(name, v, "it must be True or False")
    return v


def _list_of(kind: type, lo: float, example: str) -> Callable:
    """Return a checker for a non-empty list of ``kind`` values, each at least ``lo``."""
    noun = "positive integers" if kind is numbers.Integral else f"numbers >= {lo:g}"
    allowed = f"it must be a non-empty list of {noun}, e.g. {example}"

    def check(name: str, v: Any) -> list:
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            raise _fail(name, v, allowed)
        out = list(v)
        if not out or any(isinstance(x, bool) or not isinstance(x, kind) or x < lo for x in out):
            raise _fail(name, v, allowed)
        return [int(x) if kind is numbers.Integral else float(x) for x in out]
    return check


_int_list = _list_of(numbers.Integral, 1, "[128, 64]")
_float_list = _list_of(numbers.Real, 0, "[0, 0.5, 1.0]")


def _folder(kind: str) -> Callable:
    def check(name: str, v: Any) -> str:
        if v is not None and not isinstance(v, (str, Path)):
            raise _fail(name, v, "it must be a folder path (a string) or None for the default")
        path = runtime.data_root(v) if kind == "data" else runtime.artifacts_dir(v, create=False)
        if path.exists() and not path.is_dir():
            raise _fail(name, v, f"it must be a folder, but {path} is a file; choose another path")
        return str(path)
    return check


def _optional_str(name: str, v: Any) -> Any:
    if v is not None and not isinstance(v, str):
        raise _fail(name, v, "it must be a string or None")
    return v


SPEC: dict[str, Callable[[str, Any], Any]] = {
    "seed": _int(0),
    "data_root": _folder("data"),
    "artifacts": _folder("artifacts"),
    "epochs": _int(1, 1000),
    "batch_size": _int(1, 60000),
    "eval_batch_size": _int(1, 60000),
    "lr": _float(0, 10, lo_open=True),
    "momentum": _float(0, 1, hi_open=True),
    "weight_decay": _float(0, 1),
    "optimizer": _choice(OPTIMIZERS),
    "schedule": _choice(SCHEDULES),
    "model": _choice(tuple(MODELS)),
    "hidden": _int_list,
    "channels": _int_list,
    "subset": _int(1, optional=True),
    "val_size": _int(0, 59999),
    "fast": _bool,
    "progress": _bool,
    "device": _choice(DEVICES),
    "log_every": _int(0, optional=True),
    "plain_epochs": _int(0, 1000),
    "plain_lr": _float(0, 10, lo_open=True),
    "augment": _bool,
    "max_shift": _int(0, 8),
    "max_rotation": _float(0, 45),
    "blur_sigmas": _float_list,
    "noise_stds": _float_list,
    "n_trials": _int(1, 10000),
    "trial_epochs": _int(1, 1000),
    "storage": _optional_str,
    "study_name": _optional_str,
    "min_accuracy": _float(0, 1, optional=True),
    "timing_repeats": _int(1, 100),
    "n_misclassified": _int(0, 200),
    "cnn_epochs": _int(1, 1000),
    "cnn_batch_size": _int(1, 60000),
    "cnn_lr": _float(0, 10, lo_open=True),
    "cnn_momentum": _float(0, 1, hi_open=True),
    "label_smoothing": _float(0, 1, hi_open=True),
    "worker": _int(0, 10000),
    "n_pca": _int(10, 10000),
}


def validate_params(params: dict[str, Any]) -> dict[str, Any]:
    """Return ``params`` checked and normalised; raise ``ValueError`` on the first bad value.

    The message names the parameter, the value given and what is allowed. Unknown
    names are refused too (a typo in a papermill ``-p`` would otherwise be ignored).
    """
    unknown = sorted(set(params) - set(SPEC))
    if unknown:
        raise ValueError(f"Unknown parameter(s) {unknown}; known parameters are {sorted(SPEC)}.")
    return {name: SPEC[name](name, value) for name, value in params.items()}
