"""The perturbations of notebooks 01b, 07b, 09, 10 and 12 work where the images are: on the stand-in accelerator of
tests/device_check.py as on the CPU, with the same values."""

from __future__ import annotations

import pytest
import torch
from device_check import SHADOW, ShadowDevice, on_shadow

from mnist_lab import augment


@pytest.mark.parametrize(
    "perturb",
    [
        lambda x: augment.rotate(x, 20.0),
        lambda x: augment.shift(x, 3, 2),
        lambda x: augment.gaussian_blur(x, 1.5),
        lambda x: augment.add_noise(x, 0.3, generator=torch.Generator().manual_seed(0)),
        lambda x: augment.random_augment(x, 2, 10.0, generator=torch.Generator().manual_seed(0)),
    ],
    ids=["rotate", "shift", "blur", "noise", "random_augment"],
)
def test_a_perturbation_of_images_on_the_device_stays_there_and_equals_the_cpus(perturb):
    """Issue 31, defect 10: rotate built its angles on the CPU for images on the device, which CUDA refuses."""
    images = torch.rand(4, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    on_cpu = perturb(images)
    with ShadowDevice():
        on_device = perturb(images.to(SHADOW))
        assert on_shadow(on_device)
        assert torch.allclose(on_device.cpu(), on_cpu, atol=1e-6)
