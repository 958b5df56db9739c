"""On the real MNIST (the data root as `make data` leaves it): the files and one epoch of the default MLP."""

from __future__ import annotations

import pytest
import torch
from torchvision import datasets
from torchvision.datasets.utils import check_integrity

from mnist_lab import course, data, models, runtime, train

pytestmark = pytest.mark.integration


def test_one_epoch_of_the_default_mlp_reaches_90_percent_on_full_mnist():
    recipe = {**course.RECIPES["mlp"], "epochs": 1}
    tl, vl, te = course.loaders(recipe)
    assert (len(tl.labels), len(vl.labels), len(te.labels)) == (55_000, 5_000, 10_000)
    runtime.seed_everything(0)
    model = models.MLP(recipe["hidden"])
    settings = {name: recipe[name] for name in train.SETTINGS}
    train.fit(model, tl, vl, device="cpu", verbose=False, **settings)
    assert train.evaluate(model, te)["accuracy"] >= 0.90


def test_the_real_files_match_torchvisions_md5s_and_totensor():
    raw = runtime.data_root() / "MNIST" / "raw"
    for name, md5 in data.FILES.items():
        assert check_integrity(str(raw / name), md5), name
    ds = datasets.MNIST(runtime.data_root(), train=False, transform=__import__("torchvision").transforms.ToTensor())
    assert len(ds) == 10_000
    assert torch.equal(data.to_float_images(ds.data[:5]), torch.stack([ds[i][0] for i in range(5)]))
