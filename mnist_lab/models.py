"""The course's models: the MLP of notebook 02 and the CNN of notebook 09 (trained in 10), saved for later notebooks."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn


class MLP(nn.Module):
    """784 → hidden … → 10 with a ReLU after each hidden layer; ``hidden=(128, 64)`` is the course's MLP (109,386
    parameters). Accepts images ``(N, 1, 28, 28)`` or rows ``(N, 784)``. Notebook 02 writes it with fixed sizes."""

    def __init__(self, hidden: Sequence[int] = (128, 64)) -> None:
        super().__init__()
        self.config = {"name": "mlp", "hidden": [int(h) for h in hidden]}
        widths = [28 * 28, *self.config["hidden"]]  # each layer's inputs, then the last hidden size
        layers = [m for a, b in zip(widths, widths[1:]) for m in (nn.Linear(a, b), nn.ReLU())]
        self.layers = nn.Sequential(*layers, nn.Linear(widths[-1], 10))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits ``(N, 10)``."""
        return self.layers(x.reshape(x.shape[0], -1))


def conv_block(c_in: int, c_out: int, pool: bool = False) -> nn.Sequential:
    """Return conv 3×3 → (max-pool 2×2) → batch norm → ReLU, as notebook 09 builds it."""
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.BatchNorm2d(c_out), nn.ReLU())


class CNN(nn.Module):
    """Notebook 09's CNN: four conv blocks (28×28 → 14×14 → 7×7 → 7×7 → 3×3), then a linear layer. The default
    ``channels=(16, 32, 64)`` has 38,458 parameters."""

    def __init__(self, channels: Sequence[int] = (16, 32, 64)) -> None:
        super().__init__()
        c1, c2, c3 = (int(c) for c in channels)
        self.config = {"name": "cnn", "channels": [c1, c2, c3]}
        self.features = nn.Sequential(
            conv_block(1, c1, pool=True), conv_block(c1, c2, pool=True), conv_block(c2, c2), conv_block(c2, c3, True)
        )
        self.head = nn.Sequential(nn.Flatten(), nn.Linear(c3 * 3 * 3, 10))
        self.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return the logits ``(N, 10)`` for images ``(N, 1, 28, 28)`` or rows ``(N, 784)``."""
        x = x.reshape(x.shape[0], 1, 28, 28).contiguous(memory_format=torch.channels_last)
        return self.head(self.features(x))


def without_batch_norm(model: CNN) -> CNN:
    """Return ``model`` without batch norm, and a bias back in each convolution (notebook 09; notebook 10b's
    ablation)."""
    for block in model.features:
        kernels, block[-2] = block[0].weight, nn.Identity()  # batch norm is second to last
        block[0] = nn.Conv2d(kernels.shape[1], kernels.shape[0], 3, padding=1)  # with a bias
        block[0].weight = kernels  # the same kernels: only batch norm and the biases differ
    return model


def build_model(config: dict[str, Any]) -> nn.Module:
    """Return a fresh model from a ``model.config`` dict such as ``{"name": "mlp", "hidden": [128, 64]}``."""
    config = dict(config)
    return {"mlp": MLP, "cnn": CNN}[config.pop("name")](**config)


def count_parameters(model: nn.Module) -> int:
    """Return the number of trainable parameters, the sum notebook 02 writes."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def layer_table(model: nn.Module, example: torch.Tensor) -> list[dict[str, Any]]:
    """Return one row per layer without sub-layers: its name, type, output shape for ``example``, and parameter
    count. Notebook 08b prints it."""
    names, rows = {module: name for name, module in model.named_modules()}, []

    def record(module, inputs, output):
        params = sum(p.numel() for p in module.parameters())
        rows.append(
            {"layer": names[module], "type": type(module).__name__, "output": tuple(output.shape), "params": params}
        )

    hooks = [m.register_forward_hook(record) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            model(example)
    finally:
        for hook in hooks:
            hook.remove()
    return rows
