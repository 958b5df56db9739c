"""Perturbations of digit batches: blur, noise, shifts, rotations, and random augmentation.

Every function takes and returns float batches ``(N, 1, 28, 28)`` in [0, 1] and works
on the whole batch at once (no per-image Python), so it stays fast on a CPU.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def gaussian_blur(images: torch.Tensor, sigma: float) -> torch.Tensor:
    """Return ``images`` blurred by a Gaussian of standard deviation ``sigma`` pixels (0 = unchanged). Notebook 01b
    shows it on digits, one pixel by hand; notebooks 07b and 10 measure the models on blurred validation digits."""
    if sigma <= 0:
        return images.clone()
    # 3 sigma each side, but less than the image's side: reflect padding needs that, and a wider kernel
    # would only fold the same pixels back in
    radius = min(max(1, math.ceil(3 * sigma)), min(images.shape[-2:]) - 1)
    x = torch.arange(-radius, radius + 1, dtype=images.dtype, device=images.device)
    kernel = torch.exp(-(x**2) / (2 * sigma**2))
    kernel = kernel / kernel.sum()
    out = F.conv2d(F.pad(images, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    out = F.conv2d(F.pad(out, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1))
    return out


def add_noise(images: torch.Tensor, std: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """Return ``images`` plus Gaussian noise of standard deviation ``std``, clipped to [0, 1]. Notebook 01b shows it on
    digits; notebooks 07b and 10 measure the models on noisy validation digits."""
    if std <= 0:
        return images.clone()
    noise = torch.randn(images.shape, generator=generator, dtype=images.dtype, device="cpu").to(images.device)
    return (images + std * noise).clamp(0, 1)


def _affine(images: torch.Tensor, angle_deg: torch.Tensor, dx: torch.Tensor, dy: torch.Tensor) -> torch.Tensor:
    """Rotate each image by ``angle_deg`` and shift it by ``(dx, dy)`` pixels (per-image tensors)."""
    n, _, h, w = images.shape
    theta = angle_deg.to(images.dtype) * math.pi / 180
    cos, sin = torch.cos(theta), torch.sin(theta)
    tx, ty = -dx.to(images.dtype) * 2 / w, -dy.to(images.dtype) * 2 / h  # affine_grid maps output to input in [-1, 1]
    mat = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
    grid = F.affine_grid(mat, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def shift(images: torch.Tensor, dx: int, dy: int) -> torch.Tensor:
    """Return ``images`` moved ``dx`` pixels right and ``dy`` pixels down (zeros fill in). Notebook 01b shows it on
    digits; notebook 08's Further research checks that a convolution's output moves with the digit."""
    out = torch.zeros_like(images)
    h, w = images.shape[-2:]
    src_y, dst_y = slice(max(0, -dy), min(h, h - dy)), slice(max(0, dy), min(h, h + dy))
    src_x, dst_x = slice(max(0, -dx), min(w, w - dx)), slice(max(0, dx), min(w, w + dx))
    out[..., dst_y, dst_x] = images[..., src_y, src_x]
    return out


def rotate(images: torch.Tensor, degrees: float) -> torch.Tensor:
    """Return ``images`` rotated by ``degrees`` about their centre (bilinear). Notebook 01b shows it on digits."""
    z = torch.zeros(images.shape[0], device=images.device)  # the angles and shifts go where the images are
    return _affine(images, torch.full_like(z, float(degrees)), z, z)


def random_augment(
    images: torch.Tensor, max_shift: int = 2, max_rotation: float = 10.0, generator=None
) -> torch.Tensor:
    """Return a randomly shifted (±``max_shift`` px) and rotated (±``max_rotation``°) copy of the batch.

    Uses PyTorch's global RNG unless a ``generator`` is given, so a seeded run repeats.
    Notebook 09 shows digits moved this way, and notebook 10 trains its CNN on them (through ``Augment``).
    """
    n = images.shape[0]
    rnd = lambda: torch.rand(n, generator=generator) * 2 - 1  # noqa: E731
    angle = rnd() * max_rotation
    dx, dy = rnd() * max_shift, rnd() * max_shift
    return _affine(images, angle.to(images.device), dx.to(images.device), dy.to(images.device))


class Augment:
    """A picklable callable ``images -> random_augment(images, max_shift, max_rotation)`` for ``fit``. Notebook 10
    trains the CNN with it."""

    def __init__(self, max_shift: int = 2, max_rotation: float = 10.0) -> None:
        self.max_shift, self.max_rotation = max_shift, max_rotation

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        return random_augment(images, self.max_shift, self.max_rotation)

    def __repr__(self) -> str:
        return f"Augment(max_shift={self.max_shift}, max_rotation={self.max_rotation})"
