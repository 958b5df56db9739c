"""The check of a notebook's parameters: each value against the type its parameters cell gives it, then a short
rule by name. A bad value raises a ``ValueError`` that names the parameter, the value, and what is allowed."""

from __future__ import annotations

import math
import re
import types
import typing
from typing import Any

from .runtime import DEVICES
from .train import SCHEDULES

#: Rules by name: (test, what the value must be). Names without a rule are checked by their type only.
AT_LEAST_1 = ("epochs", "batch_size", "n_trials", "trial_epochs", "timing_repeats", "ablation_epochs")
AT_LEAST_1 += ("ablation_images", "ablation_seeds", "trial_images", "subset", "overfit_steps", "train_images")
AT_LEAST_0 = ("seed", "val_size", "plain_epochs", "max_shift", "max_rotation", "weight_decay", "n_misclassified")
AT_LEAST_0 += ("worker", "log_every")
RULES: dict[str, tuple] = {name: (lambda v: v >= 1, ">= 1") for name in AT_LEAST_1}
RULES |= {name: (lambda v: v >= 0, ">= 0") for name in AT_LEAST_0}
RULES |= {name: (lambda v: v > 0, "> 0") for name in ("lr", "plain_lr", "overfit_lr")}
RULES |= {name: (lambda v: 0 <= v < 1, "in [0, 1)") for name in ("momentum", "label_smoothing")}
RULES |= {"schedule": (lambda v: v in SCHEDULES, f"one of {list(SCHEDULES)}")}
RULES |= {"device": (lambda v: re.fullmatch(DEVICES, v) is not None, "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'")}
RULES |= {name: (lambda v: all(x >= 1 for x in v), "positive") for name in ("hidden", "channels")}
RULES |= {name: (lambda v: all(x >= 0 for x in v), ">= 0") for name in ("blur_sigmas", "noise_stds")}


def describe(kind: Any) -> str:
    """Return how a type reads in an error message: "an integer", "a list of numbers", "an integer or None"."""
    args = typing.get_args(kind)
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return " or ".join(describe(a) for a in args)
    if typing.get_origin(kind) is list:
        return "a non-empty list of " + describe(args[0]).split(" ", 1)[1] + "s"
    names = {int: "an integer", float: "a number", bool: "True or False", str: "a string", type(None): "None"}
    return names.get(kind, f"a {kind!r}")


def convert(value: Any, kind: Any) -> tuple[bool, Any]:
    """Return ``(True, value)`` converted to ``kind`` (3.0 to 3 for an int, a tuple to a list), or ``(False, value)``
    when it is not of that kind."""
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return next(((True, v) for ok, v in (convert(value, a) for a in args) if ok), (False, value))
    if origin is list:
        items = [convert(x, args[0]) for x in value] if isinstance(value, (list, tuple)) else []
        return (bool(items) and all(ok for ok, _ in items)), [v for _, v in items]
    if kind is type(None):
        return value is None, value
    if kind is bool or isinstance(value, bool):  # True is an int to Python, not to a parameters cell
        return kind is bool and isinstance(value, bool), value
    if kind in (int, float) and isinstance(value, (int, float)) and math.isfinite(value):
        return kind is float or float(value).is_integer(), kind(value)
    return isinstance(kind, type) and isinstance(value, kind), value


def check(name: str, value: Any, kind: Any) -> Any:
    """Return parameter ``name``'s ``value`` converted to ``kind``; raise ``ValueError`` when it is not allowed."""
    ok, value_as_kind = convert(value, kind)
    test, rule = RULES.get(name, (lambda v: True, ""))
    if ok and (value_as_kind is None or test(value_as_kind)):
        return value_as_kind
    allowed = describe(kind) + (f", {rule}" if rule else "")
    raise ValueError(f"Parameter {name}={value!r} is not allowed: it must be {allowed}.")
