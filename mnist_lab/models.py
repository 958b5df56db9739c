"""The course's models: the MLP of notebooks 02–05 and the CNN of notebook 06."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class MLP(nn.Module):
    """A multilayer perceptron for 28×28 digits: 784 → hidden … → 10, ReLU between layers.

    The default ``hidden=(128, 64)`` is the course's 784-128-ReLU-64-ReLU-10 network
    (109,386 parameters). Accepts images ``(N, 1, 28, 28)`` or flat rows ``(N, 784)``.
    Notebook 02 writes it out by hand with fixed sizes; this copy takes the hidden sizes.
    """

    def __init__(self, hidden: Sequence[int] = (128, 64), in_features: int = 784, num_classes: int = 10) -> None:
        super().__init__()
        hidden = tuple(int(h) for h in hidden)
        if any(h < 1 for h in hidden):
            raise ValueError(f"hidden={list(hidden)} must be positive integers, e.g. [128, 64].")
        self.config = {"name": "mlp", "hidden": list(hidden), "in_features": in_features, "num_classes": num_classes}
        layers: list[nn.Module] = []
        width = in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits ``(N, 10)`` for a batch of images or flat rows."""
        return self.layers(x.reshape(x.shape[0], -1))

    def hidden_features(self, x: torch.Tensor) -> torch.Tensor:
        """Return the activations of the last hidden layer (after its ReLU)."""
        return self.layers[:-1](x.reshape(x.shape[0], -1))


def conv_block(c_in: int, c_out: int, pool: bool = False) -> nn.Sequential:
    """Return conv 3×3 → (max-pool 2×2) → batchnorm → ReLU (notebook 06).

    Pooling right after the convolution computes nearly what pooling after the ReLU does
    (max-pooling commutes with a rising function) but runs batchnorm and ReLU on a quarter
    of the pixels: an epoch of the CNN 8% faster on a 2-core CPU (`benchmarks/cnn_recipes.py --speed`).
    """
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.BatchNorm2d(c_out), nn.ReLU())


class CNN(nn.Module):
    """The small CNN of notebook 06: four conv blocks (28×28 → 14×14 → 7×7 → 7×7 → 3×3), then a linear layer.

    The default ``channels=(16, 32, 64)`` has 38,458 parameters. Accepts images
    ``(N, 1, 28, 28)`` or flat rows ``(N, 784)``.
    """

    def __init__(self, channels: Sequence[int] = (16, 32, 64), num_classes: int = 10) -> None:
        super().__init__()
        channels = [int(c) for c in channels]
        if len(channels) != 3 or any(c < 1 for c in channels):
            raise ValueError(f"channels={channels} must be three positive integers, e.g. [16, 32, 64].")
        c1, c2, c3 = channels
        self.config = {"name": "cnn", "channels": channels, "num_classes": num_classes}
        self.features = nn.Sequential(
            conv_block(1, c1, pool=True),  # 28×28 → 14×14: strokes and edges
            conv_block(c1, c2, pool=True),  # 14×14 → 7×7: parts of digits
            conv_block(c2, c2),  # 7×7: one more layer where it is cheap
            conv_block(c2, c3, pool=True),  # 7×7 → 3×3: whole shapes
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c3 * 3 * 3, num_classes))
        # Channels-last memory is faster for these convolutions on a CPU (benchmarks/cnn_recipes.py --speed).
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits ``(N, 10)`` for images ``(N, 1, 28, 28)`` or flat rows ``(N, 784)``."""
        x = x.reshape(x.shape[0], 1, 28, 28).contiguous(memory_format=torch.channels_last)
        return self.head(self.features(x))


MODELS = {"mlp": MLP, "cnn": CNN}


def build_model(config: dict[str, Any]) -> nn.Module:
    """Return a fresh model from a config dict such as ``model.config`` (``{"name": "mlp", ...}``)."""
    config = dict(config)
    name = config.pop("name", "mlp")
    if name not in MODELS:
        raise ValueError(f"model={name!r} is not known; use one of {sorted(MODELS)}.")
    return MODELS[name](**config)


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters. Notebook 02 counts them first with the same sum."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def layer_table(model: nn.Module, example: torch.Tensor) -> list[dict[str, Any]]:
    """Return one row per leaf layer: name, output shape for ``example``, and parameter count. Notebook 02 prints it for
    the MLP, notebook 06 for the CNN."""
    rows: list[dict[str, Any]] = []
    hooks = []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0:

            def hook(mod, inp, out, name=name):
                rows.append(
                    {
                        "layer": name,
                        "type": type(mod).__name__,
                        "output": tuple(out.shape),
                        "params": sum(p.numel() for p in mod.parameters()),
                    }
                )

            hooks.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(example)
    finally:
        for h in hooks:
            h.remove()
    return rows
