"""A stand-in accelerator for tests on a machine without one.

``ShadowDevice`` is a ``TorchFunctionMode`` that treats ``torch.device("cpu", 0)`` as if it
were a separate device (a GPU): ``x.to(cpu:0)`` and ``model.to(cpu:0)`` put a tensor "on the
accelerator" (a mark on the Python object), ``x.cpu()`` / ``x.to("cpu")`` bring it back, and
every result of an operation on a marked tensor is marked. An operation that mixes marked and
unmarked tensors (other than 0-dim CPU scalars, which CUDA also accepts), or ``.numpy()`` of a
marked tensor, raises ``DeviceMixError`` just as CUDA would raise. The arithmetic itself runs on
the CPU, so whole notebooks train and evaluate with real values.

``install()`` is what a notebook kernel runs at start-up (see ``startup_dir``): it enters the
mode and makes ``mnist_lab.runtime.choose_device`` return the shadow device, so a notebook with
``device="auto"`` behaves as on a machine with a GPU.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten

SHADOW = torch.device("cpu", 0)
_MARK = "_on_shadow_device"


class DeviceMixError(RuntimeError):
    """An operation mixed tensors of the CPU and of the (shadow) accelerator."""


def on_shadow(t: torch.Tensor) -> bool:
    """Return True if ``t`` is on the shadow accelerator."""
    return getattr(t, _MARK, False)


def _target(args: tuple, kwargs: dict):
    """Return the device a ``Tensor.to`` call asks for, or None when it names none."""
    for a in list(args[1:]) + [kwargs.get("device")]:
        if isinstance(a, (str, torch.device)):
            return torch.device(a)
        if isinstance(a, torch.Tensor):
            return SHADOW if on_shadow(a) else torch.device("cpu")
    return None


def _is_shadow(device: torch.device | None) -> bool:
    return device is not None and device.type == "cpu" and device.index is not None


class ShadowDevice(TorchFunctionMode):
    """See the module docstring."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in ("to", "cpu", "cuda") and args and isinstance(args[0], torch.Tensor):
            src = args[0]
            device = torch.device("cpu") if name == "cpu" else _target(args, kwargs)
            out = func(*args, **kwargs)
            if device is None:  # a dtype change keeps the device
                return self._mark(out, on_shadow(src))
            if isinstance(src, torch.nn.Parameter):  # Module.to: the parameter object itself moves
                setattr(src, _MARK, _is_shadow(device))
                return self._mark(out, _is_shadow(device))
            if out is src:  # .to() of a tensor already there returns it: give the copy its own mark
                out = out.view_as(out) if out.requires_grad else out.detach().clone()
            return self._mark(out, _is_shadow(device))
        if func == torch.Tensor.device.__get__:  # a marked tensor reports the accelerator as its device
            return SHADOW if on_shadow(args[0]) else func(*args, **kwargs)
        if name in ("numpy", "__array__") and args and on_shadow(args[0]):
            raise DeviceMixError("can't convert a tensor on the accelerator to numpy: use .cpu() first")
        if name == "copy_" and args:  # copies between devices are allowed (load_state_dict uses them)
            return self._mark(func(*args, **kwargs), on_shadow(args[0]))
        flat, _ = tree_flatten((args, kwargs))
        tensors = [t for t in flat if isinstance(t, torch.Tensor)]
        shadow = [on_shadow(t) for t in tensors]
        created_on = kwargs.get("device")
        creates_shadow = isinstance(created_on, (str, torch.device)) and _is_shadow(torch.device(created_on))
        if any(shadow) and not all(s or t.dim() == 0 for s, t in zip(shadow, tensors)):
            raise DeviceMixError(
                f"{name or func}: expected all tensors on the same device, found the accelerator and the CPU "
                f"(shapes {[tuple(t.shape) for t in tensors]}, on accelerator {shadow})"
            )
        out = func(*args, **kwargs)
        return self._mark(out, any(shadow) or creates_shadow)

    @staticmethod
    def _mark(out, value: bool):
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor):
                setattr(t, _MARK, value)
        return out


def install() -> ShadowDevice:
    """Enter the shadow mode for the rest of the process and make ``device="auto"`` choose it."""
    from mnist_lab import runtime

    mode = ShadowDevice()
    mode.__enter__()
    real_choose = runtime.choose_device

    def choose_device(preference=None):
        return SHADOW if (preference or "auto") == "auto" else real_choose(preference)

    choose_device.real = real_choose  # for the test of choose_device itself
    runtime.choose_device = choose_device
    return mode


def startup_dir(tmp: Path) -> Path:
    """Return an IPYTHONDIR whose start-up file installs the shadow device in every kernel."""
    startup = tmp / "profile_default" / "startup"
    startup.mkdir(parents=True, exist_ok=True)
    here = Path(__file__).resolve().parent
    (startup / "00-shadow-device.py").write_text(
        f"import sys\nsys.path.insert(0, {str(here)!r})\nimport device_check\ndevice_check.install()\n"
        f"print('shadow accelerator installed', file=sys.stderr)\n"
    )
    return tmp
